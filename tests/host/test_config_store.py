"""The configuration store: validated partial writes, park-wide rules, export/import, change counters,
refusal of damaged or unknown stores with a way out, and migration from the version-1 layout."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import chargeschema
import pytest
from chargepark.config import ConfigStore, StoreError, set_aside
from chargepark.config.store import salvage


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore.open(tmp_path / "config.db")


def _invalid(call, *args, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(chargeschema.Invalid) as info:
        call(*args, **kwargs)
    errors: dict[str, str] = info.value.errors
    return errors


def test_singletons_read_as_defaults_and_partial_writes_merge(store: ConfigStore) -> None:
    assert store.get("ocpp")["HeartbeatInterval"] == 300
    store.put("ocpp", {"BackendURL": "ws://backend.example:8080/cb1"})
    saved = store.put("ocpp", {"HeartbeatInterval": 60})
    assert saved["BackendURL"] == "ws://backend.example:8080/cb1" and saved["HeartbeatInterval"] == 60
    store.delete("ocpp")
    assert store.get("ocpp")["BackendURL"] == ""


def test_chargepoint_defaults_follow_jupicore_defaults(store: ConfigStore) -> None:
    cp = store.put("chargepoint", {"name": "CP1"}, key="uid1")
    # charx-interfaces.md 5.4: min 10 A, max 16 A, fallback 6 A, derating 16 A @ 40 degC -> 10 A @ 60 degC
    assert (cp["min_current_a"], cp["max_current_a"], cp["fallback_current_a"]) == (10, 16, 6)
    assert (cp["derating_start_current_a"], cp["derating_start_temp_c"]) == (16, 40)
    assert (cp["derating_stop_current_a"], cp["derating_stop_temp_c"]) == (10, 60)
    assert cp["ocpp_connector_id"] == -1 and cp["rfid_timeout_s"] == 60


def test_a_refused_write_reports_every_field_and_applies_nothing(store: ConfigStore) -> None:
    store.put("chargepoint", {"name": "CP1"}, key="uid1")
    before = store.versions()
    errors = _invalid(
        store.put, "chargepoint", {"max_current_a": 99, "locking_mode": "x", "bogus": 1}, key="uid1"
    )
    assert set(errors) == {"max_current_a", "locking_mode", "bogus"}
    assert errors["max_current_a"] == "must be <= 80 A"
    assert store.get("chargepoint", "uid1")["max_current_a"] == 16
    assert store.versions() == before
    assert _invalid(store.put, "chargepoint", {"min_current_a": 20}, key="uid1") == {
        "min_current_a": "charge current minimum must not exceed the maximum"
    }
    assert "area" in _invalid(store.put, "nosuch", {})
    assert "key" in _invalid(store.put, "chargepoint", {})  # keyed areas need a key
    assert "key" in _invalid(store.put, "chargepoint", {}, key="bad/key")
    assert "key" in _invalid(store.put, "ocpp", {}, key="x")


def test_head_area_checks_name_the_field(store: ConfigStore) -> None:
    assert _invalid(store.put, "network", {"dhcp": False}) == {"ip_address": "required"}
    assert (
        "reserved"
        in _invalid(store.put, "network", {"dhcp": False, "ip_address": "192.168.5.7"})["ip_address"]
    )
    assert set(_invalid(store.put, "network", {"dns": [{"address": "1.2.3"}], "hostname": "-x"})) == {
        "dns[0].address",
        "hostname",
    }
    assert "BackendURL" in _invalid(store.put, "ocpp", {"BackendURL": "http://x"})
    assert _invalid(store.put, "ocpp", {"FreeMode": True}) == {"FreeModeUID": "required when FreeMode is on"}
    assert "expiry_utc" in _invalid(
        store.put, "whitelist", {"expiry_utc": "2030-13-01T00:00:00Z"}, key="04AB"
    )
    assert "topics[0].remote" in _invalid(
        store.put, "mqtt_bridge", {"broker": "b", "topics": [{"local": "a/+/c", "remote": "x/#"}]}
    )
    assert _invalid(store.put, "loadcircuit", {"fuse_a": 10, "threshold_a": 10}, key="main") == {
        "threshold_a": "must be below the load circuit fuse"
    }
    assert _invalid(store.put, "station", {"role": "client"}, key="head2") == {"address": "required"}


def test_ocpp_connector_id_unique_and_required_for_release_by_ocpp(store: ConfigStore) -> None:
    errors = _invalid(store.put, "chargepoint", {"name": "CP1", "release_mode": "ocpp"}, key="uid1")
    assert errors == {"ocpp_connector_id": "must be >= 1 when the release mode is ocpp"}
    assert store.get("chargepoint", "uid1") is None
    store.put("chargepoint", {"name": "CP1", "release_mode": "ocpp", "ocpp_connector_id": 1}, key="uid1")
    errors = _invalid(store.put, "chargepoint", {"name": "CP2", "ocpp_connector_id": 1}, key="uid2")
    assert errors == {"ocpp_connector_id": "1 is already used by uid1"}
    store.put("chargepoint", {"name": "CP2", "ocpp_connector_id": 2}, key="uid2")
    assert _invalid(store.put, "chargepoint", {"name": "CP1"}, key="uid2") == {
        "name": "'CP1' is already used by uid1"
    }


def test_modbus_start_addresses(store: ConfigStore) -> None:
    store.put("chargepoint", {"name": "CP1"}, key="uid1")
    store.put("chargepoint", {"name": "CP2"}, key="uid2")
    bad = {"start_addresses": [{"uid": "uid1", "start": 1500}]}
    assert "multiple of 1000" in _invalid(store.put, "modbus", bad)["start_addresses[0].start"]
    assert "start_addresses[0].start" in _invalid(
        store.put, "modbus", {"start_addresses": [{"uid": "u", "start": 49000}]}
    )
    # One manual start address makes every configured point need one.
    errors = _invalid(store.put, "modbus", {"start_addresses": [{"uid": "uid1", "start": 2000}]})
    assert errors == {
        "chargepoint[uid2]": "needs a manual Modbus start address (modbus.start_addresses): the others are manual"
    }
    mixed = {"start_addresses": [{"uid": "uid1", "start": 2000}, {"uid": "uid2", "start": -1}]}
    assert (
        _invalid(store.put, "modbus", mixed)["start_addresses[1].start"]
        == "manual and automatic (-1) cannot be mixed"
    )
    same = {"start_addresses": [{"uid": "uid1", "start": 2000}, {"uid": "uid2", "start": 2000}]}
    assert _invalid(store.put, "modbus", same) == {"start_addresses[1].start": "2000 is already used by uid1"}
    store.put(
        "modbus", {"start_addresses": [{"uid": "uid1", "start": 2000}, {"uid": "uid2", "start": 48000}]}
    )
    # A point configured later needs its own manual address first.
    assert "." in _invalid(store.put, "chargepoint", {"name": "CP3"}, key="uid3")
    store.put(
        "modbus",
        {"start_addresses": [*store.get("modbus")["start_addresses"], {"uid": "uid3", "start": 3000}]},
    )
    store.put("chargepoint", {"name": "CP3"}, key="uid3")
    # All automatic is fine.
    store.put("modbus", {"start_addresses": [{"uid": "uid1", "start": -1}]})


def test_load_circuit_membership_and_one_server(store: ConfigStore) -> None:
    store.put("loadcircuit", {"points": [{"uid": "uid1"}, {"uid": "uid2"}]}, key="a")
    errors = _invalid(store.put, "loadcircuit", {"points": [{"uid": "uid2"}]}, key="b")
    assert errors == {"points[0].uid": "uid2 is already in load circuit a"}
    assert _invalid(store.put, "loadcircuit", {"points": [{"uid": "x"}, {"uid": "x"}]}, key="b") == {
        "points[1].uid": "listed twice"
    }
    store.put("station", {"name": "S1"}, key="head1")
    assert _invalid(store.put, "station", {"name": "S2"}, key="head2") == {
        "role": "the park already has the server head1"
    }
    store.put("station", {"name": "S2", "role": "client", "address": "192.168.4.2"}, key="head2")


def test_whitelist_is_limited_to_500_entries(store: ConfigStore) -> None:
    doc = {
        "format": "chargepark-config",
        "version": 2,
        "areas": {"whitelist": {"T%04d" % i: {} for i in range(500)}},
    }
    store.import_(doc)
    assert len(store.keys("whitelist")) == 500
    assert _invalid(store.put, "whitelist", {}, key="ONE_MORE") == {"whitelist": "at most 500 entries"}
    store.put("whitelist", {"name": "changed"}, key="T0001")  # editing an entry is still fine
    doc["areas"]["whitelist"]["T9999"] = {}
    assert store.validate_document(doc) == {"whitelist": "at most 500 entries"}


def test_export_import_round_trip_and_replace(store: ConfigStore, tmp_path: Path) -> None:
    store.put("chargepoint", {"name": "CP1", "max_current_a": 32}, key="uid1")
    store.put("whitelist", {"name": "alice"}, key="04A1")
    store.put("network", {"hostname": "park-7"})
    doc = json.loads(json.dumps(store.export()))  # through JSON text, as a file would
    other = ConfigStore.open(tmp_path / "other.db")
    other.put("whitelist", {"name": "bob"}, key="05B2")
    other.import_(doc)  # add: bob stays
    assert other.keys("whitelist") == ["04A1", "05B2"]
    other.import_(doc, replace=True)  # replace: bob goes
    assert other.export() == store.export()
    # One area, one record.
    one = store.export("chargepoint", key="uid1")
    assert list(one["areas"]) == ["chargepoint"] and list(one["areas"]["chargepoint"]) == ["uid1"]
    with pytest.raises(KeyError):
        store.export("chargepoint", key="nope")


def test_import_is_validated_as_a_whole_before_anything_is_written(store: ConfigStore) -> None:
    store.put("whitelist", {"name": "alice"}, key="04A1")
    doc = {
        "format": "chargepark-config",
        "version": 2,
        "areas": {
            "whitelist": {"05B2": {"name": "bob"}},
            "chargepoint": {
                "uid1": {"name": "A", "ocpp_connector_id": 3},
                "uid2": {"name": "B", "ocpp_connector_id": 3},
            },
            "ocpp": {"HeartbeatInterval": 1},
            "nosuch": {},
        },
    }
    errors = store.validate_document(doc)
    assert errors == {
        "ocpp.HeartbeatInterval": "must be >= 10 s",
        "nosuch": "unknown area",
    }
    before = store.export()
    assert _invalid(store.import_, doc) == errors
    del doc["areas"]["nosuch"], doc["areas"]["ocpp"]
    assert _invalid(store.import_, doc) == {
        "chargepoint[uid2].ocpp_connector_id": "3 is already used by uid1"
    }
    assert store.export() == before
    assert "format" in store.validate_document({"areas": {}})
    assert "version" in store.validate_document({"format": "chargepark-config", "version": 99, "areas": {}})


def test_factory_reset(store: ConfigStore) -> None:
    store.put("chargepoint", {"name": "CP1"}, key="uid1")
    store.put("system", {"name": "x"})
    store.factory_reset(["system"])
    assert store.get("system")["name"] == "chargepark" and store.keys("chargepoint") == ["uid1"]
    store.factory_reset()
    assert store.keys("chargepoint") == []


def test_change_counters_and_notification_across_processes(tmp_path: Path) -> None:
    a = ConfigStore.open(tmp_path / "c.db")
    b = ConfigStore.open(tmp_path / "c.db")  # another service's connection
    seen: list[set[str]] = []
    a.subscribe(seen.append)
    before = b.versions()
    a.put("ocpp", {"HeartbeatInterval": 90})
    a.put("whitelist", {}, key="04A1")
    assert seen == [{"ocpp"}, {"whitelist"}]
    after = b.versions()
    assert {k for k in after if after[k] != before[k]} == {"ocpp", "whitelist"}
    assert b.get("ocpp")["HeartbeatInterval"] == 90  # b's cache follows a's commit
    b.put("ocpp", {"LogLevel": "DEBUG"})
    assert a.get("ocpp")["HeartbeatInterval"] == 90 and a.get("ocpp")["LogLevel"] == "DEBUG"


# ---- refusal and the way out -----------------------------------------------------------------------


def _refused(path: Path) -> StoreError:
    with pytest.raises(StoreError) as info:
        ConfigStore.open(path)
    text = str(info.value)
    assert "refused" in text and "chargepark config restore" in text and "chargepark config reset" in text
    return info.value


def test_garbage_file_is_refused_not_reset(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    path.write_bytes(b"this is not SQLite at all" * 100)
    error = _refused(path)
    assert "corrupt" in str(error)
    assert path.read_bytes().startswith(b"this is not SQLite")  # untouched


@pytest.mark.parametrize("seed", range(3))
def test_damaged_bytes_are_refused_or_harmless_never_served(tmp_path: Path, seed: int) -> None:
    """Flip bytes anywhere in a store file: opening it either refuses with StoreError or yields exactly
    the configuration that was written (the flip hit free space). Never an other exception, never a
    silently changed record."""
    import random
    import shutil

    good = tmp_path / "good.db"
    store = ConfigStore.open(good)
    for i in range(12):
        store.put("chargepoint", {"name": "CP%d" % i, "max_current_a": 16 + i}, key="uid%d" % i)
        store.put("whitelist", {"name": "user %d" % i}, key="TAG%d" % i)
    expected = store.export()
    store.close()  # the last connection checkpoints the WAL into the main file
    data = good.read_bytes()
    rng = random.Random(seed)
    refused = 0
    for trial in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        path = tmp_path / ("bad%d.db" % trial)
        path.write_bytes(bytes(damaged))
        try:
            opened = ConfigStore.open(path)
        except StoreError:
            refused += 1
            continue
        assert opened.export() == expected
        opened.close()
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert refused > 0


def test_damaged_record_is_refused_and_salvage_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    store = ConfigStore.open(path)
    store.put("chargepoint", {"name": "CP1"}, key="uid1")
    store.put("whitelist", {"name": "alice"}, key="04A1")
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET body = replace(body, 'alice', 'mallory') WHERE area = 'whitelist'")
    error = _refused(path)
    assert error.problems == ["whitelist[04A1]: checksum mismatch (the record is damaged)"]
    doc, problems = salvage(path)
    assert list(doc["areas"]) == ["chargepoint"] and problems == [
        "whitelist[04A1]: left out (checksum mismatch)"
    ]
    aside = set_aside(path)
    assert aside.exists() and not path.exists()
    fresh = ConfigStore.open(path)
    fresh.import_(doc)
    assert fresh.keys("chargepoint") == ["uid1"]


def test_record_invalid_under_its_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    ConfigStore.open(path).close()
    body = json.dumps({"max_current_a": 500})
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO records VALUES ('chargepoint', 'uid1', ?, ?)",
            (body, zlib.crc32(b"chargepoint\0uid1\0" + body.encode())),
        )
    assert _refused(path).problems == ["chargepoint[uid1]: max_current_a: must be <= 80 A"]


def test_unknown_version_and_foreign_database_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    ConfigStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '7' WHERE name = 'version'")
    assert "store version 7 was written by a newer chargepark" in str(_refused(path))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '2x' WHERE name = 'version'")
    assert "unknown store version '2x'" in str(_refused(path))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE things (x)")
    assert "not a chargepark configuration store" in str(_refused(foreign))


V1_LAYOUT = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (area TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (area, key));
INSERT INTO meta VALUES ('format', 'chargepark-config'), ('version', '1');
INSERT INTO records VALUES ('chargepoint', 'uid1', '{"name": "Old CP", "max_current_a": 20}');
INSERT INTO records VALUES ('ocpp', '', '{"BackendURL": "ws://old.example/cb"}');
"""


