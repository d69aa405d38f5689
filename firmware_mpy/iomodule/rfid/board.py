"""The CHARX RFID/NFC board's LED profiles and buzzer (manual "Charging Stations | CHARX RFID/NFC Board").

One schema: `FIELDS` are module fields (pointconfig.DERIVED; the head keeps them per board in its
"rfidboard" area) and `PROFILE` is the schema of one profile. `USED` is the manual's table of which
profile a connection type shows; a profile its type does not use shows as LED off. "RFID accepted" and
"RFID not accepted" are events, shown for one second with their tone; reading a card plays the read tone.
`Display` picks the profile from the point's state each tick and sends it when it changes.
"""

import chargedefs as d
from chargeschema import ENUM, INT, LIST, Field

from iomodule.rfid.charx import SHOW, TONE_ACCEPTED, TONE_DENIED, TONE_NONE, TONE_READ

CONNECTIONS = ("standalone", "1:1", "1:n")  # CHARX SEC-1000; SEC-3xx0 1:1; a group of SEC-3xx0 (1:n)
MODES = ("off", "on", "flashing", "fade")
COLOURS = ("white", "red", "green", "blue")
EVENT_MS = 1000

# profile, then whether stand-alone / 1:1 / 1:n use it (x), and its factory look:
# mode, colour, brightness %, period ms, min %, max % (the last three for flashing and fading)
_TABLE = (
    ("booting", "---", "off", "white", 0, 1000, 0, 100),  # "is not currently used"
    ("ready", "xx-", "on", "green", 50, 1000, 0, 100),
    ("backend_online", "--x", "on", "green", 50, 1000, 0, 100),
    ("backend_online_available", "-x-", "on", "green", 50, 1000, 0, 100),
    ("backend_offline_available", "-x-", "flashing", "green", 50, 2000, 0, 100),
    ("charging", "xx-", "fade", "blue", 100, 3000, 20, 100),
    ("waiting_authorization", "xxx", "flashing", "white", 100, 1000, 0, 100),
    ("authorization_ongoing", "-x-", "fade", "white", 100, 500, 20, 100),
    ("completed", "-x-", "on", "blue", 50, 1000, 0, 100),
    ("locked_reserved", "xx-", "on", "white", 30, 1000, 0, 100),
    ("suspended_ev", "xx-", "on", "blue", 100, 1000, 0, 100),
    ("suspended_evse", "xx-", "flashing", "blue", 100, 2000, 0, 100),
    ("offline", "--x", "flashing", "red", 50, 2000, 0, 100),
    ("not_ready", "xxx", "on", "red", 100, 1000, 0, 100),
    ("teach_waiting", "xxx", "flashing", "blue", 100, 500, 0, 100),
    ("accepted", "xxx", "on", "green", 100, 1000, 0, 100),
    ("denied", "xxx", "on", "red", 100, 1000, 0, 100),
)
PROFILES = tuple(row[0] for row in _TABLE)
P_READY = PROFILES.index("ready")
P_ACCEPTED = PROFILES.index("accepted")
P_DENIED = PROFILES.index("denied")
_STATUS_PROFILE = {
    d.ST_CHARGING: PROFILES.index("charging"),
    d.ST_SUSPENDED_EV: PROFILES.index("suspended_ev"),
    d.ST_SUSPENDED_EVSE: PROFILES.index("suspended_evse"),
    d.ST_FINISHING: PROFILES.index("completed"),
    d.ST_RESERVED: PROFILES.index("locked_reserved"),
    d.ST_PREPARING: PROFILES.index("waiting_authorization"),
    d.ST_UNAVAILABLE: PROFILES.index("not_ready"),
    d.ST_FAULTED: PROFILES.index("not_ready"),
}
_ONGOING = PROFILES.index("authorization_ongoing")
_NOT_READY = PROFILES.index("not_ready")
_TEACH = PROFILES.index("teach_waiting")
_ONLINE = PROFILES.index("backend_online")
_OFFLINE = PROFILES.index("offline")
_ONLINE_AVAILABLE = PROFILES.index("backend_online_available")
_OFFLINE_AVAILABLE = PROFILES.index("backend_offline_available")

PROFILE = (
    Field("mode", ENUM, "on", choices=MODES, doc="LED mode"),
    Field("colour", ENUM, "white", choices=COLOURS, doc="LED colour"),
    Field("brightness", INT, 100, lo=0, hi=100, unit="%", doc="Brightness"),
    Field("period_ms", INT, 1000, lo=100, hi=10000, unit="ms", doc="Period of flashing and fading"),
    Field("min_brightness", INT, 0, lo=0, hi=100, unit="%", doc="Fade In/Out: minimum brightness"),
    Field("max_brightness", INT, 100, lo=0, hi=100, unit="%", doc="Fade In/Out: maximum brightness"),
)

