"""CHARX RFID/NFC board. Phoenix Contact publishes no protocol for the board, so this line speaks
chargepark's own framing (docs/rfid-readers.md): STX 0x02, one length byte, the payload and its CRC-16/
Modbus (low byte first). The module polls with [0x10]; the board answers [0x90, firmware major, firmware
minor, UID length, UID...] (length 0: no card). [0x11, mode, colour, brightness %, period ms (2 bytes,
big-endian), min %, max %, tone, volume %] shows an LED profile and plays a tone (board.py); the board
acknowledges with [0x91].
"""

POLL = 0x10
SHOW = 0x11
ANSWER = 0x90
ACK = 0x91
TONE_NONE = 0
TONE_READ = 1
TONE_ACCEPTED = 2
TONE_DENIED = 3

SPEC = {
    "framing": "binary",
    "start": 0x02,
    "len_size": 1,
    "check": "crc16",
    "baud": 57600,
    "request": b"\x02\x01\x10\x01\xec",  # [0x10] with its CRC (tests/firmware/test_rfid_readers.py)
    "period_ms": 200,
    "timeout_ms": 150,
    "misses": 4,
    "status": 0,
    "status_ok": ANSWER,
    "ack": ACK,
    "found": -1,
    "length": 3,
    "uid": 4,
    "firmware": 1,
}
