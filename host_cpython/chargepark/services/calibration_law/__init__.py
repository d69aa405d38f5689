"""Calibration Law Agent service (not built yet)."""
