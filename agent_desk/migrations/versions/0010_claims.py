"""claims at the server's speed: the change log without a NOTIFY in the claim itself

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A ``NOTIFY`` makes PostgreSQL take one lock for the whole cluster at commit and keep
it until the commit is on disk, so every transaction that notifies commits one after
the other: twenty desks claiming at once queued up behind it (0.15x a bare
``UPDATE … SKIP LOCKED`` loop, p99 of seconds). ``agent_desk_log_changes_quietly`` is
``agent_desk_log_changes`` to the letter (the same checks of who may log which rows;
its definition is taken from the server's own) without the ``pg_notify``: a claim
logs its change in its statement and the desk sends the wake-up hint in a
transaction of its own right after the commit, so the claims commit together again.

SQLite: nothing to do (no server functions).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
_NOISY = "agent_desk_log_changes(text[],bigint[],text[],bigint[])"
_QUIET = "agent_desk_log_changes_quietly(text[], bigint[], text[], bigint[])"
_NOTIFY = "PERFORM pg_notify('agent_desk_changes', top::text);"


def quiet_definition(noisy: str) -> str:
    """The quiet function's ``CREATE`` from the server's definition of the noisy one."""
    head, found, tail = noisy.partition(".agent_desk_log_changes(")
    if not found or _NOTIFY not in tail or tail.count(_NOTIFY) != 1:
        raise RuntimeError("agent_desk_log_changes is not the function migration 0004 made")
    return head + ".agent_desk_log_changes_quietly(" + tail.replace(_NOTIFY, "-- no NOTIFY")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    noisy = bind.exec_driver_sql(
        f"SELECT pg_get_functiondef('{_NOISY}'::regprocedure)"
    ).scalar_one()
    bind.exec_driver_sql(quiet_definition(noisy))
    bind.exec_driver_sql(f"REVOKE ALL ON FUNCTION {_QUIET} FROM PUBLIC")
    bind.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {_QUIET} TO {AGENT}, {SUPERVISOR}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_QUIET}")
