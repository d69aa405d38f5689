"""The park's whitelist (release/whitelist.py, csvio.py) and the RFID decision (release/rfid.py) on a real
configuration store: expiry and allow-charging, 500 entries and the refused 501st, CSV round trip, a
malformed file that changes nothing and names its line, teach-in/out, which point a reader serves, the
same card again ending the session."""

from __future__ import annotations

import asyncio
import json
import string
from pathlib import Path
from typing import Any

import chargedefs as cd
import chargeschema
import pytest
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.release import csvio, gate, rfid, whitelist
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = 1_800_000_000.0  # 2027-01-15
PAST, FUTURE = "2026-01-01T00:00:00Z", "2099-12-31T23:59:59Z"


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    s = ConfigStore.open(tmp_path / "config.db")
    yield s
    s.close()


def entry(**kw: Any) -> dict[str, Any]:
    return {"type": "rfid", "name": "", "allow_charging": True, "expiry_utc": FUTURE, **kw}


def test_what_an_entry_allows() -> None:
    assert whitelist.refusal(entry(), NOW) == ""
    assert whitelist.refusal(None, NOW) == "not on the whitelist"
    assert "not allowed" in whitelist.refusal(entry(allow_charging=False), NOW)
    assert whitelist.refusal(entry(expiry_utc=PAST), NOW) == "expired at " + PAST
    at = whitelist.utc(NOW)
    assert whitelist.refusal(entry(expiry_utc=at), NOW).startswith("expired")  # from that second on
    assert whitelist.refusal(entry(expiry_utc=whitelist.utc(NOW + 1)), NOW) == ""


def test_a_card_matches_whatever_the_case_of_its_hex_digits() -> None:
    index = whitelist.Index({"04a1b2c3": entry()})
    assert index.refusal("04A1B2C3", NOW) == "" and index.refusal("04a1b2c3", NOW) == ""
    assert whitelist.normal(" 04:a1:b2 ") == "04A1B2"
    assert whitelist.tag_problem("04A1B2") == "" and "hexadecimal" in whitelist.tag_problem("XYZ")


def test_500_entries_and_the_501st_is_refused_with_a_reason(store: ConfigStore) -> None:
    store.apply([("whitelist", "%08X" % n, entry()) for n in range(500)])
    assert len(store.get("whitelist")) == 500
    with pytest.raises(chargeschema.Invalid) as e:
        store.put("whitelist", entry(), "FFFFFFFF")
    assert "at most 500" in str(e.value.errors)
    assert len(store.get("whitelist")) == 500


def test_csv_round_trip_of_500_entries_add_and_replace(store: ConfigStore) -> None:
    entries = {"%08X" % n: entry(name="Card, %d \"x\"" % n, allow_charging=n % 3 != 0,
                                 expiry_utc=PAST if n % 7 == 0 else FUTURE) for n in range(500)}  # fmt: skip
    store.apply(csvio.changes({}, entries, replace=False))
    text = csvio.export(store.get("whitelist"))
    assert text.count("\r\n") == 501 and csvio.parse(text) == entries
    store.apply(csvio.changes(store.get("whitelist"), csvio.parse(text), replace=True))
    assert store.get("whitelist") == entries
    # Replace with a shorter file: exactly its entries remain; add of 1 more to 500: refused
    few = {k: entries[k] for k in list(entries)[:3]}
    store.apply(csvio.changes(store.get("whitelist"), csvio.parse(csvio.export(few)), replace=True))
    assert store.get("whitelist") == few
    with pytest.raises(csvio.Malformed) as e:
        csvio.changes(few, {"%08X" % (1000 + n): entry() for n in range(498)}, replace=False)
    assert "at most 500" in str(e.value) and "501" in str(e.value)


def test_a_file_with_501_entries_is_refused_at_its_501st_line() -> None:
    text = csvio.export({"%08X" % n: entry() for n in range(500)}) + "FFFFFFFF,rfid,,true,%s\r\n" % FUTURE
    with pytest.raises(csvio.Malformed) as e:
        csvio.parse(text)
    assert e.value.line == 502 and "at most 500" in e.value.reason


BAD_LINES = {
    "ZZ12,rfid,,true,%s" % FUTURE: "hexadecimal",
    "04A1,rfid,,maybe,%s" % FUTURE: "true or false",
    "04A1,rfid,,true,31.12.2030": "expiry_date_utc",
    "04A1,rfid,,true,2030-13-31T00:00:00Z": "UTC time",
    "04A1,card,,true,%s" % FUTURE: "type",
    "04A1,rfid,,true": "columns",
    "04A1,rfid,%s,true,%s" % ("n" * 65, FUTURE): "label",
}