def test_migration_from_version_1(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    with sqlite3.connect(path) as db:
        db.executescript(V1_LAYOUT)
    store = ConfigStore.open(path)
    assert store.get("chargepoint", "uid1")["max_current_a"] == 20
    assert store.get("ocpp")["BackendURL"] == "ws://old.example/cb"
    assert store.versions()["chargepoint"] == 0
    store.put("chargepoint", {"max_current_a": 24}, key="uid1")
    assert store.versions()["chargepoint"] == 1
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone() == ("4",)
    with sqlite3.connect(tmp_path / "config.db.v1") as db:  # the pre-migration copy
        assert db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone() == ("1",)
    assert ConfigStore.open(path).get("chargepoint", "uid1")["max_current_a"] == 24


def _old_store(path: Path, version: int, area: str, records: dict[str, dict[str, object]]) -> None:
    """A version-2 or -3 store (CRC per record, change counters) holding these records of one area."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE records (area TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                crc INTEGER NOT NULL, PRIMARY KEY (area, key));
            CREATE TABLE versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL);
            INSERT INTO meta VALUES ('format', 'chargepark-config');
            """
        )
        db.execute("INSERT INTO meta VALUES ('version', ?)", (str(version),))
        for key, record in records.items():
            body = json.dumps(record)
            crc = zlib.crc32("\0".join((area, key, body)).encode()) & 0xFFFFFFFF
            db.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (area, key, body, crc))


