"""Hardware-abstraction layer: the only place the firmware touches pins, ADCs and timers.

A board's HAL subclasses `Hal`; the controller calls nothing else. Analog readings are raw ADC counts (the
board's `adc` scaling in board.json turns them into millivolts, iomodule/analog.py into physics), so the
same conversion code runs on the simulated board and on silicon. No method allocates.
"""


class Hal:
    def __init__(self, board):
        self.board = board

    # control pilot
    def cp_set(self, duty_permille):
        """Drive the CP generator: 1000 = constant +12 V, 0 = constant -12 V (state F), else 1 kHz PWM."""
        raise NotImplementedError

    def cp_samples(self, buf):
        """Fill `buf` with raw ADC samples of the CP taken evenly over one PWM period; return the count."""
        raise NotImplementedError

    # analog inputs (raw counts)
    def pp_raw(self):
        raise NotImplementedError

    def temp_raw(self):
        raise NotImplementedError

    def ai_raw(self, index):
        """Analog input `index` (0-based)."""
        raise NotImplementedError

    # contactor, digital IO
    def contactor_set(self, closed):
        raise NotImplementedError

    def di_bits(self):
        """Digital inputs as a bit field (input 1 = bit 0)."""
        raise NotImplementedError

    def do_set(self, index, level):
        """Digital output `index` (0-based) to 0 = low, 1 = high, 2 = floating."""
        raise NotImplementedError

    # locking actuator
    def lock_drive(self, direction):
        """+1 = drive towards locked, -1 = towards unlocked, 0 = stop."""
        raise NotImplementedError

    def lock_feedback_raw(self):
        raise NotImplementedError

    # DC residual current sensor (6 mA DC, IEC 62955)
    def rcm_tripped(self):
        raise NotImplementedError

    def rcm_error(self):
        raise NotImplementedError

    def rcm_test(self, on):
        raise NotImplementedError

    def rcm_ua(self):
        """Residual current in uA if the sensor measures it, else -1."""
        return -1

    # 12 V supply monitor
    def supply_mv(self):
        """The 12 V (CP generator) supply in mV if the board measures it, else -1."""
        return -1

    # energy meter
    def meter_setup(self, meter_type):
        """The configured "Energy measuring device type" (pointconfig.METER_TYPES; "none" = no meter)."""

    def meter_read(self, buf):
        """Fill buf[0:10] = u1, u2, u3 (mV), i1, i2, i3 (mA), power (mW), energy (Wh), power factor
        (permille), frequency (mHz) and return True; return False if the meter does not answer (error
        bit 25), None while its first reading is still on the way (no values, no error yet)."""
        raise NotImplementedError

    def meter_ident(self):
        """(serial number, firmware version) of the meter once it was read (then None until it is read
        anew); "" for what the type has no register for. None on a board that cannot tell."""
        return None

    def meter_transaction(self, start, session):
        """The point's session `session` starts (True) or ends: a signing meter starts or stops its
        transaction (iomodule/signing.py); nothing where the meter does not sign."""

    def meter_clock(self, utc_s, tz_min, at_ms):
        """The wall clock for a signing meter (UTC seconds at module time `at_ms`, the local offset in
        minutes): it sets the meter's clock before each transaction; nothing where the meter does not sign."""

    def meter_key(self):
        """A signing meter's public key (DER SubjectPublicKeyInfo, hex) once it was read, else None."""
        return None

    def meter_signed(self):
        """[session, OCMF record or "", 0 or why not] once a signing meter's transaction ended, else None."""
        return None

    def higher_setup(self, meter_type):
        """A load circuit's higher-level meter of `meter_type` on the meter line at the point meter's
        address + 1 ("none": no such meter); polled beside the point's meter by `meter_read`."""

    def higher_read(self, buf):
        """Like meter_read for the higher-level meter (the values of its last complete cycle, no polling);
        None also where no higher-level meter is set up."""
        return None

    # RFID reader
    def rfid_port(self, reader_type, spec):
        """The line of the point's RFID reader, opened for the reader type (spec: iomodule/rfid), or None
        where the board has none. The same object for the same type: the driver keeps its state."""
        return None
