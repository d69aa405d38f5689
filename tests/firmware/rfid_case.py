"""Byte-level checks of the RFID driver, run on CPython and on the micropython binary (test_rfid_bytes.py):
each reader type's documented answer (vectors written by hand from docs/rfid-readers.md), answers split
over many reads, truncated answers, line noise and silence; and that polling allocates nothing."""

from iomodule.rfid import spec
from iomodule.rfid.framing import Framer, encode
from iomodule.rfid.reader import RfidReader
from iomodule.rfid.uid import render


class ScriptPort:
    """Answers each write with the next scripted reply, delivered `step` bytes per read."""

    def __init__(self, replies, step=64):
        self.replies = list(replies)
        self.out = b""
        self.pos = 0
        self.step = step
        self.writes = 0

    def write(self, buf):
        self.writes += 1
        if self.replies:
            self.out = self.replies.pop(0)
            self.pos = 0

    def readinto(self, buf):
        n = min(len(buf), len(self.out) - self.pos, self.step)
        for i in range(n):
            buf[i] = self.out[self.pos + i]
        self.pos += n
        return n


class Feed(ScriptPort):
    """A push reader's line: everything scripted arrives without being asked."""

    def __init__(self, data, step=64):
        ScriptPort.__init__(self, [], step)
        self.out = data


UID = b"\x04\xa1\xb2\xc3"
# One card answer per reader type, framed by hand from each maker's document
CARD = {
    "twn4": b"000180200404A1B2C3\r",  # no error, found, type 0x80, 32 bits, 4 bytes
    "mde950": b"\x02\x00\x05\x00\x04\xa1\xb2\xc3" + bytes((0x00 ^ 0x05 ^ 0x00 ^ 0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3,)),
    "charx": b"\x02\x08\x90\x01\x04\x04\x04\xa1\xb2\xc3",  # + CRC below
    "uw_xeu1": b"04A1B2C3\r\n",
}
NO_CARD = {"twn4": b"0000\r", "mde950": b"\x02\x00\x01\x01\x00", "charx": b"\x02\x04\x90\x01\x04\x00"}


def _crc(frame):
    from iomodule.modbus_rtu import crc16

    c = crc16(frame, len(frame), 1)
    return frame + bytes((c & 0xFF, c >> 8))


CARD["charx"] = _crc(CARD["charx"])
NO_CARD["charx"] = _crc(NO_CARD["charx"])
NO_CARD["mde950"] = b"\x02\x00\x01\x01" + bytes((0x00 ^ 0x01 ^ 0x01,))


def run(reader, start, ms, step=10):
    cards = []
    t = start
    while t < start + ms:
        n = reader.poll(t)
        if n:
            cards.append(render(reader.uid, n))
        t += step
    return cards, t


def each_type_reads_its_documented_answer():
    for kind in ("twn4", "mde950", "charx"):
        port = ScriptPort([NO_CARD[kind], CARD[kind], CARD[kind], NO_CARD[kind], CARD[kind]])
        r = RfidReader(port, spec(kind))
        cards, _ = run(r, 0, 5 * r.period_ms - 10)  # five polls, each answered
        assert cards == ["04A1B2C3", "04A1B2C3"], (kind, cards)  # held over two polls: once
        assert r.state is True and r.bad == 0, kind
    r = RfidReader(Feed(CARD["uw_xeu1"] + CARD["uw_xeu1"] + b"\r\n11223344\r\n"), spec("uw_xeu1"))
    cards, _ = run(r, 0, 100)
    assert cards == ["04A1B2C3", "11223344"] and r.state is True, cards


def an_answer_split_over_many_reads_is_one_frame():
    for kind in ("twn4", "mde950", "charx"):
        r = RfidReader(ScriptPort([CARD[kind]], step=1), spec(kind))
        cards, _ = run(r, 0, 200, step=1)
        assert cards == ["04A1B2C3"], (kind, cards)


