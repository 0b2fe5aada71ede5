"""the change log says which desk session made each change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

``change_log.origin`` names the desk session ("<agent id>:<random token>") whose
transaction wrote the row, so a desk refreshes once from what its own action changed
and skips the echo of that change from live sync, while a colleague's change still
arrives live. Tools (the CLI, imports, the nightly run) leave it empty.

On PostgreSQL people cannot write the change log themselves (migration 0004: only
``agent_desk_log_changes`` does), so the origin comes from the session setting
``agent_desk.origin`` that the desk's connection sets; a trigger copies it into each
new row and keeps it only when it starts with the caller's own agent id, so no one
can make a colleague's desk take their change for its own echo. Row security on the
change log is unchanged: the reading policy of migration 0009 still decides which
rows a person sees, origin included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GUARD = db_rules.GUARD_SCHEMA

_ORIGIN_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GUARD}.change_origin() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    given text := nullif(current_setting('agent_desk.origin', true), '');
BEGIN
    IF given IS NOT NULL THEN
        who := {GUARD}.caller();
        IF who.kind IN ('agent', 'supervisor')
           AND split_part(given, ':', 1) IS DISTINCT FROM who.agent_id::text THEN
            given := NULL;  -- not one's own desk: no one borrows a colleague's origin
        ELSIF who.kind = 'nobody' THEN
            given := NULL;
        END IF;
    END IF;
    NEW.origin := left(given, 64);
    RETURN NEW;
END
$$;
"""


def _sql(statement: str, schema: str) -> None:
    op.execute(text(statement.replace("@schema@", f'"{schema}"')))


def upgrade() -> None:
    op.add_column("change_log", sa.Column("origin", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _sql(_ORIGIN_FUNCTION, schema)
        _sql(f"REVOKE ALL ON FUNCTION {GUARD}.change_origin() FROM PUBLIC", schema)
        _sql(
            "CREATE TRIGGER change_origin BEFORE INSERT ON change_log FOR EACH ROW "
            f"EXECUTE FUNCTION {GUARD}.change_origin()",
            schema,
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _sql("DROP TRIGGER IF EXISTS change_origin ON change_log", schema)
        _sql(f"DROP FUNCTION IF EXISTS {GUARD}.change_origin()", schema)
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_column("origin")
