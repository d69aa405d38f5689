"""The MicroPython-compatible twin of the C safety core: same API, same integer results."""
# ruff: noqa: F401 - this module re-exports the API

from chargecore.twin.balance import balance_limit, phase_of
from chargecore.twin.consts import *  # noqa: F403 - the constants are part of the API
from chargecore.twin.contactor import Contactor
from chargecore.twin.cp import Cp, cp_state
from chargecore.twin.fallback import Fallback
from chargecore.twin.overcurrent import Overcurrent
from chargecore.twin.pp import pp_accept, pp_capacity
from chargecore.twin.pwm import current_from_duty, duty_from_current
from chargecore.twin.rcm import Rcm
from chargecore.twin.temp import Derating, pt1000_ddegc, pt1000_mohm, ptc_status

BACKEND = "twin"
