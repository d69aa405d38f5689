"""The area schemas: factory defaults are valid, chargepoint is pointconfig (no second copy), defaults of
charx-interfaces.md 5.4, and docs/configuration.md is current with the schemas."""

from __future__ import annotations

from pathlib import Path

import pointconfig
import pytest
import schema
from chargepark.config import AREAS
from chargepark.config.docgen import BEGIN, END, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", [a.name for a in AREAS.values() if a.name != "module"])
def test_factory_defaults_are_valid(name: str) -> None:
    spec = AREAS[name]
    assert spec.validate(spec.defaults()) == spec.defaults()


def test_module_records_need_their_station() -> None:
    with pytest.raises(schema.Invalid) as info:
        AREAS["module"].validate({"position": 13})
    assert set(info.value.errors) == {"position"}
    with pytest.raises(schema.Invalid) as info:
        AREAS["module"].validate({"position": 2})
    assert info.value.errors == {"station": "required"}


def test_chargepoint_area_is_pointconfig() -> None:
    assert AREAS["chargepoint"].fields is pointconfig.FIELDS
    assert list(AREAS["chargepoint"].checks) == list(pointconfig.CHECKS)


def test_jupicore_defaults() -> None:
    park = AREAS["park"].defaults()
    assert park["nominal_voltage_v"] == 230 and park["coordinated_locking"] and park["parallel_lockings"] == 3
    assert AREAS["whitelist"].max_items == 500
    net = AREAS["network"].defaults()
    assert (net["dhcp"], net["subnet_mask"], net["hostname"]) == (True, "255.255.255.0", "ev3000")
    closed = {p["port"] for p in net["ports"] if not p["open"]}
    assert closed == {1883, 5555}


def test_keys() -> None:
    assert AREAS["whitelist"].key_problem("04A1B2C3") is None
    assert AREAS["whitelist"].key_problem("") is not None
    assert AREAS["whitelist"].key_problem("a" * 65) is not None
    assert AREAS["ocpp"].key_problem("x") is not None


def test_configuration_doc_is_current() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    generated = text[text.index(BEGIN) : text.index(END) + len(END) + 1]
    assert generated == render(), "run: python -m chargepark.config.docgen docs/configuration.md"
    for area in AREAS.values():
        for field in area.fields:
            assert "`%s`" % field.name in generated
