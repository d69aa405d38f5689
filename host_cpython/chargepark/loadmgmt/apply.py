"""Applying an allocation safely: lower before raise, counting the vehicles' reaction time.

IEC 61851-1 gives a vehicle up to 5 s to follow a lower PWM current, so a set-point lowered at t still counts
at its old value until t + 5 s. `Applier.step` sends every lowering at once and raises a point only by what
fits beside the values still counted ("committed") for the others; the rest of a raise waits for a later
round. So the sum of committed set-points, and with it every vehicle's draw, stays within the budget on
every phase during a change, not only after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chargepark.loadmgmt.allocate import ALL_PHASES, PHASES

REACTION_S = 5.0


@dataclass
class _Sent:
    ma: int
    at: float
    before: int  # the value it replaced (still counted for REACTION_S when it was higher)
    known: bool = True  # False: seen on the point, never sent (counted at `before` until we send)


@dataclass
class Applier:
    reaction_s: float = REACTION_S
    sent: dict[str, _Sent] = field(default_factory=dict)

    def committed(self, uid: str, now: float) -> int:
        """What the point may still draw: its set-point, or the higher one it had within the reaction time."""
        s = self.sent.get(uid)
        if s is None:
            return 0
        return max(s.ma, s.before) if not s.known or now - s.at < self.reaction_s else s.ma

    def step(
        self, now: float, target: Mapping[str, int], grid: Mapping[str, int], budget: tuple[int, int, int]
    ) -> dict[str, int]:
        """The set-points to send now (uid -> mA) towards `target`, given each point's grid phases."""
        out: dict[str, int] = {}
        for uid, ma in target.items():
            s = self.sent.get(uid)
            if s is not None and (ma < s.ma if s.known else ma <= self.committed(uid, now)):
                out[uid] = ma
                self._record(uid, ma, now)
        load = [0] * PHASES
        for uid in self.sent.keys() & grid.keys():  # this circuit's points only (another's have their fuse)
            for k in self._phases(grid, uid):
                load[k] += self.committed(uid, now)
        for uid in sorted(target):
            ma, current = target[uid], self.sent.get(uid)
            if uid in out or (current is not None and current.known and ma <= current.ma):
                continue
            have = self.committed(uid, now)
            phases = self._phases(grid, uid)
            room = max(0, min(budget[k] - load[k] for k in phases))
            new = min(ma, have + room)
            if current is None or not current.known or new > current.ma:
                out[uid] = new
                self._record(uid, new, now)
                for k in phases:
                    load[k] += max(new, have) - have
        return out

    @staticmethod
    def _phases(grid: Mapping[str, int], uid: str) -> list[int]:
        mask = grid.get(uid, ALL_PHASES)
        return [k for k in range(PHASES) if mask >> k & 1]

    def seed(self, uid: str, signalled_ma: int, now: float) -> None:
        """A point we have not sent to yet (the service started, the vehicle left): its held set-point is
        unknown, so it counts at what it signals until the next `step` sends it one."""
        self.sent[uid] = _Sent(signalled_ma, now, signalled_ma, known=False)

    def _record(self, uid: str, ma: int, now: float) -> None:
        self.sent[uid] = _Sent(ma, now, self.committed(uid, now))

    def forget(self, uid: str) -> None:
        self.sent.pop(uid, None)
