"""The mock's configuration: one frozen value, built by the CLI or by a test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from rotor_leads.mock_server.engine._keys import DEMO_KEYS, ApiKey

DEFAULT_LEADS: Final = 300
DEFAULT_SEED: Final = 1
MAX_DELAY_MS: Final = 30_000
#: The largest request body the admin API reads (a fixtures upload): 64 MiB, about 90,000 leads.
MAX_BODY_BYTES: Final = 64 << 20
#: Seconds a request body may take to arrive in full (a slow client cannot hold the server).
BODY_SECONDS: Final = 30.0
#: Retry-After of a 429 by default: a client that honours it (urllib3 does) waits a minute, not
#: the hours until the quota resets (X-RateLimit-Reset says when that is).
RETRY_AFTER: Final = 60


@dataclass(frozen=True)
class MockConfig:
    """How a mock behaves.

    ``state_dir`` is the directory whose files the workers share (quota counts, the data set in
    force, the scenario); ``shared_state``, a Redis URL, shares it between instances on several
    hosts instead; with neither, that state is kept in this process. ``db`` keeps the seeded
    data set in a file so a large one is built once. ``latency`` is a (min, max) range of
    milliseconds added to every ``/leads`` answer; ``fail_rate`` the share of answers turned
    into a 500 (seeded). ``admin_token``, when set, is required by every admin request;
    ``loopback`` says the mock listens on a loopback address only, so the admin API also
    refuses a ``Host`` that is not a loopback name (a page using DNS rebinding). ``profile``
    makes the mock answer as a profiled server did where the reference page is silent.
    """

    leads: int = DEFAULT_LEADS
    seed: int = DEFAULT_SEED
    db: Path | None = None
    keys: Mapping[str, ApiKey] = field(default_factory=lambda: dict(DEMO_KEYS))
    fixtures: Path | None = None
    latency: tuple[int, int] | None = None
    fail_rate: float = 0.0
    state_dir: Path | None = None
    shared_state: str | None = None  # redis://HOST:PORT/DB: the state of instances on several hosts
    cors: bool = True
    log_size: int = 200
    admin_token: str | None = None
    loopback: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    body_seconds: float = BODY_SECONDS
    #: Retry-After of a 429, in seconds (at most until the quota resets); None: until it resets.
    retry_after: int | None = RETRY_AFTER
    #: A behaviour profile file (``spec.load_profile``): serve a profiled server's choices.
    profile: Path | None = None
    #: ``db`` was claimed, checked or built by the server these workers belong to: they open it
    #: as it is, and never build it (``rotor-mock serve`` sets it).
    db_ready: bool = False

    def __post_init__(self) -> None:
        if self.leads < 0:
            raise ValueError(f"leads must be 0 or more, got {self.leads}")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, got {self.fail_rate}")
        if self.latency is not None:
            low, high = self.latency
            if not 0 <= low <= high <= MAX_DELAY_MS:
                raise ValueError(f"latency must be MIN-MAX milliseconds with 0 ≤ MIN ≤ MAX ≤ {MAX_DELAY_MS}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, to hand the configuration to worker processes."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif f.name == "keys":
                value = {k: v.to_json() for k, v in value.items()}
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MockConfig:
        values = dict(data)
        for name in ("db", "fixtures", "state_dir", "profile"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        if values.get("latency") is not None:
            values["latency"] = tuple(values["latency"])
        if "keys" in values:
            values["keys"] = {
                k: ApiKey(k, frozenset(v["scopes"]), v["daily_limit"], v["exhausted"])
                for k, v in values["keys"].items()
            }
        return cls(**values)
