"""WireMock serving the mock's own answers as static stubs: the peer the mock is compared with."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def wiremock_jar() -> Path:
    jars = sorted((CACHE / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        raise SystemExit("WireMock is not installed: run bench/setup.sh (make bench does)")
    return jars[-1]


def wiremock_root(bodies: dict[str, bytes]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="wiremock-"))
    (root / "mappings").mkdir()
    (root / "__files").mkdir()
    for name, body in bodies.items():
        (root / "__files" / f"{name}.json").write_bytes(body)
        query = {"limit": {"equalTo": "1000"}} if name == "page1000" else {"limit": {"absent": True}}
        mapping = {
            "request": {"method": "GET", "urlPath": "/leads", "queryParameters": query},
            "response": {
                "status": 200,
                "bodyFileName": f"{name}.json",
                "headers": {"Content-Type": "application/json"},
            },
        }
        (root / "mappings" / f"{name}.json").write_text(json.dumps(mapping))
    return root
