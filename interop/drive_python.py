"""Drives the Python client that openapi-python-client generated from spec/openapi.yaml against
a running mock, with no hand-patching: filter, page through every lead, typed errors.

    python drive_python.py BASE_URL      (run by interop/clients.py, in the client's venv)
"""

from __future__ import annotations

import sys

from rotor_leads_client import AuthenticatedClient, Client
from rotor_leads_client.api.leads import list_leads
from rotor_leads_client.models import Error, LeadList


def main(base: str) -> int:
    def keyed(key: str, **headers: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=base, token=key, prefix="", auth_header_name="x-api-key", headers=headers
        )

    won = list_leads.sync(client=keyed("demo-key-unlimited"), stage="won", limit=5)
    assert isinstance(won, LeadList) and won.data and all(lead.stage == "won" for lead in won.data)
    print(f"   filter stage=won: {len(won.data)} leads of {won.pagination.total}, every one won")

    leads, page = [], 1
    while True:
        answer = list_leads.sync(client=keyed("demo-key-unlimited"), archived=True, limit=100, page=page)
        assert isinstance(answer, LeadList)
        leads += answer.data
        if not answer.pagination.has_more:
            break
        page += 1
    assert len(leads) == answer.pagination.total == len({lead.id for lead in leads})
    print(f"   paged through every lead: {len(leads)} in {page} pages, none twice")

    errors = {
        401: list_leads.sync_detailed(client=Client(base_url=base)),
        403: list_leads.sync_detailed(client=keyed("demo-key-no-scope")),
        429: list_leads.sync_detailed(client=keyed("demo-key-exhausted")),
        500: list_leads.sync_detailed(client=keyed("demo-key", Prefer="code=500")),
    }
    for status, response in errors.items():
        assert response.status_code == status and isinstance(response.parsed, Error), (status, response)
    shown = ", ".join(
        f"{s} {getattr(r.parsed, 'error_code', '') or '(no error_code)'}" for s, r in errors.items()
    )
    print(f"   typed errors (models.Error): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
