from __future__ import annotations

import orjson
from flask.testing import FlaskClient

from rotor_leads import spec


def test_docs__serves_swagger_ui_offline(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert 'value="demo-key"' in html
    with client.get("/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.get_data()) > 100_000


def test_openapi__is_the_spec_with_this_mock_first(client: FlaskClient) -> None:
    document = orjson.loads(client.get("/openapi.json").get_data())
    assert document["servers"][0]["url"] == "http://localhost"
    assert document["paths"] == spec.load_document()["paths"]


def test_admin_dashboard__is_html(client: FlaskClient) -> None:
    page = client.get("/__admin")
    assert page.status_code == 200
    assert "Reset quotas" in page.get_data(as_text=True)
