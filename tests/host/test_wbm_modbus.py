"""The WBM Modbus API over a real server and store: each point's start address as the server lays it out
(automatic by bus position; once one is manual the automatic ones are unreachable), a load circuit's
higher-level meter with the Modbus Client's last reading (stale = offline), and the register map from the
one table."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chargepark import topics
from chargepark.modbus import registers
from chargepark.park.model import record_discovery
from chargepark.wbm import modbus
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext

from tests.host.wbmkit import Server, change_factory_password, make_ctx, served


@pytest.fixture
def wbm(tmp_path: Path) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    for position, uid in ((1, "CP1"), (2, "CP2"), (3, "CP3")):
        record_discovery(ctx.store, "CP1", position, uid)
    with served(create_app(ctx)) as base:
        yield ctx, base


def test_start_addresses_as_the_server_lays_them_out(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, "user")
        starts = {p["uid"]: p["start"] for p in c.get("/api/wbm/modbus/status").json()["points"]}
        assert starts == {"CP1": 1000, "CP2": 2000, "CP3": 3000}
        ctx.store.put(
            "modbus", {"start_addresses": [{"uid": "CP2", "start": 7000}, {"uid": "CP3", "start": 8000}]}
        )
        shown = c.get("/api/wbm/modbus/status").json()
        assert shown["manual_starts"] is True
        assert {p["uid"]: p["start"] for p in shown["points"]} == {"CP1": None, "CP2": 7000, "CP3": 8000}
        assert shown["server"]["read_only"] is True and shown["server"]["port"] == 502


def test_the_higher_level_meter_with_its_last_reading(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    ctx.store.put("loadcircuit", {"name": "Garage", "fuse_a": 63, "meter_connection": "tcp",
                                  "meter_ip": "10.0.0.50", "upstream_fuse_a": 80}, key="lc1")  # fmt: skip
    topic = topics.fill(topics.MODBUS_CLIENT_METER, circuit="lc1")
    reading = {"circuit": "lc1", "type": "eem377", "online": True, "i1_ma": 12000, "u1_mv": 230000}
    modbus.take_meter(ctx, topic, json.dumps(dict(reading, t=time.time())).encode())
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, "user")
        meter = c.get("/api/wbm/modbus/status").json()["meters"][0]
        assert meter["name"] == "Garage" and meter["address"] == "10.0.0.50" and meter["online"] is True
        assert meter["reading"] == {"i1_ma": 12000, "u1_mv": 230000}
        modbus.take_meter(ctx, topic, json.dumps(dict(reading, t=time.time() - 60)).encode())
        assert c.get("/api/wbm/modbus/status").json()["meters"][0]["online"] is False  # stale
        modbus.take_meter(ctx, topic, b"not json")  # ignored, the last reading stays
        assert ctx.client_meters["lc1"]["i1_ma"] == 12000


def test_the_register_map_is_the_one_table(wbm: tuple[WbmContext, Server]) -> None:
    _, base = wbm
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/api/wbm/modbus/registers").status_code == 401
        change_factory_password(c, "user")
        got = c.get("/api/wbm/modbus/registers").json()
    assert [r["at"] for r in got["group"]] == [r.at for r in registers.GROUP]
    assert [r["at"] for r in got["point"]] == [r.at for r in registers.POINT]
    release = next(r for r in got["point"] if r["at"] == 300)
    assert release["access"].startswith("R/W: 0..1") and "modbus" in release["access"]
