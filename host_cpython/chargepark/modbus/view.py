"""The park as the Modbus map shows it: every register's words kept current in one address-indexed image.

A live sample re-encodes that point's block and the group registers, so a read only copies words. The
values come from the controller agent's live samples (the integers the data hub turns into its topics), the
data hub's `rfid` parameter, the configuration store and what Modbus clients wrote (`Held`).
"""

from __future__ import annotations

import fcntl
import math
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chargedefs as cd
import chargeschema

from chargepark import __version__
from chargepark.config.schemas import MODBUS_AUTO
from chargepark.datahub import control
from chargepark.loadmgmt.allocate import ROTATIONS
from chargepark.modbus.encode import encode
from chargepark.modbus.registers import (
    BLOCK_STEP,
    GROUP,
    METER_CODES,
    NO_METER_CODE,
    OFF,
    POINT,
    START_FIRST,
    START_LAST,
    Reg,
)

SPACE = 65536
DESIGNATION = "chargepark"


@dataclass
class Held:
    """What Modbus clients wrote to a point (None: not written, the configuration's value shows)."""

    max_current_a: int | None = None
    rfid_cleared: str = ""  # the tag X308 cleared; shown again only when a new tag is read


@dataclass
class PointView:
    uid: str
    snap: dict[str, Any] = field(default_factory=dict)
    rfid: str = ""
    held: Held = field(default_factory=Held)

    @property
    def position(self) -> int:
        return int(self.snap.get("position", 0) or 0)

    def live(self, key: str) -> int:
        try:
            return int(self.snap.get(key, 0))
        except (TypeError, ValueError):
            return 0


def _interface(name: str) -> dict[str, str]:
    """MAC, IPv4 address and mask of a network interface; empty strings where it has none."""
    out = {"mac": "", "ip": "", "mask": ""}
    try:
        out["mac"] = Path("/sys/class/net/%s/address" % name).read_text().strip()
    except OSError:
        return out
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for key, ioctl in (("ip", 0x8915), ("mask", 0x891B)):  # SIOCGIFADDR, SIOCGIFNETMASK
            try:
                raw = fcntl.ioctl(s.fileno(), ioctl, struct.pack("256s", name[:15].encode()))
                out[key] = socket.inet_ntoa(raw[20:24])
            except OSError:
                pass
    return out


def host_info() -> dict[str, Any]:
    info: dict[str, Any] = {"designation": DESIGNATION, "version": __version__}
    for name in ("eth0", "eth1"):
        nic = _interface(name)
        info.update({"mac_" + name: nic["mac"], "ip_" + name: nic["ip"], "mask_" + name: nic["mask"]})
    return info


def layout(start_addresses: list[dict[str, Any]], places: dict[str, tuple[int, int]]) -> dict[str, int]:
    """UID -> start address. Manual entries win; once one is manual, the automatic points (-1 or not
    listed) are not reachable (no mixed operation). Automatic: places are (station rank in park order,
    bus position); a station's points follow the highest position of the stations before it, so a single
    station's point is at position x 1000 and a park's points never share a block."""
    manual = {str(e["uid"]): int(e["start"]) for e in start_addresses if int(e["start"]) != MODBUS_AUTO}
    if manual:
        return {u: s for u, s in manual.items() if START_FIRST <= s <= START_LAST}
    highest: dict[int, int] = {}
    for rank, position in places.values():
        highest[rank] = max(highest.get(rank, 0), position)
    base, before = {}, 0
    for rank in sorted(highest):
        base[rank], before = before, before + highest[rank]
    out: dict[str, int] = {}
    taken: set[int] = set()
    for uid, (rank, position) in sorted(places.items(), key=lambda kv: (kv[1], kv[0])):
        start = (base[rank] + position) * BLOCK_STEP
        if START_FIRST <= start <= START_LAST and start not in taken:
            out[uid] = start
            taken.add(start)
    return out


def park_ranks(stations: list[list[str]]) -> dict[str, int]:
    """UID -> its station's rank, from the park's stations in order (park.model: the server first)."""
    return {uid: rank for rank, uids in enumerate(stations) for uid in uids}


def _short(uid: str) -> str:
    return uid[-6:]


