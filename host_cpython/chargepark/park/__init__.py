"""Park model: charging park -> stations -> charging points, discovered vs configured."""

from chargepark.park.model import Park, Point, Station, forget_module, park_view, record_discovery

__all__ = ["Park", "Point", "Station", "forget_module", "park_view", "record_discovery"]
