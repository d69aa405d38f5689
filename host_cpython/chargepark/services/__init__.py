"""The head's services: each one module with a `main()`, run as its own process by the supervisor."""
