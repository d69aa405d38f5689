"""System Monitor: real figures of this machine from /proc and statvfs, plus the service summary."""

from __future__ import annotations

import os
from pathlib import Path

from chargepark.services.system_monitor.main import cpu_times, sample


def test_sample_reports_this_machine(tmp_path: Path) -> None:
    prev = cpu_times()
    sum(i * i for i in range(200_000))  # some CPU time passes
    services = [{"state": "running"}, {"state": "backoff"}, {"state": "not installed"}]
    data, now = sample(str(tmp_path), prev, services)
    assert now[1] >= prev[1]
    assert 0.0 <= data["cpu_percent"] <= 100.0
    assert 0 < data["mem_available_kb"] <= data["mem_total_kb"]
    st = os.statvfs(tmp_path)
    assert data["disk_total_kb"] == st.f_blocks * st.f_frsize // 1024
    assert 0 <= data["disk_free_kb"] <= data["disk_total_kb"]
    assert data["services"] == {"running": 1, "installed": 2, "total": 3}
    assert len(data["load"]) == 3
