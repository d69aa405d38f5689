"""End to end on `chargepark run --sim 2` (point 2 = connector 1, a socket outlet in remote locking mode)
against the loopback Central System: the OCPP service locks the socket with the remote start, the vehicle
charges, and when the vehicle side is unplugged (the cable stays in the socket) the transaction ends and
the socket unlocks (UnlockConnectorOnEVSideDisconnect). Without the key the socket keeps the cable until
UnlockConnector."""

from __future__ import annotations

import time
from pathlib import Path

import chargedefs
import pytest
from chargepark import topics
from ocpp.v16 import call

from tests.e2e.test_head_sim import until
from tests.e2e.test_ocpp_profiles_sim import Watch
from tests.e2e.test_ocpp_sim import UID, ocpp_head, sim
from tests.host.ocppkit import CentralSystem


@pytest.mark.slow
def test_ocpp_locks_a_remotely_locked_socket_and_unlocks_it_when_the_vehicle_leaves(tmp_path: Path) -> None:
    cs = CentralSystem(user="CB0001", key="k3y", interval=30)
    with ocpp_head(tmp_path, cs, {}, {"connection_type": "socket", "locking_mode": "remote"}) as data:
        live_topic = topics.fill(topics.AGENT_LIVE, uid=UID)
        watch = Watch(data, topics.AGENT_LIVE)

        def lock() -> str:
            return chargedefs.LOCK_STATES[int(watch.last[live_topic]["lock_state"])]

        def status() -> str:
            return str(cs.actions("StatusNotification")[-1].payload["status"])

        try:
            sim(data, "plug", "cable_a=32")
            sim(data, "charge")
            cs.wait("Preparing", lambda: status() == "Preparing", 30)
            assert lock() != "locked"  # remote mode: nothing locks it by itself
            for n in (1, 2):
                assert (
                    cs.call(call.RemoteStartTransaction(id_tag="TAG%d" % n, connector_id=1)).status
                    == "Accepted"
                )
                until("locked", lambda: lock() == "locked", 30)
                cs.wait("Charging", lambda: status() == "Charging", 30)
                sim(data, "ev_disconnect")  # the vehicle side only: the cable stays in the socket
                stop = cs.wait("StopTransaction", lambda n=n: cs.actions("StopTransaction")[n - 1 :], 30)[0]
                assert stop.payload["reason"] == "EVDisconnected"
                if n == 1:
                    until("unlocked once the vehicle left", lambda: lock() == "unlocked", 30)
                    answer = cs.call(
                        call.ChangeConfiguration(key="UnlockConnectorOnEVSideDisconnect", value="false")
                    )
                    assert answer.status == "Accepted"
                    sim(data, "ev_connect")
                    sim(data, "charge")
                    cs.wait("Preparing again", lambda: status() == "Preparing", 30)
            time.sleep(3)  # longer than an unlock takes: the socket keeps the cable
            assert lock() == "locked"
            assert cs.call(call.UnlockConnector(connector_id=1)).status == "Unlocked"
            until("unlocked by UnlockConnector", lambda: lock() == "unlocked", 30)
        finally:
            watch.close()
