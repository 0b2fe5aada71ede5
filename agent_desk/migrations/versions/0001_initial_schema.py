"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "agent",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent")),
        sa.UniqueConstraint("login", name=op.f("uq_agent_login")),
    )
    op.create_table(
        "change_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_log_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_audit_event_agent_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_customer_at", ["customer_id", "at"], unique=False)

    op.create_table(
        "customer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_number", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=150), nullable=False),
        sa.Column("salutation", sa.String(length=8), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "assigned_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("best_time", sa.String(length=16), nullable=True),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("vulnerability_note", sa.Text(), nullable=True),
        sa.Column("vulnerability_consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "vulnerability_consent_by_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("debt_help_referred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("called_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrears_cents", sa.Integer(), nullable=False),
        sa.Column("oldest_due_date", sa.Date(), nullable=True),
        sa.Column("first_time_arrears", sa.Boolean(), nullable=False),
        sa.Column("broken_arrangement", sa.Boolean(), nullable=False),
        sa.Column("missed_instalment", sa.Boolean(), nullable=False),
        sa.Column("queue_bucket", sa.SmallInteger(), nullable=False),
        sa.Column("next_step_kind", sa.String(length=32), nullable=True),
        sa.Column("next_step_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "held_by_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_agent_id"], ["agent.id"], name=op.f("fk_customer_assigned_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["held_by_agent_id"], ["agent.id"], name=op.f("fk_customer_held_by_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["vulnerability_consent_by_id"],
            ["agent.id"],
            name=op.f("fk_customer_vulnerability_consent_by_id_agent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_number", name=op.f("uq_customer_customer_number")),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_last_name", ["last_name"], unique=False)
        batch_op.create_index(
            "ix_customer_queue",
            ["assigned_agent_id", "status", "queue_bucket", "oldest_due_date", "arrears_cents"],
            unique=False,
        )

    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["agent.id"], name=op.f("fk_setting_updated_by_id_agent")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "arrangement",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("principal_cents", sa.Integer(), nullable=False),
        sa.Column("costs_cents", sa.Integer(), nullable=False),
        sa.Column("interest_cents", sa.Integer(), nullable=False),
        sa.Column("costs_waived", sa.Boolean(), nullable=False),
        sa.Column("interest_waived", sa.Boolean(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("approval_needed_reason", sa.Text(), nullable=True),
        sa.Column(
            "approved_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_arrangement_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["agent.id"], name=op.f("fk_arrangement_approved_by_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_arrangement_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangement")),
    )
    with op.batch_alter_table("arrangement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_arrangement_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_arrangement_status"), ["status"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("principal_cents", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_claim_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
        sa.UniqueConstraint("reference", name=op.f("uq_claim_reference")),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "contact_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_contact_attempt_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_contact_attempt_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempt")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_contact_attempt_operation_id")),
    )
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_contact_attempt_customer_at", ["customer_id", "at"], unique=False)

    op.create_table(
        "contact_point",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("house_number", sa.String(length=16), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("consent_sms", sa.Boolean(), nullable=False),
        sa.Column("consent_whatsapp", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "verified_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("verification_source", sa.String(length=64), nullable=True),
        sa.Column("invalid", sa.Boolean(), nullable=False),
        sa.Column("invalid_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_contact_point_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["agent.id"], name=op.f("fk_contact_point_verified_by_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_point")),
    )
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_point_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contact_point_postcode"), ["postcode"], unique=False)
        batch_op.create_index("ix_contact_point_value", ["value"], unique=False)

    op.create_table(
        "next_step",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "assigned_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_agent_id"], ["agent.id"], name=op.f("fk_next_step_assigned_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["agent.id"], name=op.f("fk_next_step_created_by_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_next_step_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_next_step")),
    )
    with op.batch_alter_table("next_step", schema=None) as batch_op:
        batch_op.create_index(
            "ix_next_step_customer_open", ["customer_id", "done_at"], unique=False
        )

    op.create_table(
        "note",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_note_agent_id_agent")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_note_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_note_operation_id")),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "promise_to_pay",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_promise_to_pay_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_promise_to_pay_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise_to_pay")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_promise_to_pay_operation_id")),
    )
    with op.batch_alter_table("promise_to_pay", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promise_to_pay_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "instalment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "arrangement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangement.id"],
            name=op.f("fk_instalment_arrangement_id_arrangement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalment")),
    )
    with op.batch_alter_table("instalment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instalment_arrangement_id"), ["arrangement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_instalment_due_date"), ["due_date"], unique=False)

    op.create_table(
        "letter_sent",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "arrangement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_letter_sent_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangement.id"],
            name=op.f("fk_letter_sent_arrangement_id_arrangement"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_letter_sent_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_sent")),
    )
    with op.batch_alter_table("letter_sent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_letter_sent_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_payment_claim_id_claim")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_payment_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_reference")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_customer_id"))

    op.drop_table("payment")
    with op.batch_alter_table("letter_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_sent_customer_id"))

    op.drop_table("letter_sent")
    with op.batch_alter_table("instalment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instalment_due_date"))
        batch_op.drop_index(batch_op.f("ix_instalment_arrangement_id"))

    op.drop_table("instalment")
    with op.batch_alter_table("promise_to_pay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promise_to_pay_customer_id"))

    op.drop_table("promise_to_pay")
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_customer_id"))

    op.drop_table("note")
    with op.batch_alter_table("next_step", schema=None) as batch_op:
        batch_op.drop_index("ix_next_step_customer_open")

    op.drop_table("next_step")
    with op.batch_alter_table("contact_point", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_point_value")
        batch_op.drop_index(batch_op.f("ix_contact_point_postcode"))
        batch_op.drop_index(batch_op.f("ix_contact_point_customer_id"))

    op.drop_table("contact_point")
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_attempt_customer_at")

    op.drop_table("contact_attempt")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_customer_id"))

    op.drop_table("claim")
    with op.batch_alter_table("arrangement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_arrangement_status"))
        batch_op.drop_index(batch_op.f("ix_arrangement_customer_id"))

    op.drop_table("arrangement")
    op.drop_table("setting")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_queue")
        batch_op.drop_index("ix_customer_last_name")

    op.drop_table("customer")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_customer_at")

    op.drop_table("audit_event")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_log_customer_id"))

    op.drop_table("change_log")
    op.drop_table("agent")
