"""Smart Charging (OCPP 1.6 sections 3.13.4 and 5.16), pure: charging profiles as the backend sends them,
which of them may be installed and which they replace, and the limit they set on a connector at a time
(the composite schedule). Times are epoch seconds, limits amperes per phase.

The rules, as 1.6 gives them:
- ChargePointMaxProfile only on connector 0; it caps the whole charge box.
- TxDefaultProfile on connector 0 holds for every connector; one on a connector overrides it there.
- TxProfile only on a connector with a transaction (or one a RemoteStartTransaction is starting) and
  ends with it; while it is active it overrides the TxDefaultProfile.
- Within one purpose the active profile of the highest stackLevel wins; a profile is active when now is
  within validFrom..validTo and within its schedule (startSchedule + duration; Recurring repeats daily or
  weekly from startSchedule; Relative starts with the transaction, or now without one).
- A profile replaces an installed one with the same chargingProfileId, or the same stackLevel and purpose
  on the same connector.
- A limit in W becomes amperes at 230 V per phase over the period's numberPhases (3 when not given).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from chargepark.ocpp import vocab

VOLT = 230.0
MAX_STACK_LEVEL = 10  # ChargeProfileMaxStackLevel
MAX_PERIODS = 48  # ChargingScheduleMaxPeriods
MAX_PROFILES = 50  # MaxChargingProfilesInstalled
DAY = 86400
RECURRENCE = {"Daily": DAY, "Weekly": 7 * DAY}
CP_MAX, TX_DEFAULT, TX = "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"
REASON = {CP_MAX: "charge_point_max_profile", TX_DEFAULT: "tx_default_profile", TX: "tx_profile"}


class Refused(ValueError):
    """A profile that cannot be installed (SetChargingProfile answers Rejected)."""


@dataclass(frozen=True)
class Period:
    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class Profile:
    id: int
    connector: int
    stack_level: int
    purpose: str
    kind: str
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    start: float | None = None  # startSchedule
    duration_s: int | None = None
    recurrency: str | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    transaction_id: int | None = None
    min_rate: float | None = None

    def schedule_start(self, t: float, tx_start: float | None) -> float | None:
        """When the schedule's run that covers `t` began; None when it has not begun."""
        if self.kind == "Relative":
            return tx_start if tx_start is not None else t
        if self.start is None or t < self.start:
            return None
        if self.kind == "Recurring":
            every = RECURRENCE[self.recurrency or "Daily"]
            return self.start + math.floor((t - self.start) / every) * every
        return self.start

    def limit_at(self, t: float, tx_start: float | None) -> float | None:
        """This profile's limit in A at `t`; None when it is not active then."""
        if (self.valid_from is not None and t < self.valid_from) or (
            self.valid_to is not None and t >= self.valid_to
        ):
            return None
        begun = self.schedule_start(t, tx_start)
        if begun is None:
            return None
        elapsed = t - begun
        length = self.duration_s
        if self.kind == "Recurring":
            every = RECURRENCE[self.recurrency or "Daily"]
            length = every if length is None else min(length, every)
        if elapsed < 0 or (length is not None and elapsed >= length):
            return None
        period = [p for p in self.periods if p.start_s <= elapsed][-1]
        return amperes(self.unit, period)

    def edges(self, t0: float, t1: float, tx_start: float | None) -> list[float]:
        """The times in (t0, t1] at which this profile's limit may change."""
        out = [x for x in (self.valid_from, self.valid_to) if x is not None]
        begun = self.schedule_start(t0, tx_start)
        starts = [] if begun is None else [begun]
        if self.kind == "Recurring" and self.start is not None:
            every = RECURRENCE[self.recurrency or "Daily"]
            first = begun if begun is not None else self.start
            starts = [first + k * every for k in range(int((t1 - first) // every) + 2)]
        elif begun is None and self.start is not None:
            starts = [self.start]
        for s in starts:
            out += [s + p.start_s for p in self.periods]
            if self.duration_s is not None:
                out.append(s + self.duration_s)
        return [x for x in out if t0 < x <= t1]


def amperes(unit: str, period: Period) -> float:
    return period.limit if unit == "A" else period.limit / (VOLT * (period.phases or 3))


def epoch(text: str | None) -> float | None:
    if text is None:
        return None
    return vocab.moment(text).timestamp()


def parse(connector: int, p: dict[str, object]) -> Profile:
    """A csChargingProfiles object (OCPP JSON names, the schema already checked) as a Profile; Refused
    with the reason when 1.6 does not allow it."""
    sched = p["chargingSchedule"]
    assert isinstance(sched, dict)
    periods = tuple(
        Period(int(x["startPeriod"]), float(x["limit"]), x.get("numberPhases"))
        for x in sched["chargingSchedulePeriod"]
    )
    try:
        prof = Profile(
            id=int(p["chargingProfileId"]),  # type: ignore[call-overload]
            connector=connector,
            stack_level=int(p["stackLevel"]),  # type: ignore[call-overload]
            purpose=str(p["chargingProfilePurpose"]),
            kind=str(p["chargingProfileKind"]),
            unit=str(sched["chargingRateUnit"]),
            periods=periods,
            start=epoch(sched.get("startSchedule")),
            duration_s=sched.get("duration"),
            recurrency=p.get("recurrencyKind"),  # type: ignore[arg-type]
            valid_from=epoch(p.get("validFrom")),  # type: ignore[arg-type]
            valid_to=epoch(p.get("validTo")),  # type: ignore[arg-type]
            transaction_id=p.get("transactionId"),  # type: ignore[arg-type]
            min_rate=sched.get("minChargingRate"),
        )
    except ValueError as e:
        raise Refused("bad date: %s" % e) from e
    check(prof)
    return prof


def check(p: Profile) -> None:
    if not p.periods or p.periods[0].start_s != 0:
        raise Refused("the first period must start at 0")
    if any(b.start_s <= a.start_s for a, b in itertools.pairwise(p.periods)):
        raise Refused("periods must start in increasing order")
    if len(p.periods) > MAX_PERIODS:
        raise Refused("more than %d periods" % MAX_PERIODS)
    if any(x.limit < 0 for x in p.periods):
        raise Refused("a negative limit")
    if not 0 <= p.stack_level <= MAX_STACK_LEVEL:
        raise Refused("stackLevel beyond %d" % MAX_STACK_LEVEL)
    if p.purpose == CP_MAX and p.connector != 0:
        raise Refused("a ChargePointMaxProfile belongs on connector 0")
    if p.purpose == TX and p.connector == 0:
        raise Refused("a TxProfile belongs on a connector")
    if p.kind in ("Absolute", "Recurring") and p.start is None:
        raise Refused("%s needs startSchedule" % p.kind)
    if p.kind == "Recurring" and p.recurrency not in RECURRENCE:
        raise Refused("Recurring needs recurrencyKind")
    if p.valid_from is not None and p.valid_to is not None and p.valid_to <= p.valid_from:
        raise Refused("validTo is not after validFrom")


def install(profiles: Iterable[Profile], new: Profile) -> list[Profile]:
    """The installed profiles once `new` is: it replaces the one of its id, and the one of its
    connector, stackLevel and purpose."""
    kept = [
        p
        for p in profiles
        if p.id != new.id
        and (p.connector, p.stack_level, p.purpose) != (new.connector, new.stack_level, new.purpose)
    ]
    if len(kept) >= MAX_PROFILES:
        raise Refused("already %d profiles" % MAX_PROFILES)
    return [*kept, new]


def matches(
    p: Profile, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
) -> bool:
    """ClearChargingProfile: by id, or by every criterion given (none given: every profile)."""
    if id is not None:
        return p.id == id
    return (
        (connector is None or p.connector == connector)
        and (purpose is None or p.purpose == purpose)
        and (stack_level is None or p.stack_level == stack_level)
    )


def _top(profiles: Iterable[Profile], t: float, tx_start: float | None) -> float | None:
    """The limit of the active profile with the highest stack level."""
    best: tuple[int, float] | None = None
    for p in profiles:
        limit = p.limit_at(t, tx_start)
        if limit is not None and (best is None or p.stack_level > best[0]):
            best = (p.stack_level, limit)
    return None if best is None else best[1]


def limit(
    profiles: list[Profile], connector: int, t: float, tx_id: int | None, tx_start: float | None
) -> tuple[float | None, str | None]:
    """The composite limit on a connector at `t` (A, None = no limit) and the purpose that sets it.
    Connector 0: the ChargePointMaxProfile."""
    cp_max = _top((p for p in profiles if p.purpose == CP_MAX), t, tx_start)
    tx: float | None = None
    if connector and tx_start is not None:
        tx = _top(
            (p for p in profiles if p.purpose == TX and p.connector == connector
             and p.transaction_id in (None, tx_id)), t, tx_start,
        )  # fmt: skip
    default: float | None = None
    if connector and tx is None:
        for c in (connector, 0):
            default = _top((p for p in profiles if p.purpose == TX_DEFAULT and p.connector == c), t, tx_start)
            if default is not None:
                break
    own, own_purpose = (tx, TX) if tx is not None else (default, TX_DEFAULT)
    if own is None or (cp_max is not None and cp_max < own):
        return cp_max, (None if cp_max is None else CP_MAX)
    return own, own_purpose


def edges(profiles: list[Profile], t0: float, t1: float, tx_start: float | None) -> list[float]:
    """Every time in (t0, t1] at which some profile's limit may change, sorted."""
    return sorted({x for p in profiles for x in p.edges(t0, t1, tx_start)})


def composite(
    profiles: list[Profile],
    connector: int,
    t0: float,
    duration_s: int,
    tx_id: int | None,
    tx_start: float | None,
    ceiling: float,
) -> list[tuple[int, float]]:
    """GetCompositeSchedule: (startPeriod from t0, limit in A) over the duration, consecutive equal limits
    merged; where no profile limits the connector its `ceiling` (MaxCurrent) holds."""
    out: list[tuple[int, float]] = []
    for t in [t0, *edges(profiles, t0, t0 + duration_s, tx_start)]:
        if t >= t0 + duration_s:
            break
        value, _ = limit(profiles, connector, t, tx_id, tx_start)
        value = ceiling if value is None else min(value, ceiling)
        if not out or out[-1][1] != value:
            out.append((int(t - t0), value))
    return out
