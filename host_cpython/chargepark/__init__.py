"""chargepark: the head module of an AC charging station (CPython), over the IO-module firmware."""

__version__ = "0.1.0"