def test_a_version_2_store_with_a_meter_type_without_register_map_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    _old_store(
        path,
        2,
        "chargepoint",
        {
            "uid1": {"name": "A", "meter_type": "sdm630", "max_current_a": 20},  # never read: no map
            "uid2": {"name": "B", "meter_type": "em24"},
        },
    )
    store = ConfigStore.open(path)
    assert store.get("chargepoint", "uid1")["meter_type"] == "none"
    assert store.get("chargepoint", "uid1")["max_current_a"] == 20  # the rest of the record is kept
    assert store.get("chargepoint", "uid2")["meter_type"] == "em24"
    store.close()
    assert ConfigStore.open(path).get("chargepoint", "uid1")["meter_type"] == "none"  # written, CRC too


def test_a_version_3_store_and_export_lose_the_read_only_stop_on_ev_side_disconnect(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    old = {"BackendURL": "ws://cs.example/cb", "StopTransactionOnEVSideDisconnect": False}
    _old_store(path, 3, "ocpp", {"": old})
    store = ConfigStore.open(path)
    assert "StopTransactionOnEVSideDisconnect" not in store.get("ocpp")
    assert store.get("ocpp")["BackendURL"] == "ws://cs.example/cb"  # the rest of the record is kept
    export = {"format": "chargepark-config", "version": 3, "areas": {"ocpp": old}}
    store.import_(export)
    assert store.get("ocpp")["BackendURL"] == "ws://cs.example/cb"
    assert store.validate_document(dict(export, version=4)) == {
        "ocpp.StopTransactionOnEVSideDisconnect": "unknown field"
    }
    store.close()
    assert "StopTransactionOnEVSideDisconnect" not in ConfigStore.open(path).get("ocpp")  # written, CRC too


def test_meter_types_without_register_map_are_refused_but_old_exports_still_import(
    store: ConfigStore,
) -> None:
    errors = _invalid(store.put, "chargepoint", {"name": "A", "meter_type": "sdm630"}, key="uid1")
    assert errors["meter_type"].startswith("must be one of none, ") and "em24" in errors["meter_type"]
    old = {
        "format": "chargepark-config",
        "version": 2,
        "areas": {"chargepoint": {"uid1": {"meter_type": "sdm630"}}},
    }
    store.import_(old)
    assert store.get("chargepoint", "uid1")["meter_type"] == "none"
    current = dict(old, version=3)
    assert store.validate_document(current) == {"chargepoint[uid1].meter_type": errors["meter_type"]}


def test_cli_reset_and_restore_give_a_way_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from chargepark.config import cli

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        return cli.run(parser.parse_args(["--data", str(tmp_path), *argv]))

    assert run("set", "chargepoint", "--key", "uid1", '{"name": "CP1", "max_current_a": 40}') == 0
    export = tmp_path / "backup.json"
    assert run("export", "-o", str(export)) == 0
    assert run("set", "chargepoint", "--key", "uid1", '{"max_current_a": 400}') == 1
    assert "max_current_a: must be <= 80 A" in capsys.readouterr().err
    (tmp_path / "config.db").write_bytes(b"garbage" * 1000)
    assert run("show") == 2
    assert "chargepark config restore" in capsys.readouterr().err
    assert run("restore", str(export)) == 0
    assert run("show", "chargepoint") == 0
    assert json.loads(capsys.readouterr().out)["chargepoint"]["uid1"]["max_current_a"] == 40
    assert len(list(tmp_path.glob("config.db.refused-*"))) == 1
    (tmp_path / "config.db").unlink()
    (tmp_path / "config.db").write_bytes(b"garbage" * 1000)
    for leftover in tmp_path.glob("config.db-*"):
        leftover.unlink()
    assert run("reset") == 0
    assert run("show", "chargepoint") == 0
    assert json.loads(capsys.readouterr().out) == {"chargepoint": {}}


def test_concurrent_writers_cannot_both_break_a_park_rule(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "config.db"
    stores = [ConfigStore.open(path) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def claim(i: int) -> None:
        barrier.wait()
        try:
            stores[i].put("chargepoint", {"name": "CP%d" % i, "ocpp_connector_id": 7}, key="uid%d" % i)
            outcomes.append("saved")
        except chargeschema.Invalid as exc:
            outcomes.append(exc.errors["ocpp_connector_id"])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("saved") == 1 and len(outcomes) == 4
    assert [cp["ocpp_connector_id"] for cp in ConfigStore.open(path).get("chargepoint").values()] == [7]


def test_system_ports_and_broker_are_checked(store: ConfigStore) -> None:
    system = store.get("system")
    assert (system["mqtt_port"], system["rest_port"], system["web_port"]) == (1883, 5555, 8080)
    assert system["mqtt_system_broker"] == ""
    for bad in ("broker.local", "broker.local:0", ":1883", "a b:1883", "host:70000"):
        assert _invalid(store.put, "system", {"mqtt_system_broker": bad}) == {
            "mqtt_system_broker": "must be host:port such as 127.0.0.1:1883"
        }
    assert store.put("system", {"mqtt_system_broker": "[::1]:1884"})["mqtt_system_broker"] == "[::1]:1884"
    assert "web_port" in _invalid(store.put, "system", {"web_port": 5555})
    # Our own broker must not share a port with REST; a system broker's port is somebody else's business.
    assert "mqtt_port" in _invalid(store.put, "system", {"mqtt_system_broker": "", "mqtt_port": 5555})
    store.put("system", {"mqtt_system_broker": "10.0.0.2:5555", "mqtt_port": 5555})


def test_a_store_written_before_the_port_fields_opens_with_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    ConfigStore.open(path).close()
    old_system = json.dumps(  # the system record as written before the ports were configurable
        {
            "name": "old head",
            "ntp_enabled": True,
            "ntp_servers": [{"address": "pool.ntp.org"}],
            "log_level": "debug",
            "calibration_law": False,
        }
    )
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO records VALUES ('system', '', ?, ?)",
            (old_system, zlib.crc32(b"system\0\0" + old_system.encode())),
        )
    store = ConfigStore.open(path)
    system = store.get("system")
    assert (system["name"], system["log_level"]) == ("old head", "debug")
    assert (system["mqtt_port"], system["mqtt_system_broker"], system["rest_port"], system["web_port"]) == (
        1883,
        "",
        5555,
        8080,
    )
    assert store.put("system", {"web_port": 8081})["name"] == "old head"
