"""Schemathesis, a peer tool, on our contract: positive and negative requests against the
in-process mock. No server errors, no schema violations, every invalid request refused with the
documented error shape."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from rotor_leads import spec
from rotor_leads.mock_server import create_app
from tests.fuzz_scale import examples

EXAMPLES_PER_MODE = examples(400)  # 800 generated requests in all


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_schemathesis__mock_keeps_the_documented_shapes(mode: GenerationMode) -> None:
    app = create_app(leads=300, seed=2)
    # The mock serves spec/openapi.yaml at /openapi.json, itself listed as the first server.
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # Unknown query parameters are ignored, by our contract's choice (spec/_rules.py,
    # "request.unknown_parameters"); Schemathesis would call accepting them a failure.
    schema.config.generation.update(allow_extra_parameters=False)
    operation = schema["/leads"]["GET"]
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers={"x-api-key": "demo-key-unlimited"})
        statuses[response.status_code] += 1
        body = orjson.loads(response.content)
        headers = {name: values[0] for name, values in response.headers.items()}
        spec.validate_response(response.status_code, headers, body, strict=True)
        if mode is GenerationMode.NEGATIVE and response.status_code != 200:
            # Refused in the documented error shape (validated above): 400 for a bad value, 401
            # when the case tampered with the key.
            assert response.status_code in (400, 401), body
            assert body["error_code"] == {400: "VALIDATION_ERROR"}.get(
                response.status_code, body["error_code"]
            )

    run()
    assert sum(statuses.values()) >= EXAMPLES_PER_MODE // 2, statuses
    assert all(status < 500 for status in statuses), statuses
    if mode is GenerationMode.NEGATIVE:
        assert statuses[400] > 0, statuses
