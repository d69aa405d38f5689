"""MQTT Bridge service (manual "MQTT Bridge"); the code lives in `chargepark.bridge`."""
