from __future__ import annotations

import spec


def test_spec__exports_exactly_its_public_api() -> None:
    public = {name for name in vars(spec) if not name.startswith("_")} - {"annotations"}
    assert public == set(spec.__all__)
