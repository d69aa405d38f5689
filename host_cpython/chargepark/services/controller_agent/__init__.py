"""Controller Agent service: the backplane bus master, bridged to the local broker."""
