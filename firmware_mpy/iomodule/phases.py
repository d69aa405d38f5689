"""1-phase / 3-phase switching through a phase contactor on a digital output, never under load.

The head (load management) asks for a phase count with the `phases` command, e.g. one phase so that a solar
surplus below 3 x 6 A still charges. The point switches only with no current flowing: it stops offering
PWM, waits until the main contactor is commanded open and, where it is monitored, confirmed open; then it
waits `phase_switch_pause_s` (the vehicle's charger sees the supply gone), changes the phase output, waits
the same again and offers PWM anew. The main contactor never closes while a switch is under way. A request
is refused while the last switch is younger than `phase_switch_hold_s` (the hysteresis: a surplus that
hovers at the limit must not chatter the contactors) or when the session used `phase_switch_max` switches.

The phase output is energised for three phases (L2 and L3 through the phase contactor); a lost drive leaves
one phase, the smaller load. The output is this module's alone: no bus request or Event Action drives it.
"""

import chargedefs as d
from chargeschema import INT, Field

# The point's phase contactor, set in its entry of a load circuit (load management drives it); the
# controller agent sends them with the point's configuration.
FIELDS = (
    Field("phase_switch_output", INT, 0, lo=0, hi=d.DIGITAL_OUTPUTS, module=True,
          doc="Digital output driving the phase contactor (energised = 3 phases); 0 = no phase switching"),
    Field("phase_switch_max", INT, 4, lo=1, hi=100, module=True, doc="Most phase switches in one session"),
    Field("phase_switch_hold_s", INT, 300, lo=10, hi=3600, unit="s", module=True,
          doc="Least time between two phase switches (the hysteresis)"),
    Field("phase_switch_pause_s", INT, 5, lo=1, hi=60, unit="s", module=True,
          doc="Supply off before and after the phase output changes"),
)  # fmt: skip

IDLE = 0
STOPPING = 1  # PWM off, waiting for the main contactor to be open (and confirmed open)
PAUSE = 2  # contactor open: the supply stays off before the phase output changes
SETTLE = 3  # phase output changed: the supply stays off before PWM is offered again


def checker(n_out):
    """Configuration check for a module of `n_out` outputs: the phase output exists and no Event Action
    drives it too."""

    def check(c):
        out = c.get("phase_switch_output", 0)  # the head checks a chargepoint record without it
        if out > n_out:
            return ("phase_switch_output", "digital output %d does not exist" % out)
        if out:
            for i, ea in enumerate(c["event_actions"]):
                if ea["action"].startswith("do_") and ea["action_output"] == out:
                    return (
                        "event_actions[%d].action_output" % i,
                        "output %d drives the phase contactor" % out,
                    )
        return None

    return check


class PhaseSwitch:
    def __init__(self):
        self.output = 0  # 1-based digital output, 0 = no phase contactor
        self.phases = 3
        self.want = 3
        self.stage = IDLE
        self.at = 0  # when the stage began
        self.switched_at = -(1 << 30)
        self.count = 0  # switches in this session
        self.max_count = 0
        self.hold_ms = 0
        self.pause_ms = 0
        self.driving = False  # the output is ours to drive (after its first switch)

    def fit(self, c, n_out):
        out = c["phase_switch_output"]
        out = out if out <= n_out else 0
        self.max_count = c["phase_switch_max"]
        self.hold_ms = c["phase_switch_hold_s"] * 1000
        self.pause_ms = c["phase_switch_pause_s"] * 1000
        if out != self.output:
            # a new phase output: its contactor's state is unknown, so it is first set like any switch
            # (PWM off, main contactor open) and driven only from then on
            self.output = out
            self.phases = self.want = 3
            self.driving = False
            self.stage = STOPPING if out else IDLE

    def request(self, count, now_ms):
        """The head's wish; ValueError names why it is refused."""
        if count not in (1, 3):
            raise ValueError("phases: 1 or 3")
        if not self.output:
            raise ValueError("phases: no phase contactor (phase_switch_output 0)")
        if count == self.want:
            return
        if self.stage != IDLE:
            raise ValueError("phases: a switch is under way")
        if self.count >= self.max_count:
            raise ValueError("phases: %d switches in this session, the most allowed" % self.max_count)
        if now_ms - self.switched_at < self.hold_ms:
            raise ValueError("phases: the last switch is younger than phase_switch_hold_s")
        self.want = count
        self.stage = STOPPING
        self.at = now_ms

    @property
    def idle(self):
        """PWM may be offered and the main contactor may close."""
        return self.stage == IDLE

    def tick(self, p, now_ms, ev):
        """One control tick: advance the switch and hold the phase output (before the outputs are driven)."""
        if not ev:
            self.count = 0  # a new session gets its switches anew
        stage = self.stage
        if stage == STOPPING:
            if p.locking.contactor_open(p):
                self.stage = PAUSE
                self.at = now_ms
        elif stage == PAUSE:
            if not p.locking.contactor_open(p):
                self.at = now_ms  # never while anything may carry current
            elif now_ms - self.at >= self.pause_ms:
                self.phases = self.want
                if self.driving:
                    self.count += 1
                    self.switched_at = now_ms
                self.driving = True
                self.stage = SETTLE
                self.at = now_ms
        elif stage == SETTLE and now_ms - self.at >= self.pause_ms:
            self.stage = IDLE
        if self.driving and self.output:
            i = self.output - 1
            p.outputs.mode[i] = d.OUT_HIGH if self.phases == 3 else d.OUT_LOW

    def flags(self):
        f = d.FLAG_ONE_PHASE if self.phases == 1 else 0
        if self.stage != IDLE:
            f |= d.FLAG_PHASE_SWITCHING
        return f
