"""The CHARX-compatible Modbus/TCP register map and the pymodbus datastore that serves it.

`registers` is the one table (docs/modbus-registers.md is generated from it), `encode` turns values into
words, `view` keeps the live image of the park, `control` judges and carries out writes, `datastore`
hands both to pymodbus, `server` runs it over TCP.
"""
