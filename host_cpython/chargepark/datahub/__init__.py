"""The data hub (the manual's JupiCore): live state of every point, durations, sessions, CHARX topics, REST."""
