"""Integer helpers whose results match the C core bit for bit (C truncates, Python floors)."""

from chargecore.twin.consts import TICK_MASK


def div_round(a, b):
    """a / b rounded half away from zero, for b > 0 (the one rounding rule of the core)."""
    if a >= 0:
        return (a + b // 2) // b
    return -((b // 2 - a) // b)


def scale(d, count, num, den):
    """div_round(d * num, count * den) for count, num, den > 0, without the big product: split into whole and
    fractional parts so that a 32-bit MicroPython keeps every intermediate a small int (no allocation) for
    board scalings up to about 16 mV per code and windows of a few thousand samples."""
    q = d // count
    a = q * num
    whole = a // den
    big = count * den
    frac = (a - whole * den) * count + (d - q * count) * num  # 0 <= frac < count * (den + num)
    carry = frac // big
    whole += carry
    frac -= carry * big
    if whole >= 0:
        return whole + (1 if 2 * frac >= big else 0)
    return whole + (1 if 2 * frac > big else 0)


def elapsed(now, then):
    """Milliseconds from `then` to `now` on a tick that wraps at 2**30."""
    return (now - then) & TICK_MASK
