"""the creditor's profile (versioned) and early signals: objections and signals sent

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01

* ``creditor_profile``: one row per version of the creditor's profile (letterhead,
  IBAN, sector, VAT on costs, signatory, payment link, early-signal thresholds).
  Append-only: the highest version is in force, the rest is the history.
* ``signal_objection``: a customer's objection to an early signal (or its withdrawal),
  with the day and the channel it came by. Append-only.
* ``early_signal``: a signal sent to the municipality, one per customer and arrears
  (unique on ``customer_id, arrears_since``: never sent twice). Append-only.

Team database (PostgreSQL): row-level security on all three; a supervisor writes in
their own name; an agent reads the profile, reads objections and signals of the
customers they may see, and records an objection for those customers in their own
name; nobody updates or deletes a row. The owner (nightly run, upgrades) is trusted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
ME = "(SELECT agent_desk_current_agent_id())"
IS_SUPERVISOR = "((SELECT agent_desk_my_role()) = 'supervisor')"
VISIBLE_CUSTOMER = "customer_id IN (SELECT id FROM customer)"
TABLES = ("creditor_profile", "signal_objection", "early_signal")


def upgrade() -> None:
    op.create_table(
        "creditor_profile",
        sa.Column("id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("changed_key", sa.String(64), nullable=False),
        sa.Column("changed_by_id", BigId, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_creditor_profile"),
        sa.UniqueConstraint("version", name="uq_creditor_profile_version"),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["agent.id"], name="fk_creditor_profile_changed_by_id_agent"
        ),
    )
    op.create_table(
        "signal_objection",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("objected_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_by_id", BigId, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signal_objection"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_signal_objection_customer_id_customer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["agent.id"], name="fk_signal_objection_recorded_by_id_agent"
        ),
        sa.CheckConstraint("kind IN ('objection', 'withdrawal')", name="ck_signal_objection_kind"),
    )
    op.create_index(
        "ix_signal_objection_customer", "signal_objection", ["customer_id", "objected_on"]
    )
    op.create_table(
        "early_signal",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("arrears_since", sa.Date(), nullable=False),
        sa.Column("arrears_cents", sa.Integer(), nullable=False),
        sa.Column("due_since", sa.Date(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("export_file", sa.String(255), nullable=False),
        sa.Column("export_sha256", sa.String(64), nullable=False),
        sa.Column("sent_by_id", BigId, nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_early_signal"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_early_signal_customer_id_customer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["agent.id"], name="fk_early_signal_sent_by_id_agent"
        ),
        sa.UniqueConstraint(
            "customer_id", "arrears_since", name="uq_early_signal_customer_id_arrears_since"
        ),
    )
    op.create_index("ix_early_signal_customer", "early_signal", ["customer_id", "sent_on"])
    _team_security()


def _team_security() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    groups = f"{AGENT}, {SUPERVISOR}"
    statements = [
        f"REVOKE ALL ON {', '.join(TABLES)} FROM PUBLIC",
        f"GRANT SELECT ON {', '.join(TABLES)} TO {groups}",
        f"GRANT INSERT ON creditor_profile, early_signal, signal_objection TO {SUPERVISOR}",
        f"GRANT INSERT ON signal_objection TO {AGENT}",
        f"GRANT USAGE ON SEQUENCE creditor_profile_id_seq, early_signal_id_seq, "
        f"signal_objection_id_seq TO {SUPERVISOR}",
        f"GRANT USAGE ON SEQUENCE signal_objection_id_seq TO {AGENT}",
    ]
    for table in TABLES:
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR} "
            f"USING {IS_SUPERVISOR} WITH CHECK {IS_SUPERVISOR}",
        ]
    statements += [
        # Everyone of the team reads the profile (letters, the queue's early-signal reason).
        f"CREATE POLICY agent_read ON creditor_profile FOR SELECT TO {AGENT} "
        f"USING ({ME} IS NOT NULL)",
        # A supervisor changes the profile, records objections and signals in their own name.
        "CREATE POLICY supervisor_own_name ON creditor_profile AS RESTRICTIVE FOR INSERT "
        f"TO {SUPERVISOR} WITH CHECK (changed_by_id = {ME})",
        "CREATE POLICY supervisor_own_name ON early_signal AS RESTRICTIVE FOR INSERT "
        f"TO {SUPERVISOR} WITH CHECK (sent_by_id = {ME})",
        "CREATE POLICY supervisor_own_name ON signal_objection AS RESTRICTIVE FOR INSERT "
        f"TO {SUPERVISOR} WITH CHECK (recorded_by_id = {ME})",
        # An agent: objections and signals of the customers they may see; an objection
        # recorded in their own name, for such a customer.
        f"CREATE POLICY agent_own ON signal_objection FOR SELECT TO {AGENT} "
        f"USING ({VISIBLE_CUSTOMER})",
        f"CREATE POLICY agent_write ON signal_objection FOR INSERT TO {AGENT} "
        f"WITH CHECK ({VISIBLE_CUSTOMER} AND recorded_by_id = {ME})",
        f"CREATE POLICY agent_own ON early_signal FOR SELECT TO {AGENT} USING ({VISIBLE_CUSTOMER})",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_early_signal_customer", table_name="early_signal")
    op.drop_table("early_signal")
    op.drop_index("ix_signal_objection_customer", table_name="signal_objection")
    op.drop_table("signal_objection")
    op.drop_table("creditor_profile")
