"""The MQTT bridge to a remote broker (manual "MQTT Bridge"): rows -> routes (`rules`), routes -> a bridge
mosquitto's configuration (`conf`), its log -> a connection state (`status`), the service (`service`).
docs/mqtt-bridge.md says why a bridge mosquitto of its own rather than a section of the head's broker."""
