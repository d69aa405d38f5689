"""The simulated board's HAL: the plant model seen through the same raw interface as silicon.

Analog values are synthesised as raw ADC counts with the inverse of the board's scaling, so the firmware's
real conversion and sampling code runs. The CP samples come from the circuit (generator, R1, diode, R2/R3).

The energy meter is read straight from the plant (`plant_reading`: `--time sim`, fast and deterministic)
or, once `meter_line` gave the HAL a Modbus RTU line, by the firmware's own RTU driver from the simulated
park's meter on it (a pymodbus server serving the configured type's map with `plant_reading`'s values).
"""

from chargecore import pt1000_mohm
from iomodule import lock, meters
from iomodule.analog import OPEN_OHM, Analog
from iomodule.hal import Hal
from iomodule.meter import MeterLine
from iomodule.modbus_rtu import RtuMaster

from simboard.plant import FREQUENCY_MHZ, PHASE_MV


class SimHal(Hal):
    def __init__(self, board, plant):
        Hal.__init__(self, board)
        self.plant = plant
        self.analog = Analog(board)
        self.lock_type = None  # the actuator fitted; the sim runner follows the configured socket type
        self.profiles = {t: lock.profile(board, t) for t in lock.SOCKET_TYPES}
        self.period = board["cp"]["sample_rate_hz"] // 1000  # samples per 1 kHz PWM period
        self._hi = self._lo = self._duty = -1
        self._buf = None
        self.meter_type = "none"
        self.higher_type = "none"
        self.meter_bus = None  # MeterLine on the simulated meter's line (real time in the park)
        self.rfid_driver = None  # the driver's end of the reader line (simboard/rfidsim.py has the other)

    def cp_set(self, duty_permille):
        self.plant.duty = duty_permille

    def cp_samples(self, buf):
        p = self.plant
        p.cp_plateaus()
        hi = self.analog.cp_raw(p.cp_pos_mv)
        lo = self.analog.cp_raw(p.cp_neg_mv)
        n = len(buf)
        if hi == self._hi and lo == self._lo and p.duty == self._duty and buf is self._buf:
            return n  # the same circuit state: the window from the last tick still holds
        self._hi = hi
        self._lo = lo
        self._duty = p.duty
        self._buf = buf
        # One PWM period is `period` samples; the window starts in the low phase so edges are in view.
        period = self.period
        cut = period * p.duty // 1000
        shift = period - (period - cut) // 2
        for i in range(n):
            buf[i] = hi if (i + shift) % period < cut else lo
        return n

    def pp_raw(self):
        ohm = self.plant.pp_ohm()
        return self.analog.pp_raw(ohm if ohm else OPEN_OHM)

    def temp_raw(self):
        p = self.plant
        if p.has("pt1000_open"):
            return self.analog.temp_raw(OPEN_OHM * 1000)
        if p.has("pt1000_short"):
            return 0
        return self.analog.temp_raw(pt1000_mohm(p.temp_dc))

    def ai_raw(self, index):
        return self.analog.ai_raw(self.plant.ai_mv[index])

    def contactor_set(self, closed):
        self.plant.contactor_cmd = closed

    def di_bits(self):
        p = self.plant
        bits = 0
        for i in range(len(p.di)):
            if p.di[i]:
                bits |= 1 << i
        aux = p.aux_input - 1
        if p.aux_closed():
            bits |= 1 << aux
        return bits

    def do_set(self, index, level):
        self.plant.outputs[index] = level

    def lock_drive(self, direction):
        self.plant.lock_drive = direction

    def lock_feedback_raw(self):
        prof = self.profiles[self.lock_type or "marquardt4"]
        p = self.plant
        if p.lock_locked():
            win = prof["locked_mv"]
        elif p.lock_unlocked() or prof["feedback"] == "switch":
            win = prof["unlocked_mv"]
        else:  # an analog feedback between its end positions
            return self.analog.mv_raw((prof["locked_mv"][1] + prof["unlocked_mv"][0]) // 2)
        return self.analog.mv_raw((win[0] + win[1]) // 2)

    def rcm_tripped(self):
        return self.plant.rcm_tripped()

    def rcm_error(self):
        return self.plant.has("rcm_sensor")

    def rcm_test(self, on):
        self.plant.rcm_test = on

    def rcm_ua(self):
        return self.plant.rcm_residual_ua()

    def supply_mv(self):
        return self.plant.supply_reading_mv()

    def meter_line(self, port, baud=19200):
        """Read the meter over Modbus RTU on `port` from now on (unit 1, a poll cycle every 500 ms), and
        a load circuit's higher-level meter at unit 2 when `higher_setup` asks for one."""
        self.meter_bus = MeterLine(RtuMaster(port, baud, 250), 1, 500, 3)
        self.meter_bus.fit(self.meter_type, self.higher_type)

    def meter_setup(self, meter_type):
        self.meter_type = meter_type
        if self.meter_bus is not None:
            self.meter_bus.fit(meter_type, self.higher_type)

    def higher_setup(self, meter_type):
        self.higher_type = meter_type
        if self.meter_bus is not None:
            self.meter_bus.fit(self.meter_type, meter_type)

    def meter_read(self, buf):
        line = self.meter_bus
        if line is None:
            return self.plant_reading(buf)
        line.poll(self.plant.now_ms)
        return line.read(buf)

    def higher_read(self, buf):
        return self.meter_bus.higher_read(buf) if self.meter_bus is not None else None

    def meter_ident(self):
        return self.meter_bus.ident() if self.meter_bus is not None else None

    def meter_transaction(self, start, session):
        if self.meter_bus is not None:
            self.meter_bus.transaction(start, session)

    def meter_clock(self, utc_s, tz_min, at_ms):
        if self.meter_bus is not None:
            self.meter_bus.clock(utc_s, tz_min, at_ms)

    def meter_key(self):
        return self.meter_bus.key() if self.meter_bus is not None else None

    def meter_signed(self):
        return self.meter_bus.signed() if self.meter_bus is not None else None

    def rfid_port(self, reader_type, spec):
        return self.rfid_driver  # one simulated line; the simulated reader follows the configured type

    def plant_reading(self, buf):
        """What an ideal meter reads from the plant (False while the `meter_comm` fault is on)."""
        p = self.plant
        if p.has("meter_comm"):
            return False
        buf[meters.U1] = PHASE_MV
        buf[meters.U2] = PHASE_MV
        buf[meters.U3] = PHASE_MV
        p.phase_currents(buf, meters.I1)
        buf[meters.POWER] = p.power_mw()
        buf[meters.ENERGY] = p.energy_mwh // 1000
        buf[meters.PF] = 990 if p.draw_ma else 1000
        buf[meters.FREQ] = FREQUENCY_MHZ
        return True