def truncated_answers_and_silence_are_misses_then_an_error():
    for kind in ("twn4", "mde950", "charx"):
        sp = spec(kind)
        cut = CARD[kind][: len(CARD[kind]) - 2]
        port = ScriptPort([cut] * sp["misses"] + [b""] * 3 + [CARD[kind]])
        r = RfidReader(port, sp)
        cards, t = run(r, 0, (sp["misses"] - 1) * sp["period_ms"] + sp["timeout_ms"] + 10)
        assert cards == [] and r.state is False and r.timeouts == sp["misses"], (kind, r.timeouts)
        cards, _ = run(r, t, 6 * sp["period_ms"])
        assert cards == ["04A1B2C3"] and r.state is True, (kind, cards)


def _noise(seed, n):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = x >> 16 & 0xFF
    return bytes(out)


def line_noise_raises_nothing_and_is_reported():
    for kind in ("twn4", "mde950", "charx", "uw_xeu1"):
        sp = spec(kind)
        for seed in range(40):
            noise = _noise(seed, 20 + seed * 3)
            if kind == "uw_xeu1":
                port = Feed(noise + b"\r" + noise + b"\n")
            else:
                port = ScriptPort([noise] * 8)
            r = RfidReader(port, sp)
            cards, _ = run(r, 0, 8 * (sp["period_ms"] + sp["timeout_ms"]) + 10)
            assert r.state is False, (kind, seed, r.bad, r.answers)
            assert len(cards) <= 1, (kind, seed, cards)  # noise that happens to frame a card is rare


def the_uid_renders_in_byte_and_character_order():
    u = b"\x04\xa1\xb2\xc3\xd4"
    assert render(u, 5) == "04A1B2C3D4"
    assert render(u, 5, True) == "D4C3B2A104"
    assert render(u, 5, False, True) == "A104C3B2D4"
    assert render(u, 4, True, True) == "B2C304A1"


def the_makers_reference_frames_are_read_and_built_as_printed():
    """Frames printed in the makers' documents (docs/rfid-readers.md): ELATEC's SearchTag example (TWN4
    Simple Protocol DocRev25, 1.5.4.1) read by the driver, and DUALi's "Automatic Card Detection
    Disable" frame (DE-960 User's Manual 9.3) cut and built by the framing with its LRC."""
    r = RfidReader(ScriptPort([b"000180200466CF4DC2\r"]), spec("twn4"))
    cards, _ = run(r, 0, r.period_ms - 10)
    assert cards == ["66CF4DC2"] and r.state is True, cards
    sp = spec("mde950")
    printed = b"\x02\x00\x01\xef\xee"
    f = Framer(sp)
    f.feed(printed, len(printed))
    assert f.next() == 1 and f.payload[0] == 0xEF
    out = bytearray(8)
    assert bytes(out[: encode(sp, b"\xef", 1, out)]) == printed


CHECKS = (
    the_makers_reference_frames_are_read_and_built_as_printed,
    each_type_reads_its_documented_answer,
    an_answer_split_over_many_reads_is_one_frame,
    truncated_answers_and_silence_are_misses_then_an_error,
    line_noise_raises_nothing_and_is_reported,
    the_uid_renders_in_byte_and_character_order,
)


def run_all():
    for check in CHECKS:
        check()
    return [c.__name__ for c in CHECKS]


def polling_without_allocation(ms):
    """Bytes allocated by `ms` of TWN4 polling with no card after a warm-up (0 expected on MicroPython)."""
    import gc

    port = ScriptPort([NO_CARD["twn4"]] * 100000)
    r = RfidReader(port, spec("twn4"))
    _, t = run(r, 0, 1000)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    end = t + ms
    while t < end:
        r.poll(t)
        t += 10
    used = gc.mem_alloc() - before
    gc.enable()
    assert r.state is True and port.writes > ms // 300
    return used
