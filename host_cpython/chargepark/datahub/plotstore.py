"""The live plots' durable history: power and L1..L3 currents per point and for the park, downsampled.

The data hub adds every live sample; each tier averages them into buckets and keeps them for a bounded time,
so the file stays bounded (points x (720 + 1440) rows) and survives a restart. The WBM reads it (read only)
for the 15 min, 1 h and 24 h windows, then appends the live samples it gets over server-sent events.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

FILE = "plot.db"  # in the head's data directory, beside sessions.db
TIERS = ((5, 3600), (60, 86400))  # (bucket seconds, kept seconds)
WINDOWS = {"15m": (900, 0), "1h": (3600, 0), "24h": (86400, 1)}  # window -> (seconds, tier)
PARK = ""  # the park's series: the sum of its points' bucket averages
SERIES = ("power_w", "i1_a", "i2_a", "i3_a")
SCHEMA = """CREATE TABLE IF NOT EXISTS plot (tier INTEGER, uid TEXT, t INTEGER, power_w REAL, i1_a REAL,
i2_a REAL, i3_a REAL, PRIMARY KEY (tier, uid, t)) WITHOUT ROWID"""


class PlotStore:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # a lost last bucket on power loss is acceptable
        self.db.execute(SCHEMA)
        # (tier, uid, bucket start) -> [samples, power, i1, i2, i3] sums of the bucket still open
        self._open: dict[tuple[int, str, int], list[float]] = {}

    def add(self, uid: str, t: float, power_w: float, i1_a: float, i2_a: float, i3_a: float) -> None:
        for tier, (size, _) in enumerate(TIERS):
            acc = self._open.setdefault((tier, uid, int(t) // size * size), [0.0] * 5)
            acc[0] += 1
            acc[1] += power_w
            acc[2] += i1_a
            acc[3] += i2_a
            acc[4] += i3_a

    def flush(self, now: float) -> None:
        """Writes every bucket that has closed (with the park's sum) and drops what is older than kept."""
        rows: dict[tuple[int, str, int], list[float]] = {}
        for key in [k for k in self._open if k[2] + TIERS[k[0]][0] <= now]:
            n, *sums = self._open.pop(key)
            avg = [s / n for s in sums]
            rows[key] = avg
            park = rows.setdefault((key[0], PARK, key[2]), [0.0] * 4)
            for k in range(4):
                park[k] += avg[k]
        if not rows:
            return
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO plot VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(tier, uid, t, *(round(v, 3) for v in avg)) for (tier, uid, t), avg in rows.items()],
            )
            for tier, (_, kept) in enumerate(TIERS):
                self.db.execute("DELETE FROM plot WHERE tier = ? AND t < ?", (tier, int(now) - kept))

    def close(self) -> None:
        self.db.close()


def series(path: Path, uid: str, window: str, now: float) -> dict[str, Any]:
    """The stored buckets of one point (or the park, uid PARK) over a window, oldest first."""
    if window not in WINDOWS:
        raise ValueError("window must be one of %s" % ", ".join(WINDOWS))
    seconds, tier = WINDOWS[window]
    out: dict[str, Any] = {"uid": uid, "window": window, "bucket_s": TIERS[tier][0], "t": []}
    out.update({name: [] for name in SERIES})
    if not path.exists():
        return out  # the data hub has not written a bucket yet
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        rows = db.execute(
            "SELECT t, power_w, i1_a, i2_a, i3_a FROM plot WHERE tier = ? AND uid = ? AND t >= ? ORDER BY t",
            (tier, uid, int(now) - seconds),
        ).fetchall()
    finally:
        db.close()
    for t, *values in rows:
        out["t"].append(t)
        for name, v in zip(SERIES, values, strict=True):
            out[name].append(v)
    return out
