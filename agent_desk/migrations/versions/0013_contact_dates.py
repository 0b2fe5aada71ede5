"""a verification cannot be dated in the future

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Since migration 0011 the team view's count of customers whose contact details need
checking stands on ``customer.contact_verified_at``, the oldest ``verified_at`` of the
customer's usable contact points. An agent who wrote ``verified_at = '2099-01-01'``
on a point (nothing refused the date, only the name: migration 0004) took the customer
out of that count, and out of the desk's verification prompt, for good.

On PostgreSQL the people of the team (agents and supervisors) now write a
verification dated at most an hour ahead of the server's clock (a laptop's clock a
few minutes fast still verifies; a date in the future does not). The owner (the
nightly run, imports, the tools) is not limited. SQLite is one person's database and
has no such guard, as in 0004.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GUARD = db_rules.GUARD_SCHEMA

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GUARD}.contact_point_dates() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    IF NEW.verified_at IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.verified_at IS NOT DISTINCT FROM OLD.verified_at)
       OR NEW.verified_at <= now() + interval '1 hour' THEN
        RETURN NEW;
    END IF;
    who := {GUARD}.caller();
    IF who.kind IN ('agent', 'supervisor') THEN
        PERFORM {GUARD}.wrong('contact details are verified now, not on a later date',
                              format('verified_at %s', NEW.verified_at));
    END IF;
    RETURN NEW;
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
    _sql(f"REVOKE ALL ON FUNCTION {GUARD}.contact_point_dates() FROM PUBLIC", schema)
    _sql(
        "CREATE TRIGGER guard_dates BEFORE INSERT OR UPDATE OF verified_at ON contact_point "
        f"FOR EACH ROW EXECUTE FUNCTION {GUARD}.contact_point_dates()",
        schema,
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    _sql("DROP TRIGGER IF EXISTS guard_dates ON contact_point", schema)
    _sql(f"DROP FUNCTION IF EXISTS {GUARD}.contact_point_dates()", schema)