FIELDS = (
    Field("rfid_board_connection", ENUM, "1:1", choices=CONNECTIONS, module=True,
          doc="CHARX RFID/NFC board: connection type (stand-alone, 1:1, 1:n), which profiles it shows"),
    Field("rfid_buzzer_volume", INT, 50, lo=0, hi=100, unit="%", module=True,
          doc="CHARX RFID/NFC board: buzzer volume"),
    Field("rfid_profiles", LIST, [], hi=len(PROFILES), item=PROFILE, module=True,
          doc="CHARX RFID/NFC board: LED profiles in the order of board.PROFILES (missing entries: factory look)"),
)  # fmt: skip


def fade_range(c):
    """A check of the area: fading runs from the minimum up to the maximum brightness."""
    for i, p in enumerate(c["rfid_profiles"]):
        if p["min_brightness"] > p["max_brightness"]:
            return ("rfid_profiles[%d].min_brightness" % i, "must not exceed the maximum brightness")
    return None


def defaults():
    """The factory profiles as the list `rfid_profiles` takes (the WBM shows and edits all of them)."""
    return [
        {"mode": r[2], "colour": r[3], "brightness": r[4], "period_ms": r[5], "min_brightness": r[6],
         "max_brightness": r[7]}
        for r in _TABLE
    ]  # fmt: skip


def used(connection):
    """The profiles a connection type shows (the manual's table), as a list of names."""
    col = CONNECTIONS.index(connection)
    return [r[0] for r in _TABLE if r[1][col] == "x"]


class Display:
    """What the board shows: the profile of the point's state, or an event for EVENT_MS. Each profile is
    packed once per configuration into `looks`, so a tick only compares and, on a change, queues a frame."""

    def __init__(self, reader, cfg):
        self.reader = reader
        col = CONNECTIONS.index(cfg["rfid_board_connection"])
        self.volume = cfg["rfid_buzzer_volume"]
        given = cfg["rfid_profiles"]
        n = len(_TABLE)
        self.looks = bytearray(7 * n)
        for i in range(n):
            r = _TABLE[i]
            p = given[i] if i < len(given) else None
            mode = MODES.index(p["mode"] if p else r[2]) if r[1][col] == "x" else 0
            look = (
                mode,
                COLOURS.index(p["colour"] if p else r[3]),
                p["brightness"] if p else r[4],
                (p["period_ms"] if p else r[5]) >> 8,
                (p["period_ms"] if p else r[5]) & 0xFF,
                p["min_brightness"] if p else r[6],
                p["max_brightness"] if p else r[7],
            )
            for k in range(7):
                self.looks[7 * i + k] = look[k]
        self.ocpp = cfg["release_mode"] == "ocpp"
        self.one_to_n = col == 2
        self.frame = bytearray(11)
        self.shown = -1
        self.event = -1
        self.event_until = 0
        self.tone = TONE_NONE

    def card_read(self):
        self.tone = TONE_READ

    def verdict(self, ok, now_ms):
        self.event = P_ACCEPTED if ok else P_DENIED
        self.event_until = now_ms + EVENT_MS
        self.tone = TONE_ACCEPTED if ok else TONE_DENIED

    def tick(self, p, now_ms):
        if self.event >= 0 and now_ms - self.event_until >= 0:
            self.event = -1
        want = self.event if self.event >= 0 else self._state_profile(p)
        if want == self.shown and self.tone == TONE_NONE:
            return
        f = self.frame
        f[0] = SHOW
        f[1] = want
        looks = self.looks
        for k in range(7):
            f[2 + k] = looks[7 * want + k]
        f[9] = self.tone
        f[10] = self.volume
        self.reader.send(f, 11)
        self.shown = want
        self.tone = TONE_NONE

    def _state_profile(self, p):
        if not p.configured or not p.enabled:
            return _NOT_READY
        if p.teach_waiting:
            return _TEACH
        if p.asking_at >= 0:  # Authorization Request ongoing (point.py)
            return _ONGOING
        st = p.status
        if st != d.ST_AVAILABLE:
            return _STATUS_PROFILE.get(st, P_READY)
        if not self.ocpp:
            return P_READY
        online = p.flags & d.FLAG_BACKEND_ONLINE
        if self.one_to_n:
            return _ONLINE if online else _OFFLINE
        return _ONLINE_AVAILABLE if online else _OFFLINE_AVAILABLE
