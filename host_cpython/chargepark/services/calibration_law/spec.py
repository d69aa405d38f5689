"""What the calibration law service declares (services/spec.py)."""

from __future__ import annotations

from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="calibration-law",
    title="Calibration Law Agent",
    summary="calibration law (Eichrecht) signed meter values",
    arrives_with="no issue filed yet",
)
