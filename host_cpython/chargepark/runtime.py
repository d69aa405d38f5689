"""What the supervisor resolved at start (ports, paths) and hands to every service it spawns.

The supervisor writes `<data>/run/runtime.json`; a service finds it through `CHARGEPARK_RUNTIME`.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV = "CHARGEPARK_RUNTIME"


@dataclass
class Runtime:
    data_dir: str
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    rest_port: int = 5555
    web_port: int = 8080
    control_port: int = 0  # the supervisor's control channel
    listen_host: str = "127.0.0.1"  # REST and WBM; loopback unless configured (CHARX closes them too)
    bus: dict[str, object] = field(default_factory=dict)  # how the controller agent reaches the modules

    @property
    def run_dir(self) -> Path:
        return Path(self.data_dir) / "run"

    @property
    def config_path(self) -> Path:
        """The configuration store (also holds the sessions), shared by all services."""
        from chargepark.config.cli import STORE_FILE

        return Path(self.data_dir) / STORE_FILE

    @property
    def path(self) -> Path:
        return self.run_dir / "runtime.json"

    def save(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, self.path)
        return self.path


def load(path: str | None = None) -> Runtime:
    where = path or os.environ.get(ENV)
    if not where:
        raise RuntimeError("no runtime: %s is not set (services are started by `chargepark run`)" % ENV)
    return Runtime(**json.loads(Path(where).read_text()))


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port free right now (tests and parallel heads must not collide)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
