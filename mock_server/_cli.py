"""``rotor-mock serve``: the mock on a production WSGI server (granian)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import click
import orjson

from mock_server._config import DEFAULT_LEADS, DEFAULT_SEED, MAX_DELAY_MS, MockConfig
from mock_server._data import FixtureError, load_fixture_file
from mock_server._keys import DEMO_KEY_NOTES, DEMO_KEYS, KeysFileError, load_keys_file
from mock_server._runtime import build_store
from mock_server._serve import CONFIG_ENV


class LatencyRange(click.ParamType):  # type: ignore[type-arg]
    """``MIN-MAX`` milliseconds, or a single ``MS``."""

    name = "MIN-MAX"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        low, _, high = str(value).partition("-")
        try:
            bounds = (int(low), int(high or low))
        except ValueError:
            self.fail(f"{value!r} is not MIN-MAX milliseconds, e.g. 50-200", param, ctx)
        if not 0 <= bounds[0] <= bounds[1] <= MAX_DELAY_MS:
            self.fail(f"{value!r}: need 0 ≤ MIN ≤ MAX ≤ {MAX_DELAY_MS} milliseconds", param, ctx)
        return bounds


def _keys(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return dict(DEMO_KEYS)
    try:
        return load_keys_file(value)
    except KeysFileError as exc:
        raise click.BadParameter(str(exc)) from None


def _fixtures(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    try:
        load_fixture_file(value)  # fail now, before any worker starts on half a file
    except FixtureError as exc:
        raise click.BadParameter(str(exc)) from None
    return Path(value)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.BadParameter(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port", param_hint="--port"
            ) from None


@click.group()
def main() -> None:
    """A mock of the Rotor open API's GET /leads."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option(
    "--leads",
    "leads",
    type=click.IntRange(min=0),
    default=DEFAULT_LEADS,
    show_default=True,
    help="How many leads to generate.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the generated data.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the generated data in this SQLite file: built once, reused on later starts.",
)
@click.option(
    "--keys",
    "keys",
    callback=_keys,
    type=click.Path(exists=True, dir_okay=False),
    help="YAML or JSON file of key → {scopes, daily_limit}; replaces the demo keys.",
)
@click.option(
    "--fixtures",
    callback=_fixtures,
    type=click.Path(exists=True, dir_okay=False),
    help="JSON array of your own leads, served instead of generated ones.",
)
@click.option("--latency", type=LatencyRange(), help="Add MIN-MAX milliseconds to every /leads answer.")
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of /leads answers turned into a 500 (seeded, reproducible).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (quotas are exact across them).",
)
def serve(
    host: str,
    port: int,
    leads: int,
    seed: int,
    db: Path | None,
    keys: Any,
    fixtures: Path | None,
    latency: tuple[int, int] | None,
    fail_rate: float,
    workers: int,
) -> None:
    """Serve the mock on a production WSGI server (granian)."""
    _check_port_free(host, port)
    state_dir = tempfile.mkdtemp(prefix="rotor-mock-")
    config = MockConfig(
        leads=leads,
        seed=seed,
        db=db,
        keys=keys,
        fixtures=fixtures,
        latency=latency,
        fail_rate=fail_rate,
        state_path=Path(state_dir) / "state.sqlite",
    )
    if db is not None and fixtures is None:
        with click.progressbar(length=leads, label=f"Building {leads} leads into {db}") as bar:
            build_store(config, progress=lambda done: bar.update(done - bar.pos)).close()
    _banner(config, host, port)
    os.environ[CONFIG_ENV] = orjson.dumps(config.to_json()).decode()
    try:
        _run(host, port, workers)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _run(host: str, port: int, workers: int) -> None:
    from granian import Granian

    Granian(
        "mock_server._serve:app_from_env",
        factory=True,
        interface="wsgi",  # type: ignore[arg-type]
        address=host,
        port=port,
        workers=workers,
        # Threads per worker for slow (--latency, Prefer: delay) answers; granian's own advice
        # caps them at 2 × cores + 1 for a WSGI app.
        blocking_threads=2 * (os.cpu_count() or 1) + 1,
        log_access=False,
    ).serve()


def _banner(config: MockConfig, host: str, port: int) -> None:
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    data = (
        f"fixtures from {config.fixtures}" if config.fixtures else f"{config.leads} leads, seed {config.seed}"
    )
    click.echo(f"Rotor mock: {url}/leads  ({data})")
    if config.keys == DEMO_KEYS:
        click.echo("Demo keys:")
        for key, note in DEMO_KEY_NOTES.items():
            click.echo(f"  {key:<20} {note}")
        click.echo(f"Try:  curl -H 'x-api-key: demo-key' '{url}/leads?limit=2'")
    else:
        click.echo(f"Keys: {len(config.keys)} from --keys")
        click.echo(f"Try:  curl -H \"x-api-key: $ROTOR_API_KEY\" '{url}/leads?limit=2'")
    click.echo(f"Admin: {url}/__admin/health   Stop: Ctrl+C")
