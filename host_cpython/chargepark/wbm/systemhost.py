"""Where System Control acts on the machine: the clock, NTP (systemd-timesyncd) and the Linux user
`user-app`'s password (Developer Mode), below a root directory through the network backend's runner.

A head whose environment names the root (`CHARGEPARK_SYSTEM_ROOT=/` on a real head) owns that machine: its
commands run. Any other head (development, simulated) writes below its data directory and only lists the
commands (the runner's dry run), so a laptop's clock and users are never touched. Tests hand a root of
their own with a throwaway `etc/shadow` and map the tools to fakes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hmac
import io
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargepark.network.files import File, write_atomic
from chargepark.network.runner import CommandFailed, Runner, Tolerant

ENV = "CHARGEPARK_SYSTEM_ROOT"
DEVELOPMENT_ROOT = "system-root"  # below the data directory
TIMESYNCD = "etc/systemd/timesyncd.conf.d/chargepark.conf"
SHADOW = "etc/shadow"
USER_APP = "user-app"
DELIVERY_PASSWORD = "user"  # the manual's delivery state of `user-app`
SALT_PREFIX = b"$y$"  # yescrypt, Debian's default for new passwords


class SystemRefused(Exception):
    """The machine did not take the change; the reason is for the user (and names the field)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


# libcrypt (libxcrypt on Debian): the same hashing as passwd(1), every method /etc/shadow may hold.
_crypt = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
_crypt.crypt.restype = ctypes.c_char_p
_crypt.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
_crypt.crypt_gensalt.restype = ctypes.c_char_p
_crypt.crypt_gensalt.argtypes = (ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int)
_crypt_lock = threading.Lock()  # crypt() returns a static buffer


def crypt(password: str, setting: str) -> str:
    with _crypt_lock:
        out = _crypt.crypt(password.encode(), setting.encode())
    return out.decode() if out else "*"


def hash_password(password: str) -> str:
    with _crypt_lock:
        salt = _crypt.crypt_gensalt(SALT_PREFIX, 0, None, 0)  # NULL random bytes: the OS's
    return crypt(password, salt.decode())


def password_matches(password: str, hashed: str) -> bool:
    """As login checks it; a locked or empty hash ("!", "*", "") never matches."""
    if not hashed or hashed[0] in "!*":
        return False
    return hmac.compare_digest(crypt(password, hashed), hashed)


def timesyncd_conf(servers: list[str]) -> str:
    return "# Written by chargepark (System Control/Time).\n[Time]\nNTP=%s\n" % " ".join(servers)


@dataclass
class SystemHost:
    root: Path
    system: bool  # True: commands run; False: they are only listed
    tools: Mapping[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def runner(self) -> Runner:
        return Runner(tools=self.tools, dry_run=not self.system, echo=io.StringIO())

    # ---- the clock (`wbm.context.Clock`) ------------------------------------------------------------

    def now(self) -> float:
        return time.time()

    def set(self, unix: float) -> None:
        """Sets the system clock (UTC) and, where there is one, the hardware clock."""
        self._run([["date", "-u", "--set=@%d" % int(unix)], Tolerant(["hwclock", "--systohc", "--utc"])],
                  "utc")  # fmt: skip

    # ---- NTP ----------------------------------------------------------------------------------------

    def apply_ntp(self, enabled: bool, servers: list[str]) -> list[str]:
        """timesyncd's servers, then NTP on or off; returns the commands run (or listed)."""
        with self.lock:
            try:
                write_atomic(self.root, File(TIMESYNCD, timesyncd_conf(servers)))
            except OSError as e:
                raise SystemRefused("ntp_servers", "cannot write /%s: %s" % (TIMESYNCD, e)) from None
            commands = [["timedatectl", "set-ntp", "true" if enabled else "false"]]
            if enabled:
                commands.append(Tolerant(["systemctl", "try-restart", "systemd-timesyncd.service"]))
            return self._run(commands, "ntp_enabled")

    def _run(self, commands: list[list[str]], field_name: str) -> list[str]:
        runner = self.runner()
        for argv in commands:
            try:
                runner.run(argv, check=not isinstance(argv, Tolerant))
            except CommandFailed as e:
                raise SystemRefused(field_name, str(e)) from None
        return [" ".join(a) for a in runner.record]

    # ---- Developer Mode: the password of `user-app` -------------------------------------------------

    def _shadow(self) -> tuple[Path, list[str], int]:
        path = self.root / SHADOW
        try:
            lines = path.read_text().splitlines()
        except OSError as e:
            raise SystemRefused("user", "no user database at /%s: %s" % (SHADOW, e.strerror)) from None
        for n, line in enumerate(lines):
            if line.split(":", 1)[0] == USER_APP:
                return path, lines, n
        raise SystemRefused("user", "the system has no user %s" % USER_APP)

    def _set_hash(self, path: Path, lines: list[str], n: int, hashed: str) -> None:
        fields = lines[n].split(":")
        fields[1] = hashed
        if len(fields) > 2:
            fields[2] = str(int(time.time() // 86400))  # the date of the last change, in days
        lines[n] = ":".join(fields)
        st = path.stat()
        write_atomic(self.root, File(SHADOW, "\n".join(lines) + "\n", st.st_mode & 0o777))
        os.chown(path, st.st_uid, st.st_gid)  # root:shadow stays root:shadow

    def user_app_state(self) -> dict[str, Any]:
        _, lines, n = self._shadow()
        hashed = lines[n].split(":")[1]
        return {"user": USER_APP, "delivery_state": password_matches(DELIVERY_PASSWORD, hashed)}

    def change_user_app(self, old: str, new: str) -> None:
        with self.lock:
            path, lines, n = self._shadow()
            if not password_matches(old, lines[n].split(":")[1]):
                raise SystemRefused("old_password", "the current password is wrong")
            self._set_hash(path, lines, n, hash_password(new))

    def reset_user_app(self) -> None:
        with self.lock:
            path, lines, n = self._shadow()
            self._set_hash(path, lines, n, hash_password(DELIVERY_PASSWORD))


def for_data(data_dir: Path) -> SystemHost:
    """The web server's: the environment's root (the system's commands run), else a development root."""
    root = os.environ.get(ENV, "")
    if root:
        return SystemHost(Path(root), system=True)
    host = SystemHost(data_dir / DEVELOPMENT_ROOT, system=False)
    shadow = host.root / SHADOW
    if not shadow.exists():  # a development head's throwaway user database, in the delivery state
        write_atomic(host.root, File(SHADOW, "%s:%s:0:0:99999:7:::\n" % (USER_APP, hash_password(DELIVERY_PASSWORD)),
                                     0o640))  # fmt: skip
    return host
