"""IO-module firmware: charging point controller, HAL, IO, Event Actions, lock (docs/point-api.md)."""
