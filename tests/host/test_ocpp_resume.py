"""A restart under a running transaction (issue 15, item 7): the service comes back with the transaction in
its queue while the module (restarted with the head, or alone) shows the vehicle without a release. The
point is released again and the module's new session carries the transaction on; the connector is never
reported Available while the transaction is open. The e2e test with a `kill -9` of the whole head is
tests/e2e/test_ocpp_head_kill.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chargedefs
import pytest
from chargepark.ocpp.feed import RESUME
from chargepark.ocpp.txqueue import TxQueue

from tests.host.ocppkit import CentralSystem
from tests.host.test_ocpp_backend import UIDS, Rig, live

UID = UIDS[0]
VEHICLE = {"iec_state": chargedefs.IEC_STATES.index("B2"), "connected_s": 3}


@pytest.fixture
def cs() -> Iterator[CentralSystem]:
    c = CentralSystem()
    yield c
    c.close()


def restarted(tmp: Path, cs: CentralSystem) -> Rig:
    """The service again on the same data directory (its queue and state files)."""
    return Rig(tmp, cs, {})


def test_the_module_restarted_under_a_transaction_gets_its_release_and_carries_it_on(
    tmp_path: Path, cs: CentralSystem
) -> None:
    asyncio.run(_the_module_restarted_under_a_transaction_gets_its_release_and_carries_it_on(tmp_path, cs))


async def _the_module_restarted_under_a_transaction_gets_its_release_and_carries_it_on(
    tmp_path: Path, cs: CentralSystem
) -> None:
    first = Rig(tmp_path, cs, {})
    first.station.on_release(UID, 7, 1000)
    ref = first.queue.running(UID)
    assert ref is not None
    first.queue.close()

    r = restarted(tmp_path, cs)
    for uid in UIDS:  # the rig's default samples are not what this service has seen yet
        r.station.live.pop(uid)
    r.feed.on_live("applications/controller-agent/charging_controllers/%s/live" % UID,
                   _raw(live("SuspendedEVSE", 1500, release=0, **VEHICLE)))  # fmt: skip
    assert r.feed.events.get_nowait() == (UID, RESUME, None)
    await r.feed.handle(UID, RESUME, None)
    assert (UID, "release", True) in r.ops.sent
    r.feed.on_live("applications/controller-agent/charging_controllers/%s/live" % UID,
                   _raw(live("SuspendedEVSE", 1500, release=0, **VEHICLE)))  # fmt: skip
    assert r.feed.events.empty()  # released once, not at every sample

    await r.feed.handle(UID, "session_release", [1, 1500])  # the module's new session
    tx = r.queue.running(UID)
    assert tx is not None and tx.ref == ref.ref and tx.session == 1
    assert [a for a, _ in _messages(r.queue)] == ["StartTransaction"]  # no second start, no stop

    await r.feed.handle(UID, "session_stop", [1, 1800, 300, 60, 50, 0])
    msgs = _messages(r.queue)
    assert [a for a, _ in msgs] == ["StartTransaction", "StopTransaction"]
    assert msgs[1][1]["meterStop"] == 1800 and msgs[1][1]["reason"] == "EVDisconnected"
    r.queue.close()


def test_a_point_seen_released_is_not_released_again_when_its_release_goes(
    tmp_path: Path, cs: CentralSystem
) -> None:
    asyncio.run(_a_point_seen_released_is_not_released_again_when_its_release_goes(tmp_path, cs))


async def _a_point_seen_released_is_not_released_again_when_its_release_goes(
    tmp_path: Path, cs: CentralSystem
) -> None:
    r = Rig(tmp_path, cs, {})
    r.station.live.pop(UID)
    topic = "applications/controller-agent/charging_controllers/%s/live" % UID
    r.station.on_release(UID, 3, 1000)
    r.feed.on_live(topic, _raw(live("Charging", 1100, release=1, **VEHICLE)))
    r.feed.on_live(topic, _raw(live("SuspendedEVSE", 1100, release=0, **VEHICLE)))  # our own stop under way
    assert r.feed.events.empty()
    r.feed.on_live(topic, _raw(dict(live("SuspendedEVSE", 1100, release=0, **VEHICLE), online=False)))
    r.feed.on_live(topic, _raw(live("SuspendedEVSE", 1100, release=0, **VEHICLE)))  # the module came back
    assert r.feed.events.get_nowait() == (UID, RESUME, None)
    r.queue.close()


def test_no_available_before_the_stop_transaction_is_delivered(tmp_path: Path, cs: CentralSystem) -> None:
    asyncio.run(_no_available_before_the_stop_transaction_is_delivered(tmp_path, cs))


async def _no_available_before_the_stop_transaction_is_delivered(tmp_path: Path, cs: CentralSystem) -> None:
    r = Rig(tmp_path, cs, {})
    connector = r.station.connector_of(UID)
    r.station.on_release(UID, 3, 1000)
    r.station.live[UID] = live("Available", 1100)
    assert connector not in dict(r.station.changed_statuses())
    tx = r.queue.running(UID)
    assert tx is not None and r.station.stop(tx, 1100, "EVDisconnected")
    assert connector not in dict(r.station.changed_statuses())  # its StopTransaction is not delivered yet
    while (m := r.queue.head()) is not None:
        r.queue.delivered(m, {"transactionId": 9})
    assert dict(r.station.changed_statuses())[connector].status == "Available"
    r.queue.close()


def test_a_reopened_queue_knows_its_running_transactions(tmp_path: Path) -> None:
    q = TxQueue(tmp_path / "q.db")
    a = q.start("A", 1, 1, "T", 10, "2026-01-01T00:00:00Z")
    b = q.start("B", 1, 2, "T", 20, "2026-01-01T00:00:00Z")
    q.delivered(q.head(), {"transactionId": 501})  # type: ignore[arg-type]
    q.stop(b, 25, "2026-01-01T00:00:01Z", "Local")
    q.adopt(a, 4)
    q.close()
    again = TxQueue(tmp_path / "q.db")
    tx = again.running("A")
    assert tx is not None and (tx.ref, tx.tx_id, tx.session) == (a, 501, 4)
    assert again.running("B") is None and again.by_tx_id(501) == tx
    again.close()


def _raw(sample: dict[str, object]) -> bytes:
    return json.dumps(sample).encode()


def _messages(q: TxQueue) -> list[tuple[str, dict[str, Any]]]:
    """The queued messages (action, payload), left in the queue."""
    return [(a, json.loads(p)) for a, p in q.db.execute("SELECT action, payload FROM messages ORDER BY seq")]
