"""Use cases: each takes its session and actor as arguments and returns plain data."""
