"""credit is never used beyond what was kept, whoever writes the books

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Migration 0004's check that a customer's credit never goes below zero covers only
agents and supervisors; the tools (the nightly run, the imports) were trusted. Two of
them at once could each use the same credit. The services now lock the customer's
books before booking on them (``ledger.lock_books``); this is the database's own
guard for every writer: at commit, a transaction that used credit takes the
customer's row (``FOR NO KEY UPDATE``, so a second one waits until the first has
committed and then reads its entries) and is refused when the credit entries sum
below zero. PostgreSQL only (on SQLite the write lock already lets one writer in at
a time).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

GUARD = db_rules.GUARD_SCHEMA

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GUARD}.credit_never_below_zero() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
    -- Lock first, then sum in a statement of its own (a fresh snapshot under READ
    -- COMMITTED): another transaction using this customer's credit has committed.
    PERFORM 1 FROM customer c WHERE c.id = NEW.customer_id FOR NO KEY UPDATE;
    IF (SELECT coalesce(sum(e.amount_cents), 0) FROM ledger_entry e
         WHERE e.customer_id = NEW.customer_id AND e.claim_id IS NULL) < 0 THEN
        PERFORM {GUARD}.wrong(format('customer %s: more credit used than kept',
                                     NEW.customer_id));
    END IF;
    RETURN NULL;
END
$$;
"""


def _sql(statement: str, schema: str) -> None:
    op.execute(text(statement.replace("@schema@", f'"{schema}"')))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    _sql(_FUNCTION, schema)
    _sql(f"REVOKE ALL ON FUNCTION {GUARD}.credit_never_below_zero() FROM PUBLIC", schema)
    _sql(
        "CREATE CONSTRAINT TRIGGER guard_credit AFTER INSERT ON ledger_entry "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (NEW.claim_id IS NULL AND NEW.amount_cents < 0) "
        f"EXECUTE FUNCTION {GUARD}.credit_never_below_zero()",
        schema,
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    _sql("DROP TRIGGER IF EXISTS guard_credit ON ledger_entry", schema)
    _sql(f"DROP FUNCTION IF EXISTS {GUARD}.credit_never_below_zero()", schema)
