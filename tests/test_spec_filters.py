"""A filter's declaration: what each kind makes of it (parsing, readings, rule, schema)."""

from __future__ import annotations

import pytest

from rotor_leads import spec
from rotor_leads.spec import _parameters as declare
from rotor_leads.spec._rules import add_rules

HIGH = {"priority": "high", "stage": "won"}
LOW = {"priority": "low", "stage": "Won "}


def test_one_of__an_extension_a_server_may_ignore() -> None:
    priority = declare.one_of("priority", ("low", "medium", "high"))
    assert priority.kind == "one_of" and priority.fields == ("priority",)
    assert priority.parse("priority", "high") == "high"
    with pytest.raises(spec.ParameterError, match="Give one of low, medium, high") as refused:
        priority.parse("priority", "urgent")
    assert refused.value.parameter == "priority"
    # No documented rule: its own assumed one, and a server that ignores it is within bounds.
    assert priority.extension is not None and not priority.documented
    assert priority.rule_id == priority.assumed_rule_id == "filter.priority"
    assert not priority.extension.documented and "does not document priority" in priority.extension.statement
    assert list(priority.readings) == ["exact", "ignored"]
    assert (priority.exact("high", HIGH), priority.exact("high", LOW)) == (True, False)
    assert (priority.may("high", LOW), priority.read("ignored")("high", LOW)) == (True, True)
    assert priority.schema() == {"enum": ["low", "medium", "high"]}


def test_exact__documented_keeps_its_rule_and_bounds() -> None:
    stage = declare.exact("stage", rule="filter.stage", assumed="filter.stage.exact")
    assert stage.documented and stage.rule_id == "filter.stage"
    assert "ignored" not in stage.readings
    assert (stage.exact("Won", LOW), stage.may("won", LOW), stage.must("won", LOW)) == (False, True, False)
    assert stage.read("case_insensitive")("WON", HIGH)
    assert stage.schema() == {"type": "string", "maxLength": spec.MAX_TEXT_LENGTH}


def test_exact__reads_another_field_than_its_name() -> None:
    owner = declare.exact("owner", field="assigned_to")
    assert owner.field == "assigned_to"
    assert owner.exact("Ann", {"assigned_to": "Ann"}) and not owner.exact("Ann", {"owner": "Ann"})


def test_declared_filters__the_page_documents_each_one() -> None:
    assert [(f.name, f.kind) for f in spec.FILTERS] == [
        ("archived", "listing"),
        ("search", "search"),
        ("stage", "exact"),
        ("tags", "any_of"),
    ]
    assert all(f.documented and spec.rule(f.rule_id).documented for f in spec.FILTERS)


def test_rules__an_extension_named_like_a_rule_is_refused() -> None:
    taken = spec.Rule("filter.stage", "assumed", "again")
    with pytest.raises(ValueError, match="'filter.stage' is declared twice"):
        add_rules([taken])
