"""Loading ``openapi.yaml`` once, and handing out self-contained JSON Schemas from it."""

from __future__ import annotations

import copy
from functools import cache
from importlib.resources import files
from typing import Any, Final

import yaml

from rotor_leads.spec._parameters import PARAMETERS, DeclarationError

DOCUMENT_NAME: Final = "openapi.yaml"
_COMPONENT_REF: Final = "#/components/schemas/"


#: libyaml's loader where PyYAML was built with it (a few times faster), else the Python one.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentError(DeclarationError):
    """The OpenAPI document disagrees with the declared parameters; the message says where."""


@cache
def load_document() -> dict[str, Any]:
    """The OpenAPI document, parsed once. Callers must not mutate it. Raises
    :class:`DocumentError` where its query parameters disagree with the declared ones."""
    text = files("rotor_leads.spec").joinpath(DOCUMENT_NAME).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.load(text, Loader=_LOADER)
    problem = parameters_problem(document)
    if problem is not None:
        raise DocumentError(f"spec/{DOCUMENT_NAME}: {problem}")
    return document


def query_parameters(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The query parameters of ``GET /leads`` in ``document``, by name (references resolved)."""
    out: dict[str, dict[str, Any]] = {}
    for item in document["paths"]["/leads"]["get"].get("parameters", []):
        if "$ref" in item:
            item = document["components"]["parameters"][item["$ref"].rsplit("/", 1)[-1]]
        if item.get("in") == "query":
            out[item["name"]] = item
    return out


def parameters_problem(document: dict[str, Any]) -> str | None:
    """What in ``document``'s query parameters disagrees with the declared ones (``PARAMETERS``,
    ``FILTERS`` in ``_parameters``), or ``None``."""
    found = query_parameters(document)
    for name, declared in PARAMETERS.items():
        if name not in found:
            return (
                f"no query parameter {name!r}, which spec/_parameters.py declares: add it to the"
                " parameters of GET /leads"
            )
        schema = found[name].get("schema", {})
        wrong = {k: v for k, v in declared.schema().items() if schema.get(k) != v}
        if wrong:
            said = {k: schema.get(k) for k in wrong}
            return (
                f"the schema of query parameter {name!r} says {said}, the declaration in"
                f" spec/_parameters.py {wrong}: make them agree"
            )
    extra = sorted(set(found) - set(PARAMETERS))
    if extra:
        return (
            f"query parameter {extra[0]!r} is not declared: add its filter to FILTERS in"
            " spec/_parameters.py, or remove it from the document"
        )
    return None


def document_path() -> str:
    """The file system path of ``openapi.yaml`` (for tools that want a file)."""
    return str(files("rotor_leads.spec").joinpath(DOCUMENT_NAME))


def _operation() -> dict[str, Any]:
    op: dict[str, Any] = load_document()["paths"]["/leads"]["get"]
    return op


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: ("#/$defs/" + v.removeprefix(_COMPONENT_REF))
            if k == "$ref" and isinstance(v, str) and v.startswith(_COMPONENT_REF)
            else _rewrite_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _forbid_extra_fields(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _forbid_extra_fields(v) for k, v in node.items()}
        if "properties" in out and out.get("type") == "object":
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_forbid_extra_fields(v) for v in node]
    return node


def _self_contained(schema: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    defs = load_document()["components"]["schemas"]
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_rewrite_refs(copy.deepcopy(schema)),
        "$defs": _rewrite_refs(copy.deepcopy(defs)),
    }
    return _forbid_extra_fields(out) if strict else out


@cache
def component_schema(name: str, *, strict: bool = False) -> dict[str, Any]:
    """The component schema ``name`` (``Lead``, ``LeadList``, ``Error``…) as a standalone
    2020-12 schema. ``strict=True`` forbids fields the document does not name.

    Raises ``KeyError`` if there is no such component.
    """
    schemas = load_document()["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"no component schema {name!r}; known: {', '.join(schemas)}")
    return _self_contained({"$ref": _COMPONENT_REF + name}, strict=strict)


def documented_statuses() -> tuple[str, ...]:
    """The response keys of ``GET /leads``: ``"200"``, ``"400"``…, ``"default"``."""
    return tuple(_operation()["responses"])


@cache
def response_schema(status: int, *, strict: bool = False) -> dict[str, Any]:
    """The body schema for a ``GET /leads`` answer with ``status`` (``default`` if unlisted)."""
    responses = _operation()["responses"]
    response = responses.get(str(status), responses["default"])
    schema = response["content"]["application/json"]["schema"]
    return _self_contained(schema, strict=strict)


def parameter(name: str) -> dict[str, Any]:
    """The parameter object ``name`` (``limit``, ``tags``…), references resolved."""
    params: dict[str, Any] = load_document()["components"]["parameters"]
    for param in params.values():
        if param["name"] == name:
            return dict(param)
    raise KeyError(f"no parameter {name!r}; known: {', '.join(p['name'] for p in params.values())}")


def response_examples(status: int) -> dict[str, Any]:
    """The named examples of the ``status`` response body."""
    content = _operation()["responses"][str(status)]["content"]["application/json"]
    return {name: ex["value"] for name, ex in content.get("examples", {}).items()}


@cache
def documented_fields(name: str) -> tuple[str, ...]:
    """The field names schema ``name`` of the document lists (``"Lead"``, ``"Pagination"``…)."""
    schema = load_document()["components"]["schemas"][name]
    return tuple(schema.get("properties", {}))
