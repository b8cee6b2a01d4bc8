"""Tests of the example client, against the Rotor API faked by the `rotor_api` fixture."""

from __future__ import annotations

import httpx
import pytest
from leads_client import QuotaExhausted, iter_leads


@pytest.mark.rotor_api(leads=250, seed=4)
def test_pages_through_every_lead(rotor_api):
    leads = list(iter_leads("demo-key", page_size=100))
    assert len(leads) == rotor_api.total()
    assert len({lead["id"] for lead in leads}) == len(leads)
    assert rotor_api.calls.call_count == 3  # 100 + 100 + the rest


def test_filters_are_sent(rotor_api):
    leads = list(iter_leads("demo-key", tags="vip"))
    assert leads and all("vip" in lead["tags"] for lead in leads)


def test_backs_off_on_429_then_succeeds(rotor_api):
    rotor_api.fail_next(429, times=2)
    waits = []
    leads = list(iter_leads("demo-key", sleep=waits.append))
    assert len(leads) == rotor_api.total()
    assert waits == [60.0, 60.0]  # the documented 429 says Retry-After: 60


def test_gives_up_after_the_retries(rotor_api):
    rotor_api.fail_next(429, times=4)
    with pytest.raises(QuotaExhausted, match="Daily API key request limit"):
        list(iter_leads("demo-key", sleep=lambda seconds: None))


def test_a_key_without_scope_is_an_error(rotor_api):
    with pytest.raises(httpx.HTTPStatusError) as caught:
        list(iter_leads("demo-key-no-scope"))
    assert caught.value.response.status_code == 403


def test_own_leads(rotor_api):
    rotor_api.use(fixtures=[{"id": "a", "created_at": "2026-01-01T00:00:00Z", "name": "Ann"}])
    assert [lead["name"] for lead in iter_leads("demo-key")] == ["Ann"]
