"""Modbus Server service (not built yet)."""
