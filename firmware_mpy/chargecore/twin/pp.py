"""Proximity pilot: PP-PE resistance -> cable capacity, and plug rejection."""

from chargecore.twin.consts import (
    PP_13A_MAX_OHM,
    PP_20A_MAX_OHM,
    PP_32A_MAX_OHM,
    PP_63A_MAX_OHM,
    PP_FAULT,
    PP_NONE,
    PP_SHORT_BELOW_OHM,
    REJECT_13A,
    REJECT_20A_13A,
    REJECT_NONE,
)


def pp_capacity(ohm):
    """Cable capacity in mA. Each band's upper edge is inclusive, so a value between bands gets the lower one."""
    if ohm < PP_SHORT_BELOW_OHM:
        return PP_FAULT
    if ohm <= PP_63A_MAX_OHM:
        return 63000
    if ohm <= PP_32A_MAX_OHM:
        return 32000
    if ohm <= PP_20A_MAX_OHM:
        return 20000
    if ohm <= PP_13A_MAX_OHM:
        return 13000
    return PP_NONE


def pp_accept(capacity_ma, reject):
    """1 if the cable may be used under the plug-rejection setting, else 0 (no cable or fault: 0)."""
    if capacity_ma <= 0:
        return 0
    if reject == REJECT_NONE:
        return 1
    if reject == REJECT_13A:
        return 1 if capacity_ma > 13000 else 0
    if reject == REJECT_20A_13A:
        return 1 if capacity_ma > 20000 else 0
    return 0
