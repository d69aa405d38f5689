"""What the WBM routes work on, handed to `create_app` by the web server service (tests hand fakes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request

from chargepark.auth.accounts import Accounts
from chargepark.auth.ratelimit import LoginLimiter
from chargepark.config.store import ConfigStore
from chargepark.loadmgmt.watch import Circuits
from chargepark.network.host import NetworkHost
from chargepark.release.whitelist import Seen
from chargepark.wbm.live import ParkView
from chargepark.wbm.systemhost import SystemHost


class Commands(Protocol):
    """`chargepark.pointops.PointOps`: returns once the module confirmed, else raises CommandError."""

    async def command(self, uid: str, name: str, value: Any = None) -> None: ...


class Clock(Protocol):
    """The head's clock: `wbm.systemhost.SystemHost` on a head (tests hand a fake)."""

    def now(self) -> float: ...

    def set(self, unix: float) -> None: ...


async def of(request: Request) -> WbmContext:
    """The context of the app serving this request (a FastAPI dependency; async, so FastAPI calls it in the
    event loop instead of handing every WBM request to a worker thread)."""
    ctx: WbmContext = request.app.state.wbm
    return ctx


# The supervisor's control channel: a request dict -> its reply (chargepark.control).
Control = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class WbmContext:
    store: ConfigStore
    accounts: Accounts
    view: ParkView
    commands: Commands
    control: Control
    sessions_db: Path  # the data hub's sessions.db (read only here)
    logs_dir: Path  # where the supervisor writes every service's log
    clock: Clock
    data_dir: Path  # the head's data directory (the uploaded bundle, the A/B slots)
    self_name: str = "web-server"  # restarting ourselves is answered before it happens
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    loadmgmt: Circuits = field(default_factory=Circuits)  # each load circuit's latest status
    rfid: Seen = field(default_factory=Seen)  # the RFID decision's recent cards and teach state
    publish: Callable[[str, str], None] = lambda _t, _p: None  # the service's MQTT link (teach requests)
    network: NetworkHost | None = None  # where the network pages apply (None: they answer 409)
    client_meters: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # the Modbus Client: circuit -> reading
    system: SystemHost | None = None  # where System Control sets NTP and user-app (None: 409)
    bridge: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # the MQTT bridge's retained topics: "state" (BRIDGE_STATE), "station" (BRIDGE_CONFIG)
