"""The simulated board: plant model, simulated HAL and the sim-control channel (docs/point-api.md)."""
