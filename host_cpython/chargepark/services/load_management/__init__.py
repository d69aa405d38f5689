"""Load Management service (not built yet)."""
