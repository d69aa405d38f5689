"""The WBM's whitelist API (wbm/whitelist.py) over a real server and store: a User edits it, CSV export and
import (add and replace, a malformed file changes nothing and names its line), recent cards, teach."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chargepark import topics
from chargepark.release import csvio
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext

from tests.host.wbmkit import Server, change_factory_password, make_ctx, served

FUTURE = "2099-12-31T23:59:59Z"


@pytest.fixture
def wbm(tmp_path: Path) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    with served(create_app(ctx)) as base:
        yield ctx, base


@pytest.fixture
def user(wbm: tuple[WbmContext, Server]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wbm[1], timeout=30) as c:
        change_factory_password(c, "user")
        yield c


def test_a_user_adds_edits_and_deletes_entries_written_as_readers_render_them(
    wbm: tuple[WbmContext, Server], user: httpx.Client
) -> None:
    ctx, _ = wbm
    r = user.put("/api/wbm/whitelist/entries/04:a1:b2", json={"name": "Anna", "expiry_utc": FUTURE})
    assert r.status_code == 200 and r.json()["tag"] == "04A1B2", r.text
    assert ctx.store.get("whitelist", "04A1B2")["name"] == "Anna"
    assert user.get("/api/wbm/whitelist/entries/04a1b2").json()["name"] == "Anna"
    r = user.put("/api/wbm/whitelist/entries/XYZ", json={})
    assert r.status_code == 422 and "hexadecimal" in r.json()["error"]
    r = user.put("/api/wbm/whitelist/entries/04A1B2", json={"expiry_utc": "tomorrow"})
    assert r.status_code == 422 and r.json()["field"] == "expiry_utc"
    assert user.put("/api/wbm/whitelist/entries/04A1B2", json={"allow_charging": False}).status_code == 200
    assert ctx.store.get("whitelist", "04A1B2")["allow_charging"] is False
    assert user.delete("/api/wbm/config/whitelist/records/04A1B2").status_code == 200
    assert ctx.store.get("whitelist") == {}


def test_a_guest_cannot_read_the_whitelist(wbm: tuple[WbmContext, Server]) -> None:
    with httpx.Client(base_url=wbm[1], timeout=30) as guest:
        assert guest.get("/api/wbm/whitelist/csv").status_code in (401, 403)


def test_csv_import_add_replace_and_a_malformed_file(
    wbm: tuple[WbmContext, Server], user: httpx.Client
) -> None:
    ctx, _ = wbm
    user.put("/api/wbm/whitelist/entries/0000AAAA", json={"name": "kept"})
    text = csvio.export({"%08X" % n: {"type": "rfid", "name": "n%d" % n, "allow_charging": True,
                                      "expiry_utc": FUTURE} for n in range(500)})  # fmt: skip
    csv_headers = {"content-type": "text/csv"}
    r = user.post("/api/wbm/whitelist/csv", content=text, headers=csv_headers)
    assert r.status_code == 422 and "at most 500" in r.json()["error"], r.text  # 500 + the one there
    assert list(ctx.store.get("whitelist")) == ["0000AAAA"]
    r = user.post("/api/wbm/whitelist/csv?replace=true", content=text, headers=csv_headers)
    assert r.status_code == 200 and r.json()["entries"] == 500, r.text
    exported = user.get("/api/wbm/whitelist/csv")
    assert exported.headers["content-type"].startswith("text/csv") and csvio.parse(
        exported.text
    ) == csvio.parse(text)
    bad = text.replace("00000007,rfid,n7,true", "00000007,rfid,n7,perhaps")
    r = user.post("/api/wbm/whitelist/csv?replace=true", content=bad, headers=csv_headers)
    assert r.status_code == 422 and r.json()["error"].startswith("line 9: "), r.text
    assert len(ctx.store.get("whitelist")) == 500
    one = "uid,type,label,active,expiry_date_utc\r\n0BEEF0,rfid,,true,%s\r\n" % FUTURE
    r = user.post("/api/wbm/whitelist/csv?replace=true", content=one, headers=csv_headers)
    assert r.status_code == 200 and list(ctx.store.get("whitelist")) == ["0BEEF0"]
    r = user.post("/api/wbm/whitelist/csv", content=text, headers=csv_headers)  # add: 501 entries
    assert r.status_code == 422 and "501" in r.json()["error"]


def test_recent_cards_and_teach_requests(wbm: tuple[WbmContext, Server], user: httpx.Client) -> None:
    ctx, base = wbm
    published: list[tuple[str, str]] = []
    ctx.publish = lambda t, p: published.append((t, p))
    state = {"scans": [{"tag": "04A1", "reader": "CP1", "at": "2027-01-01T00:00:00Z", "verdict": "released CP1"}],
             "teach": None}  # fmt: skip
    base.call_soon(ctx.rfid.on_recent, topics.RFID_RECENT, json.dumps(state).encode())

    deadline = time.monotonic() + 2
    while user.get("/api/wbm/whitelist/recent").json() != state and time.monotonic() < deadline:
        time.sleep(0.02)
    assert user.get("/api/wbm/whitelist/recent").json() == state
    assert user.post("/api/wbm/whitelist/teach", json={"reader": "CP1", "mode": "in"}).status_code == 404
    ctx.store.put("chargepoint", {"name": "P1", "release_mode": "whitelist"}, "CP1")
    r = user.post("/api/wbm/whitelist/teach", json={"reader": "CP1", "mode": "in", "seconds": 30})
    assert r.status_code == 200 and r.json()["armed"] is True
    assert published[-1][0] == topics.RFID_TEACH
    assert json.loads(published[-1][1]) == {"reader": "CP1", "mode": "in", "seconds": 30}
    assert (
        user.post("/api/wbm/whitelist/teach", json={"reader": "CP1", "mode": "sideways"}).status_code == 422
    )
