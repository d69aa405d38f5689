"""Generates docs/modbus-registers.md from the register tables (`python -m chargepark.modbus.docs`); a test
fails when the file is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from chargepark.modbus.registers import (
    BLOCK_STEP,
    GROUP,
    METER_CODES,
    NO_METER_CODE,
    POINT,
    START_FIRST,
    START_LAST,
    Reg,
    block_span,
)

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "modbus-registers.md"
INTRO = """# Modbus/TCP registers

The Modbus Server service (`services/modbus_server/`) answers the register map existing CHARX clients
(evcc's `phoenix-charx`, the Home Assistant integration, EMS boxes) use
(`../shared/reference/charx-interfaces.md` sections 1 and 4). The tables below are generated from the one
register table, `host_cpython/chargepark/modbus/registers.py`.

## Transport

- Port: the modbus area's `server_port` (502 as on CHARX; pick a free one for development), bound to the
  head's listen address; `server_enabled: false` switches the server off. A port change applies when the
  service restarts.
- Unit ids 1 and 255 are answered alike (CHARX answers 1; evcc's template asks 255). Every other unit id is
  answered with exception 0B (gateway target device failed to respond), as a Modbus gateway does for an
  absent device.
- FC03 and FC04 return the same registers; FC06 and FC16 write. Any other function code on the registers
  (coils, FC22, FC23) gets exception 01.
- A read may span any run of documented registers (the group block 100..167, a point's 100..123 and
  232..308 in one request each); a read touching an address that is no register, or a block no point
  holds, gets exception 02.
- Encodings: big-endian, 32/64-bit values most significant word first, ASCII two characters a register
  (high byte first, NUL padded), the IEC state as two ASCII characters (`E0`/`F0` for E and F, `IN` until
  the first live sample), MAC addresses as 3 registers, IPv4 addresses one octet a register.

## Start addresses

Per point in the modbus area's `start_addresses`: a multiple of 1000 from 1000 to 48000, or -1 =
automatic. Automatic start = bus position x 1000 on a single station; in a park the server's points come
first (position x 1000) and each client station's follow the highest position of the stations before it
(stations in park order: the server, then the clients by UID; `modbus.view.layout`), so the points of a
park never share a block. Once one point has a manual start address only points
with manual start addresses are reachable (no mixed operation, as the manual says); the store refuses a
mix (`config/parkrules.py`).

## Writes

- Only clients on the modbus area's `write_clients` allow-list (IPv4 address or network) may write; the
  list is empty by default, so the server starts read-only.
- The resets 165 and 166 are accepted only with `resets_enabled` (default off).
- Every write reaches its point through the one command path (`chargepark.pointops`) and is answered once
  the module applied it.
- Every refused write is counted per client address and logged with the address, the register, the values
  and the reason. A refused write changes nothing; FC16 writes are judged whole before any register acts.
- Exceptions: 01 the client may not write, or the write is not allowed now (release mode, locking mode
  not remote, no bus-controlled output, resets disabled, group availability while a point is not in
  release mode Modbus); 02 no writable register at the address; 03 a value the register does not accept;
  04 the point refused the command; 0B the point is offline or did not answer in time.
- X301 (maximum current): 6..80 A sets the limit and is held as written (no "float bug"); 0 pauses the
  point (SuspendedEVSE) without ending its release or session; any other value gets 03 and nothing is
  stored. It is accepted in every release mode: it only limits, it never releases. It is no command of
  its own: load management, the one set-point path, takes it as the point's `modbus` limit (topic
  `applications/modbus-server/charging_controllers/<uid>/max_current`) and sets the point at once.
- X300 (release) and X304 (availability) need release mode Modbus (X120 = 5), 164 needs every reachable
  point in it; X303 needs locking mode remote; X302 drives only outputs configured as bus-controlled.

## Watchdog (X306, X307)

The watchdog is one per point, its pair stored once in the point's `control` record (X306/X307 and
JupiCore's `/load-management-config` write the same two fields). Writing X307 (seconds, 65535 = off, the
default) or X301 while a timer is set starts the watchdog; each rewrite restarts it. When it
expires the point falls back to X306 exactly as if X301 had been written with it: the current limit
drops, the charging release and the session stay. The reference notes that sources disagree whether
expiry also withdraws the release; we chose not to, because "fallback current" means a current everywhere
else in the manual (the IO module's own fallback when the head is silent keeps charging too), and a client
that wants a stop on expiry writes X306 = 0, which pauses the point. The timer lives on the head: if the
head itself dies, the IO module's own configured fallback (`fallback_time_s`, `fallback_current_a`) applies;
X306/X307 do not replace that pair, so 65535 cannot switch the module's head-silence fallback off.
After expiry X301 reads the fallback current until a client writes X301 again.

## Sources

`live.*` are the controller agent's live-state fields (the integers the data hub publishes from),
`config.*` the point's configuration record, `point.*` values derived from both (and the data hub's
`rfid` parameter), `held.*` what clients wrote, `group.*` sums and counts over the reachable points,
`host.*` the head itself, `const.*` fixed values (placeholders CHARX also serves as 0).
"""


def accepts(reg: Reg) -> str:
    if not reg.write:
        return "R"
    ranges = ", ".join(str(lo) if lo == hi else "%d..%d" % (lo, hi) for lo, hi in reg.accept)
    modes = " in release mode " + "/".join(reg.modes) if reg.modes else ""
    return "R/W: %s%s" % (ranges, modes)


def kind(reg: Reg) -> str:
    scale = " / %d" % reg.div if reg.div != 1 else ""
    codes = " (%s)" % ", ".join("%d %s" % (n, c) for n, c in enumerate(reg.codes)) if reg.codes else ""
    return "%s%s%s" % (reg.kind, scale, codes)


def table(rows: tuple[Reg, ...], where: str) -> str:
    out = [
        "| %s | words | type | unit | access | source | meaning |" % where,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        out.append(
            "| %d | %d | %s | %s | %s | `%s` | %s |"
            % (r.at, r.size, kind(r), r.unit or "-", accepts(r), r.source, r.doc)
        )
    return "\n".join(out)


def render() -> str:
    meters = ", ".join("`%s` %d" % kv for kv in METER_CODES.items())
    group_words = sum(r.size for r in GROUP)
    point_words = sum(r.size for r in POINT)
    return "\n".join(
        [
            "<!-- generated by `python -m chargepark.modbus.docs` from chargepark/modbus/registers.py;"
            " edit the table, not this file -->",
            INTRO.rstrip(),
            "",
            "## Group registers (absolute addresses)",
            "",
            "%d rows, %d words." % (len(GROUP), group_words),
            "",
            table(GROUP, "address"),
            "",
            "## Charging point registers (start address + offset)",
            "",
            "Start addresses: multiples of %d from %d to %d; a block reaches %d registers past its start. "
            "%d rows, %d words per point."
            % (BLOCK_STEP, START_FIRST, START_LAST, block_span(), len(POINT), point_words),
            "",
            table(POINT, "offset"),
            "",
            "## Energy meter codes (offset 112)",
            "",
            "%s; any other configured type reads %d." % (meters, NO_METER_CODE),
            "",
        ]
    )


def main(argv: list[str]) -> int:
    DOC.write_text(render())
    print("wrote %s" % DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
