"""Calibration Law Agent service: calibration-law settings judged, signed session records kept."""
