"""The physical world around one simulated charging point: vehicle, cable, contactor, meter and sensors.

The firmware never sees this object: the simulated HAL (simboard/hal.py) turns its state into raw ADC counts
and pin levels, exactly what a real board's HAL reads. `advance(now_ms)` moves the plant forward in time;
the sim-control channel changes it (plug, charge, faults). Values are integers (mV, mA, ohm, ms, 0.1 degC).
The vehicle reads the duty with the core's own `current_from_duty` (one table).
"""

from chargecore import current_from_duty

# Nominal PP resistors of Type 2 cables (plant side: the resistor soldered into the plug).
CABLE_OHM = {13: 1500, 20: 680, 32: 220, 63: 100}
# Vehicle-side CP circuit: R2 always, R3 (C) or the ventilation resistor (D) when S2 closes.
R1_OHM = 1000
R2_OHM = 2740
R3_C_OHM = 1300
R3_D_OHM = 270
DIODE_MV = 700
GEN_MV = 12000
PHASE_MV = 230000
FREQUENCY_MHZ = 50000
SUPPLY_LOW_MV = 10800  # the injected "supply" fault: the 12 V rail sags 10 % (the monitor's reading)
RCM_TEST_UA = 8000  # the sensor's test winding and the injected "rcm_trip" fault: above the 6 mA trip

FAULTS = (
    "weld",
    "no_close",
    "aux_broken",
    "rcm_trip",
    "rcm_sensor",
    "pt1000_open",
    "pt1000_short",
    "pp_lost",
    "diode",
    "pilot_short",
    "lock_jam",
    "unlock_jam",
    "overcurrent",
    "imbalance",
    "meter_comm",
    "higher_meter_comm",
    "vehicle_f",
    "supply",
    "rfid_silent",
    "rfid_garbage",
)


