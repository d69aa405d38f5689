"""The control tick allocates nothing: every core call of one tick runs under micropython.heap_lock()."""

from __future__ import annotations

CODE = """
import micropython, chargecore as c
from array import array
cp = c.Cp(2048, 15000, 2048)
windows = [array("H", [hi if i % 400 < on else 410 for i in range(1000)])
           for hi, on in ((3686, 200), (2867, 106), (3277, 20))]
oc = c.Overcurrent(c.OC_MODE_SHUTDOWN)
ct = c.Contactor(c.AUX_NO)
rcm = c.Rcm()
der = c.Derating(c.DERATE_LINEAR, 600, 800, 32000, 6000)
fb = c.Fallback(1000, 6000)


def tick(t):
    for w in windows:
        cp.update(w, 1)
    oc.update(t, 16000, 19300)
    ct.update(t, t % 2000 < 1000, 1)
    rcm.update(t, t % 50)
    der.update(600 + t % 250)
    fb.update(t, 16000)
    fb.kick(t)
    c.duty_from_current(16000 + t)
    c.current_from_duty(266)
    c.pp_capacity(220)
    c.pp_accept(32000, c.REJECT_13A)
    c.balance_limit(32000, 30000, 0, t)
    c.phase_of(1, 2)
    c.ptc_status(800, 1000)
    c.cp_state(c.STATE_B, 1, 9000, 1, -12000)


tick(0)
micropython.heap_lock()
for t in range(1, 30000, 13):
    tick(t)
micropython.heap_unlock()
print("ticks", cp.state, oc.state, ct.fault, rcm.status, der.active)
"""


def test_twin_tick_allocates_nothing(micropython) -> None:  # type: ignore[no-untyped-def]
    # Any allocation under heap_lock raises MemoryError and fails the run. The states prove the tick did work:
    # B2, an overcurrent trip (120 % for 10 s, paused), a weld (feedback closed while open), derating active.
    assert micropython.run(CODE).split() == ["ticks", "2", "1", "1", "0", "1"]
