"""The contract suite for the Rotor open API's ``GET /leads``: run it with pytest.

python -m pytest contract_tests [--base-url URL --api-key KEY]
"""

from __future__ import annotations

__all__: list[str] = []
