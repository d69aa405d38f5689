"""Where the WBM applies the network area: the root directory the files go to and whether the system
commands run. A head whose environment names a root (`CHARGEPARK_NETWORK_ROOT=/` on a real head) owns that
machine's network; any other head (a development or simulated one) writes the files below its data
directory and runs no system command, so a laptop's own network is never touched. Status reads always run
(they change nothing)."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargepark.network import apply, status
from chargepark.network.runner import Result, Runner
from chargepark.systemd import rights

Record = dict[str, Any]
ENV = "CHARGEPARK_NETWORK_ROOT"
DEVELOPMENT_ROOT = "network-root"  # below the data directory


class Listed(Runner):
    """Records every system command and runs none: the files are written, the machine is left alone."""

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> Result:
        rights.check(argv[0])
        self.record.append(list(argv))
        return Result(0, "", "")


@dataclass
class NetworkHost:
    root: Path
    system: bool  # True: the system commands run; False: they are only listed
    netns: str = ""
    tools: Mapping[str, str] = field(default_factory=dict)
    last: Record = field(default_factory=dict)  # the last apply's outcome, for the WBM
    lock: threading.Lock = field(default_factory=threading.Lock)

    def runner(self) -> Runner:
        """A fresh runner per call (its record is that call's plan): the system's, or a listing one."""
        return (Runner if self.system else Listed)(netns=self.netns, tools=self.tools)

    def reader(self) -> Runner:
        """Status reads run on any head."""
        return Runner(netns=self.netns, tools=self.tools)

    def status(self, c: Record) -> Record:
        return status.read(c, self.reader(), self.root)

    def apply(self, new: Record, old: Record) -> Record:
        """Applies `new` (a clean network record); if a part fails, applies `old` again so the head is
        left as it was, and reports both. One apply at a time."""
        with self.lock:
            runner = self.runner()
            outcome = apply.apply(new, self.root, runner, out=io.StringIO())
            result: Record = {
                "ok": outcome.ok,
                "at": time.time(),
                "system": self.system,
                "root": str(self.root),
                "changed": outcome.changed,
                "commands": [" ".join(argv) for argv in runner.record],
                "errors": outcome.errors,
            }
            if not outcome.ok:
                back = apply.apply(old, self.root, self.runner(), out=io.StringIO())
                result["restored"] = back.ok
                result["restore_errors"] = back.errors
            self.last = result
            return result


def for_data(data_dir: Path) -> NetworkHost:
    """The web server's: the environment's root (the system's commands run), else a development root."""
    root = os.environ.get(ENV, "")
    if root:
        return NetworkHost(Path(root), system=True)
    return NetworkHost(data_dir / DEVELOPMENT_ROOT, system=False)
