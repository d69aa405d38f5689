"""Simulated energy meters: a pymodbus server that serves one register map of `iomodule.meters` with a
reading in the point's units (the plant model's), on an RTU line (one end of a pty pair) or on Modbus/TCP.

The registers come from `meters.encode`, the inverse of what the firmware's driver decodes, so the simulated
park's meters speak each type's own map, with their identification registers (`meters.encode_ident`: serial
number and firmware version where the type has them); functions 03 and 04 read the same registers (as most
meters). A point whose line carries a load circuit's higher-level meter (the module's `higher_meter`) gets a
second meter on the same line at unit 2, which sees the building load (sim-control `set building_a`) and the
whole simulated park's draw. A type whose map declares `signing` registers (the Iskra WM3M4C) is a signing
meter (`SigningMeter`): it keeps a P-256 key pair, shows its public key and, on the transaction commands,
produces an OCMF payload with the readings at start and end, signed with ECDSA-SHA256 over its bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import tty
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from iomodule import meters
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def _text_words(data: bytes) -> list[int]:
    """Bytes as registers, two a register, high byte first (the last one padded with 0)."""
    padded = data + bytes(len(data) % 2)
    return [(padded[i] << 8) | padded[i + 1] for i in range(0, len(padded), 2)]


def _ocmf_time(t: float, off: int, synced: bool) -> str:
    """OCMF's time format: local ISO 8601 (`off` minutes ahead of UTC) with milliseconds after a comma, the
    offset and the time status (S synchronized, U unknown: the meter's clock was never set)."""
    return "%s,%03d%s%02d%02d %s" % (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + off * 60)),
        int(t * 1000) % 1000,
        "+" if off >= 0 else "-",
        abs(off) // 60,
        abs(off) % 60,
        "S" if synced else "U",
    )


