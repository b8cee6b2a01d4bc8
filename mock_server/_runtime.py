"""The mock's moving parts in one process: the lead store, the shared state, the request log."""

from __future__ import annotations

import logging
import random
import tempfile
import threading
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Final

from mock_server._config import MockConfig
from mock_server._data import generate_leads, load_fixture_file, validate_leads
from mock_server._state import SharedState
from mock_server._store import LeadStore, Progress

#: Settings in the shared state. ``generation`` changes whenever the data set in force does.
GENERATION: Final = "generation"
SCENARIO: Final = "scenario"
FIXTURES: Final = "fixtures"


def seeded_source(config: MockConfig) -> str:
    return f"seeded:leads={config.leads}:seed={config.seed}"


def build_store(config: MockConfig, *, progress: Progress | None = None) -> LeadStore:
    """The seeded data set of ``config``: reused from ``config.db`` if it already holds it."""
    store = LeadStore(config.db)
    source = seeded_source(config)
    if config.db is not None and store.built_for() == source:
        store.open_existing()
    else:
        store.load(
            generate_leads(config.leads, seed=config.seed), source=source, presorted=True, progress=progress
        )
    return store


class Runtime:
    """Everything one process of the mock needs to answer requests."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        state_path = config.state_path
        if state_path is None:
            tmp = tempfile.TemporaryDirectory(prefix="rotor-mock-")
            weakref.finalize(self, tmp.cleanup)
            state_path = Path(tmp.name) / "state.sqlite"
        self.state = SharedState(state_path)
        self.state.put_default(GENERATION, 0)
        if config.fixtures is not None:
            self.state.put_default(FIXTURES, load_fixture_file(config.fixtures))
        self.rng = random.Random(config.seed)
        self.logger = logging.getLogger("mock_server")
        self.log: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self._sync_lock = threading.Lock()
        self._generation = -1
        self.scenario: int | None = None
        self.store = LeadStore(None)
        self.sync()

    def sync(self) -> None:
        """Catch up with changes another worker (or an admin call) made to the shared state."""
        generation = self.state.get(GENERATION)
        if generation == self._generation:
            return
        with self._sync_lock:
            if generation == self._generation:
                return
            self.scenario = self.state.get(SCENARIO)
            fixtures = self.state.get(FIXTURES)
            old = self.store
            if fixtures is None:
                self.store = build_store(self.config)
            else:
                self.store = LeadStore(None)
                self.store.load(fixtures, source="fixtures")
            if old is not self.store:
                old.close()
            self._generation = generation

    def _bump(self) -> None:
        self.state.put(GENERATION, int(self.state.get(GENERATION, 0)) + 1)
        self.sync()

    def load_leads(self, records: Any) -> int:
        """Replace the data set with a user's leads, validated first; returns how many."""
        leads = validate_leads(records, source="request body")
        self.state.put(FIXTURES, leads)
        self._bump()
        return self.store.count

    def set_scenario(self, code: int | None) -> None:
        self.state.put(SCENARIO, code)
        self._bump()

    def reset(self, *, data: bool = True, quotas: bool = True) -> None:
        """Back to the data set the server started with, quotas cleared, no scenario."""
        if quotas:
            self.state.reset_quotas()
        if data:
            start = load_fixture_file(self.config.fixtures) if self.config.fixtures else None
            self.state.put(FIXTURES, start)
            self.state.put(SCENARIO, None)
            self._bump()
