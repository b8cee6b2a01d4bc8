"""``rotor-mock serve``: the mock on a production server (granian)."""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import socket
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from rotor_leads import spec
from rotor_leads.mock_server._serve import CONFIG_ENV
from rotor_leads.mock_server.engine._config import (
    BODY_SECONDS,
    DEFAULT_LEADS,
    DEFAULT_SEED,
    MAX_DELAY_MS,
    RETRY_AFTER,
    MockConfig,
)
from rotor_leads.mock_server.engine._data import FixtureError, load_fixture_file
from rotor_leads.mock_server.engine._keys import DEMO_KEY_NOTES, DEMO_KEYS, KeysFileError, load_keys_file
from rotor_leads.mock_server.engine._runtime import (
    build_store,
    fixtures_store,
    load_behaviour,
    reset_state,
    seeded_source,
)
from rotor_leads.mock_server.engine.state import (
    LocalState,
    StateError,
    open_state,
    parse_shared_state_url,
    shown,
)
from rotor_leads.mock_server.engine.store import Claim, StoreError, claim, inspect_file


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
        # Fail now, before the banner and before any worker starts: read, validate and store
        # the leads once, as every worker will.
        fixtures_store(load_fixture_file(value)).close()
    except FixtureError as exc:
        raise click.BadParameter(str(exc)) from None
    return Path(value)


