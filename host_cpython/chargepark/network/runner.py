"""The one way the backend runs a system command: optionally inside a network namespace, with tools
mapped to other binaries (tests use a fake `mmcli`), or only printed and recorded (dry run). Only the
programs of `systemd.rights.PROGRAMS` run: the ones the head's unit grants what they need."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from chargepark.systemd import rights


class CommandFailed(RuntimeError):
    def __init__(self, argv: Sequence[str], rc: int, stderr: str) -> None:
        super().__init__("%s: exit %d: %s" % (" ".join(argv), rc, stderr.strip()[-500:]))
        self.rc = rc
        self.stderr = stderr


class Tolerant(list[str]):
    """A command whose failure is expected and harmless: stopping a unit that is not installed, deleting a
    route that is gone already, disconnecting an absent modem."""


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str


@dataclass
class Runner:
    netns: str = ""  # run inside `ip netns exec NETNS`
    tools: Mapping[str, str] = field(default_factory=dict)  # program name -> the binary to run instead
    dry_run: bool = False
    echo: TextIO | None = None  # dry run: where "would run" lines go (default stdout)
    record: list[list[str]] = field(default_factory=list)  # every command, in order

    def argv(self, argv: Sequence[str]) -> list[str]:
        full = [self.tools.get(argv[0], argv[0]), *argv[1:]]
        return ["ip", "netns", "exec", self.netns, *full] if self.netns else full

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> Result:
        rights.check(argv[0])  # before anything runs: a program the head's unit does not grant
        self.record.append(list(argv))
        if self.dry_run:
            print("would run: " + " ".join(argv), file=self.echo or sys.stdout)
            return Result(0, "", "")
        try:
            done = subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as exc:
            if check:
                raise CommandFailed(argv, 127, str(exc)) from None
            return Result(127, "", str(exc))
        if check and done.returncode != 0:
            raise CommandFailed(argv, done.returncode, done.stderr)
        return Result(done.returncode, done.stdout, done.stderr)

    def spawn(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        """A long-running command (the OpenVPN test connection), its output merged for the log."""
        rights.check(argv[0])
        self.record.append(list(argv))
        return subprocess.Popen(self.argv(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def read(self, path: str) -> str | None:
        """A file as this runner's namespace sees it (sysfs differs per namespace); None if absent."""
        if not self.netns:
            try:
                with open(path) as f:
                    return f.read()
            except OSError:
                return None
        done = self.run(["cat", path], check=False)
        return done.stdout if done.rc == 0 else None
