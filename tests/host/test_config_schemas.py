"""The area schemas: factory defaults are valid, chargepoint is pointconfig (no second copy), defaults of
charx-interfaces.md 5.4, and docs/configuration.md is current with the schemas."""

from __future__ import annotations

from pathlib import Path

import chargeschema
import pointconfig
import pytest
from chargepark.config import AREAS
from chargepark.config.docgen import BEGIN, END, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", [a.name for a in AREAS.values() if a.name != "module"])
def test_factory_defaults_are_valid(name: str) -> None:
    spec = AREAS[name]
    assert spec.validate(spec.defaults()) == spec.defaults()


def test_module_records_need_their_station() -> None:
    with pytest.raises(chargeschema.Invalid) as info:
        AREAS["module"].validate({"position": 13})
    assert set(info.value.errors) == {"position", "station"}
    with pytest.raises(chargeschema.Invalid) as info:
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


def test_charx_rest_names_map_to_existing_fields_and_back() -> None:
    from chargepark.config.restnames import errors_to_rest, from_rest, names, to_rest

    for area in AREAS:
        rest = names(area)
        others = {f.name for f in AREAS[area].fields} - set(rest)
        # from_rest reads either name: a REST name must not be another field's own name, nor given twice
        assert len(set(rest.values())) == len(rest) and not set(rest.values()) & others, area
        record = AREAS[area].defaults()
        assert from_rest(area, to_rest(area, record)) == record
    body = {"charging_point_name": "Bay 1", "maximum_charge_current": 32, "ocpp16_connector_id": 2}
    assert from_rest("chargepoint", body) == {"name": "Bay 1", "max_current_a": 32, "ocpp_connector_id": 2}
    circuit = to_rest(
        "loadcircuit", {**AREAS["loadcircuit"].defaults(), "points": [{"uid": "a"}, {"uid": "b"}]}
    )
    assert circuit["charging_points"] == ["a", "b"] and circuit["fuse"] == 32
    assert from_rest("loadcircuit", {"charging_points": ["a"]}) == {"points": [{"uid": "a"}]}
    errors = {"max_current_a": "must be <= 80 A", "points[0].uid": "listed twice", "bogus": "unknown field"}
    assert errors_to_rest("chargepoint", errors)["maximum_charge_current"] == "must be <= 80 A"
    assert "charging_points[0].uid" in errors_to_rest("loadcircuit", errors)
    with pytest.raises(chargeschema.Invalid):
        from_rest("whitelist", ["not", "an", "object"])


def test_ocpp_keys_are_the_ocpp_fields_less_the_wbm_settings() -> None:
    from chargepark.config.schemas import OCPP, OCPP_KEYS

    # manual "OCPP settings": the connection block is WBM-only, the rest are OCPP configuration keys
    assert {f.name for f in OCPP if f.wbm_only} == {
        "ProtocolVersion", "Interface", "BackendURL", "ChargePointModel", "ChargePointVendor",
        "ChargePointSerialNumber",
    }  # fmt: skip
    assert "HeartbeatInterval" in OCPP_KEYS and "AuthorizationKey" in OCPP_KEYS
    assert not set(OCPP_KEYS) & {f.name for f in OCPP if f.wbm_only}
