"""Bad input never crashes the store and is never half-applied: any write either saves a record that is
valid under its schema or raises `chargeschema.Invalid` and leaves the store as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chargeschema
from chargepark.config import AREAS, ConfigStore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        ["", "192.168.1.10", "ws://x/y", "2030-01-01T00:00:00Z", "a/+/b", "ocpp", "rs485", "tcp"]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def writes(draw: st.DrawFn) -> tuple[str, str | None, Any]:
    area = draw(st.sampled_from(sorted(AREAS)))
    spec = AREAS[area]
    names = [f.name for f in spec.fields] + ["bogus"]
    data = draw(st.dictionaries(st.sampled_from(names), _values, max_size=5) | _values)
    key = draw(st.sampled_from(["uid1", "uid2", "bad key", ""])) if spec.keyed else None
    return area, key, data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(writes(), min_size=1, max_size=6))
def test_random_writes_are_saved_valid_or_refused_whole(
    tmp_path: Path, batch: list[tuple[str, str | None, Any]]
) -> None:
    store = ConfigStore.open(tmp_path / "fuzz.db")
    store.factory_reset()
    for area, key, data in batch:
        before = store.export()
        try:
            saved = store.put(area, data, key)
        except chargeschema.Invalid as exc:
            assert exc.errors and all(isinstance(v, str) for v in exc.errors.values())
            assert store.export() == before
        else:
            assert AREAS[area].validate(saved) == saved
    doc = store.export()
    assert store.validate_document(doc, replace=True) == {}
    store.close()
    ConfigStore.open(tmp_path / "fuzz.db").close()  # everything saved passes the checks at open
