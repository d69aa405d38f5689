"""System Monitor service: CPU, memory, disk and load of the head, plus the service health summary."""
