"""Configuration store: one schema per area, validated writes, SQLite WAL, migrations, export/import.

Usage and every field: docs/configuration.md.
"""

from chargepark.config.areas import AREAS, Area
from chargepark.config.store import ConfigStore, StoreError, set_aside

__all__ = ["AREAS", "Area", "ConfigStore", "StoreError", "set_aside"]
