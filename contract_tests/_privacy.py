"""Leads are people: what the suite prints or writes about a live target's leads shows their ids
and the fields a rule reads, with their personal fields masked (``--show-personal-data`` shows
them).

The suite learns the personal values of every lead a live target sends (:meth:`PersonalData.learn`)
and masks them in its output by value, as it masks keys: a name's words, an address (its local
part and words, a domain that is not a public provider's), a phone number, a street's and a
note's uncommon words, and a search term taken from any of them. What it checks is the data as
received; only what it shows is masked.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any, Final
from urllib.parse import unquote_plus

from rotor_leads.contract_tests._words import words

#: A lead's own fields: who the person is and where they live.
PERSONAL: Final = ("name", "email", "phone", "property_street1", "property_street2", "notes", "assigned_to")
#: Public mail providers: their domains are everyone's, neither masked nor replaced.
PUBLIC_MAIL: Final = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "mail.com",
        "yandex.ru",
        "zoho.com",
        "qq.com",
        "163.com",
        "126.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
    }
)
_WORD: Final = re.compile(r"[^\W\d_]{2,}")
#: A token of output text: words joined by the punctuation of addresses and numbers.
_TOKEN: Final = re.compile(r"\+?[\w@]+(?:['’.\-+][\w@]+)*")
#: The most words of a name or street masked as one phrase.
_LONGEST: Final = 5
_SEARCH: Final = re.compile(r"(search=)([^&\s)\]'\"]+)|(search=)(['\"])(.*?)\4")


@cache
def _never_masked() -> frozenset[str]:
    """Words the suite's own messages are made of, and plain English ones: a person named Page
    or Chase leaves "page" and "chase" readable where they stand alone in a message (their full
    names are masked as phrases). The messages' words are read from the strings of the suite's
    and the contract's code (not its comments or docstrings), the contract and its rules."""
    lists = words()
    found = {w.casefold() for name in ("plain", "street_suffix") for w in lists[name]}
    found |= {"apt", "suite", "unit", "floor", "ste", "room", "box", "building"}
    for package in ("rotor_leads.contract_tests", "rotor_leads.spec"):
        for item in files(package).iterdir():
            if item.name.endswith(".py"):
                found.update(w.casefold() for w in _WORD.findall(" ".join(_strings(item.read_text("utf-8")))))
            elif item.name.endswith(".yaml"):
                found.update(w.casefold() for w in _WORD.findall(item.read_text(encoding="utf-8")))
    return frozenset(found)


def _strings(source: str) -> Iterable[str]:
    """The string literals of Python ``source`` that are not docstrings."""
    starts_line = True
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and not (starts_line and token.line.strip() == token.string.strip()):
            yield token.string
        if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            starts_line = True
        elif token.type != tokenize.COMMENT:
            starts_line = False


class PersonalData:
    """The personal values of the leads seen so far, and their masking in output text."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}  # casefolded token → what it is ("name", "email"…)
        self._phrases: dict[tuple[str, ...], str] = {}  # a name's or street's words, in a row
        self._starts: set[str] = set()  # the first word of each phrase
        self._values: list[str] = []  # casefolded whole values, for search terms cut from them
        self._seen: set[tuple[str, str]] = set()  # (field, value) learnt: pages repeat leads
        self._ours = _never_masked()

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def learn(self, leads: Iterable[Any]) -> None:
        """Take in the personal values of ``leads`` (anything that is not a lead is passed over)."""
        for lead in leads:
            if not isinstance(lead, dict):
                continue
            for field in PERSONAL:
                value = lead.get(field)
                if isinstance(value, str) and (field, value) not in self._seen and value.strip():
                    self._seen.add((field, value))
                    self._learn(field, value)

    def _learn(self, field: str, value: str) -> None:
        folded = value.casefold()
        self._values.append(folded)
        tokens = self._tokens
        if field in ("name", "assigned_to"):
            self._phrase(folded, "name")
            for word in _WORD.findall(folded):
                if word not in self._ours:
                    tokens[word] = "name"
        elif field == "email":
            local, _, domain = folded.rpartition("@")
            for part in (folded, local, *(w for w in _WORD.findall(local) if len(w) >= 3)):
                if part not in self._ours:
                    tokens[part] = "email"
            if domain and domain not in PUBLIC_MAIL:
                tokens[domain] = "email domain"
                for word in _WORD.findall(domain.rpartition(".")[0]):
                    if len(word) >= 3 and word not in self._ours:
                        tokens[word] = "email domain"
        elif field == "phone":
            digits = re.sub(r"\D", "", folded)
            for part in (digits, digits[-10:], *_TOKEN.findall(folded)):
                if sum(c.isdigit() for c in part) >= 7:
                    tokens[part] = "phone"
        else:
            label = "note" if field == "notes" else "street"
            if field != "notes":
                self._phrase(folded, label)
            least = 4 if field == "notes" else 3
            for word in _WORD.findall(folded):
                if len(word) >= least and word not in self._ours:
                    tokens[word] = label

    def _phrase(self, folded: str, label: str) -> None:
        parts = tuple(_TOKEN.findall(folded))
        if 2 <= len(parts) <= _LONGEST:
            self._phrases[parts] = label
            self._starts.add(parts[0])

    def is_personal(self, term: str) -> bool:
        """Whether a search term is cut from a personal value."""
        folded = term.casefold().strip()
        return len(folded) >= 2 and any(folded in value for value in self._values)

    def mask(self, text: str) -> str:
        """``text`` with every personal value learnt so far masked."""
        if not self._tokens:
            return text
        text = _SEARCH.sub(self._search, text)
        if self._phrases:
            text = self._mask_phrases(text)
        return _TOKEN.sub(self._token, text)

    def _mask_phrases(self, text: str) -> str:
        """Whole names and streets (their words in a row, whatever words they are)."""
        found = list(_TOKEN.finditer(text))
        folded = [m.group(0).casefold() for m in found]
        out, at, i = [], 0, 0
        while i < len(found):
            if folded[i] not in self._starts:  # most words start no phrase: one look-up
                i += 1
                continue
            for size in range(min(_LONGEST, len(found) - i), 1, -1):
                run = found[i : i + size]
                gaps = (text[a.end() : b.start()] for a, b in zip(run, run[1:], strict=False))
                label = self._phrases.get(tuple(folded[i : i + size]))
                if label is not None and all(len(gap) <= 2 and not gap.strip(" ,'\"") for gap in gaps):
                    out += [text[at : run[0].start()], f"[{label}]"]
                    at, i = run[-1].end(), i + size
                    break
            else:
                i += 1
        return "".join([*out, text[at:]])

    def _search(self, match: re.Match[str]) -> str:
        if match.group(1):
            term = unquote_plus(match.group(2))
            return f"{match.group(1)}[personal]" if self.is_personal(term) else match.group(0)
        if self.is_personal(match.group(5)):
            return f"{match.group(3)}{match.group(4)}[personal]{match.group(4)}"
        return match.group(0)

    def _token(self, match: re.Match[str]) -> str:
        token = match.group(0)
        label = self._tokens.get(token.casefold())
        if label is not None:
            return f"[{label}]"
        # Its parts one by one: words and numbers joined ("ann.lee42@acme.com", cut short).
        return re.sub(r"[^\W\d_]+|\d+", self._part, token)

    def _part(self, match: re.Match[str]) -> str:
        label = self._tokens.get(match.group(0).casefold())
        return match.group(0) if label is None else f"[{label}]"
