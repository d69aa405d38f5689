"""JupiCore (the data hub) service: collects every point's state, publishes CHARX topics, serves REST."""
