"""The contract suite for the Rotor open API's ``GET /leads``.

rotor-contract [--base-url URL --api-key KEY] [pytest options]      # installed: the [suite] extra
python -m pytest contract_tests [--base-url URL --api-key KEY]      # in a clone
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """``rotor-contract``; one line, not a traceback, without the ``[suite]`` extra (exit 4)."""
    from rotor_leads.spec import DeclarationError, MissingExtra, check_extra, load_document

    try:
        load_document()
        check_extra("suite", what="rotor-contract")
    except (MissingExtra, DeclarationError) as exc:
        print(f"rotor-contract: {exc}", file=sys.stderr)
        raise SystemExit(4) from None
    from rotor_leads.contract_tests._cli import run

    raise SystemExit(run(sys.argv[1:]))
