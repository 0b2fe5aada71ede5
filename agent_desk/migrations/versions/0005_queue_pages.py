"""queue pages by keyset: an index for every order the desk offers, team-wide and per agent

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The desk and ``agent-desk queue --team`` read the queue a page at a time after the
sort key of the last row (``services/queue_pages.py``). Each offered order gets an
index that starts with the scope's equality columns and ends in ``id``:
``(status, <order>, id)`` for the team-wide queue (the old ``ix_customer_queue``
starts with ``assigned_agent_id``, useless without one agent) and
``(assigned_agent_id, status, <order>, id)`` for one agent's. The team view's
figures get what their grouped counts read: contact points by customer with their
validity and verification date (the stale-contact count), open next steps by
customer, and the customer's agent with the queue columns (queue sizes per agent).

Indexes only, on both engines: no new table, so no grants or policies change.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# name -> columns; the same list as the models' ``Index`` entries.
INDEXES: dict[str, tuple[str, list[str]]] = {
    "ix_customer_team_priority": (
        "customer",
        ["status", "queue_bucket", "oldest_due_date", "arrears_cents", "id"],
    ),
    "ix_customer_team_name": ("customer", ["status", "last_name", "id"]),
    "ix_customer_team_arrears": ("customer", ["status", "arrears_cents", "id"]),
    "ix_customer_team_due": ("customer", ["status", "oldest_due_date", "id"]),
    "ix_customer_team_next_step": ("customer", ["status", "next_step_due_at", "id"]),
    "ix_customer_team_number": ("customer", ["status", "customer_number"]),
    "ix_customer_agent_name": ("customer", ["assigned_agent_id", "status", "last_name", "id"]),
    "ix_customer_agent_arrears": (
        "customer",
        ["assigned_agent_id", "status", "arrears_cents", "id"],
    ),
    "ix_customer_agent_due": ("customer", ["assigned_agent_id", "status", "oldest_due_date", "id"]),
    "ix_customer_agent_next_step": (
        "customer",
        ["assigned_agent_id", "status", "next_step_due_at", "id"],
    ),
    "ix_customer_agent_number": ("customer", ["assigned_agent_id", "status", "customer_number"]),
    "ix_contact_point_freshness": ("contact_point", ["customer_id", "invalid", "verified_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE customer")
        op.execute("ANALYZE contact_point")


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
