"""DUALI MDE 950-4 XCP (the module form of the DE-950) in DUALi's serial frame (DE-960 User Manual,
document version 1.10, 9 "Function configuration (Communication setting)"; 115200 Bd 8N1): STX 0x02,
LENH, LENL (the length of command and data), the command and its data, and LRC. DUALi prints the LRC as
LENL ^ CMD ^ DATA; ours XORs LENH as well, the same for every frame shorter than 256 bytes. The host
polls for the card in the field; the reader answers a status byte (0x00 = a card, its serial number
follows; anything else: no card). The poll command's code (0x4C) and the answer's layout are not on a
public page we could read: docs/rfid-readers.md.
"""

SPEC = {
    "framing": "binary",
    "start": 0x02,
    "len_size": 2,
    "check": "xor",
    "baud": 115200,
    "request": b"\x02\x00\x01\x4c\x4d",  # STX, length 1, command 0x4C, LRC = 0x00 ^ 0x01 ^ 0x4C
    "period_ms": 250,
    "timeout_ms": 150,
    "misses": 4,
    "status": 0,
    "status_ok": 0,
    "ack": -1,
    "found": -1,
    "length": -1,  # the serial number is the rest of the payload
    "uid": 1,
    "firmware": -1,
}
