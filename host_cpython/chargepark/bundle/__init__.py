"""Signed software bundles (manual "System Control/Software"): `manifest` (build, sign, verify), `slots`
(the head's A/B slots, health check), `install` (points held, head, IO modules over the bus). docs/updates.md."""