class Plant:
    def __init__(self, sim_cfg=None):
        cfg = sim_cfg or {}
        self.aux_input = cfg.get("aux_input", 3)  # digital input wired to the contactor's auxiliary contact
        self.aux_type = cfg.get("aux_type", "no")  # "no": closed (12 V) when the contactor is closed
        self.lock_travel_ms = 300  # per actuator type: the runner sets it from board "sim" data
        self.now_ms = 0
        self.faults = {}
        # cable and vehicle
        self.cable_ohm = 0  # 0 = no cable in the socket
        self.ev_connected = False
        self.wants_charge = False  # the driver asked to charge (S2 closes when the EVSE offers current)
        self.paused = False  # SuspendedEV
        self.s2 = False
        self.phases = 3
        self.max_a = 32
        self.battery_wh = 50000
        self.soc_mwh = 20000000
        self.ventilation = False
        self.reaction_ms = 2000  # the vehicle follows a new duty after this delay
        self.s2_open_ms = 1000  # opens S2 this long after the PWM stops
        self.stubborn = False  # keeps S2 closed when the PWM stops (tests the EVSE's 6 s limit)
        self.full_pause = True  # a full battery opens S2 (SuspendedEV)
        # EVSE outputs as driven by the firmware
        self.duty = 1000  # 1000 = +12 V, 0 = -12 V
        self.contactor_cmd = False
        self.contactor = False
        self.lock_drive = 0  # +1 locking, -1 unlocking
        self.lock_pos = 0  # 0 = unlocked .. lock_travel_ms = locked
        self.outputs = [0, 0, 0, 0]  # 0 low, 1 high, 2 floating
        self.rcm_test = False
        # sensors and inputs
        self.di = [0, 0, 0, 0]
        self.ai_mv = [0, 0]
        self.temp_dc = 250
        self.supply_mv = GEN_MV  # the 12 V rail as the board's monitor reads it
        self.gen_mv = GEN_MV  # the CP generator's plateaus (+gen_mv / -gen_mv)
        self.rcm_ua = 0
        self.overdraw_pct = 125
        self.imbalance_a = 0
        self.building_a = 0  # the building's load per phase behind a higher-level meter on this line
        # vehicle current following
        self.draw_ma = 0
        self._target_ma = 0
        self._pending_ma = 0
        self._pending_at = 0
        self._pwm_off_since = -1
        self.energy_mwh = 12345000  # meter total (mWh)
        self._acc = 0

    # --- sim-control actions -------------------------------------------------------------------------
    def plug(self, cable_a=32, ev=True):
        if cable_a not in CABLE_OHM:
            raise ValueError("cable_a must be one of 13, 20, 32, 63")
        self.cable_ohm = CABLE_OHM[cable_a]
        if ev:
            self.ev_connected = True

    def unplug(self):
        self.cable_ohm = 0
        self.ev_connected = False
        self.wants_charge = False
        self.paused = False
        self.s2 = False

    def fault(self, name, on):
        if name not in FAULTS:
            raise ValueError("unknown fault %s (known: %s)" % (name, ", ".join(FAULTS)))
        if on:
            self.faults[name] = True
        elif name in self.faults:
            del self.faults[name]
        if name == "weld" and not on:
            self.contactor = self.contactor_cmd and "no_close" not in self.faults

    def has(self, name):
        return name in self.faults

    # --- time ----------------------------------------------------------------------------------------
    def advance(self, now_ms):
        dt = now_ms - self.now_ms
        if dt <= 0:
            return
        self.now_ms = now_ms
        self._move_lock(dt)
        self._move_contactor()
        self._move_vehicle(now_ms)
        self._draw(now_ms, dt)

    def _move_lock(self, dt):
        if self.lock_drive > 0 and "lock_jam" not in self.faults:
            self.lock_pos = min(self.lock_travel_ms, self.lock_pos + dt)
        elif self.lock_drive < 0 and "unlock_jam" not in self.faults:
            self.lock_pos = max(0, self.lock_pos - dt)

    def _move_contactor(self):
        if self.contactor_cmd:
            if "no_close" not in self.faults:
                self.contactor = True
        elif "weld" not in self.faults:
            self.contactor = False

    def _move_vehicle(self, now_ms):
        pwm_on = 0 < self.duty < 1000
        if pwm_on:
            self._pwm_off_since = -1
        elif self._pwm_off_since < 0:
            self._pwm_off_since = now_ms
        full = self.full_pause and self.soc_mwh >= self.battery_wh * 1000
        want = self.ev_connected and self.wants_charge and not self.paused and not full
        if not want:
            self.s2 = False
        elif pwm_on:
            self.s2 = True
        elif self.s2 and not self.stubborn and now_ms - self._pwm_off_since >= self.s2_open_ms:
            self.s2 = False

    def _draw(self, now_ms, dt):
        allowed = current_from_duty(self.duty) if self.s2 else 0
        if allowed < 0:  # digital communication / error duty: a basic vehicle does not charge
            allowed = 0
        target = min(allowed, self.max_a * 1000)
        if target != self._pending_ma:
            self._pending_ma = target
            # Lower limits and stops take effect after the reaction delay, like a real vehicle.
            self._pending_at = now_ms + (self.reaction_ms if target and self._target_ma else 0)
        if now_ms >= self._pending_at:
            self._target_ma = self._pending_ma
        if not (self.contactor and self.s2):
            self.draw_ma = 0
            return
        draw = self._target_ma
        if "overcurrent" in self.faults:
            draw = draw * self.overdraw_pct // 100
        self.draw_ma = draw
        # Energy in mW*ms, carried over in whole mWh so that short ticks lose nothing.
        self._acc += self.power_mw() * dt
        mwh = self._acc // 3600000
        self._acc -= mwh * 3600000
        self.energy_mwh += mwh
        self.soc_mwh += mwh

    # --- what the sensors see --------------------------------------------------------------------
    def phase_currents(self, out, at=0):
        """Currents L1..L3 in mA into out[at:at + 3]."""
        d = self.draw_ma
        out[at] = d + (self.imbalance_a * 1000 if "imbalance" in self.faults and d else 0)
        out[at + 1] = d if self.phases == 3 else 0
        out[at + 2] = d if self.phases == 3 else 0

    def power_mw(self):
        total = self.draw_ma * (3 if self.phases == 3 else 1)
        if "imbalance" in self.faults and self.draw_ma:
            total += self.imbalance_a * 1000
        return total * PHASE_MV // 1000

    def cp_plateaus(self):
        """Set cp_pos_mv / cp_neg_mv: the CP plateaus the generator and the vehicle circuit produce
        (attributes, not a tuple: the simulated HAL reads them every tick without allocating)."""
        if "pilot_short" in self.faults:
            self.cp_pos_mv = 0
            self.cp_neg_mv = 0
            return
        gen = self.gen_mv
        if self.ev_connected and "vehicle_f" in self.faults:
            self.cp_pos_mv = -gen  # a vehicle error: the vehicle pulls the pilot to -12 V (state F)
            self.cp_neg_mv = -gen
            return
        if not self.ev_connected:
            self.cp_pos_mv = gen
            self.cp_neg_mv = -gen
            return
        r = R2_OHM
        if self.s2:
            r3 = R3_D_OHM if self.ventilation else R3_C_OHM
            r = r * r3 // (r + r3)
        self.cp_pos_mv = DIODE_MV + (gen - DIODE_MV) * r // (R1_OHM + r)
        self.cp_neg_mv = -gen if "diode" not in self.faults else -(gen * r // (R1_OHM + r))

    def pp_ohm(self):
        """PP-PE resistance; 0 = open (no cable)."""
        if self.cable_ohm == 0 or "pp_lost" in self.faults:
            return 0
        return self.cable_ohm

    def aux_closed(self):
        if "aux_broken" in self.faults:
            return not self.contactor if self.aux_type == "no" else self.contactor
        return self.contactor if self.aux_type == "no" else not self.contactor

    def lock_locked(self):
        return self.lock_pos >= self.lock_travel_ms

    def lock_unlocked(self):
        return self.lock_pos <= 0

    def rcm_residual_ua(self):
        """What the residual current sensor reports: a dead sensor reports nothing, the test winding
        injects a test current above the trip level."""
        if "rcm_sensor" in self.faults:
            return 0
        if self.rcm_test:
            return RCM_TEST_UA
        if "rcm_trip" in self.faults:
            return max(self.rcm_ua, RCM_TEST_UA)
        return self.rcm_ua

    def supply_reading_mv(self):
        return SUPPLY_LOW_MV if "supply" in self.faults else self.supply_mv

    def rcm_tripped(self):
        return self.rcm_residual_ua() >= 6000

    def snapshot(self):
        self.cp_plateaus()
        return {
            "now_ms": self.now_ms,
            "cable_ohm": self.cable_ohm,
            "ev_connected": self.ev_connected,
            "wants_charge": self.wants_charge,
            "paused": self.paused,
            "s2": self.s2,
            "phases": self.phases,
            "max_a": self.max_a,
            "battery_wh": self.battery_wh,
            "soc_wh": self.soc_mwh // 1000,
            "ventilation": self.ventilation,
            "duty": self.duty,
            "cp_pos_mv": self.cp_pos_mv,
            "cp_neg_mv": self.cp_neg_mv,
            "contactor_cmd": self.contactor_cmd,
            "contactor": self.contactor,
            "draw_ma": self.draw_ma,
            "lock_pos": self.lock_pos,
            "lock_drive": self.lock_drive,
            "locked": self.lock_locked(),
            "outputs": list(self.outputs),
            "di": list(self.di),
            "ai_mv": list(self.ai_mv),
            "temp_dc": self.temp_dc,
            "supply_mv": self.supply_reading_mv(),
            "gen_mv": self.gen_mv,
            "rcm_ua": self.rcm_residual_ua(),
            "faults": sorted(self.faults),
        }
