"""Out-of-balance suppression and the meter's phase rotation."""

from chargecore.twin.consts import UNBALANCE_MAX_MA

# ROT_* -> grid phase (0..2) of the point's phase 1, 2, 3
_ROTATIONS = ((0, 1, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 0, 2))


def balance_limit(set_ma, i1, i2, i3):
    """Current limit that keeps the phase difference within 20 A: the lowest phase + 20 A, at most set_ma.

    Stateless and stable: a single-phase vehicle is held at 20 A rather than oscillating."""
    low = i1
    if i2 < low:
        low = i2
    if i3 < low:
        low = i3
    limit = low + UNBALANCE_MAX_MA
    if limit > set_ma:
        limit = set_ma
    if limit < 0:
        limit = 0
    return limit


def phase_of(rotation, phase):
    """Grid phase (0..2) that the point's phase (0..2) is wired to, or -1 for an invalid argument."""
    if rotation < 0 or rotation > 5 or phase < 0 or phase > 2:
        return -1
    return _ROTATIONS[rotation][phase]