class SigningMeter:
    """The signing part of a meter whose map declares `signing` registers (meters.py says their roles): a
    P-256 key pair made at start, the transaction state, the metadata written, and the last signed OCMF
    payload and signature, as registers."""

    GATEWAY_FIELDS = ("FV", "GI", "GS", "GV", "IS", "IF", "IT", "ID", "CT", "CI", "TT")  # the metadata's

    def __init__(self, signing: dict[str, int], serial: str, firmware: str) -> None:
        self.regs = signing
        self.serial = serial
        self.firmware = firmware
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.transactions = 0
        self.begin: tuple[float, int] | None = None  # (time, Wh) of the running transaction
        # its clock: this host's until the module sets it (then synchronized), local time off_min ahead of UTC
        self.clock_offset = 0.0
        self.off_min = time.localtime().tm_gmtoff // 60
        self.synced = False
        self.payload = b""
        self.signature = b""
        point = self.key.public_key().public_numbers()
        raw = point.x.to_bytes(32, "big") + point.y.to_bytes(32, "big")
        self.words: dict[int, int] = {signing["key"] + i: w for i, w in enumerate(_text_words(raw))}
        self._set("state", 0)
        self._set("status", 1)  # idle

    @property
    def public_key_hex(self) -> str:
        """What the module reports: the DER SubjectPublicKeyInfo in hex (meters.KEY_PREFIX + X|Y)."""
        n = self.regs["key_regs"]
        prefix: str = meters.KEY_PREFIX
        return prefix + "".join("%04X" % self.words[self.regs["key"] + i] for i in range(n))

    def spans(self) -> list[tuple[int, int]]:
        r = self.regs
        return [(r["state"], 1), (r["command"], r["algorithm"] - r["command"] + 1), (r["time_sync"], 1),
                (r["meta"], r["data"] - r["meta"]), (r["data"], r["key"] - r["data"]), (r["key"], r["key_regs"]),
                (r["sig"], 40)]  # fmt: skip

    def writable(self, address: int, count: int) -> bool:
        r = self.regs
        return (
            (r["command"] <= address and address + count <= r["algorithm"] + 1)
            or (address == r["time_sync"] and count == 1)
            or (r["meta"] <= address and address + count <= r["data"])
        )

    def _set(self, name: str, value: int) -> None:
        self.words[self.regs[name]] = value

    def write(self, address: int, values: list[int], energy_wh: int) -> None:
        for i, v in enumerate(values):
            self.words[address + i] = v
        r = self.regs
        if address <= r["time"] and r["time"] + 3 <= address + len(values):
            offset, high, low = (self.words[r["time"] + i] for i in range(3))
            self.off_min = offset - 0x10000 if offset & 0x8000 else offset
            self.clock_offset = ((high << 16) | low) - time.time()
        if address == r["time_sync"]:
            self.synced = self.words[address] == r["synced"]
        if address <= r["command"] < address + len(values):
            self._command(self.words[r["command"]], energy_wh)

    def _command(self, command: int, energy_wh: int) -> None:
        r = self.regs
        active = self.begin is not None
        if command == r["start"] and not active:
            self.metadata()  # refuses garbled metadata before the transaction begins
            self.begin = (time.time(), energy_wh)
            self._set("state", 1)
            self._set("status", meters.SIGNED_OK)
        elif command == r["stop"] and active:
            self._sign(energy_wh)
            self._set("state", 0)
            self._set("status", meters.SIGNED_OK)
        else:
            self._set("status", 131 if command in (r["start"], r["stop"]) else 130)  # invalid state/command

    def metadata(self) -> dict[str, object]:
        """The OCMF fields the gateway wrote (JSON text of `meta_len` bytes), those the meter takes."""
        r = self.regs
        n = self.words.get(r["meta_len"], 0)
        raw = bytes(
            b for i in range((n + 1) // 2) for b in self.words.get(r["meta"] + i, 0).to_bytes(2, "big")
        )
        try:
            meta = json.loads(raw[:n]) if n else {}
        except ValueError:
            meta = {}
        return {k: v for k, v in meta.items() if k in self.GATEWAY_FIELDS} if isinstance(meta, dict) else {}

    def _sign(self, energy_wh: int) -> None:
        assert self.begin is not None
        self.transactions += 1
        readings = [
            {"TM": _ocmf_time(t + self.clock_offset, self.off_min, self.synced), "TX": tx, "RV": round(wh / 1000, 3), "RI": "1-b:1.8.0",
             "RU": "kWh", "RT": "AC", "EF": "", "ST": "G"}
            for t, wh, tx in ((*self.begin, "B"), (time.time(), energy_wh, "E"))
        ]  # fmt: skip
        self.begin = None
        payload: dict[str, object] = {"FV": "1.0", "GI": "", "GS": "", "GV": "", "IS": False, "IT": "NONE",
                                      "ID": ""}  # fmt: skip
        payload.update(self.metadata())
        payload.update({"PG": "T%d" % self.transactions, "MV": "Iskra", "MM": "WM3M4C", "MS": self.serial,
                        "MF": self.firmware, "RD": readings})  # fmt: skip
        self.payload = json.dumps(payload, separators=(",", ":")).encode()
        self.signature = self.key.sign(self.payload, ec.ECDSA(hashes.SHA256()))
        r = self.regs
        for base, data, length in (
            (r["data"], self.payload, "data_len"),
            (r["sig"], self.signature, "sig_len"),
        ):
            for i, w in enumerate(_text_words(data)):
                self.words[base + i] = w
            self._set(length, len(data))


class MeterImage:
    """The registers of one meter (every register of its map's blocks) showing the latest reading; a
    read answers what `show` last set. A signing meter's transaction registers are `signer`'s."""

    def __init__(
        self, meter_map: dict[str, Any], unit: int = 1, serial: str = "", firmware: str = "1.0.0"
    ) -> None:
        self.meter_map = meter_map
        self.unit = unit
        self.ident = meters.encode_ident(meter_map, serial, firmware)
        self.words: dict[int, int] = dict(self.ident)
        self.energy_wh = 0
        self.failing = False  # answer every request with exception 0x0B (gateway target failed to respond)
        self.reads = 0  # requests answered (tests, diagnostics)
        signing = meter_map.get("signing")
        self.signer = SigningMeter(signing, serial, firmware) if signing else None
        spans = [*meter_map["blocks"], *((reg, n) for _which, reg, n, _kind in meter_map.get("ident", ()))]
        if self.signer is not None:
            spans += self.signer.spans()
        blocks = [SimData(start, values=[0] * n, datatype=DataType.REGISTERS) for start, n in sorted(spans)]
        self.device = SimDevice(id=unit, simdata=blocks, action=self._on_access)

    def show(self, reading: Sequence[int]) -> None:
        """Show a reading (meters.SLOTS values: mV, mA, mW, Wh, permille, mHz)."""
        self.words = {**self.ident, **meters.encode(self.meter_map, list(reading))}
        self.energy_wh = int(reading[meters.ENERGY])

    async def _on_access(
        self,
        function: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self.failing:
            return ExcCodes.GATEWAY_NO_RESPONSE
        signer = self.signer
        if values is not None:
            if signer is None or not signer.writable(address, len(values)):
                return ExcCodes.ILLEGAL_FUNCTION  # a meter's measurements are read-only
            signer.write(address, [int(v) for v in values], self.energy_wh)
            return None
        words = self.words
        extra = signer.words if signer is not None else {}
        for a in range(address, address + count):
            registers[a - start] = words.get(a, extra.get(a, 0))
        self.reads += 1
        return None


_SERVING: set[asyncio.Task[None]] = set()  # the servers' serve_forever tasks, until they end


def _serve(server: ModbusSerialServer | ModbusTcpServer) -> None:
    task = asyncio.ensure_future(server.serve_forever())
    _SERVING.add(task)
    task.add_done_callback(_SERVING.discard)


def rtu_line() -> tuple[int, int, str]:
    """A pty pair in raw mode: (the master end's fd, non-blocking, for the driver; the slave end's fd and
    path for the server, which opens it by name). The caller keeps both fds open while the line is in use
    (without an open slave end the master's reads fail) and closes them."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


async def serve_rtu(
    image: MeterImage | Sequence[MeterImage], port_name: str, baud: int = 19200
) -> ModbusSerialServer:
    """Start an RTU server for `image` (or several on one line, each at its unit) on a serial port (a
    pty's slave end); stop with `shutdown()`."""
    images = [image] if isinstance(image, MeterImage) else list(image)
    server = ModbusSerialServer([i.device for i in images], port=port_name, baudrate=baud)
    _serve(server)
    await asyncio.sleep(0.2)  # the port is open
    return server


async def serve_tcp(image: MeterImage, host: str, port: int) -> ModbusTcpServer:
    """Start a Modbus/TCP server for `image`; stop with `shutdown()`."""
    server = ModbusTcpServer(image.device, address=(host, port))
    _serve(server)
    await asyncio.sleep(0.1)
    return server


def building_reading(base: Sequence[int], park: Sequence[Sequence[int]], building_a: int) -> list[int]:
    """What a higher-level meter over the building and the park reads: the park's currents, power and
    energy summed, plus the building's `building_a` on each phase; voltages, power factor and frequency
    from `base` (the reading of the point on whose line it sits)."""
    out = list(base)
    building_ma = building_a * 1000
    for slot in (meters.I1, meters.I2, meters.I3):
        out[slot] = building_ma + sum(r[slot] for r in park)
    out[meters.POWER] = sum(r[meters.POWER] for r in park) + sum(
        building_ma * base[u] // 1000 for u in (meters.U1, meters.U2, meters.U3)
    )
    out[meters.ENERGY] = sum(r[meters.ENERGY] for r in park)
    return out


class PointMeter:
    """The meter line of one simulated charging point: an RTU server on a pty pair whose other end (`fd`)
    the module inherits (`--meter-line FD`), serving the point's configured type with the plant's reading
    at unit 1 and, while the module reads a load circuit's higher-level meter there, a second meter of the
    same type at unit 2 (`building_reading` over `park`, every simulated point's last reading by
    position), both taken from the module's sim-control `state` every `period_s`. While the plant's
    `meter_comm` fault is on, or the module does not answer, the meters answer every request with exception
    0x0B (the target failed to respond), so the point sees its meter fail; the higher-level meter alone fails
    while the plant's `higher_meter_comm` fault is on."""

    def __init__(
        self,
        baud: int = 19200,
        period_s: float = 0.2,
        position: int = 1,
        park: dict[int, list[int]] | None = None,
    ) -> None:
        self.fd, self._slave, self.path = rtu_line()
        self.baud = baud
        self.period_s = period_s
        self.position = position
        self.park = park if park is not None else {}
        self.image: MeterImage | None = None
        self.higher: MeterImage | None = None
        self.server: ModbusSerialServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, endpoint: str) -> None:
        self._task = asyncio.create_task(self._follow(endpoint))

    async def _follow(self, endpoint: str) -> None:
        from chargepark.simctl import request

        while True:
            try:
                meter = (await asyncio.to_thread(request, endpoint, {"cmd": "state"}, 2.0))["meter"]
            except (OSError, ConnectionError, ValueError, KeyError):
                meter = None
            if meter is not None and meter["type"] in meters.MAPS:
                await self._serve(meter["type"], meter.get("higher") in meters.MAPS)
            answers = meter is not None and bool(meter["answers"])
            if meter is not None and answers:
                self.park[self.position] = list(meter["reading"])
            if self.image is not None:
                self.image.failing = not answers
            if self.higher is not None:
                self.higher.failing = not answers or not meter.get("higher_answers", True)
            if meter is not None and answers and self.image is not None:
                self.image.show(meter["reading"])
                if self.higher is not None:
                    self.higher.show(building_reading(meter["reading"], list(self.park.values()),
                                                      int(meter.get("building_a", 0))))  # fmt: skip
            await asyncio.sleep(self.period_s)

    async def _serve(self, meter_type: str, higher: bool) -> None:
        mp = meters.MAPS[meter_type]
        if self.image is not None and self.image.meter_map is mp and (self.higher is not None) == higher:
            return
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
        self.image = MeterImage(mp, unit=1, serial="%d0001" % self.position)
        self.higher = MeterImage(mp, unit=2, serial="%d0002" % self.position) if higher else None
        images = [self.image] if self.higher is None else [self.image, self.higher]
        self.server = await serve_rtu(images, self.path, self.baud)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
        os.close(self.fd)
        os.close(self._slave)
