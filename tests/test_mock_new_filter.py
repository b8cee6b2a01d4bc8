"""Adding a filter takes its declaration and its parameter in ``openapi.yaml``, nothing else.

The test copies the three rooms, adds ``priority=`` to the copy the way docs/development.md
says (one line in ``FILTERS``, one parameter in the document), and runs the copy in processes of
its own: the in-process mock and the suite on it, strict; and a served mock whose profile ignores
the new filter (as a live server that does not know it would), which the lenient suite passes
with a spec gap, the strict one fails, and a recording names. Nothing is patched.
"""

from __future__ import annotations

import copy as copy_of
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rotor_leads import contract_tests, mock_server, spec
from rotor_leads.spec._document import parameters_problem
from tests.served import DEMO_KEY_ARGS, serve

ROOMS = {"spec": spec, "mock_server": mock_server, "contract_tests": contract_tests}
DECLARATION = "spec/_parameters.py"
DOCUMENT = "spec/openapi.yaml"
END_OF_FILTERS = "\n)\n\nadd_rules("  # the declaration's end: a new line goes before it
PRIORITY_LINE = '    one_of("priority", ("low", "medium", "high")),\n'
PRIORITY_PARAMETER = """    priority:
      name: priority
      in: query
      required: false
      description: Filter by priority. An extension the reference page does not document.
      schema:
        enum: [low, medium, high]
"""
TIMEOUT = 240


