"""Modbus Client service: the load circuits' higher-level Modbus/TCP meters."""
