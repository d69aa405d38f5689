"""The twin on the real `micropython` binary (where the per-sample loops run as viper machine code) against
the C core: the same random windows give the same results."""

from __future__ import annotations

import json
import random
from array import array
from pathlib import Path

from backends import backend

HERE = Path(__file__).resolve().parent
FIELDS = ("status", "high_mv", "low_mv", "high_n", "low_n", "duty", "freq_hz", "state", "faults", "diode_ok")


def random_windows(rng: random.Random, count: int) -> list[list[int]]:
    """PWM-like windows with random levels, duty, period, noise and glitches, plus pure noise."""
    out = []
    for k in range(count):
        n = rng.randint(1, 2500)
        if k % 5 == 0:
            out.append([rng.randint(0, 65535) for _ in range(n)])
            continue
        high, low = rng.randint(0, 4095), rng.randint(0, 4095)
        period = rng.randint(2, 1000)
        on = rng.randint(0, period)
        noise = rng.choice((0, 0, 3, 20, 80))
        w = [(high if i % period < on else low) + rng.randint(-noise, noise) for i in range(n)]
        for _ in range(rng.randint(0, 2)):
            w[rng.randrange(n)] = rng.randint(0, 4095)
        out.append([max(0, min(65535, v)) for v in w])
    return out


def test_twin_on_micropython_matches_c(micropython, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(4)
    windows = random_windows(rng, 150)
    configs = [[2048, 15000, 2048], [0, 3300, 4095, 500000, 2, 200, 3], [100, 5, 7, 1000, 0, 0, 1]]
    c_mod = backend("cython")
    expected = []
    for config in configs:
        cp = c_mod.Cp(*config)
        for i, w in enumerate(windows):
            cp.window(array("H", w))
            cp.classify(i % 2)
            expected.append([getattr(cp, f) for f in FIELDS])
    data = tmp_path / "windows.json"
    data.write_text(json.dumps({"configs": configs, "windows": windows}))
    code = """
import json, chargecore
from array import array
twin = chargecore.use("twin")
with open(%r) as f:
    d = json.load(f)
out = []
for config in d["configs"]:
    cp = twin.Cp(*config)
    for i, w in enumerate(d["windows"]):
        cp.window(array("H", w))
        cp.classify(i %% 2)
        out.append([getattr(cp, f) for f in %r])
print(json.dumps(out))
""" % (str(data), list(FIELDS))
    got = json.loads(micropython.run(code, heap="32M"))
    mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert mismatches == []
    assert {row[0] for row in expected} == {0, 1}, "the windows must exercise both good and noisy results"
