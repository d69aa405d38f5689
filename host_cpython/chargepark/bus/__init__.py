"""The head's end of the backplane bus: transports, the simulated medium, the controller agent, updates.

The frame codec and message catalog are the firmware's own (`backplane`); see docs/bus-protocol.md.
"""
