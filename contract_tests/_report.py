"""What a run found, grouped by rule, and the verdict: for the terminal and for ``--report``.

Every broken rule is counted once per check that saw it and keeps its first example, so a
person reads one block per rule, not one per response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from rotor_leads import spec

REPORT_VERSION: Final = 1


class Exit(IntEnum):
    """The suite's exit codes (pytest's own where they mean the same)."""

    PASSED = 0  # every documented rule held (and every assumed one, in strict mode)
    FAILED = 1  # a documented rule is broken (or an assumed one, in strict mode)
    INCONCLUSIVE = 2  # no verdict: target unreachable, key rejected, budget or quota spent, too slow
    USAGE_ERROR = 4  # a wrong option: nothing was sent


@dataclass(frozen=True)
class Example:
    """One response that broke a rule: what was asked, what came back, what the contract says."""

    rule_id: str
    request: str | None
    received: str
    expected: str

    @property
    def rule(self) -> spec.Rule:
        return spec.rule(self.rule_id)

    def lines(self) -> list[str]:
        rule = self.rule
        out = [f"[{rule.id}] {rule.statement}"]
        if self.request is not None:
            out.append(f"Request:    {self.request}")
        out.append(f"Received:   {self.received}")
        out.append(f"{'Documented' if rule.documented else 'Assumed'}: {self.expected}")
        if rule.source:
            out.append(f'Reference page: "{rule.source}"')
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def one_line(self) -> str:
        request = f" {self.request}:" if self.request else ""
        return f"[{self.rule_id}] broken again:{request} received {self.received}"

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "received": self.received, "expected": self.expected}


@dataclass
class RuleFindings:
    """How many checks saw one rule broken, and the first of them."""

    first: Example
    checks: int = 0

    def to_json(self) -> dict[str, Any]:
        rule = self.first.rule
        return {
            "rule": rule.id,
            "kind": rule.kind,
            "statement": rule.statement,
            "reference": rule.source,
            "checks": self.checks,
            "example": self.first.to_json(),
        }


@dataclass
class Findings:
    """Everything a run found: broken rules, spec gaps (assumed rules read differently)."""

    broken: dict[str, RuleFindings] = field(default_factory=dict)
    gaps: dict[str, RuleFindings] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)  # rules whose full example the output showed
    notes: list[str] = field(default_factory=list)  # what the suite could not exercise

    def add(self, example: Example, *, gap: bool) -> None:
        table = self.gaps if gap else self.broken
        found = table.setdefault(example.rule_id, RuleFindings(example))
        found.checks += 1

    def render(self, examples: list[Example]) -> str:
        """A test's failure text: the full example of a rule the first time, one line after."""
        parts = []
        for example in examples:
            if example.rule_id in self.shown:
                parts.append(example.one_line() + " (first example above)")
            else:
                self.shown.add(example.rule_id)
                parts.append(str(example))
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Outcome:
    """The verdict of a run and what it rests on."""

    verdict: str  # passed, failed, inconclusive, error (the suite broke: no verdict, exit 2)
    exit_code: int
    reason: str | None  # why inconclusive, or what went wrong in the suite


def outcome(findings: Findings, *, stopped: str | None, failed_tests: int, pytest_status: int) -> Outcome:
    if findings.broken:
        return Outcome("failed", Exit.FAILED, None)
    if stopped is not None:
        return Outcome("inconclusive", Exit.INCONCLUSIVE, stopped)
    if failed_tests or pytest_status not in (Exit.PASSED, Exit.FAILED):
        # The suite itself broke (or was stopped): no verdict, never "a rule is broken".
        return Outcome("error", Exit.INCONCLUSIVE, "a test of the suite failed without naming a rule")
    return Outcome("passed", Exit.PASSED, None)


def summary_lines(
    findings: Findings,
    result: Outcome,
    *,
    strict: bool,
    requests: str,
) -> list[tuple[str, dict[str, bool]]]:
    """The end-of-run report, as (line, terminal markup) pairs."""
    out: list[tuple[str, dict[str, bool]]] = []
    red, yellow, green = {"red": True}, {"yellow": True}, {"green": True}
    if result.verdict == "failed" and not findings.broken:  # --fail-on-drift: every rule held
        out.append((f"FAILED: {result.reason} (--fail-on-drift); every rule of the contract held", red))
    elif result.verdict == "failed":
        out.append((f"FAILED: {len(findings.broken)} rule(s) of the contract broken", red))
    elif result.verdict == "inconclusive":
        out.append((f"INCONCLUSIVE: {result.reason}", red))
    elif result.verdict == "error":
        out.append(("ERROR: a test of the suite failed without naming a rule (see above): no verdict", red))
    else:
        out.append(
            ("PASSED: every documented rule held" + (" and every assumed one" if strict else ""), green)
        )
    if findings.broken:
        out.append(("", {}))
        out.append(("Rules broken (one example each):", red))
        for found in findings.broken.values():
            first, *rest = found.first.lines()
            out.append((f"  {first} ({found.checks} check(s))", red))
            out.extend((f"      {line}", {}) for line in rest)
    out.append(("", {}))
    if findings.gaps:
        out.append(
            (
                f"Spec gaps: {len(findings.gaps)} assumed rule(s) this server reads differently"
                " (not failures; --strict-contract makes them so):",
                yellow,
            )
        )
        for found in findings.gaps.values():
            out.append((f"  - [{found.first.rule_id}] {found.first.rule.statement}", {}))
            if found.first.request:
                out.append((f"      {found.first.request}: received {found.first.received}", {}))
    else:
        out.append(("Spec gaps: none", {}))
    for note in findings.notes:
        out.append((f"Not exercised: {note}", yellow))
    out.append((requests, {}))
    return out


def report_json(
    findings: Findings,
    result: Outcome,
    *,
    target: str,
    strict: bool,
    requests: dict[str, Any],
    tests: dict[str, int],
) -> dict[str, Any]:
    """The machine-readable report (``--report FILE``), version :data:`REPORT_VERSION`."""
    return {
        "version": REPORT_VERSION,
        "verdict": result.verdict,
        "exit_code": int(result.exit_code),
        "reason": result.reason,
        "target": target,
        "mode": "strict" if strict else "lenient",
        "rules_broken": [found.to_json() for found in findings.broken.values()],
        "gaps": [found.to_json() for found in findings.gaps.values()],
        "not_exercised": list(findings.notes),
        "requests": requests,
        "tests": tests,
    }
