"""Storage: one async SQLAlchemy engine (SQLite WAL by default, PostgreSQL in production).

Domain modules declare tables on :class:`fictra.db.base.Base`; schema changes are Alembic
migrations in ``fictra/db/migrations/versions`` applied by :func:`fictra.db.engine.migrate`.
"""
