"""Integer helpers whose results match the C core bit for bit (C truncates, Python floors)."""

from chargecore.twin.consts import TICK_MASK


def div_round(a, b):
    """a / b rounded half away from zero, for b > 0 (the one rounding rule of the core)."""
    if a >= 0:
        return (a + b // 2) // b
    return -((b // 2 - a) // b)


def elapsed(now, then):
    """Milliseconds from `then` to `now` on a tick that wraps at 2**30."""
    return (now - then) & TICK_MASK
