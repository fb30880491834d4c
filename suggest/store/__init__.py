"""Storage: the event store (SQLAlchemy Core) and the suggestion cache."""
