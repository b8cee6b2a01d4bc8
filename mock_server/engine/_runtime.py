"""The mock's moving parts in one process: the lead store, the shared state, the request log;
and what a request is answered from (:class:`Serving`)."""

from __future__ import annotations

import logging
import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from rotor_leads import spec
from rotor_leads.mock_server.engine._behaviour import Behaviour
from rotor_leads.mock_server.engine._config import MockConfig
from rotor_leads.mock_server.engine._data import GENERATOR, generate_leads, load_fixture_file, validate_leads
from rotor_leads.mock_server.engine.state import SharedState, StateUnavailable, open_state
from rotor_leads.mock_server.engine.store import LeadStore, Progress, open_built, open_or_build

#: Settings in the shared state. ``epoch`` says what every worker must follow: the generation
#: of the data set in force (it changes when the data does) and the server-wide scenario.
EPOCH: Final = "epoch"
FIXTURES: Final = "fixtures"
_START_EPOCH: Final = {"data": 0, "scenario": None}
#: This project's behaviour (the assumed rules).
ASSUMED: Final = Behaviour()


def load_behaviour(config: MockConfig) -> Behaviour:
    """The behaviour of the profile ``config`` names, or this project's. Raises
    ``spec.ProfileError``."""
    return Behaviour(spec.load_profile(config.profile)) if config.profile is not None else ASSUMED


def seeded_source(config: MockConfig, behaviour: Behaviour = ASSUMED) -> str:
    source = f"seeded:{GENERATOR}:leads={config.leads}:seed={config.seed}"
    shaping = behaviour.shaping()
    if shaping:  # a profile that changes what is stored makes another data set file
        source += f":profile={zlib.crc32(orjson.dumps(shaping, option=orjson.OPT_SORT_KEYS)):08x}"
    return source


def build_store(
    config: MockConfig,
    *,
    progress: Progress | None = None,
    building: Callable[[str], None] | None = None,
    behaviour: Behaviour = ASSUMED,
) -> LeadStore:
    """The seeded data set of ``config`` (shaped by ``behaviour``): reused from ``config.db`` if
    it holds it intact, built (again) otherwise (``building`` is told why). Raises
    :class:`~mock_server._store.StoreError` for a file that cannot be used."""
    source = seeded_source(config, behaviour)
    profile = behaviour.profile

    def leads() -> Iterable[dict[str, Any]]:
        return behaviour.presented(generate_leads(config.leads, seed=config.seed))

    if config.db is not None and config.db_ready:
        return open_built(config.db, profile=profile)
    if config.db is not None:
        return open_or_build(
            config.db, source=source, leads=leads, progress=progress, building=building, profile=profile
        )
    store = LeadStore(None, profile=profile)
    store.load(leads(), source=source, presorted=True, progress=progress)
    return store


def fixtures_store(leads: list[dict[str, Any]], behaviour: Behaviour = ASSUMED) -> LeadStore:
    """A store of a user's leads (shaped by ``behaviour``), in memory, fully loaded."""
    store = LeadStore(None, profile=behaviour.profile)
    store.load(list(behaviour.presented(leads)), source="fixtures")
    return store


def _epoch(value: Any) -> dict[str, Any]:
    """The epoch a shared state holds, or the start one if it holds none (a Redis that forgot)."""
    return value if isinstance(value, dict) else dict(_START_EPOCH)


def _next_data(epoch: Any) -> dict[str, Any]:
    """The epoch after a change of the data set: every worker loads it again."""
    current = _epoch(epoch)
    return {**current, "data": int(current["data"] or 0) + 1}


def reset_state(state: SharedState, config: MockConfig) -> None:
    """The state a server starts from: its start data set, no scenario (quota counts are kept:
    a state directory that outlives a restart keeps the day's counts). One step: no worker
    sees the data set without its epoch."""
    start = load_fixture_file(config.fixtures) if config.fixtures else None
    state.update_many(
        {FIXTURES: lambda _: start, EPOCH: lambda epoch: {**_next_data(epoch), "scenario": None}}
    )


@dataclass(frozen=True, slots=True)
class Serving:
    """What the steps of a ``/leads`` request read: the settings, the behaviour, the data set
    and the scenario in force, the shared state (its quota counts) and the random source of
    ``--latency`` and ``--fail-rate``. Never changed: when another worker changes the data set
    or the scenario, :meth:`Runtime.sync` makes a new one, so that a request that took it reads
    one data set throughout (its cached page and its page read from the store)."""

    config: MockConfig
    behaviour: Behaviour
    store: LeadStore
    scenario: int | None
    state: SharedState
    rng: random.Random


