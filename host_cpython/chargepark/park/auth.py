"""The lock on a park server's listener on ETH1: anything on that network could otherwise publish point
commands (unlock a socket) to every point of the park. Every client bridge logs in with one user and the
park's shared secret (system `park_password`), and the listener's ACL lets it publish only what
park/link.py's ROUTES send out and read only what they bring in. The head's own services use the
loopback listener, which stays anonymous (broker.py: per listener settings).

An empty secret refuses every client (the password file holds no entry): a cabinet's internal link is
closed until its maker configures the same secret on every head, rather than open by default.

The password file is mosquitto's own format (PBKDF2-SHA512, `$7$`, as `mosquitto_passwd` of mosquitto
2.0 writes it), made here so that no further binary is needed; both files are 0600 in the broker's run
directory, written at every start of the broker (the head's, and a restart of every service: a changed
secret applies there, as `park_broker` does).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from chargepark import topics
from chargepark.network.files import File, write_atomic
from chargepark.park.link import ROUTES, USER

PASSWORD_FILE = "park-passwd"
ACL_FILE = "park-acl"
ROUNDS = 101  # mosquitto_passwd's PBKDF2 iterations
SALT_BYTES = 12  # mosquitto_passwd's


def password_line(password: str, salt: bytes | None = None) -> str:
    """The password file's entry for USER; none for an empty secret (nobody logs in)."""
    if not password:
        return ""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ROUNDS)
    b64 = base64.b64encode
    return "%s:$7$%d$%s$%s\n" % (USER, ROUNDS, b64(salt).decode(), b64(digest).decode())


def acl() -> str:
    """What a client may do on the park listener: publish its routes out, subscribe to its routes in.
    The station-specific routes are open to any station's UID here: every client holds the same secret,
    so the ACL bounds what a client can reach, not which of the park's stations it claims to be."""
    lines = ["user %s" % USER]
    for pattern, way, _qos in ROUTES:
        lines.append("topic %s %s" % ("write" if way == "out" else "read", topics.subscription(pattern)))
    return "\n".join(lines) + "\n"


def install(run_dir: Path, password: str) -> str:
    """Writes the password and ACL files (0600) and returns the park listener's settings lines."""
    write_atomic(run_dir, File(PASSWORD_FILE, password_line(password), 0o600))
    write_atomic(run_dir, File(ACL_FILE, acl(), 0o600))
    return "password_file %s\nacl_file %s\n" % (run_dir / PASSWORD_FILE, run_dir / ACL_FILE)
