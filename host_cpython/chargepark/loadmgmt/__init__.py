"""Load management: the load circuit's current shared among its charging points (issue 17)."""
