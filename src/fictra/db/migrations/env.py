"""Alembic environment: run by fictra.db.engine.migrate with the sync URL in config attributes."""

from __future__ import annotations

from alembic import context

from fictra.db.engine import sync_engine_for
from fictra.db.models import metadata  # every domain's tables, for autogenerate

config = context.config
url = config.attributes["sync_url"]
engine = sync_engine_for(url)
with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
