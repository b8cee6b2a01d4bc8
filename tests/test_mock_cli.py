from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rotor_leads.mock_server._cli import main


class _FakeGranian:
    """Stands in for the server so that CLI tests check options and the banner only."""

    started: dict[str, Any] = {}

    def __init__(self, target: str, **options: Any) -> None:
        _FakeGranian.started = {"target": target, **options}

    def serve(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import granian

    monkeypatch.setattr(granian, "Granian", _FakeGranian)


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["serve", "--port", "18999", *args])


def test_serve__prints_url_keys_and_curl() -> None:
    result = _run()
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:18999/leads" in result.output
    for key in ("demo-key ", "demo-key-unlimited", "demo-key-no-scope", "demo-key-exhausted"):
        assert key in result.output
    assert "curl -H 'x-api-key: demo-key' 'http://127.0.0.1:18999/leads?limit=2'" in result.output
    assert _FakeGranian.started["interface"] == "rsgi"
    assert _FakeGranian.started["respawn_failed_workers"] is True
    assert _FakeGranian.started["factory"] is True


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--leads", "-1"], "--leads"),
        (["--fail-rate", "2"], "--fail-rate"),
        (["--latency", "fast"], "MIN-MAX"),
        (["--latency", "300-100"], "MIN ≤ MAX"),
        (["--workers", "0"], "--workers"),
        (["--keys", "/nonexistent.yaml"], "does not exist"),
    ],
)
def test_serve__bad_flags_are_click_errors(args: list[str], says: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("k: {daily_limit: many}", "field daily_limit"),
        ("a-long-key-0123456789: {}\nshort: {daily_limit: -1}", "entry 2 (key …), field daily_limit"),
        ("k: {scope: [leads:read]}", "unknown field"),
        ("[1, 2]", "expected a mapping"),
        ("k: [", "not valid YAML"),
        ("k: {daily_limit: null, exhausted: true}", "exhausted needs a daily_limit"),
    ],
)
def test_serve__bad_keys_file(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(content)
    result = _run("--keys", str(path))
    assert result.exit_code == 2
    assert says in result.output


def test_serve__keys_file_replaces_demo_keys_and_is_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"live-secret-0123456789": {"scopes": ["leads:read"], "daily_limit": null}}')
    result = _run("--keys", str(path))
    assert result.exit_code == 0, result.output
    assert "live-secret-0123456789" not in result.output
    assert "demo-key-unlimited" not in result.output


def test_serve__bad_fixtures_file_does_not_start(tmp_path: Path) -> None:
    path = tmp_path / "leads.json"
    path.write_text('[{"id": "a", "created_at": "2026-01-01T00:00:00Z", "priority": "urgent"}]')
    _FakeGranian.started = {}
    result = _run("--fixtures", str(path))
    assert result.exit_code == 2
    assert "record 0, field priority" in result.output
    assert _FakeGranian.started == {}


def test_serve__port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert "pass another --port" in result.output


def test_serve__db_is_built_with_progress(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    result = _run("--db", str(db), "--leads", "40")
    assert result.exit_code == 0, result.output
    assert "Building 40 leads" in result.output
    assert db.exists()
