"""The one part of the build pyproject.toml cannot declare without a warning: the optional C
quota counter (mock_server/_tally.c), compiled where a C compiler and Python's headers are.
Without them the build goes on, and the mock counts under a file lock instead."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rotor_leads.mock_server.engine.state._tally",
            ["mock_server/engine/state/_tally.c"],
            optional=True,
        )
    ]
)
