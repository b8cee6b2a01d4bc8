"""Shared by the project's own tests (``tests/``) and the contract suite."""
