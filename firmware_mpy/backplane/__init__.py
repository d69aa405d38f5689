"""Backplane bus: one frame codec and message catalog shared by the IO modules and the head.

Written in the common subset of MicroPython and CPython; the head imports these very files.
The protocol is described in docs/bus-protocol.md.
"""