class ParkView:
    def __init__(self, host: dict[str, Any] | None = None) -> None:
        self.image = [0] * SPACE
        self.valid = bytearray(SPACE)  # 1: a register of a reachable row
        self.points: dict[str, PointView] = {}
        self.configs: dict[str, dict[str, Any]] = {}  # chargepoint area by UID
        self.controls: dict[str, dict[str, Any]] = {}  # control area by UID (the watchdog pair)
        self.ranks: dict[str, int] = {}  # UID -> its station's rank in the park (unknown: 0, this station)
        self.modbus: dict[str, Any] = {"start_addresses": [], "write_clients": [], "resets_enabled": False}
        self.station = ""
        self.host = host if host is not None else host_info()
        self.dynamic_a = OFF
        self.starts: dict[str, int] = {}  # UID -> start address, reachable points only
        for reg in GROUP:
            self.valid[reg.at : reg.at + reg.size] = b"\1" * reg.size
        self.refresh_group()

    # ---- input ------------------------------------------------------------------------------------

    def point(self, uid: str) -> PointView:
        p = self.points.get(uid)
        if p is None:
            p = self.points[uid] = PointView(uid)
        return p

    def take_live(self, uid: str, snap: dict[str, Any]) -> None:
        p = self.point(uid)
        known = p.position
        p.snap = snap
        if p.position != known or uid not in self.starts:
            self.relayout()
        else:
            self.refresh_point(p)
            self.refresh_group()

    def take_modules(self, station: str, positions: dict[str, int]) -> None:
        """The bus's module list (retained): a point's block is laid out before its first live sample."""
        self.station = station
        for uid, position in positions.items():
            p = self.point(uid)
            p.snap = {**p.snap, "position": position}
        self.relayout()

    def take_rfid(self, uid: str, tag: str) -> None:
        p = self.point(uid)
        p.rfid = tag
        if tag != p.held.rfid_cleared:
            p.held.rfid_cleared = ""
        self.refresh_point(p)

    def take_config(
        self,
        chargepoints: dict[str, dict[str, Any]],
        modbus: dict[str, Any],
        controls: dict[str, dict[str, Any]] | None = None,
        ranks: dict[str, int] | None = None,
    ) -> None:
        """The store's chargepoint and modbus areas, the points' `control` records (the watchdog) and their
        stations' ranks in the park (`park_ranks`)."""
        self.configs = chargepoints
        self.modbus = modbus
        self.controls = dict(controls or {})
        self.ranks = dict(ranks or {})
        self.relayout()

    def control(self, uid: str) -> dict[str, Any]:
        """The point's control record (datahub.control; its defaults until one is stored)."""
        return self.controls.get(uid) or chargeschema.defaults(control.FIELDS)

    # ---- layout (manual "Modbus": start addresses) ------------------------------------------------

    def layout(self) -> dict[str, int]:
        places = {p.uid: (self.ranks.get(p.uid, 0), p.position) for p in self.points.values()}
        return layout(self.modbus.get("start_addresses", []), places)

    def relayout(self) -> None:
        for start in self.starts.values():
            self._mark(start, 0)
        self.starts = self.layout()
        for uid, start in self.starts.items():
            self._mark(start, 1)
            self.refresh_point(self.point(uid))
        self.refresh_group()

    def _mark(self, start: int, flag: int) -> None:
        for reg in POINT:
            a = start + reg.at
            self.valid[a : a + reg.size] = bytes((flag,)) * reg.size

    def at(self, address: int) -> tuple[str | None, Reg] | None:
        """The point (None: the group) and row a register address belongs to, if it starts a row."""
        for reg in GROUP:
            if reg.at == address:
                return None, reg
        for uid, start in self.starts.items():
            for reg in POINT:
                if start + reg.at == address:
                    return uid, reg
        return None

    # ---- values -----------------------------------------------------------------------------------

    def reachable(self) -> list[PointView]:
        return [self.point(uid) for uid in self.starts]

    def config(self, uid: str, name: str) -> Any:
        cfg = self.configs.get(uid) or {}
        return cfg.get(name)

    def release_mode(self, uid: str) -> str:
        return str(self.config(uid, "release_mode") or "")

    def max_current_a(self, p: PointView) -> int:
        held = p.held.max_current_a
        return held if held is not None else int(self.config(p.uid, "max_current_a") or 0)

    def fallback_a(self, p: PointView) -> int:
        return control.watchdog(self.control(p.uid), self.configs.get(p.uid) or {})[0]

    def watchdog_s(self, p: PointView) -> int:
        return control.watchdog(self.control(p.uid), self.configs.get(p.uid) or {})[1]

    def _point_value(self, p: PointView, key: str) -> Any:
        return _POINT_VALUES[key](self, p)

    def _group_value(self, key: str) -> Any:
        return _GROUP_VALUES[key](self)

    def value(self, reg: Reg, p: PointView | None) -> Any:
        space, _, key = reg.source.partition(".")
        if space == "const":
            return key
        if space == "host":
            return self.host.get(key, "")
        if space == "group":
            return self._group_value(key)
        if space == "held" and p is None:
            return self.dynamic_a
        assert p is not None, reg.source
        if space == "live":
            v: Any = p.live(key)
        elif space == "config":
            v = self.config(p.uid, key)
        else:  # point, held
            v = self._point_value(p, key)
        if reg.codes:
            return reg.codes.index(v) if v in reg.codes else 0
        if isinstance(v, bool):
            return int(v)
        if reg.div != 1 and v is not None:
            return int(v) // reg.div
        return v if v is not None else 0

    # ---- image ------------------------------------------------------------------------------------

    def _put(self, address: int, reg: Reg, value: Any) -> None:
        self.image[address : address + reg.size] = encode(reg.kind, value, reg.size)

    def refresh_point(self, p: PointView) -> None:
        start = self.starts.get(p.uid)
        if start is None:
            return
        for reg in POINT:
            self._put(start + reg.at, reg, self.value(reg, p))

    def refresh_group(self) -> None:
        for reg in GROUP:
            self._put(reg.at, reg, self.value(reg, None))

    def words(self, address: int, count: int) -> list[int] | None:
        """The words at address..address+count-1; None when one of them is no reachable register."""
        if self.valid.find(0, address, address + count) >= 0:
            return None
        return self.image[address : address + count]


