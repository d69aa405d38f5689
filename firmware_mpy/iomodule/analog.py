"""Raw ADC counts -> physical values, from the board's scaling data (board.json "adc", "cp", "pp", "temp",
"ai"). Integer arithmetic only; the simulated board's HAL uses the inverse functions to synthesise counts.

Circuits assumed (each board describes its values):
- CP: a divider and offset put -12..+12 V into the ADC range; the core converts the raw window itself with
  mV = (code - adc_zero) * mv_num / mv_den (docs/core-api.md), so only the inverse lives here (sim board).
- PP: the cable resistor R against a pull-up R_pu from v_ref: v_adc = v_ref * R / (R + R_pu).
- Pt1000/PTC: the same divider on its own ratiometric ADC ("temp" bits): raw = full * R / (R + R_pu).
- Analog inputs: a divider, v_adc = v_in * num / den.
"""

OPEN_OHM = 1000000  # returned for an open circuit (no cable, broken sensor)


class Analog:
    def __init__(self, board):
        adc = board["adc"]
        self.full = (1 << adc["bits"]) - 1
        self.vref = adc["vref_mv"]
        cp = board["cp"]
        self.cp_zero = cp["adc_zero"]
        self.cp_num = cp["mv_num"]
        self.cp_den = cp["mv_den"]
        pp = board["pp"]
        self.pp_pu = pp["pullup_ohm"]
        self.pp_ref = pp["ref_mv"]
        t = board["temp"]
        self.t_pu = t["pullup_ohm"]
        self.t_full = (1 << t["bits"]) - 1  # Pt1000 needs more resolution: its own (external) ADC
        ai = board["ai"]
        self.ai_num = ai["num"]
        self.ai_den = ai["den"]

    def adc_mv(self, raw):
        return raw * self.vref // self.full

    def mv_raw(self, mv):
        if mv <= 0:
            return 0
        raw = (mv * self.full + self.vref // 2) // self.vref
        return raw if raw < self.full else self.full

    def cp_raw(self, mv):
        """The code the CP ADC reads for a pilot voltage (inverse of the core's scaling)."""
        code = self.cp_zero + (mv * self.cp_den + self.cp_num // 2) // self.cp_num
        return 0 if code < 0 else (self.full if code > self.full else code)

    # resistor against a pull-up
    def _ohm(self, raw, pu, ref):
        v = self.adc_mv(raw)
        if v >= ref - 2:
            return OPEN_OHM
        return pu * v // (ref - v)

    def _ohm_raw(self, ohm, pu, ref):
        if ohm >= OPEN_OHM:
            return self.mv_raw(ref)
        return self.mv_raw(ref * ohm // (ohm + pu))

    def pp_ohm(self, raw):
        return self._ohm(raw, self.pp_pu, self.pp_ref)

    def pp_raw(self, ohm):
        return self._ohm_raw(ohm, self.pp_pu, self.pp_ref)

    def temp_mohm(self, raw):
        """Sensor resistance in milliohm; the sensor sits against the pull-up across the whole ADC range."""
        if raw >= self.t_full - 1:
            return OPEN_OHM * 1000
        return self.t_pu * 1000 * raw // (self.t_full - raw)

    def temp_raw(self, mohm):
        if mohm >= OPEN_OHM * 1000:
            return self.t_full
        pu = self.t_pu * 1000
        return (self.t_full * mohm + (mohm + pu) // 2) // (mohm + pu)

    # analog inputs
    def ai_mv(self, raw):
        return self.adc_mv(raw) * self.ai_den // self.ai_num

    def ai_raw(self, mv):
        return self.mv_raw(mv * self.ai_num // self.ai_den)
