"""Netronix UW-XEU1: reads a card on its own and sends it without being asked (Netronix's "Netronix
Protocol" page: in the simplest mode a module sends its response frame by itself when its event
occurs; 9600 Bd 8N1 as Netronix's UW-DAL manual gives its serial line). The bytes of that frame are
not public: this driver takes the card number as one line of ASCII hex ended by CR LF, unverified
(docs/rfid-readers.md). It sends no commands. A push reader cannot be told from a silent one by
silence, so only lines that are no card number count against it.
"""

SPEC = {
    "framing": "hex",
    "end": b"\r\n",
    "baud": 9600,
    "request": None,  # push: the reader sends when a card arrives
    "period_ms": 0,
    "timeout_ms": 0,
    "misses": 2,  # two lines in a row that are no card number
    "status": -1,
    "status_ok": 0,
    "ack": -1,
    "found": -1,
    "length": -1,
    "uid": 0,
    "firmware": -1,
}