def _edit(path: Path, anchor: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(anchor) == 1, f"{path}: the anchor the docs name moved: {anchor!r}"
    path.write_text(text.replace(anchor, new), encoding="utf-8")


def _rooms(root: Path) -> Path:
    """The rooms copied into ``root/rotor_leads/`` (a namespace package, as installed)."""
    for name, module in ROOMS.items():
        shutil.copytree(
            Path(module.__file__).parent,
            root / "rotor_leads" / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"),
        )
    return root / "rotor_leads"


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rooms copied, with ``priority=`` added as docs/development.md says."""
    root = tmp_path_factory.mktemp("new-filter")
    package = _rooms(root)
    _edit(package / DECLARATION, END_OF_FILTERS, "\n" + PRIORITY_LINE.rstrip("\n") + END_OF_FILTERS)
    tags = '        - $ref: "#/components/parameters/tags"\n'
    _edit(package / DOCUMENT, tags, tags + '        - $ref: "#/components/parameters/priority"\n')
    _edit(package / DOCUMENT, "    rotorApiVersion:\n", PRIORITY_PARAMETER + "    rotorApiVersion:\n")
    return root


def _changed_files(root: Path) -> list[str]:
    changed = []
    for name, module in ROOMS.items():
        original = Path(module.__file__).parent
        for path in sorted((root / "rotor_leads" / name).rglob("*")):
            if path.is_file():
                relative = path.relative_to(root / "rotor_leads")
                if path.read_bytes() != (original / relative.relative_to(name)).read_bytes():
                    changed.append(str(relative))
    return changed


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}


def _start(root: Path, command: str, *args: str, stderr: int = subprocess.STDOUT) -> subprocess.Popen[str]:
    """The installed ``command`` (``rotor-contract``, ``rotor-mock``) run on the copy in ``root``."""
    return subprocess.Popen(
        [str(Path(sysconfig.get_path("scripts")) / command), *args],
        cwd=root,
        env=_env(root),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _suite(root: Path, name: str, *args: str) -> subprocess.Popen[str]:
    """The copy's ``rotor-contract`` with ``args``, a report and a JUnit file named ``name``."""
    return _start(
        root, "rotor-contract", *args, "-q", "--report", f"{name}.json", "--junitxml", f"{name}.xml"
    )


def _finish(root: Path, run: subprocess.Popen[str], name: str) -> tuple[int, dict[str, Any], str]:
    output, _ = run.communicate(timeout=TIMEOUT)
    report = json.loads((root / f"{name}.json").read_text(encoding="utf-8"))
    return run.returncode, report, output


def _passed_cases(root: Path, name: str) -> set[str]:
    cases = ET.parse(root / f"{name}.xml").getroot().iter("testcase")
    return {c.get("name", "") for c in cases if not list(c)}  # no failure, error or skipped inside


def test_new_filter__two_files_and_the_mock_and_the_suite_follow(copy: Path) -> None:
    assert _changed_files(copy) == [DECLARATION, DOCUMENT]
    # A server that ignores priority, as one that does not know it would: the copy's mock, told
    # so by a profile (the reading "ignored" every extension filter has; any value, even none of
    # low, medium and high, served as if not given).
    ignoring = copy / "ignoring.json"
    ignoring.write_text(
        json.dumps(
            {
                "format": "rotor-leads-profile",
                "version": 1,
                "choices": {
                    "filter.priority": {"value": "ignored"},
                    "bad_value.priority.invalid": {"value": {"action": "default"}},
                },
            }
        )
    )
    own = _suite(copy, "own", "--record-profile", "own-profile.json")  # the copy's in-process mock
    with serve(
        copy, "--leads", "1300", "--seed", "5", "--profile", str(ignoring), env=_env(copy), cwd=copy
    ) as mock:
        lenient = _suite(
            copy, "lenient", "--base-url", mock.url, *DEMO_KEY_ARGS, "--record-profile", "seen.json"
        )
        strict = _suite(copy, "strict", "--base-url", mock.url, *DEMO_KEY_ARGS, "--strict-contract")
        results = {name: _finish(copy, run, name) for name, run in (("lenient", lenient), ("strict", strict))}
    code, report, output = _finish(copy, own, "own")

    # The mock serves it and the suite sends it: alone, at the boundaries, with each other filter.
    assert code == 0, output[-3000:]
    assert report["mode"] == "strict"
    sent = {c for c in _passed_cases(copy, "own") if "priority" in c}
    assert {
        "test_planned_query__keeps_the_contract[priority_rarest__last_page_one_less]",
        "test_planned_query__keeps_the_contract[priority_commonest_archived__middle_page]",
        "test_planned_query__keeps_the_contract[search_and_priority]",
        "test_planned_query__keeps_the_contract[stage_and_priority]",
        "test_planned_query__keeps_the_contract[tags_and_priority]",
    } <= sent, output[-3000:]
    recorded = json.loads((copy / "own-profile.json").read_text())["choices"]
    assert recorded["filter.priority"]["value"] == "exact"
    assert recorded["bad_value.priority.invalid"]["value"]["status"] == 400  # refused: none of them

    # A server that ignores it breaks no documented rule: a spec gap, not a failure...
    code, report, output = results["lenient"]
    assert code == 0, output[-3000:]
    # (and the value that is none of low, medium and high served, not refused: assumed too)
    gaps = {gap["rule"] for gap in report["gaps"]}
    assert gaps == {"filter.priority", "error.bad_parameter"}, output[-3000:]
    assert "an extension: the reference page does not document priority" in output.lower()
    seen = json.loads((copy / "seen.json").read_text())["choices"]
    assert seen["filter.priority"]["value"] == "ignored", seen
    assert seen["bad_value.priority.invalid"]["value"] == {"action": "default"}, seen
    # ...which a strict run holds it to.
    code, report, output = results["strict"]
    assert code == 1, output[-3000:]
    assert {rule["rule"] for rule in report["rules_broken"]} == gaps, output[-3000:]


def test_new_filter__the_copy_refuses_a_bad_value_and_reads_a_good_one(copy: Path) -> None:
    probe = (
        "from rotor_leads import spec\n"
        "q = spec.parse_query_string('priority=high&stage=won')\n"
        "print(q.priority, q.stage, spec.rule('filter.priority').kind)\n"
        "try:\n"
        "    spec.parse_query_string('priority=urgent')\n"
        "except spec.ParameterError as error:\n"
        "    print(error.parameter, error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "high won assumed",
        "priority Invalid value for 'priority': 'urgent'. Give one of low, medium, high.",
    ]


def _without_stage(document: dict[str, Any]) -> None:
    document["paths"]["/leads"]["get"]["parameters"].remove({"$ref": "#/components/parameters/stage"})


def _short_tags(document: dict[str, Any]) -> None:
    document["components"]["parameters"]["tags"]["schema"]["maxLength"] = 10


def _with_priority(document: dict[str, Any]) -> None:
    document["paths"]["/leads"]["get"]["parameters"].append(
        {"name": "priority", "in": "query", "schema": {"type": "string"}}
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_without_stage, "no query parameter 'stage', which spec/_parameters.py declares"),
        (_short_tags, "the schema of query parameter 'tags' says {'maxLength': 10}"),
        (_with_priority, "query parameter 'priority' is not declared: add its filter to FILTERS"),
    ],
)
def test_document__a_parameter_that_disagrees_with_the_declaration_is_named(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    document = copy_of.deepcopy(spec.load_document())
    assert parameters_problem(document) is None
    change(document)
    assert problem in (parameters_problem(document) or "")


LABELS_LINE = '    any_of("labels", field="tags"),\n'
LABELS_PARAMETER = "        - {name: labels, in: query, schema: {type: string, maxLength: 256}}\n"


@pytest.mark.parametrize(
    ("line", "parameter", "problem"),
    [
        (
            PRIORITY_LINE,
            "",
            "spec/openapi.yaml: no query parameter 'priority', which spec/_parameters.py declares:"
            " add it to the parameters of GET /leads",
        ),
        (
            LABELS_LINE,
            LABELS_PARAMETER,
            "filter 'labels' is of kind 'any_of', whose SQL the mock cannot make: write its row in"
            " _OWN in mock_server/engine/store/_filters.py, or declare it exact or one_of",
        ),
    ],
    ids=["no_parameter_in_the_document", "a_kind_without_sql"],
)
def test_new_filter__a_declaration_that_cannot_be_served_stops_each_command_in_one_line(
    tmp_path: Path, line: str, parameter: str, problem: str
) -> None:
    package = _rooms(tmp_path)
    _edit(package / DECLARATION, END_OF_FILTERS, "\n" + line.rstrip("\n") + END_OF_FILTERS)
    tags = '        - $ref: "#/components/parameters/tags"\n'
    _edit(package / DOCUMENT, tags, tags + parameter)
    runs = [
        _start(tmp_path, "rotor-contract", stderr=subprocess.PIPE),
        _start(tmp_path, "rotor-mock", "serve", "--port", "1", stderr=subprocess.PIPE),
    ]
    for run, code in zip(runs, (4, 1), strict=True):
        out, err = run.communicate(timeout=60)
        assert run.returncode == code, (out, err)
        assert err.strip().endswith(problem), err
        assert "Traceback" not in out + err and len(err.strip().splitlines()) == 1, err
