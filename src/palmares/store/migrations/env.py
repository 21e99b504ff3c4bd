"""Alembic environment: runs on the connection ``palmares.store.db.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from palmares.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic revision --autogenerate` from a developer's shell
    from palmares.store.db import open_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///palmares.db"
    connection = open_engine(url).connect()

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