class Runtime:
    """Everything one process of the mock needs to answer requests."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.behaviour = load_behaviour(config)
        self.profile = self.behaviour.profile
        self.state = open_state(config.state_dir, config.shared_state)
        limited = [k.key for k in config.keys.values() if k.daily_limit is not None and not k.exhausted]
        prepare = getattr(self.state, "prepare", None)
        if prepare is not None:
            prepare(limited)
        self.state.put_default(EPOCH, _START_EPOCH)
        if config.fixtures is not None:
            self.state.put_default(FIXTURES, load_fixture_file(config.fixtures))
        self.rng = random.Random(config.seed)
        self.logger = logging.getLogger("mock_server")
        self.log: deque[Any] = deque(maxlen=config.log_size)  # web._leads.log_entry's entries
        self._sync_lock = threading.Lock()
        self._data: int | None = None
        self._version: int | None = None
        self._retry_at = 0.0  # after the shared state could not be read: when to try again
        self.serving: Serving  # set by sync(); replaced whole, never changed
        self.data_source = "seeded"
        self.sync(wait=True)

    @property
    def store(self) -> LeadStore:
        return self.serving.store

    @property
    def scenario(self) -> int | None:
        return self.serving.scenario

    @property
    def behind(self) -> bool:
        """Whether another worker (or an admin call) changed the shared state since :meth:`sync`."""
        return self.state.version != self._version and time.monotonic() >= self._retry_at

    def sync(self, *, wait: bool = False) -> None:
        """Catch up with changes another worker (or an admin call) made to the shared state.

        One read of a number per request; the settings are read only when it changed, and the
        data set is rebuilt only when its generation did. The new data set is built in full
        before it replaces the old one. While one thread catches up, the others answer from
        the state as it was, unless ``wait``.
        """
        version = self.state.version
        if version == self._version or (not wait and time.monotonic() < self._retry_at):
            return
        if not self._sync_lock.acquire(blocking=wait):
            return
        try:
            version = self.state.version
            epoch = _epoch(self.state.get(EPOCH))  # as new as `version` or newer
            if epoch["data"] == self._data:
                store, source = self.serving.store, self.data_source
            else:
                store, source = self._load_data()
            self.serving = Serving(
                self.config, self.behaviour, store, epoch["scenario"], self.state, self.rng
            )
            self.data_source = source
            self._data, self._version = epoch["data"], version
        except StateUnavailable as exc:
            # Serve on with the settings last read (a key without a limit needs nothing more);
            # read them again in a second.
            if wait:
                raise
            if time.monotonic() >= self._retry_at + 5:
                self.logger.warning("%s; answering with the settings last read", exc)
            self._retry_at = time.monotonic() + 1.0
        finally:
            self._sync_lock.release()

    def _load_data(self) -> tuple[LeadStore, str]:
        """The data set the shared state names, and where it comes from ("seeded", "fixtures").
        The store it replaces is not closed here: another thread may still be answering from
        it. Its connections close when it is garbage, after its last request."""
        fixtures = self.state.get(FIXTURES)
        if fixtures is None:
            return build_store(self.config, behaviour=self.behaviour), "seeded"
        return fixtures_store(fixtures, self.behaviour), "fixtures"

    def load_leads(self, records: Any) -> int:
        """Replace the data set with a user's leads, validated and stored first (a set that
        cannot be served changes nothing); returns how many. The scenario stays as it is."""
        leads = validate_leads(records, source="request body")
        # Fails here, not in every worker, if the leads cannot be stored.
        fixtures_store(leads, self.behaviour)
        self.state.update_many({FIXTURES: lambda _: leads, EPOCH: _next_data})  # together, or not at all
        self.sync(wait=True)
        return self.store.count

    def set_scenario(self, code: int | None) -> None:
        """Make every ``/leads`` answer the documented ``code`` error (``None``: off)."""
        self.state.update(EPOCH, lambda epoch: {**_epoch(epoch), "scenario": code})
        self.sync(wait=True)

    def reset(self, *, data: bool = True, quotas: bool = True) -> None:
        """Back to the data set the server started with, quotas cleared, no scenario."""
        if quotas:
            self.state.reset_quotas()
        if data:
            reset_state(self.state, self.config)
            self.sync(wait=True)
