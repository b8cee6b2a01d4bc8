"""The contract suite's pytest plugin lives in ``_plugin``; this file hands its hooks and
fixtures to pytest for the tests of this folder.

python -m pytest contract_tests                                  # the mock, in-process
python -m pytest contract_tests --base-url URL --api-key KEY     # any server
"""

from __future__ import annotations

from rotor_leads.contract_tests._plugin import (
    contract,
    first_answer,
    model,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
    snapshot,
    target,
)

__all__ = [
    "contract",
    "first_answer",
    "model",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtestloop",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "snapshot",
    "target",
]
