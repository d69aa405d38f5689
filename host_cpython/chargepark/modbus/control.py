"""Writes to the Modbus map: judged first (client allowed, register writable, value accepted, release mode,
the control's own condition), then carried out through the one command path to a point
(`chargepark.pointops`); a refused write changes nothing, is answered with a Modbus exception, counted and
logged with the client's address. Also the X306/X307 watchdog. A charge current (X301, X306 on expiry) is
not a command: it is announced to load management, the one set-point path (`announce_current`).

Exceptions (docs/modbus-registers.md): 01 the client may not write (not on the allow-list) or the write is
not allowed now (release mode, locking mode, outputs, resets disabled); 02 no writable register at that
address; 03 a value the register does not accept; 04 the point refused the command; 0B the point is
offline or did not answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import chargedefs as cd
from pymodbus.constants import ExcCodes

from chargepark import pointops
from chargepark.modbus.registers import OFF, Reg
from chargepark.modbus.view import ParkView, PointView

log = logging.getLogger("chargepark.modbus")

# X302 code -> OUTPUT_MODES name (charx-interfaces 1.3: 0 floating, 1 low, 2 high, 3 flashing, 4 pulsating)
OUTPUT_CODES = ("floating", "low", "high", "flash_high", "pulse_low")
WATCHDOG_TICK_S = 0.25


class Commander(Protocol):
    """`pointops.PointOps`: returns once the module applied the command, else raises CommandError."""

    async def command(self, uid: str, name: str, value: Any = None) -> None: ...

    async def restart(self, uid: str) -> None: ...


class Refused(Exception):
    def __init__(self, code: ExcCodes, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Write:
    uid: str | None  # None: a group register
    reg: Reg
    raw: int


class Control:
    def __init__(
        self,
        view: ParkView,
        ops: Commander,
        restart_head: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
        save_control: Callable[[str, dict[str, Any]], None] | None = None,
        announce_dynamic: Callable[[int], None] = lambda _a: None,
        announce_current: Callable[[str, int], None] = lambda _uid, _ma: None,
    ) -> None:
        self.view = view
        self.ops = ops
        self.restart_head = restart_head
        self.clock = clock
        # Stores a partial control record (the watchdog pair lives in the store's control area, one source
        # with JupiCore's /load-management-config); None: kept in the view only (tests).
        self.save_control = save_control or self._keep_control
        self.announce_dynamic = announce_dynamic  # register 167 for load management (it applies the cap)
        self.announce_current = announce_current  # a point's Modbus charge current (mA), for load management
        self.refused: Counter[str] = Counter()  # by client address
        self.accepted = 0
        self.deadlines: dict[str, float] = {}  # UID -> when its watchdog expires
        self.expired: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- judging ----------------------------------------------------------------------------------

    def allowed(self, client: str) -> bool:
        try:
            ip = ipaddress.ip_address(client)
        except ValueError:
            return False
        for entry in self.view.modbus.get("write_clients", []):
            try:
                if ip in ipaddress.ip_network(str(entry["address"]), strict=False):
                    return True
            except (ValueError, KeyError):
                continue
        return False

    def _judge(self, client: str, address: int, values: list[int]) -> list[Write]:
        if not self.allowed(client):
            raise Refused(
                ExcCodes.ILLEGAL_FUNCTION, "client not on the write allow-list (modbus.write_clients)"
            )
        writes: list[Write] = []
        for n, raw in enumerate(values):
            found = self.view.at(address + n)
            if found is None or not found[1].write:
                raise Refused(ExcCodes.ILLEGAL_ADDRESS, "no writable register at %d" % (address + n))
            uid, reg = found
            if not reg.accepts(raw):
                raise Refused(ExcCodes.ILLEGAL_VALUE, "%s does not accept %d" % (reg.name, raw))
            if reg.modes and uid is not None and self.view.release_mode(uid) not in reg.modes:
                raise Refused(
                    ExcCodes.ILLEGAL_FUNCTION,
                    "%s is written only in release mode %s (%s is in %s)"
                    % (reg.name, "/".join(reg.modes), uid, self.view.release_mode(uid) or "no configuration"),
                )
            w = Write(uid, reg, raw)
            reason = CONDITIONS.get(reg.write, _always)(self, w)
            if reason:
                raise Refused(ExcCodes.ILLEGAL_FUNCTION, "%s: %s" % (reg.name, reason))
            writes.append(w)
        return writes

    async def write(self, client: str, address: int, values: list[int]) -> ExcCodes | None:
        """Carries out a write of `values` from `address` on; an exception code when refused."""
        try:
            for w in self._judge(client, address, values):
                try:
                    await APPLY[w.reg.write](self, w)
                except pointops.PointOffline as e:
                    raise Refused(ExcCodes.GATEWAY_NO_RESPONSE, "%s: %s" % (w.reg.name, e.reason)) from None
                except pointops.CommandError as e:
                    raise Refused(ExcCodes.DEVICE_FAILURE, "%s: %s" % (w.reg.name, e.reason)) from None
                if w.uid is not None:
                    self.view.refresh_point(self.view.point(w.uid))
                self.view.refresh_group()
        except Refused as r:
            self.refused[client] += 1
            log.warning(
                "refused write from %s at %d %s: %s (exception %02X; %d refused from it)",
                client, address, values, r.reason, int(r.code), self.refused[client],
            )  # fmt: skip
            return r.code
        self.accepted += 1
        return None

    # ---- watchdog ---------------------------------------------------------------------------------

    def _keep_control(self, uid: str, fields: dict[str, Any]) -> None:
        self.view.controls[uid] = dict(self.view.control(uid), **fields)

    def arm(self, uid: str, seconds: int) -> None:
        self.expired.discard(uid)
        if seconds == OFF:
            self.deadlines.pop(uid, None)
        else:
            self.deadlines[uid] = self.clock() + seconds

    async def check_watchdogs(self) -> None:
        """A point whose X307 was not rewritten in time falls back to its X306 current, as if X301 were
        written with it: release and session stay (X306 = 0 pauses); load management applies it."""
        now = self.clock()
        for uid, deadline in list(self.deadlines.items()):
            if now < deadline or uid in self.expired:
                continue
            p = self.view.point(uid)
            amps = self.view.fallback_a(p)
            self.announce_current(uid, amps * 1000)
            self.expired.add(uid)
            p.held.max_current_a = amps
            self.view.refresh_point(p)
            log.warning("watchdog of %s expired: falls back to %d A (X306)", uid, amps)

    async def run_watchdogs(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_TICK_S)
            await self.check_watchdogs()

    def _later(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await asyncio.sleep(0.2)  # the write's answer leaves first
            await coro

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _always(c: Control, w: Write) -> str:
    return ""


def _point(c: Control, w: Write) -> PointView:
    assert w.uid is not None
    return c.view.point(w.uid)


def _bus_outputs(c: Control, uid: str) -> list[tuple[int, int]]:
    """(output number, duty) of the outputs configured as bus-controlled (unlisted ones default to bus)."""
    listed: list[dict[str, Any]] = list(c.view.config(uid, "outputs") or [])
    out = []
    for n in range(1, cd.DIGITAL_OUTPUTS + 1):
        cfg: dict[str, Any] = listed[n - 1] if n <= len(listed) else {"mode": "bus", "duty": 50}
        if cfg.get("mode") == "bus":
            out.append((n, int(cfg.get("duty", 50))))
    return out


def _outputs_ok(c: Control, w: Write) -> str:
    assert w.uid is not None
    if any(((w.raw >> (4 * (n - 1))) & 0xF) >= len(OUTPUT_CODES) for n in range(1, cd.DIGITAL_OUTPUTS + 1)):
        return "an output code above 4"
    return "" if _bus_outputs(c, w.uid) else "no output of this point is bus-controlled"


def _remote_locking(c: Control, w: Write) -> str:
    assert w.uid is not None
    mode = c.view.config(w.uid, "locking_mode")
    return "" if mode == "remote" else "locking mode is %s, not remote" % mode


def _resets(c: Control, w: Write) -> str:
    return "" if c.view.modbus.get("resets_enabled") else "resets are disabled (modbus.resets_enabled)"


def _group_modbus(c: Control, w: Write) -> str:
    points = c.view.reachable()
    others = [p.uid for p in points if c.view.release_mode(p.uid) != "modbus"]
    if not points:
        return "no charging point is reachable"
    return "points not in release mode modbus: %s" % ", ".join(others) if others else ""


CONDITIONS: dict[str, Callable[[Control, Write], str]] = {
    "outputs": _outputs_ok,
    "lock": _remote_locking,
    "reset_head": _resets,
    "reset_all": _resets,
    "group_available": _group_modbus,
}


async def _release(c: Control, w: Write) -> None:
    await c.ops.command(_point(c, w).uid, "release", bool(w.raw))


async def _max_current(c: Control, w: Write) -> None:
    p = _point(c, w)
    if p.snap.get("online") is False:
        raise pointops.PointOffline("%s is offline" % p.uid)
    c.announce_current(p.uid, w.raw * 1000)
    p.held.max_current_a = w.raw
    if c.view.watchdog_s(p) != OFF:
        c.arm(p.uid, c.view.watchdog_s(p))  # an energy manager that writes its current keeps it alive


async def _outputs(c: Control, w: Write) -> None:
    p = _point(c, w)
    for n, duty in _bus_outputs(c, p.uid):
        mode = OUTPUT_CODES[(w.raw >> (4 * (n - 1))) & 0xF]
        await c.ops.command(p.uid, "output", [n, mode, duty])


async def _lock(c: Control, w: Write) -> None:
    await c.ops.command(_point(c, w).uid, "lock" if w.raw else "unlock")


async def _available(c: Control, w: Write) -> None:
    await c.ops.command(_point(c, w).uid, "available", bool(w.raw))


async def _force_unlock(c: Control, w: Write) -> None:
    await c.ops.command(_point(c, w).uid, "enforce_unlock", bool(w.raw))


async def _watchdog_current(c: Control, w: Write) -> None:
    p = _point(c, w)
    if p.uid in c.expired:  # already fallen back: the new fallback applies at once
        c.announce_current(p.uid, w.raw * 1000)
        p.held.max_current_a = w.raw
    c.save_control(p.uid, {"watchdog_current_a": w.raw})


async def _watchdog_timer(c: Control, w: Write) -> None:
    p = _point(c, w)
    c.save_control(p.uid, {"watchdog_timer_s": w.raw})
    c.arm(p.uid, w.raw)


async def _reset_rfid(c: Control, w: Write) -> None:
    p = _point(c, w)
    if w.raw:
        p.held.rfid_cleared = p.rfid


async def _group_available(c: Control, w: Write) -> None:
    for p in c.view.reachable():
        await c.ops.command(p.uid, "available", bool(w.raw))


async def _reset_head(c: Control, w: Write) -> None:
    log.warning("reset of the head requested over Modbus (register 165)")
    c._later(c.restart_head())


async def _reset_all(c: Control, w: Write) -> None:
    log.warning("reset of every controller requested over Modbus (register 166)")
    for p in c.view.reachable():
        await c.ops.restart(p.uid)
    c._later(c.restart_head())


async def _dynamic_current(c: Control, w: Write) -> None:
    c.view.dynamic_a = w.raw
    c.announce_dynamic(w.raw)


APPLY: dict[str, Callable[[Control, Write], Awaitable[None]]] = {
    "release": _release,
    "max_current": _max_current,
    "outputs": _outputs,
    "lock": _lock,
    "available": _available,
    "force_unlock": _force_unlock,
    "watchdog_current": _watchdog_current,
    "watchdog_timer": _watchdog_timer,
    "reset_rfid": _reset_rfid,
    "group_available": _group_available,
    "reset_head": _reset_head,
    "reset_all": _reset_all,
    "dynamic_current": _dynamic_current,
}
