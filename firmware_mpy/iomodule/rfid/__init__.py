"""RFID readers on the IO module: one driver (`reader.RfidReader`) over the board's UART / RS-485, and
one small module of data per reader type saying how its maker frames a card (docs/rfid-readers.md).

`READERS` maps the point's "Type of RFID reader" (pointconfig.RFID_READER_TYPES) to its module, imported
only when a point is configured with it, so a board holds just the reader it has.
"""

READERS = {"twn4": "twn4", "mde950": "mde950", "uw_xeu1": "uw_xeu1", "charx": "charx"}


def spec(reader_type):
    """The framing data of a reader type (its module's SPEC)."""
    mod = __import__("iomodule.rfid." + READERS[reader_type], None, None, ("SPEC",))
    return mod.SPEC
