"""SQL persistence (SQLAlchemy 2, async) for SQLite and PostgreSQL."""
