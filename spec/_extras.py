"""The distribution's extras: a part used without its extra says, in one line, which to install.

``rotor-leads-contract`` installs the contract alone; ``[suite]``, ``[mock]`` and ``[redis]``
bring what the other parts import (``[fast]`` only speeds the mock up). Which extra brings
which distribution is read from the installed metadata (``pyproject.toml`` is its one source),
so nothing here lists them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import metadata
from typing import Final

DISTRIBUTION: Final = "rotor-leads-contract"
_REQUIREMENT: Final = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*).*?\bextra\s*==\s*['\"]([^'\"]+)['\"]")


class MissingExtra(ModuleNotFoundError):
    """A part of the package was used without the extra that brings what it imports; the
    message is one line: what needs which extra, and the command that installs it."""


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _extra_requirements() -> dict[str, frozenset[str]]:
    """Each extra's distributions, normalized: ``{"redis": {"redis"}, ...}``."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return {}
    extras: dict[str, set[str]] = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is not None:
            extras.setdefault(match.group(2), set()).add(_normalized(match.group(1)))
    return {extra: frozenset(names) for extra, names in extras.items()}


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def check_extra(extra: str, *, what: str) -> None:
    """Raise :class:`MissingExtra` naming ``what`` if a distribution ``extra`` brings is not
    installed. Nothing is imported: for a command that checks before it hands over to pytest,
    which wants to import (and rewrite the assertions of) its plugins itself."""
    for name in sorted(_extra_requirements().get(extra, ())):
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise MissingExtra(_message(what, extra, name), name=name) from None


def _message(what: str, extra: str, missing: str) -> str:
    return f"{what} needs the [{extra}] extra ({missing} is not installed): {install_hint(extra)}"


@contextmanager
def requires_extra(extra: str, *, what: str) -> Iterator[None]:
    """Turn the import of a module that ``extra`` brings, missing, into :class:`MissingExtra`
    naming ``what`` needs it. Any other missing module is raised as it is (a bug, not an extra)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if isinstance(exc, MissingExtra):
            raise
        top = (exc.name or "").partition(".")[0]
        if _normalized(top) not in _extra_requirements().get(extra, ()):
            raise
        raise MissingExtra(_message(what, extra, top), name=exc.name) from None
