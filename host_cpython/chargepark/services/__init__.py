"""The head's services: each a package `<name>/` with its `spec.py` and a `main()` in `main.py`, run as
its own process by the supervisor."""