@pytest.mark.parametrize("bad", BAD_LINES)
def test_a_malformed_file_changes_nothing_and_names_the_wrong_line(store: ConfigStore, bad: str) -> None:
    store.put("whitelist", entry(name="kept"), "0000AAAA")
    good = csvio.export({"%04X" % n: entry() for n in range(5)}).splitlines()
    lines = [*good[:3], bad, *good[3:]]
    with pytest.raises(csvio.Malformed) as e:
        csvio.parse("\n".join(lines) + "\n")
    assert e.value.line == 4 and BAD_LINES[bad] in str(e.value), str(e.value)
    assert str(e.value).startswith("line 4: ")
    assert store.get("whitelist") == {"0000AAAA": entry(name="kept")}


def test_a_file_without_the_header_or_with_a_tag_twice_is_named() -> None:
    with pytest.raises(csvio.Malformed, match="line 1: header"):
        csvio.parse("04A1,rfid,,true,%s\n" % FUTURE)
    with pytest.raises(csvio.Malformed, match="line 3: 04A1 is in the file twice"):
        csvio.parse(csvio.export({"04A1": entry()}) + "04a1,rfid,,true,%s\r\n" % FUTURE)


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=64)
hex_tags = st.text(string.hexdigits.upper()[:16], min_size=2, max_size=20)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(hex_tags, st.tuples(names, st.booleans(), st.booleans()), max_size=30))
def test_any_whitelist_survives_export_and_import(cards: dict[str, tuple[str, bool, bool]]) -> None:
    entries = {tag: entry(name=name, allow_charging=ok, expiry_utc=PAST if old else FUTURE)
               for tag, (name, ok, old) in cards.items()}  # fmt: skip
    assert csvio.parse(csvio.export(entries)) == {t: chargeschema.validate(csvio.AREA.fields, r)
                                                   for t, r in entries.items()}  # fmt: skip


# ---- the RFID decision -----------------------------------------------------------------------------


class Ops:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        self.sent.append((uid, name, value))


def point(store: ConfigStore, uid: str, mode: str, reader: str = "", connector: int = -1) -> None:
    store.put("chargepoint", {"name": uid, "release_mode": mode, "rfid_reader": reader,
                              "ocpp_connector_id": connector}, uid)  # fmt: skip


def decider(store: ConfigStore, live: dict[str, dict[str, Any]]) -> tuple[rfid.Decider, Ops]:
    ops = Ops()
    published: list[tuple[str, str]] = []
    d = rfid.Decider(store, ops, lambda uid: live.get(uid, {}), lambda t, p: published.append((t, p)),
                     clock=lambda: NOW)  # fmt: skip
    d.published = published  # type: ignore[attr-defined]
    return d, ops


def card(d: rfid.Decider, reader: str, tag: str) -> None:
    asyncio.run(d.card(reader, tag))


def teach(d: rfid.Decider, request: dict[str, Any] | bytes) -> None:
    """The WBM's request as the service takes it: parsed off the topic, armed in order with the cards."""
    d.on_teach(topics.RFID_TEACH, request if isinstance(request, bytes) else json.dumps(request).encode())
    while not d.events.empty():
        _, name, arg = d.events.get_nowait()
        assert name == "teach"
        asyncio.run(d.arm(arg))


