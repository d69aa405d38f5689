"""Self-describing value encoding for message payloads (a tiny subset of MessagePack's idea).

Each value is one tag byte and its data: None, False, True, int (zig-zag varint), str and bytes
(varint length + data), list (varint count + values). Messages are lists whose order the catalog
fixes, so a payload is compact yet a decoder can check every type. Decoding never trusts a length:
every count is bounded by the bytes that remain, and nesting is bounded.
"""

T_NONE = 0
T_FALSE = 1
T_TRUE = 2
T_INT = 3
T_STR = 4
T_BYTES = 5
T_LIST = 6
MAX_DEPTH = 4


def _varint(out, n):
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def put(out, value):
    """Append the encoding of `value` to the bytearray `out`."""
    if value is None:
        out.append(T_NONE)
    elif value is False:
        out.append(T_FALSE)
    elif value is True:
        out.append(T_TRUE)
    elif isinstance(value, int):
        out.append(T_INT)
        _varint(out, (value << 1) if value >= 0 else ((-value << 1) - 1))
    elif isinstance(value, str):
        data = value.encode()
        out.append(T_STR)
        _varint(out, len(data))
        out += data
    elif isinstance(value, (bytes, bytearray)):
        out.append(T_BYTES)
        _varint(out, len(value))
        out += value
    elif isinstance(value, (list, tuple)):
        out.append(T_LIST)
        _varint(out, len(value))
        for v in value:
            put(out, v)
    else:
        raise TypeError("cannot encode %s" % type(value).__name__)


def encode(value):
    out = bytearray()
    put(out, value)
    return bytes(out)


def _get_varint(data, i):
    n = 0
    shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("varint")
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def get(data, i, depth=0):
    """(value, next index) of the value at data[i]; ValueError on any malformation."""
    if i >= len(data):
        raise ValueError("truncated")
    tag = data[i]
    i += 1
    if tag == T_INT:
        z, i = _get_varint(data, i)
        return (z >> 1) if not z & 1 else -((z + 1) >> 1), i
    if tag == T_STR or tag == T_BYTES:
        n, i = _get_varint(data, i)
        if i + n > len(data):
            raise ValueError("truncated")
        raw = bytes(data[i : i + n])
        return (raw.decode() if tag == T_STR else raw), i + n
    if tag == T_LIST:
        n, i = _get_varint(data, i)
        if n > len(data) - i or depth >= MAX_DEPTH:
            raise ValueError("list")
        items = []
        for _ in range(n):
            v, i = get(data, i, depth + 1)
            items.append(v)
        return items, i
    if tag == T_NONE:
        return None, i
    if tag == T_FALSE:
        return False, i
    if tag == T_TRUE:
        return True, i
    raise ValueError("tag %d" % tag)


def decode(data):
    """The single value in `data`; trailing bytes are an error."""
    value, i = get(data, 0)
    if i != len(data):
        raise ValueError("trailing bytes")
    return value
