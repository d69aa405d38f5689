"""Charging release on the head: the one gate every release path goes through, the park's whitelist, and
the RFID decision (docs/charging-release.md)."""
