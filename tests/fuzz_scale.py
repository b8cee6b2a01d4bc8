"""How many generated requests the fuzz tests send (Schemathesis, the mock's fuzzers): a count
that holds what they found, for make test; ``ROTOR_FUZZ_SCALE=10 make test`` for a deeper run."""

from __future__ import annotations

import os
from typing import Final

SCALE: Final = float(os.environ.get("ROTOR_FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` generated examples, scaled."""
    return max(1, round(count * SCALE))
