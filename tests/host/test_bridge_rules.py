"""Forwarding rows -> routes -> the bridge mosquitto's topic lines (no broker needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargepark import broker, topics
from chargepark.bridge import conf, rules
from chargepark.bridge.status import BridgeState
from chargepark.config.areas import AREAS


def area(rows: list[dict[str, str]], **over: Any) -> dict[str, Any]:
    cfg = dict(AREAS["mqtt_bridge"].defaults(), broker="fleet.example", prefix="CHARX", topics=rows)
    cfg.update(over)
    return cfg


def row(local: str, remote: str, direction: str = "out") -> dict[str, str]:
    return {"local": local, "remote": remote, "direction": direction}


def test_a_plus_row_becomes_one_route_per_device_below_its_id() -> None:
    cfg = area([row("charging_controllers/+/data/energy", "energy")])
    routes, skipped = rules.expand(cfg, "st1", ["b", "a"])
    assert not skipped
    assert routes[3:] == [
        rules.Route("charging_controllers/a/data/energy", "CHARX/ev3000/a/energy", "out"),
        rules.Route("charging_controllers/b/data/energy", "CHARX/ev3000/b/energy", "out"),
    ]
    assert rules.info_topic(cfg, cfg["topics"][0], "st1") == "CHARX/ev3000/+/energy"


def test_rows_without_plus_sit_below_the_station_and_trees_stay_trees() -> None:
    cfg = area([row("applications/jupicore/#", "jupicore"), row("fleet/limit", "limit", "in")], prefix="")
    routes, _ = rules.expand(cfg, "st1", ["a"])
    assert routes[:3] == [
        rules.Route(topics.BRIDGE_CONFIG, "ev3000/st1/config", "out"),
        rules.Route(topics.BRIDGE_VPN_STATE, "ev3000/st1/VPN_Connection_State", "out"),
        rules.Route(topics.BRIDGE_COMMAND, "ev3000/st1/command", "in"),
    ]
    assert routes[3] == rules.Route("applications/jupicore/#", "ev3000/st1/jupicore/#", "out")
    assert routes[3].tree and not routes[4].tree
    assert routes[4] == rules.Route("fleet/limit", "ev3000/st1/limit", "in")


def test_rows_the_bridge_cannot_carry_are_skipped_with_the_reason() -> None:
    cfg = area([
        row("charging_controllers/+/data/+", "x"),
        row("fleet/in", "energy", "in"),
        row("charging_controllers/+/data/energy", "dup"),
        row("a/b", "dup", "in"),
    ])  # fmt: skip
    routes, skipped = rules.expand(cfg, "a", ["a"])
    assert "at most one '+'" in skipped[0]
    assert "forwarded the other way" in skipped[1]
    assert [r.remote for r in routes[3:]] == ["CHARX/ev3000/a/energy", "CHARX/ev3000/a/dup"]


def test_the_config_maps_each_route_over_both_connections() -> None:
    cfg = area([row("charging_controllers/+/data/energy", "energy"), row("applications/x/#", "x")],
               user="u", password="p", port=8883)  # fmt: skip
    routes, _ = rules.expand(cfg, "st1", ["a"])
    ends = conf.Endpoints(1884, "127.0.0.1", 1883, "chargepark-st1", Path("/run/ca.pem"))
    text = conf.render(cfg, routes, ends)
    head, remote = text.split("connection remote")
    assert 'topic "" in 1 CHARX/ev3000/a/energy charging_controllers/a/data/energy' in head
    assert 'topic "" out 1 CHARX/ev3000/st1/command applications/mqtt-bridge/command' in head
    assert "topic # in 1 CHARX/ev3000/st1/x/ applications/x/" in head
    assert "address fleet.example:8883" in remote and "remote_password p" in remote
    assert "bridge_cafile /run/ca.pem" in remote
    assert "topic CHARX/ev3000/a/energy out 1" in remote and "topic CHARX/ev3000/st1/command in 1" in remote
    assert "remote_clientid chargepark-st1\n" in remote and "remote_clientid chargepark-st1-head" in head


def test_the_state_follows_the_log_and_the_notification() -> None:
    s = BridgeState()
    assert s.starting("h:1") and s.state == "connecting"
    assert s.on_log("1796163678: Connection Refused: not authorised")
    assert s.report()["reason"] == "Connection Refused: not authorised"
    assert not s.on_log("1796163678: Client local.x closed its connection.")
    assert s.on_notification(b"1") and s.state == "connected" and s.reason == ""
    assert s.on_notification(b"0") and s.state == "connecting"
    assert s.on_log("OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed")
    assert s.state == "tls_error"


def test_drops_count_from_the_bridges_start_and_across_a_broker_restart() -> None:
    s = BridgeState()
    assert not s.on_dropped("head", b"40")  # the head dropped these before the bridge started
    assert s.on_dropped("head", b"45") and s.report()["dropped"] == 5
    s.fresh_counter("bridge")  # the bridge mosquitto started: all its drops count
    assert s.on_dropped("bridge", b"3")
    assert not s.on_dropped("head", b"45") and not s.on_dropped("head", b"garbage")
    assert s.on_dropped("head", b"2")  # the head restarted: its counter starts again from 0
    assert s.report()["dropped"] == 10 and s.report()["dropped_at"] == {"bridge": 3, "head": 7}


def test_the_bridge_holds_more_for_a_remote_outage_than_the_head_holds_for_the_bridge() -> None:
    assert conf.QUEUE > broker.QUEUE
    assert "max_queued_messages %d\n" % broker.QUEUE in broker.render_config("127.0.0.1", 1883)