def _apparent_mva(p: PointView) -> int:
    return round(sum(p.live("u%d_mv" % n) * p.live("i%d_ma" % n) for n in (1, 2, 3)) / 1000)


def _reactive_mvar(p: PointView) -> int:
    s, real = _apparent_mva(p), p.live("power_mw")
    return round(math.sqrt(max(0, s * s - real * real)))


def _outputs(p: PointView) -> int:
    """Live OUTPUT_MODES nibbles -> the X302 codes."""
    raw, out = p.live("outputs"), 0
    for n in range(cd.DIGITAL_OUTPUTS):
        mode = (raw >> (4 * n)) & 0xF
        code = cd.OUTPUT_MODBUS_CODES[mode] if mode < len(cd.OUTPUT_MODBUS_CODES) else 0
        out |= code << (4 * n)
    return out


def _iec(p: PointView) -> str:
    code = p.live("iec_state") if "iec_state" in p.snap else -1
    if not 0 <= code < len(cd.IEC_STATES):
        return "IN"
    name = str(cd.IEC_STATES[code])
    return name if len(name) == 2 else name + "0"


def _meter_code(view: ParkView, p: PointView) -> int:
    return METER_CODES.get(str(view.config(p.uid, "meter_type") or "none"), NO_METER_CODE)


def _evcc_id(p: PointView) -> str:
    hlc = p.snap.get("hlc")
    return str(hlc.get("evcc_id", "")) if isinstance(hlc, dict) else ""


_POINT_VALUES: dict[str, Callable[[ParkView, PointView], Any]] = {
    "meter_code": _meter_code,
    "uid": lambda v, p: _short(p.uid),
    "server_uid": lambda v, p: _short(v.station),
    "position": lambda v, p: p.position,
    "reactive_mvar": lambda v, p: _reactive_mvar(p),
    "apparent_mva": lambda v, p: _apparent_mva(p),
    "evcc_id": lambda v, p: _evcc_id(p),
    "rfid": lambda v, p: "" if p.rfid == p.held.rfid_cleared else p.rfid,
    "session_wh": lambda v, p: p.live("session_wh") if p.live("connected_s") > 0 else 0,
    "iec": lambda v, p: _iec(p),
    "outputs": lambda v, p: _outputs(p),
    "locked": lambda v, p: int(p.live("lock_state") in (cd.LOCK_LOCKED, cd.LOCK_LOCKING)),
    "force_unlock": lambda v, p: int(bool(p.live("flags") & cd.FLAG_ENFORCED_UNLOCK)),
    "max_current_a": lambda v, p: v.max_current_a(p),
    "fallback_a": lambda v, p: v.fallback_a(p),
    "watchdog_s": lambda v, p: v.watchdog_s(p),
}


def _count(view: ParkView, test: Callable[[PointView], bool]) -> int:
    return sum(1 for p in view.reachable() if p.snap and test(p))


def _phase_current(view: ParkView, n: int) -> int:
    """Grid phase n: the meter phases wired to it by each point's connector phase rotation."""
    points = view.reachable()
    metered = [p for p in points if str(view.config(p.uid, "meter_type") or "none") != "none"]
    rotations = [str(view.config(p.uid, "phase_rotation") or "unknown") for p in metered]
    if "unknown" in rotations:
        return -1
    return sum(p.live("i%d_ma" % (k + 1)) for p, rot in zip(metered, rotations, strict=True)
               for k, grid in enumerate(ROTATIONS[rot]) if grid == n - 1)  # fmt: skip


_ST = cd.IEC_STATES
_GROUP_VALUES: dict[str, Callable[[ParkView], Any]] = {
    "controllers": lambda v: len(v.starts),
    "warning": lambda v: _count(v, lambda p: bool(p.live("error_bits") & ~cd.ERRORS_FAULT)),
    "state_ef": lambda v: _count(v, lambda p: p.live("iec_state") in (cd.STATE_E, cd.STATE_F)),
    "state_a": lambda v: _count(v, lambda p: p.live("iec_state") in (cd.STATE_A1, cd.STATE_A2)),
    "state_bcd": lambda v: _count(v, lambda p: cd.STATE_B1 <= p.live("iec_state") <= cd.STATE_D2),
    "charging": lambda v: _count(v, lambda p: p.live("iec_state") in (cd.STATE_C2, cd.STATE_D2)),
    "power_mw": lambda v: sum(p.live("power_mw") for p in v.reachable()),
    "reactive_mvar": lambda v: sum(_reactive_mvar(p) for p in v.reachable()),
    "apparent_mva": lambda v: sum(_apparent_mva(p) for p in v.reachable()),
    "i1_ma": lambda v: _phase_current(v, 1),
    "i2_ma": lambda v: _phase_current(v, 2),
    "i3_ma": lambda v: _phase_current(v, 3),
    "available": lambda v: int(bool(v.starts) and all(p.live("available") for p in v.reachable())),
}
