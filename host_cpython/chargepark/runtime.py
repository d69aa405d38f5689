"""What the supervisor resolved at start (ports, paths) and hands to every service it spawns.

The supervisor writes `<data>/run/runtime.json` (`runtime_path`); a service finds it through
`CHARGEPARK_RUNTIME`, a command line tool and the configuration store's writer through the data directory.
The ports have no defaults here: the supervisor resolves them from the store's system area (or the flags).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV = "CHARGEPARK_RUNTIME"


def runtime_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "run" / "runtime.json"


@dataclass
class Runtime:
    data_dir: str
    mqtt_port: int
    rest_port: int
    web_port: int
    mqtt_host: str = "127.0.0.1"
    control_port: int = 0  # the supervisor's control channel
    loadmgmt_port: int = 0  # the load management REST (CHARX 1603)
    listen_host: str = "127.0.0.1"  # REST and WBM; loopback unless configured (CHARX closes them too)
    bus: dict[str, object] = field(default_factory=dict)  # how the controller agent reaches the modules

    @property
    def run_dir(self) -> Path:
        return self.path.parent

    @property
    def config_path(self) -> Path:
        """The configuration store (also holds the sessions), shared by all services."""
        from chargepark.config.cli import STORE_FILE

        return Path(self.data_dir) / STORE_FILE

    @property
    def path(self) -> Path:
        return runtime_path(self.data_dir)

    def save(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, self.path)
        return self.path


def load(path: str | Path | None = None) -> Runtime:
    where = path or os.environ.get(ENV)
    if not where:
        raise RuntimeError("no runtime: %s is not set (services are started by `chargepark run`)" % ENV)
    return Runtime(**json.loads(Path(where).read_text()))


def of_data(data_dir: str | Path) -> Runtime | None:
    """The runtime of the head started with this state directory, None when there is none."""
    path = runtime_path(data_dir)
    return load(path) if path.exists() else None


def of_store(config_path: str | Path) -> Runtime | None:
    """The runtime of the head whose configuration store this is, None when no head runs on it."""
    config_path = Path(config_path).resolve()
    runtime = of_data(config_path.parent)
    return runtime if runtime is not None and runtime.config_path.resolve() == config_path else None


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port free right now (tests and parallel heads must not collide)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
