"""Pure rules of social collection: no Qt, no SQLAlchemy, no I/O."""
