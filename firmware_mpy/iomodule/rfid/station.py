"""The point's card reader: the configured reader type's driver on the port the HAL gives, the UID
rendered as the OCPP keys ask, and for the CHARX RFID/NFC board its display (board.py).

The point calls `fit` when it applies a configuration (a reader of the same type and port is kept, with
its state) and `tick` every control tick; `error` is the "RFID reader error" bit's condition. The CHARX
board's firmware version goes to the head as the event rfid_board once the board told it.
"""

import chargedefs as d

from iomodule.rfid import spec as reader_spec
from iomodule.rfid.board import Display
from iomodule.rfid.reader import RfidReader
from iomodule.rfid.uid import render


class CardReader:
    def __init__(self, reader_type, port, spec):
        self.reader_type = reader_type
        self.port = port
        self.reader = RfidReader(port, spec)
        self.display = None
        self.little_endian = False
        self.word_swap = False
        self.firmware = -1  # the version last reported to the head

    def configure(self, cfg):
        self.little_endian = cfg["rfid_byte_order"] == "LE"
        self.word_swap = cfg["rfid_char_order"]
        self.display = Display(self.reader, cfg) if self.reader_type == "charx" else None

    @property
    def error(self):
        return self.reader.state is False

    def tick(self, point, now_ms):
        r = self.reader
        n = r.poll(now_ms)
        if n:
            point.rfid_read(render(r.uid, n, self.little_endian, self.word_swap))
            if self.display is not None:
                self.display.card_read()
        if self.display is not None:
            self.display.tick(point, now_ms)
            if r.firmware != self.firmware:
                self.firmware = r.firmware  # the WBM shows the board's firmware version
                point.push(d.EV_RFID_BOARD, "%d.%d" % (r.firmware >> 8, r.firmware & 0xFF))

    def verdict(self, ok, now_ms):
        if self.display is not None:
            self.display.verdict(ok, now_ms)


def fit(current, hal, cfg):
    """The card reader for configuration `cfg`: `current` if its type and port still fit, a new one on
    the HAL's port for the type, or None where the board has no reader line."""
    reader_type = cfg["rfid_reader_type"]
    spec = reader_spec(reader_type)
    port = hal.rfid_port(reader_type, spec)
    if port is None:
        return None
    if current is None or current.reader_type != reader_type or current.port is not port:
        current = CardReader(reader_type, port, spec)
    current.configure(cfg)
    return current
