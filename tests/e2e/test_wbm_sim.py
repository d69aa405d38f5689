"""End to end: the WBM API of a real `chargepark run --sim 2`: every role logs in and changes its factory
password, an operation reaches the point (confirmed by the module), a configuration write reaches the module."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pointconfig
import pytest
from chargepark import simctl
from chargepark.auth.roles import LOGINS

from tests.e2e.test_head_sim import run_sim, sim_runtime, until
from tests.host.wbmkit import change_factory_password, log_in


def _get(client: httpx.Client, path: str) -> Any:
    try:
        return client.get(path).json()
    except httpx.TransportError as e:  # the web server is still starting
        raise OSError(str(e)) from e


@pytest.mark.slow
def test_wbm_roles_an_operation_and_a_config_write_reach_the_point(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head = run_sim(data, 2)
    try:
        rt = sim_runtime(data)
        base = "http://127.0.0.1:%d" % rt["web_port"]
        endpoint = until("sim endpoints", lambda: simctl.load_endpoints(data))[1]["sim_control"]

        def module() -> dict[str, object]:
            state: dict[str, object] = simctl.request(endpoint, {"cmd": "state"})["point"]
            return state

        with httpx.Client(base_url=base, timeout=10) as guest:
            until("dashboard", lambda: len(_get(guest, "/api/park")["points"]) == 2, 90)
            assert guest.get("/api/wbm/park").status_code == 401
        for login in LOGINS:
            with httpx.Client(base_url=base, timeout=10) as c:
                change_factory_password(c, login.name)
                assert c.get("/api/wbm/auth/session").json()["role"] == login.name
        with httpx.Client(base_url=base, timeout=10) as user:
            log_in(user, "user")
            tree = user.get("/api/wbm/park").json()
            uids = [p["uid"] for st in tree["stations"] for p in st["points"]]
            assert "CPSIM0001" in uids and len(uids) == 2
            r = user.put("/api/wbm/points/CPSIM0001/enabled", json={"on": False})
            assert r.status_code == 403  # the manufacturer's operation
        with httpx.Client(base_url=base, timeout=10) as m:
            log_in(m, "manufacturer")
            r = m.put("/api/wbm/points/CPSIM0001/enabled", json={"on": False})
            assert r.status_code == 200 and r.json()["confirmed"] is True, r.text
            until("point 1 disabled (Faulted)",
                  lambda: m.get("/api/wbm/live/CPSIM0001").json()["status"] == "Faulted", 15)  # fmt: skip
            assert m.put("/api/wbm/points/CPSIM0001/enabled", json={"on": True}).status_code == 200
            r = m.put("/api/wbm/points/CPSIM0099/enabled", json={"on": True})
            assert r.status_code == 404 and r.json()["error"]
            saved = m.put("/api/wbm/config/chargepoint/records/CPSIM0001", json={"max_current_a": 20})
            assert saved.status_code == 200, saved.text
            want = pointconfig.checksum(saved.json())
            until(
                "the configuration on the module", lambda: int(str(module()["config_checksum"])) == want, 10
            )
            r = m.put("/api/wbm/config/chargepoint/records/CPSIM0001", json={"max_current_a": 500})
            assert r.status_code == 422 and r.json()["field"] == "max_current_a"
            assert int(str(module()["config_checksum"])) == want
    finally:
        head.send_signal(signal.SIGINT)
        head.communicate(timeout=60)
    assert head.returncode == 0
