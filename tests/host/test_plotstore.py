"""The live plots' stored history: buckets per tier, the park's sum, bounded on disk, survives a restart,
and the WBM API's windows over it (roles from the matrix)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from chargepark.datahub import plotstore
from chargepark.datahub.plotstore import PARK, TIERS, PlotStore, series
from chargepark.wbm.app import create_app

from tests.host.wbmkit import change_factory_password, make_ctx, served

T0 = 1_699_999_980  # a multiple of both bucket sizes


def test_buckets_average_the_samples_and_the_park_sums_its_points(tmp_path: Path) -> None:
    db = tmp_path / plotstore.FILE
    s = PlotStore(db)
    for k in range(5):  # one 5 s bucket: 1 sample per second
        s.add("A", T0 + k, 7000.0 + k, 10.0, 10.0, 10.0)
        s.add("B", T0 + k, 3000.0, 5.0, 0.0, 0.0)
    s.flush(T0 + 4.5)  # the bucket is still open: nothing written
    assert series(db, "A", "15m", T0 + 5)["t"] == []
    s.flush(T0 + 5)
    a = series(db, "A", "15m", T0 + 5)
    assert a["t"] == [T0] and a["power_w"] == [7002.0] and a["i1_a"] == [10.0] and a["bucket_s"] == 5
    park = series(db, PARK, "1h", T0 + 5)
    assert park["power_w"] == [10002.0] and park["i1_a"] == [15.0] and park["i2_a"] == [10.0]
    assert series(db, "A", "24h", T0 + 5)["t"] == []  # the minute bucket is still open
    s.flush(T0 + 60)
    assert series(db, "A", "24h", T0 + 60)["t"] == [T0]
    s.close()
    PlotStore(db).close()  # the data hub restarts
    assert series(db, "A", "15m", T0 + 5)["t"] == [T0]


def test_old_buckets_are_dropped_so_the_file_stays_bounded(tmp_path: Path) -> None:
    db = tmp_path / plotstore.FILE
    s = PlotStore(db)
    step = TIERS[0][0]
    for t in range(T0, T0 + 2 * 3600, step):  # two hours of one sample per bucket
        s.add("A", t, 1000.0, 1.0, 1.0, 1.0)
        s.flush(t + step)
    rows = s.db.execute("SELECT tier, COUNT(*) FROM plot WHERE uid = 'A' GROUP BY tier").fetchall()
    assert dict(rows)[0] <= TIERS[0][1] // step + 1  # one hour of 5 s buckets, not two
    assert dict(rows)[1] == 2 * 60  # two hours of minute buckets, kept for a day
    s.close()


def test_the_wbm_serves_the_windows_to_users_only(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    s = PlotStore(ctx.data_dir / plotstore.FILE)
    now = time.time()
    s.add("CP1", now - 20, 11000.0, 16.0, 16.0, 16.0)
    s.flush(now)
    s.close()
    with served(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/api/wbm/plot/points/CP1").status_code == 401
        change_factory_password(c, "user")
        one = c.get("/api/wbm/plot/points/CP1", params={"window": "15m"}).json()
        assert one["power_w"] == [11000.0] and one["uid"] == "CP1"
        assert c.get("/api/wbm/plot/park", params={"window": "1h"}).json()["i3_a"] == [16.0]
        assert c.get("/api/wbm/plot/points/CP2").json()["t"] == []  # a point without history
        assert c.get("/api/wbm/plot/park", params={"window": "2h"}).status_code == 422
