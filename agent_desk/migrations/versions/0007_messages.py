"""messages: the e-mail and SMS outbox, opt-outs, bounced contact points, trigger dates

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01

On PostgreSQL the new table gets row-level security and explicit grants:

* an **agent** reads the messages of the customers they may see and *queues* new ones
  for them: in their own name, as ``queued`` with nothing sent yet, to one of that
  customer's own contact points (never a typed-in address), with a ``desk:``
  idempotency key (so a forged key cannot block the nightly reminders). An agent never
  updates or deletes a message: only the sender (the owner's ``messages send-due``, or
  a supervisor) marks it sent, delivered or bounced;
* a **supervisor** reads, queues and updates every message (the sender's work);
  nobody deletes one (the outbox is also the record of what was sent);
* an agent may set the customer's opt-outs (the customer said so on the phone), never
  the trigger date (the import's) nor a contact point's ``bounced_at`` (the sender's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
ME = "(SELECT agent_desk_current_agent_id())"
IS_SUPERVISOR = "((SELECT agent_desk_my_role()) = 'supervisor')"
IS_AGENT = "((SELECT agent_desk_my_role()) = 'agent')"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(
            sa.Column("email_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("sms_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("trigger_on", sa.Date(), nullable=True))
    with op.batch_alter_table("contact_point") as batch:
        batch.add_column(sa.Column("bounced_at", _utc(), nullable=True))
    op.create_table(
        "message",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "customer_id",
            BigId,
            sa.ForeignKey("customer.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agent_id", BigId, sa.ForeignKey("agent.id"), nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column(
            "contact_point_id",
            BigId,
            sa.ForeignKey("contact_point.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("letter_id", BigId, sa.ForeignKey("letter_sent.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("held_reason", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("claimed_until", _utc(), nullable=True),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("status_at", _utc(), nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_message_idempotency_key"),
    )
    op.create_index("ix_message_customer_created", "message", ["customer_id", "created_at"])
    op.create_index("ix_message_status_next", "message", ["status", "next_attempt_at"])
    op.create_index("ix_message_provider_id", "message", ["provider_id"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    statements = [
        "ALTER TABLE message ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY supervisor_all ON message TO {SUPERVISOR} "
        f"USING {IS_SUPERVISOR} WITH CHECK {IS_SUPERVISOR}",
        f"CREATE POLICY agent_read ON message FOR SELECT TO {AGENT} "
        f"USING ({IS_AGENT} AND customer_id IN (SELECT id FROM customer))",
        f"CREATE POLICY agent_queue ON message FOR INSERT TO {AGENT} WITH CHECK ("
        f"{IS_AGENT} AND customer_id IN (SELECT id FROM customer) "
        f"AND agent_id = {ME} AND status = 'queued' AND attempts = 0 "
        "AND held_reason IS NULL AND claimed_until IS NULL AND provider_id IS NULL "
        "AND sent_at IS NULL AND status_at IS NULL AND last_error IS NULL "
        "AND idempotency_key LIKE 'desk:%' "
        "AND (letter_id IS NULL OR letter_id IN "
        "(SELECT l.id FROM letter_sent l WHERE l.customer_id = message.customer_id)) "
        "AND EXISTS (SELECT 1 FROM contact_point p WHERE p.id = message.contact_point_id "
        "AND p.customer_id = message.customer_id AND p.value = message.to_address "
        "AND NOT p.invalid))",
        f"REVOKE ALL ON message FROM {AGENT}, {SUPERVISOR}",
        f"GRANT SELECT, INSERT ON message TO {AGENT}",
        f"GRANT SELECT, INSERT, UPDATE ON message TO {SUPERVISOR}",
        f"GRANT UPDATE (email_opt_out, sms_opt_out) ON customer TO {AGENT}",
        """
DO $$
DECLARE
    seq text := pg_get_serial_sequence('message', 'id');
BEGIN
    IF seq IS NOT NULL THEN
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO agent_desk_agent, agent_desk_supervisor',
                       seq);
    END IF;
END
$$
""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_message_provider_id", table_name="message")
    op.drop_index("ix_message_status_next", table_name="message")
    op.drop_index("ix_message_customer_created", table_name="message")
    op.drop_table("message")
    with op.batch_alter_table("contact_point") as batch:
        batch.drop_column("bounced_at")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("trigger_on")
        batch.drop_column("sms_opt_out")
        batch.drop_column("email_opt_out")
