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

#: Settings in the shared state. ``epoch`` says what every worker must follow: the generation
#: of the data set in force (it changes when the data does) and the server-wide scenario.
EPOCH: Final = "epoch"
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
        self.state.put_default(EPOCH, {"data": 0, "scenario": None})
        if config.fixtures is not None:
            self.state.put_default(FIXTURES, load_fixture_file(config.fixtures))
        self.rng = random.Random(config.seed)
        self.logger = logging.getLogger("mock_server")
        self.log: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self._sync_lock = threading.Lock()
        self._epoch: dict[str, Any] | None = None
        self._version: int | None = None
        self.scenario: int | None = None
        self.store: LeadStore
        self.data_source = "seeded"
        self.sync()

    def sync(self) -> None:
        """Catch up with changes another worker (or an admin call) made to the shared state.

        One read of a number per request; the settings are read only when it changed, and the
        data set is rebuilt only when its generation did.
        """
        version = self.state.version
        if version == self._version:
            return
        with self._sync_lock:
            if version == self._version:
                return
            epoch = self.state.get(EPOCH)  # as new as `version` or newer
            self.scenario = epoch["scenario"]
            if self._epoch is None or epoch["data"] != self._epoch["data"]:
                self._load_data()
            self._epoch, self._version = epoch, version

    def _load_data(self) -> None:
        # The store this replaces is not closed here: another thread may still be answering
        # from it. Its connections close when it is garbage, after its last request.
        fixtures = self.state.get(FIXTURES)
        if fixtures is None:
            self.store, self.data_source = build_store(self.config), "seeded"
        else:
            self.store, self.data_source = LeadStore(None), "fixtures"
            self.store.load(fixtures, source="fixtures")

    def _advance(self, *, data: bool, scenario: int | None) -> None:
        epoch = self.state.get(EPOCH)
        self.state.put(EPOCH, {"data": epoch["data"] + data, "scenario": scenario})
        self.sync()

    def load_leads(self, records: Any) -> int:
        """Replace the data set with a user's leads, validated first; returns how many."""
        leads = validate_leads(records, source="request body")
        self.state.put(FIXTURES, leads)
        self._advance(data=True, scenario=self.scenario)
        return self.store.count

    def set_scenario(self, code: int | None) -> None:
        """Make every ``/leads`` answer the documented ``code`` error (``None``: off)."""
        self._advance(data=False, scenario=code)

    def reset(self, *, data: bool = True, quotas: bool = True) -> None:
        """Back to the data set the server started with, quotas cleared, no scenario."""
        if quotas:
            self.state.reset_quotas()
        if data:
            start = load_fixture_file(self.config.fixtures) if self.config.fixtures else None
            self.state.put(FIXTURES, start)
            self._advance(data=True, scenario=None)
