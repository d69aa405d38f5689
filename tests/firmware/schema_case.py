"""A small schema exercised on both interpreters (imported by CPython and by the micropython binary)."""

from chargeschema import BOOL, ENUM, INT, LIST, STR, Field

RULE = (Field("event", ENUM, "never", choices=("never", "always")), Field("ms", INT, 0, lo=0, hi=60000))
FIELDS = (
    Field("name", STR, "", lo=1, hi=32),
    Field("max_a", INT, 16, lo=6, hi=80, unit="A"),
    Field("min_a", INT, 6, lo=6, hi=80, unit="A"),
    Field("rcm", BOOL, False),
    Field("rules", LIST, [], hi=2, item=RULE),
)


def min_not_above_max(c):
    return ("min_a", "must not exceed max_a") if c["min_a"] > c["max_a"] else None


CHECKS = (min_not_above_max,)
