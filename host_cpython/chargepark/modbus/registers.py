"""The Modbus register map: one row per register, the CHARX layout existing clients read
(`../shared/reference/charx-interfaces.md` section 1, error bits section 4).

`GROUP` rows sit at their absolute address; `POINT` rows at an offset from a point's start address
(`layout`). A row says how the value is encoded (`kind`, `words`), where it comes from (`source`, resolved
by `view.SOURCES`), how it is scaled (`div`, `codes`), and for a writable row which control carries the
write out (`write`, handled by `control.WRITES`), the raw values it accepts and the release modes it is
accepted in. `docs/modbus-registers.md` is generated from these tables (`python -m chargepark.modbus.docs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import chargedefs as cd

from chargepark.modbus.encode import WORDS
from chargepark.release import gate

ANY_MODE: tuple[str, ...] = ()
OFF = 65535  # X307 watchdog off, 167 no dynamic cap


@dataclass(frozen=True)
class Reg:
    at: int  # GROUP: address; POINT: offset from the start address
    name: str
    kind: str  # encode.ENCODERS
    unit: str
    source: str  # "<namespace>.<key>", see view.SOURCES
    doc: str
    words: int = 0  # 0: the kind's own size (encode.WORDS)
    div: int = 1  # the source value is divided by this (mA -> A: 1000)
    codes: tuple[str, ...] = ()  # an enum source: the register holds the name's position here
    write: str = ""  # control.WRITES name; empty = read-only
    accept: tuple[tuple[int, int], ...] = ()  # raw value ranges a write may carry
    modes: tuple[str, ...] = ANY_MODE  # release modes (chargedefs.RELEASE_MODES) a write is accepted in

    @property
    def size(self) -> int:
        return self.words or WORDS[self.kind]

    def accepts(self, raw: int) -> bool:
        return any(lo <= raw <= hi for lo, hi in self.accept)


_BOOL = ((0, 1),)
_A = "A"

# fmt: off
GROUP: tuple[Reg, ...] = (
    Reg(100, "device_designation", "ascii", "", "host.designation", "device designation", words=10),
    Reg(110, "software_version", "ascii", "", "host.version", "software version of the head", words=4),
    Reg(114, "controllers", "uint16", "", "group.controllers", "number of charging points reachable over Modbus"),
    Reg(115, "mac_eth0", "mac", "", "host.mac_eth0", "MAC address of eth0"),
    Reg(118, "mac_eth1", "mac", "", "host.mac_eth1", "MAC address of eth1"),
    Reg(121, "ip_eth0", "ipv4", "", "host.ip_eth0", "IPv4 address of eth0, one octet a register"),
    Reg(125, "ip_eth1", "ipv4", "", "host.ip_eth1", "IPv4 address of eth1"),
    Reg(129, "subnet_eth0", "ipv4", "", "host.mask_eth0", "subnet mask of eth0"),
    Reg(133, "subnet_eth1", "ipv4", "", "host.mask_eth1", "subnet mask of eth1"),
    Reg(137, "gateway_eth0", "ipv4", "", "const.0", "gateway of eth0 (placeholder, as CHARX: 0)"),
    Reg(141, "gateway_eth1", "ipv4", "", "const.0", "gateway of eth1 (placeholder, as CHARX: 0)"),
    Reg(145, "modem_registration", "uint16", "", "const.4",
        "modem registration: 0 not registered, 1 registered, 2 searching, 3 denied, 4 unknown (no modem service: 4)"),
    Reg(146, "modem_signal", "uint16", "", "const.0", "modem signal quality: 0 unknown .. 5 excellent (no modem service: 0)"),
    Reg(147, "count_warning", "uint16", "count", "group.warning", "points with an error bit that is not a fault (chargedefs kind info)"),
    Reg(148, "count_ef", "uint16", "count", "group.state_ef", "points in state E or F"),
    Reg(149, "count_a", "uint16", "count", "group.state_a", "points in state A"),
    Reg(150, "count_bcd", "uint16", "count", "group.state_bcd", "points in state B, C or D (occupied)"),
    Reg(151, "count_charging", "uint16", "count", "group.charging", "points charging (C2 or D2)"),
    Reg(152, "power", "uint32", "mW", "group.power_mw", "active power of the group (negative sums read 0)"),
    Reg(154, "reactive_power", "int32", "mvar", "group.reactive_mvar", "reactive power of the group"),
    Reg(156, "apparent_power", "uint32", "mVA", "group.apparent_mva", "apparent power of the group"),
    Reg(158, "current_l1", "int32", "mA", "group.i1_ma", "group current on grid phase L1: each point's meter phases mapped by its connector phase rotation; -1 while a metered point's rotation is unknown"),
    Reg(160, "current_l2", "int32", "mA", "group.i2_ma", "group current L2; -1 as L1"),
    Reg(162, "current_l3", "int32", "mA", "group.i3_ma", "group current L3; -1 as L1"),
    Reg(164, "group_available", "uint16", "", "group.available",
        "group availability: 1 every point available, 0 = every point unavailable (F); written to all points",
        write="group_available", accept=_BOOL, modes=("modbus",)),
    Reg(165, "reset_head", "uint16", "", "const.0", "write 1: restart the head's services (only with modbus.resets_enabled)",
        write="reset_head", accept=((1, 1),)),
    Reg(166, "reset_all", "uint16", "", "const.0",
        "write 1: restart every IO module of the group, then the head's services (only with modbus.resets_enabled)",
        write="reset_all", accept=((1, 1),)),
    Reg(167, "dynamic_max_current", "uint16", _A, "held.dynamic_a",
        "dynamic maximum current of the first load circuit; 65535 = no dynamic cap (held; applied by load management)",
        write="dynamic_current", accept=((0, 6300), (OFF, OFF))),
)

POINT: tuple[Reg, ...] = (
    # configuration block (read-only: set in the WBM / REST)
    Reg(100, "charging_case", "uint16", "", "config.connection_type", "0 socket outlet (case B), 1 fixed cable (case C)",
        codes=("socket", "connector")),
    Reg(101, "max_current", "uint16", _A, "config.max_current_a", "configured maximum charging current"),
    Reg(102, "min_current", "uint16", _A, "config.min_current_a", "configured minimum charging current"),
    Reg(103, "rcm", "uint16", "", "config.rcm_enabled", "residual current monitoring configured (0/1)"),
    Reg(104, "derating_start_temp", "uint16", "degC", "config.derating_start_temp_c", "temperature derating: lower threshold"),
    Reg(105, "derating_stop_temp", "uint16", "degC", "config.derating_stop_temp_c", "temperature derating: upper threshold"),
    Reg(106, "derating_start_current", "uint16", _A, "config.derating_start_current_a", "current at derating start"),
    Reg(107, "derating_stop_current", "uint16", _A, "config.derating_stop_current_a", "current at derating stop"),
    Reg(108, "temp_sensor", "uint16", "", "config.temp_sensor", "temperature monitoring: 0 off, 1 Pt1000, 2 PTC",
        codes=("off", "pt1000", "ptc")),
    Reg(109, "status_d", "uint16", "", "config.status_d", "status D: 0 rejected, 1 accepted", codes=("reject", "accept")),
    Reg(110, "proximity", "uint16", "", "const.0", "proximity configuration: 0 = IEC 61851-1"),
    Reg(111, "overcurrent", "uint16", "", "config.overcurrent", "overcurrent monitoring: 0 off, 1 120 %/10 s, 2 EV/ZE Ready",
        codes=("off", "shutdown", "evze")),
    Reg(112, "meter_type", "uint16", "", "point.meter_code",
        "energy meter: CHARX code of the configured type (`METER_CODES`), 0 none, 65535 a type CHARX has no code for"),
    Reg(113, "controller_uid", "ascii", "", "point.uid", "device UID, its last 6 characters", words=3),
    Reg(116, "server_uid", "ascii", "", "point.server_uid", "the station's (position 1) device UID, its last 6 characters", words=3),
    Reg(119, "position", "uint16", "", "point.position", "backplane bus position"),
    Reg(120, "release_mode", "uint16", "", "config.release_mode",
        "release mode: 0 dashboard, 1 whitelist, 2 remote, 3 permanent, 4 OCPP, 5 Modbus", codes=cd.RELEASE_MODES),
    Reg(121, "rfid_uid_config", "ascii", "", "const.", "RFID UID (placeholder, as CHARX: 0)", words=3),
    # status block
    Reg(232, "voltage_l1", "uint32", "mV", "live.u1_mv", "voltage L1"),
    Reg(234, "voltage_l2", "uint32", "mV", "live.u2_mv", "voltage L2"),
    Reg(236, "voltage_l3", "uint32", "mV", "live.u3_mv", "voltage L3"),
    Reg(238, "current_l1", "int32", "mA", "live.i1_ma", "current L1"),
    Reg(240, "current_l2", "int32", "mA", "live.i2_ma", "current L2"),
    Reg(242, "current_l3", "int32", "mA", "live.i3_ma", "current L3"),
    Reg(244, "power", "int32", "mW", "live.power_mw", "active power"),
    Reg(246, "reactive_power", "int32", "mvar", "point.reactive_mvar", "reactive power, sqrt(S^2 - P^2) as the data hub's"),
    Reg(248, "apparent_power", "uint32", "mVA", "point.apparent_mva", "apparent power, sum of U x I as the data hub's"),
    Reg(250, "energy", "uint64", "Wh", "live.energy_wh", "active energy, meter total"),
    Reg(254, "reactive_energy", "int64", "varh", "const.0", "reactive energy (no meter map reads it: 0)"),
    Reg(258, "apparent_energy", "uint64", "VAh", "const.0", "apparent energy (no meter map reads it: 0)"),
    Reg(262, "soc_energy", "uint32", "", "const.0", "SoC energy (placeholder, as CHARX: 0)"),
    Reg(264, "soc", "uint16", "%", "const.0", "SoC (placeholder, as CHARX: 0)"),
    Reg(265, "evcc_id", "ascii", "", "point.evcc_id", "last EVCC-ID (ISO 15118)", words=10),
    Reg(275, "rfid", "ascii", "", "point.rfid", "last RFID UID of this plug-in (X308 clears it)", words=10),
    Reg(285, "connected_time", "uint32", "s", "live.connected_s", "plug-in duration (time in B/C/D)"),
    Reg(287, "charging_time", "uint32", "s", "live.charging_s", "charging duration (time in C/D)"),
    Reg(289, "session_energy", "uint64", "Wh", "point.session_wh", "energy of the current session (0 when unplugged)"),
    Reg(293, "error_bits", "uint32", "bits", "live.error_bits", "error bits, chargedefs.ERRORS (charx-interfaces section 4)"),
    Reg(295, "inputs", "uint16", "bits", "live.inputs", "digital inputs, input n = bit n-1"),
    Reg(296, "duty", "uint16", "%", "live.duty_permille", "CP PWM duty cycle (100 = no charge permitted)", div=10),
    Reg(297, "set_current", "uint16", _A, "live.set_current_ma", "current signalled to the vehicle now", div=1000),
    Reg(298, "cable_current", "uint16", _A, "live.cable_ma", "cable current capacity from PP (0: none / fixed cable)", div=1000),
    Reg(299, "iec_state", "ascii", "", "point.iec", "IEC 61851-1 state as two characters (A1..D2, E0, F0; IN before the first sample)", words=1),
    # control block
    Reg(300, "release", "uint16", "", "live.release", "charging release 0/1", write="release", accept=_BOOL, modes=gate.modes_for("modbus")),
    Reg(301, "max_current_set", "uint16", _A, "held.max_current_a",
        "maximum charging current: 6..80 A limits (held as written), 0 pauses (SuspendedEVSE; release and session stay); "
        "reads the configured maximum until written",
        write="max_current", accept=((0, 0), (6, 80))),
    Reg(302, "outputs", "uint16", "", "point.outputs",
        "digital outputs, 4 bits each (output 1 = bits 3..0): 0 floating, 1 low, 2 high, 3 flashing, 4 pulsating; "
        "a write drives the outputs configured as bus-controlled",
        write="outputs", accept=((0, 0x4444),)),
    Reg(303, "locked", "uint16", "", "point.locked", "lock: 1 locked / locking, 0 otherwise; written only in locking mode remote",
        write="lock", accept=_BOOL),
    Reg(304, "available", "uint16", "", "live.available", "availability: 0 unavailable (F), 1 available",
        write="available", accept=_BOOL, modes=("modbus",)),
    Reg(305, "force_unlock", "uint16", "", "point.force_unlock", "write 1: end the session and unlock; reads 1 until done (plug out)",
        write="force_unlock", accept=_BOOL),
    Reg(306, "watchdog_current", "uint16", _A, "point.fallback_a",
        "watchdog fallback current, applied as X301 when the watchdog expires (0 pauses); reads the configured fallback until written",
        write="watchdog_current", accept=((0, 0), (6, 80))),
    Reg(307, "watchdog_timer", "uint16", "s", "point.watchdog_s",
        "watchdog timer: each write restarts it; 65535 = off (the default)", write="watchdog_timer", accept=((1, OFF),)),
    Reg(308, "reset_rfid", "uint16", "", "const.0", "write > 0: clear the last RFID (X275); 0 does nothing",
        write="reset_rfid", accept=((0, 0xFFFF),)),
)
# fmt: on

# CHARX energy meter codes (X112, charx-interfaces 1.3) of our meter types (pointconfig.METER_TYPES).
METER_CODES: dict[str, int] = {
    "none": 0,
    "eem350": 1,
    "eem357": 2,
    "em24": 3,
    "eem357ee": 4,
    "em340": 6,
    "wm3m4": 11,
    "pro380": 12,
}
NO_METER_CODE = 65535

BLOCK_STEP = 1000
START_FIRST, START_LAST = 1000, 48000  # manual "Modbus": start addresses


def block_span() -> int:
    """Registers a point block reaches from its start address (offset of its last word + 1)."""
    return max(r.at + r.size for r in POINT)
