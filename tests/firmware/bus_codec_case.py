"""Codec checks in the common subset: run by pytest on CPython and as a script on the real micropython."""

from backplane import catalog, frame, values

SAMPLES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    63,
    -64,
    2**31 - 1,
    -(2**31),
    2**40 + 7,
    "",
    "Ladepunkt \u00e9",
    b"",
    b"\x00\xc0\xdb\xdc\xdd\xff",
    [],
    [1, [2, [3, "x"]], b"\xc0"],
]


def roundtrips():
    """Every sample survives values + frame encoding; returns the number checked."""
    n = 0
    for v in SAMPLES:
        payload = values.encode([v])
        wire = frame.encode(7, frame.HEAD, 200 + n, catalog.COMMAND, payload)
        frames = frame.Deframer().feed(wire)
        assert len(frames) == 1, frames
        dst, src, seq, mtype, body = frame.decode(frames[0])
        assert (dst, src, seq, mtype) == (7, frame.HEAD, (200 + n) & 0xFF, catalog.COMMAND)
        got = values.decode(body)[0]
        assert got == v and type(got) is type(v), (got, v)
        n += 1
    return n


def split_stream():
    """Frames fed byte by byte and glued together come out whole and in order."""
    wires = [
        frame.encode(p, frame.HEAD, p, catalog.POLL, catalog.pack(catalog.POLL, p, p * 3))
        for p in range(1, 13)
    ]
    d = frame.Deframer()
    got = []
    stream = b"".join(wires)
    for i in range(len(stream)):
        got += d.feed(stream[i : i + 1])
    return [catalog.unpack(catalog.POLL, frame.decode(r)[4]) for r in got]


class Rng:
    """xorshift32: the same pseudo-random bytes on both interpreters."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))


def fuzz(rounds, seed=12345):
    """Random bytes and mutated valid frames through the whole decoder: [frames, errors, accepted]."""
    rng = Rng(seed)
    d = frame.Deframer()
    good = frame.encode(3, frame.HEAD, 9, catalog.CONFIG, catalog.pack(catalog.CONFIG, 1, [1, [2, "x"]]))
    seen = errors = accepted = 0
    for i in range(rounds):
        if i % 2:
            data = rng.bytes(rng.next() % 80)
        else:
            data = bytearray(good)
            for _ in range(1 + rng.next() % 3):
                data[rng.next() % len(data)] ^= 1 << (rng.next() % 8)
            data = bytes(data)
        for raw in d.feed(data):
            seen += 1
            try:
                _, _, _, mtype, payload = frame.decode(raw)
                catalog.unpack(mtype, payload)
                accepted += 1
            except ValueError:
                errors += 1
    # Raw values decoding of random bytes: only ValueError, never anything else.
    for _ in range(rounds):
        try:
            values.decode(rng.bytes(1 + rng.next() % 24))
        except ValueError:
            errors += 1
    return [seen, errors, accepted]


if __name__ == "__main__":
    import json

    print(json.dumps([roundtrips(), split_stream(), fuzz(3000), catalog.CATALOG_HASH]))
