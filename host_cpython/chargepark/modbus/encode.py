"""Values to Modbus words as CHARX clients decode them: big-endian, most significant word first, ASCII two
characters a register (high byte first, NUL padded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Encoder = Callable[[Any, int], list[int]]  # (value, words) -> exactly `words` registers


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v


def _unsigned(value: Any, words: int) -> list[int]:
    v = _clamp(int(value), 0, (1 << (16 * words)) - 1)
    return [(v >> (16 * (words - 1 - n))) & 0xFFFF for n in range(words)]


def _signed(value: Any, words: int) -> list[int]:
    bits = 16 * words
    v = _clamp(int(value), -(1 << (bits - 1)), (1 << (bits - 1)) - 1) & ((1 << bits) - 1)
    return _unsigned(v, words)


def _ascii(value: Any, words: int) -> list[int]:
    raw = str(value).encode("ascii", "replace")[: 2 * words].ljust(2 * words, b"\0")
    return [(raw[2 * n] << 8) | raw[2 * n + 1] for n in range(words)]


def _mac(value: Any, words: int) -> list[int]:
    """ "aa:bb:cc:dd:ee:ff" -> three registers of two bytes each (zeros when unknown)."""
    try:
        raw = bytes.fromhex(str(value).replace(":", ""))
    except ValueError:
        raw = b""
    raw = raw[: 2 * words].ljust(2 * words, b"\0")
    return [(raw[2 * n] << 8) | raw[2 * n + 1] for n in range(words)]


def _octets(value: Any, words: int) -> list[int]:
    """ "192.168.0.1" -> one octet a register (zeros when unknown)."""
    parts = str(value).split(".")
    try:
        octets = [int(p) & 0xFF for p in parts] if len(parts) == words else [0] * words
    except ValueError:
        octets = [0] * words
    return octets


ENCODERS: dict[str, Encoder] = {
    "uint16": _unsigned,
    "uint32": _unsigned,
    "uint64": _unsigned,
    "int32": _signed,
    "int64": _signed,
    "ascii": _ascii,
    "mac": _mac,
    "ipv4": _octets,
}
# The words each fixed-size kind takes; ascii takes what its register says.
WORDS: dict[str, int] = {"uint16": 1, "uint32": 2, "uint64": 4, "int32": 2, "int64": 4, "mac": 3, "ipv4": 4}


def encode(kind: str, value: Any, words: int) -> list[int]:
    return ENCODERS[kind](value, words)


def decode(kind: str, regs: list[int]) -> Any:
    """The inverse (tests and tools): the number or text the registers carry."""
    if kind == "ascii":
        return b"".join(bytes((r >> 8, r & 0xFF)) for r in regs).rstrip(b"\0").decode("ascii", "replace")
    if kind == "mac":
        return ":".join("%02x" % b for r in regs for b in (r >> 8, r & 0xFF))
    if kind == "ipv4":
        return ".".join(str(r) for r in regs)
    v = 0
    for r in regs:
        v = (v << 16) | r
    if kind.startswith("int") and v >= 1 << (16 * len(regs) - 1):
        v -= 1 << (16 * len(regs))
    return v
