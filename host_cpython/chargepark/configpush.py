"""Configuration changes are pushed: whoever writes the store publishes the changed areas' versions.

After each commit the writer (`chargepark config`, a service, the simulated park) publishes retained
`applications/configuration/<area>/version` on the broker of the head that runs on this store; a service
that reads the area re-reads the store when the version moves (`services.base.follow_config`). Without a
running head there is nobody to tell: services read the store when they start.

The writer is synchronous code (a store commit), so this is one blocking connect-publish-disconnect on
loopback, a few milliseconds; a head that is gone costs a refused connection.
"""

from __future__ import annotations

import logging
from pathlib import Path

from paho.mqtt import publish

from chargepark import topics
from chargepark.runtime import Runtime, of_store

log = logging.getLogger("chargepark.configpush")


def messages(versions: dict[str, int]) -> list[tuple[str, str, bool]]:
    """(topic, payload, retained) of each area's version topic."""
    out = []
    for area, version in sorted(versions.items()):
        topic = topics.fill(topics.CONFIG_VERSION, area=area)
        out.append((topic, str(version), topics.entry(topic).retained))
    return out


def send(runtime: Runtime, versions: dict[str, int]) -> None:
    publish.multiple(
        [{"topic": t, "payload": p, "retain": r} for t, p, r in messages(versions)],
        hostname=runtime.mqtt_host,
        port=runtime.mqtt_port,
    )


def announce(config_path: Path, versions: dict[str, int]) -> None:
    """Publish the new versions to the head running on this store, if one does."""
    if not versions:
        return
    try:
        runtime = of_store(config_path)
        if runtime is not None:
            send(runtime, versions)
    except (OSError, ValueError, TypeError) as exc:  # no broker (head stopping), a damaged runtime file
        log.warning("configuration change not announced (%s); services see it at their next start", exc)
