"""ELATEC TWN4 in its "Simple Protocol" (ELATEC, "TWN4 Simple Protocol", DocRev25, 2022: 1.2, 1.3, 1.4
and 1.5.4.1), in its standard setting (ASCII, CRC off, 9600 Bd): every message is the bytes of an API
call in ASCII hex ended by CR. The host calls SearchTag [0500][MaxIDBytes] with at most 16 ID bytes
("050010", the document's example); the reader answers the protocol's error code (0 = ERR_NONE), the
call's Bool result (1 = a tag is in the field), TagType, IDBitCount and the ID as a Byte Array(Var)
(length byte, bytes). "0000" is a well-formed answer: no tag.
"""

SPEC = {
    "framing": "hex",
    "end": b"\r",
    "baud": 9600,
    "request": b"050010\r",
    "period_ms": 250,
    "timeout_ms": 200,
    "misses": 4,  # a second without an answer
    "status": 0,  # payload[0]: the protocol's error code
    "status_ok": 0,
    "ack": -1,
    "found": 1,  # payload[1]: SearchTag's result
    "length": 4,  # payload[4]: the ID's byte count, the ID follows
    "uid": 5,
    "firmware": -1,
}
