"""Alembic environment: runs on the connection the app hands over (no ini file)."""

from __future__ import annotations

from alembic import context

from agent_desk.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic without a connection
    raise RuntimeError("Agent Desk migrations run through 'agent-desk db upgrade'.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