def _profile(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    try:
        spec.load_profile(value)  # fail now, with the file and the place named
    except spec.ProfileError as exc:
        raise click.BadParameter(str(exc)) from None
    return Path(value).absolute()


def _db(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is None:
        return None
    path = value.expanduser().absolute()
    if not path.parent.is_dir():
        raise click.BadParameter(f"the directory {path.parent} does not exist")
    if path.is_dir():
        raise click.BadParameter(f"{path} is a directory: give the path of a database file")
    return path


def _retry_after(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    if value == "reset":
        return None
    if not value.isascii() or not value.isdigit() or int(value) > 86_400:
        raise click.BadParameter(f"{value!r}: give whole seconds from 0 to 86400, or reset")
    return int(value)


def _shared_state(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_shared_state_url(value)
        except ValueError as exc:
            raise click.BadParameter(f"{shown(value)}: {exc}") from None
    return value


def _admin_token(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (len(value) < 16 or not value.isprintable() or " " in value):
        raise click.BadParameter("give at least 16 printable characters, without spaces")
    return value


def _check_port_free(host: str, port: int) -> None:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise click.BadParameter(
            f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port or --host",
            param_hint="--port/--host",
        ) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    type=click.Path(path_type=Path),
    callback=_db,
    help="Keep the generated data in this SQLite file: built once, checked and reused on later"
    " starts. Quota counts are kept beside it (PATH.state/) across restarts.",
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
@click.option(
    "--profile",
    callback=_profile,
    type=click.Path(exists=True, dir_okay=False),
    help="A behaviour profile recorded by the contract suite (--record-profile): answer as that"
    " server did where the reference page is silent (defaults, bad values, errors, fields, headers).",
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
    help="Worker processes (quotas are exact across them; one that dies is replaced).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(0.1, 600),
    default=BODY_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Time a request body (a fixtures upload) may take to arrive in full; then 408.",
)
@click.option(
    "--retry-after",
    callback=_retry_after,
    default=str(RETRY_AFTER),
    show_default=True,
    metavar="SECONDS|reset",
    help="Retry-After of a 429: at most SECONDS, or 'reset' for the seconds until the quota resets"
    " at UTC midnight (what a daily quota really means; hours, which generated clients wait).",
)
@click.option(
    "--shared-state",
    envvar="ROTOR_MOCK_SHARED_STATE",
    callback=_shared_state,
    metavar="redis://HOST:PORT/DB",
    help="Share quotas, scenarios and data changes with other instances through this Redis"
    " (several hosts behind one load balancer). Env ROTOR_MOCK_SHARED_STATE.",
)
@click.option(
    "--admin-token",
    envvar="ROTOR_MOCK_ADMIN_TOKEN",
    callback=_admin_token,
    help="Token every /__admin request must send (X-Admin-Token). Required beyond loopback:"
    " generated and printed if not given. Env ROTOR_MOCK_ADMIN_TOKEN.",
)
def serve(
    host: str,
    port: int,
    leads: int,
    seed: int,
    db: Path | None,
    keys: Any,
    fixtures: Path | None,
    profile: Path | None,
    latency: tuple[int, int] | None,
    fail_rate: float,
    workers: int,
    body_timeout: float,
    retry_after: int | None,
    shared_state: str | None,
    admin_token: str | None,
) -> None:
    """Serve the mock on a production server (granian)."""
    _check_port_free(host, port)
    loopback = is_loopback(host)
    if not loopback and admin_token is None:
        admin_token = secrets.token_urlsafe(18)
    # Quota counts outlive a restart beside a --db file (or in Redis); otherwise they live as long
    # as the server.
    temporary = db is None and shared_state is None
    try:
        if shared_state is not None:
            state_dir = None
        elif db is None:
            state_dir = Path(tempfile.mkdtemp(prefix="rotor-mock-"))
        else:
            state_dir = db.with_name(db.name + ".state")
    except OSError as exc:
        raise click.ClickException(f"cannot create the mock's state directory: {exc.strerror}") from None
    try:
        config = MockConfig(
            leads=leads,
            seed=seed,
            db=db,
            keys=keys,
            fixtures=fixtures,
            profile=profile,
            latency=latency,
            fail_rate=fail_rate,
            state_dir=state_dir,
            shared_state=shared_state,
            admin_token=admin_token,
            loopback=loopback,
            body_seconds=body_timeout,
            retry_after=retry_after,
        )
        claimed = _prepare(config, _url(host, port))
        _banner(config, host, port)
        # The workers open the file this process claimed and checked; they never build it.
        ready = replace(config, db_ready=config.db is not None and config.fixtures is None)
        os.environ[CONFIG_ENV] = orjson.dumps(ready.to_json()).decode()
        try:
            _run(host, port, workers)
        finally:
            if claimed is not None:
                claimed.release()
    finally:
        if temporary and state_dir is not None:
            shutil.rmtree(state_dir, ignore_errors=True)


def _prepare(config: MockConfig, url: str) -> Claim | None:
    """Everything that can fail before the server starts, each failure one line: the database
    file (claimed for this server, checked, built if need be), the shared state (start data, no
    scenario). Returns the claim on the file, to hold while the server runs."""
    claimed = None
    try:
        if config.db is not None:
            # Before anything is read or built: a second server on the file stops here.
            holder = {
                "pid": os.getpid(),
                "url": url,
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            claimed = claim(config.db, holder)
        if config.db is not None and config.fixtures is None:
            _build_db(config)
        if config.shared_state is not None:
            # Instances sharing a Redis join the state as it is: a restart of one of them must
            # not turn off a scenario or a data set that another one's admin API set.
            open_state(None, config.shared_state).close()
            return claimed
        state = LocalState(config.state_dir or ".")
        try:
            state.prepare(
                k.key for k in config.keys.values() if k.daily_limit is not None and not k.exhausted
            )
            reset_state(state, config)
        finally:
            state.close()
    except (StoreError, StateError, FixtureError, spec.ProfileError, spec.MissingExtra) as exc:
        if claimed is not None:
            claimed.release(failed=True)
        raise click.ClickException(str(exc)) from None
    return claimed


def _build_db(config: MockConfig) -> None:
    """The --db file checked, and built (with a progress bar) only if it must be."""
    assert config.db is not None
    behaviour = load_behaviour(config)
    reason = inspect_file(config.db, seeded_source(config, behaviour))
    if reason is None:
        click.echo(f"Reusing {config.leads} leads from {config.db} (checked)")
        return
    if reason != "missing":
        click.echo(f"{config.db}: {reason}; building it again.", err=True)
    with click.progressbar(
        length=config.leads, label=f"Building {config.leads} leads into {config.db}"
    ) as bar:
        build_store(config, behaviour=behaviour, progress=lambda done: bar.update(done - bar.pos)).close()


def _run(host: str, port: int, workers: int) -> None:
    from granian import Granian

    try:
        import uvloop  # noqa: F401 (granian's fastest event loop, where it has wheels)

        loop = "uvloop"
    except ImportError:  # Windows
        loop = "asyncio"
    Granian(
        "rotor_leads.mock_server._serve:app_from_env",
        factory=True,
        interface="rsgi",  # type: ignore[arg-type]
        address=host,
        port=port,
        workers=workers,
        loop=loop,  # type: ignore[arg-type]
        websockets=False,
        log_access=False,
        log_level="warning",  # type: ignore[arg-type]
        # A worker that dies is replaced; the others answer meanwhile.
        respawn_failed_workers=True,
        respawn_interval=0.5,
        # Stopping (Ctrl-C, SIGTERM) waits at most this long for a worker to finish its
        # requests, then kills it: the mock never hangs on the way out.
        workers_kill_timeout=5,
    ).serve()


def _url(host: str, port: int) -> str:
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _banner(config: MockConfig, host: str, port: int) -> None:
    url = _url(host, port)
    data = (
        f"fixtures from {config.fixtures}" if config.fixtures else f"{config.leads} leads, seed {config.seed}"
    )
    click.echo(f"Rotor mock: {url}/leads  ({data})")
    if config.profile is not None:
        click.echo(f"Behaviour: {spec.load_profile(config.profile).describe()} ({config.profile})")
    click.echo(f"API reference: {url}/docs")
    if config.keys == DEMO_KEYS:
        click.echo("Demo keys:")
        for key, note in DEMO_KEY_NOTES.items():
            click.echo(f"  {key:<20} {note}")
        click.echo(f"Try:  curl -H 'x-api-key: demo-key' '{url}/leads?limit=2'")
    else:
        click.echo(f"Keys: {len(config.keys)} from --keys")
        click.echo(f"Try:  curl -H \"x-api-key: $ROTOR_API_KEY\" '{url}/leads?limit=2'")
    if config.shared_state is not None:
        click.echo(
            f"Shared state: {shown(config.shared_state)} (quotas, scenarios and data with other instances)"
        )
    if config.admin_token is None:
        click.echo(f"Admin: {url}/__admin   Stop: Ctrl+C")
    else:
        if not config.loopback:
            click.echo(f"Listening on {host}: anyone who can reach this machine can call /leads.")
        click.echo(f"Admin (token required, X-Admin-Token header): {url}/__admin#token={config.admin_token}")
        click.echo("Stop: Ctrl+C")