def test_a_whitelisted_card_releases_its_point_others_are_denied_with_the_reason(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    store.apply([("whitelist", "04A1", entry()), ("whitelist", "04B2", entry(allow_charging=False)),
                 ("whitelist", "04C3", entry(expiry_utc=PAST))])  # fmt: skip
    d, ops = decider(store, {})
    for tag, ok in (("04a1", True), ("04B2", False), ("04C3", False), ("0BAD", False)):
        card(d, "CP1", tag)
        assert ops.sent[-1] == ("CP1", "rfid", [tag.upper(), ok])
    verdicts = [s["verdict"] for s in d.state()["scans"]]
    assert verdicts == ["denied: not on the whitelist", "denied: expired at " + PAST,
                        "denied: on the whitelist, charging not allowed", "released CP1"]  # fmt: skip
    topic, payload = d.published[-1]  # type: ignore[attr-defined]
    assert topic == topics.RFID_RECENT and json.loads(payload)["scans"][0]["tag"] == "0BAD"


def test_a_reader_serves_the_points_that_name_it_and_skips_other_modes(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    point(store, "CP2", "whitelist", reader="CP1")  # 1:n: CP1's reader serves CP2 as well
    point(store, "CP3", "ocpp", connector=1)  # the OCPP service authorizes this one
    point(store, "CP4", "dashboard")
    store.put("whitelist", entry(), "04A1")
    plugged = cd.STATUSES.index("Preparing")
    live: dict[str, dict[str, Any]] = {"CP2": {"status": plugged, "release": 0}}
    d, ops = decider(store, live)
    card(d, "CP1", "04A1")
    assert ops.sent == [("CP2", "rfid", ["04A1", True]),  # the one with a vehicle first
                        ("CP1", "rfid_decided", "accepted")]  # the reader's point hears it too  # fmt: skip
    live["CP2"]["release"] = 1
    card(d, "CP1", "04A2")
    assert ops.sent[-1] == ("CP1", "rfid", ["04A2", False])
    n = len(ops.sent)
    card(d, "CP3", "04A1")  # the OCPP service decides and tells CP3
    assert len(ops.sent) == n
    card(d, "CP4", "04A1")  # only recorded: CP4 stops asking
    assert ops.sent[n:] == [("CP4", "rfid_decided", "none")]
    assert d.state()["scans"][0]["verdict"] == "no point in release mode whitelist uses this reader"


def test_the_same_card_again_ends_the_session_unless_the_key_is_off(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    store.put("whitelist", entry(), "04A1")
    live: dict[str, dict[str, Any]] = {"CP1": {"release": 0}}
    d, all_ops = decider(store, live)
    ops = Verdicts(all_ops)  # the reader's rfid_decided apart (test_every_decision_ends_the_readers_ask)
    now = [NOW]
    d.clock = lambda: now[0]
    released, ended = ("CP1", "rfid", ["04A1", True]), ("CP1", "enforce_unlock", True)
    card(d, "CP1", "04A1")
    card(d, "CP1", "04A1")  # at once: the live sample does not show the release yet, the decider knows it
    assert ops.sent == [released, ended]
    card(d, "CP1", "04A1")  # the session is over: the card releases again
    now[0] += 10
    live["CP1"]["release"] = 1
    card(d, "CP1", "04A1")  # the release is held (live): ended
    card(d, "CP1", "04A1")  # released by no card any more and every point released: nothing sent
    assert ops.sent == [released, ended, released, ended]
    live["CP1"]["release"] = 0
    card(d, "CP1", "04A1")
    now[0] += 10  # no vehicle came: the module's RFID timeout discarded the release
    card(d, "CP1", "04A1")
    assert ops.sent[-2:] == [released, released]
    store.put("ocpp", {"PresentingRFIDEndCharging": False})
    live["CP1"]["release"] = 1
    now[0] += 10
    card(d, "CP1", "04A1")
    assert ops.sent[-1] == released and len(ops.sent) == 6  # the key off: the card ends nothing


class Verdicts:
    """What the decider sent the points, without the rfid_decided that ends the reader's question."""

    def __init__(self, ops: Ops) -> None:
        self.ops = ops

    @property
    def sent(self) -> list[tuple[str, str, Any]]:
        return [m for m in self.ops.sent if m[1] != "rfid_decided"]


def test_every_decision_ends_the_readers_ask(store: ConfigStore) -> None:
    """The reader's point reports Authorization Request ongoing until it hears the decision: exactly one
    message to it for each card (its verdict, a teach result or rfid_decided with what its board shows);
    none where the OCPP service decides (it answers with rfid or release)."""
    point(store, "R", "whitelist")
    point(store, "CP2", "whitelist", reader="R")
    point(store, "OC", "ocpp", connector=1)
    point(store, "DB", "dashboard")
    store.put("whitelist", entry(), "04A1")
    live: dict[str, dict[str, Any]] = {"R": {"release": 1}, "CP2": {"release": 0}}
    d, ops = decider(store, live)

    def told(reader: str, tag: str) -> list[tuple[str, Any]]:
        n = len(ops.sent)
        card(d, reader, tag)
        return [(name, value) for uid, name, value in ops.sent[n:] if uid == reader]

    assert told("R", "04A1") == [("rfid_decided", "accepted")]  # CP2 released
    live["CP2"]["release"] = 1
    assert told("R", "0BAD") == [("rfid_decided", "none")]  # every point released already
    assert told("R", "04A1") == [("rfid_decided", "none")]  # the same card again ended CP2's session
    live["R"]["release"], live["CP2"]["release"] = 0, 1
    assert told("R", "0BAD") == [("rfid", ["0BAD", False])]  # its own verdict
    live["R"]["release"], live["CP2"]["release"] = 1, 0
    assert told("R", "0BAD") == [("rfid_decided", "denied")]  # CP2 denied
    assert told("DB", "04A1") == [("rfid_decided", "none")]  # only recorded
    assert told("OC", "04A1") == []  # the OCPP service's
    teach(d, {"reader": "R", "mode": "in", "seconds": 30})
    assert told("R", "0C0C") == [("teach_wait", False), ("teach", "in_ok")]


def test_teach_in_and_out_at_a_reader(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    d, ops = decider(store, {})
    teach(d, {"reader": "CP1", "mode": "in", "seconds": 30})
    assert d.state()["teach"]["mode"] == "in" and ops.sent == [("CP1", "teach_wait", True)]
    card(d, "CP1", "04a1b2")
    assert store.get("whitelist", "04A1B2") is not None
    assert ops.sent[-2:] == [("CP1", "teach_wait", False), ("CP1", "teach", "in_ok")]
    assert d.state()["teach"] is None  # one card per arming
    card(d, "CP1", "04A1B2")
    assert ops.sent[-1] == ("CP1", "rfid", ["04A1B2", True])  # the next card is decided again
    teach(d, {"reader": "CP1", "mode": "out"})
    card(d, "CP1", "04A1B2")
    assert store.get("whitelist", "04A1B2") is None and ops.sent[-1] == ("CP1", "teach", "out_ok")
    teach(d, {"reader": "CP1", "mode": "out"})
    card(d, "CP1", "04A1B2")
    assert ops.sent[-1] == ("CP1", "teach", "in_failed")  # not on the list: the failure event
    store.apply([("whitelist", "%08X" % n, entry()) for n in range(500)])
    teach(d, {"reader": "CP1", "mode": "in"})
    card(d, "CP1", "04A1B2")
    assert ops.sent[-1] == ("CP1", "teach", "in_failed") and "at most 500" in d.state()["scans"][0]["verdict"]


def test_an_armed_teach_in_lapses_and_a_bad_request_changes_nothing(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    d, ops = decider(store, {})
    teach(d, {"reader": "CP1", "mode": "in", "seconds": 5})
    d.clock = lambda: NOW + 6
    card(d, "CP1", "04A1")
    assert ops.sent[1:] == [("CP1", "teach_wait", False), ("CP1", "rfid", ["04A1", False])]
    assert store.get("whitelist") == {}
    teach(d, b"not json")
    teach(d, b'["a list"]')
    assert d.teach is None and d.events.empty()
    teach(d, {"reader": "CP1", "mode": "in"})
    teach(d, {"reader": "CP1", "mode": "off"})
    assert d.teach is None and ops.sent[-1] == ("CP1", "teach_wait", False)


def test_the_decision_passes_the_gate_as_the_whitelist_path(store: ConfigStore) -> None:
    assert gate.allows("whitelist", "whitelist") and not gate.allows("dashboard", "whitelist")


def test_the_running_decider_takes_cards_in_order_and_lets_a_teach_lapse(store: ConfigStore) -> None:
    point(store, "CP1", "whitelist")
    store.put("whitelist", entry(), "04A1")

    async def run() -> list[tuple[str, str, Any]]:
        ops = Ops()
        d = rfid.Decider(store, ops, lambda uid: {})
        worker = asyncio.ensure_future(d.run())
        event = topics.fill(topics.AGENT_EVENT, uid="CP1")
        d.on_event(event, b"{not json")
        d.on_event(event, json.dumps({"event": "rfid_read", "arg": "04A1"}).encode())
        d.on_teach(topics.RFID_TEACH, json.dumps({"reader": "CP1", "mode": "in", "seconds": 0.3}).encode())
        await asyncio.sleep(0.8)  # nobody presents a card: the teach lapses
        worker.cancel()
        assert d.teach is None
        return ops.sent

    assert asyncio.run(run()) == [("CP1", "rfid", ["04A1", True]), ("CP1", "teach_wait", True),
                                  ("CP1", "teach_wait", False)]  # fmt: skip
