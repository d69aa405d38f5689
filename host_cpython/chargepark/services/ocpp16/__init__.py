"""OCPP 1.6J service (chargepark.ocpp)."""
