"""docs/meters.md is generated from the meter maps and their provenance table, and is current."""

from __future__ import annotations

from chargepark import meterdoc
from iomodule import meters


def test_every_map_has_its_provenance_and_nothing_else() -> None:
    assert set(meterdoc.PROVENANCE) == set(meters.MAPS) | set(meters.HIGHER_LEVEL)
    assert not set(meters.MAPS) & set(meters.HIGHER_LEVEL)


def test_meters_doc_is_current() -> None:
    assert meterdoc.DOC.read_text() == meterdoc.render(), "run: python -m chargepark.meterdoc"


def test_every_signing_map_has_its_source_and_nothing_else() -> None:
    assert set(meterdoc.SIGNING_SOURCES) == {n for n, mp in meters.MAPS.items() if mp.get("signing")}
