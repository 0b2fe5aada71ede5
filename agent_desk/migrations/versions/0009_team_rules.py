"""the team's rules as data: policy, rates, call scripts and letter texts

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-01

``team_rule`` holds one row per saved version of a team document (the arrangement
policy, the 14-day-letter conventions, the statutory interest table with its
``confirmed_until``, each call script, each letter text a team overrides). The
shipped files are seeded as version 1 (``services.team_rules.seed``, again at every
``db upgrade`` for documents a new release adds).

On PostgreSQL the table is append-only and people write it only as supervisors, in
their own name, one version after the other (``agent_desk_guard.team_rule_check``
sets the time and refuses a skipped or repeated version); the database writes an
audit row for every version and hands the policy's numbers and the rates of a new
version to the guards (``agent_desk_guard.rule`` and ``.interest_rate``), so the
database keeps checking against the team's rules. Agents read, never write; they
see its changes in the change log, so their desks reload the rules live.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules, team_rules

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
GUARD = db_rules.GUARD_SCHEMA
ME = "(SELECT agent_desk_current_agent_id())"
IS_SUPERVISOR = "((SELECT agent_desk_my_role()) = 'supervisor')"
VISIBLE_CUSTOMER = "customer_id IN (SELECT id FROM customer)"

_POLICY_NAMES = ", ".join(f"'{n}'" for n in (*db_rules.POLICY_RULES, *db_rules.BOOKS_RULES))

_GUARD_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION {GUARD}.team_rule_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    latest integer;
BEGIN
    -- One version after the other: no skipped number, no rewritten history.
    PERFORM pg_advisory_xact_lock(hashtext('team_rule:' || NEW.kind || '/' || NEW.key));
    SELECT max(version) INTO latest FROM team_rule WHERE kind = NEW.kind AND key = NEW.key;
    IF NEW.version <> coalesce(latest, 0) + 1 THEN
        RAISE EXCEPTION 'Agent Desk: a team rule gets the next version (%), not %',
            coalesce(latest, 0) + 1, NEW.version USING ERRCODE = '23514';
    END IF;
    IF NEW.kind NOT IN ('policy', 'rates', 'script', 'letter') THEN
        RAISE EXCEPTION 'Agent Desk: unknown kind of team rule %', NEW.kind
            USING ERRCODE = '23514';
    END IF;
    IF NEW.guard_values <> '' AND NOT (NEW.kind = 'policy'
            OR (NEW.kind = 'rates' AND NEW.key = 'statutory_interest_consumer')) THEN
        RAISE EXCEPTION 'Agent Desk: only policy and rates carry values for the guards'
            USING ERRCODE = '23514';
    END IF;
    IF session_user <> (SELECT r.rolname FROM pg_roles r JOIN pg_database d ON d.datdba = r.oid
                        WHERE d.datname = current_database())
       AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        NEW.changed_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION {GUARD}.team_rule_to_guards() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    v jsonb;
BEGIN
    INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, detail)
    VALUES (now(), NEW.changed_by_id, 'db_recorded', 'team_rule', NEW.id, NULL,
            json_build_object('kind', NEW.kind, 'key', NEW.key,
                              'version', NEW.version)::text);
    IF NEW.guard_values = '' THEN
        RETURN NULL;
    END IF;
    v := NEW.guard_values::jsonb;
    IF NEW.kind = 'policy' THEN
        UPDATE {GUARD}.rule r SET value = (v ->> r.name)::numeric
         WHERE v ? r.name AND r.name IN ({_POLICY_NAMES});
    ELSIF NEW.kind = 'rates' AND NEW.key = 'statutory_interest_consumer' THEN
        IF jsonb_array_length(v -> 'rates') = 0 THEN
            RAISE EXCEPTION 'Agent Desk: a rate table needs at least one rate'
                USING ERRCODE = '23514';
        END IF;
        DELETE FROM {GUARD}.interest_rate;
        INSERT INTO {GUARD}.interest_rate (effective_from, rate)
        SELECT (e ->> 0)::date, (e ->> 1)::numeric FROM jsonb_array_elements(v -> 'rates') e;
    END IF;
    RETURN NULL;
END
$$;
"""


def _sql(statement: str, schema: str) -> None:
    op.execute(text(statement.replace("@schema@", f'"{schema}"')))


def _pg_security(schema: str) -> None:
    _sql(_GUARD_FUNCTIONS.split("\n\nCREATE OR REPLACE")[0], schema)
    _sql("CREATE OR REPLACE" + _GUARD_FUNCTIONS.split("\n\nCREATE OR REPLACE")[1], schema)
    statements = [
        f"REVOKE ALL ON FUNCTION {GUARD}.team_rule_check() FROM PUBLIC",
        f"REVOKE ALL ON FUNCTION {GUARD}.team_rule_to_guards() FROM PUBLIC",
        "CREATE TRIGGER guard_team_rule BEFORE INSERT ON team_rule FOR EACH ROW "
        f"EXECUTE FUNCTION {GUARD}.team_rule_check()",
        "CREATE TRIGGER guard_recorded AFTER INSERT ON team_rule FOR EACH ROW "
        f"EXECUTE FUNCTION {GUARD}.team_rule_to_guards()",
        "ALTER TABLE team_rule ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY supervisor_all ON team_rule TO {SUPERVISOR} "
        f"USING {IS_SUPERVISOR} WITH CHECK {IS_SUPERVISOR}",
        f"CREATE POLICY supervisor_own_name ON team_rule AS RESTRICTIVE FOR INSERT "
        f"TO {SUPERVISOR} WITH CHECK (changed_by_id = {ME})",
        f"CREATE POLICY agent_read ON team_rule FOR SELECT TO {AGENT} USING ({ME} IS NOT NULL)",
        f"REVOKE ALL ON team_rule FROM {AGENT}, {SUPERVISOR}",
        f"GRANT SELECT ON team_rule TO {AGENT}, {SUPERVISOR}",
        f"GRANT INSERT ON team_rule TO {SUPERVISOR}",
        # Agents see the team rules' changes in the change log (their desks reload).
        "DROP POLICY IF EXISTS agent_read ON change_log",
        f"CREATE POLICY agent_read ON change_log FOR SELECT TO {AGENT} "
        f"USING ({VISIBLE_CUSTOMER} OR (customer_id IS NULL AND {ME} IS NOT NULL "
        "AND table_name IN ('agent', 'setting', 'team_rule')))",
    ]
    for statement in statements:
        _sql(statement, schema)
    _sql(
        f"""
DO $$
DECLARE
    seq text := pg_get_serial_sequence('team_rule', 'id');
BEGIN
    EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM {AGENT}, {SUPERVISOR}', seq);
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {SUPERVISOR}', seq);
END
$$
""",
        schema,
    )


def upgrade() -> None:
    op.create_table(
        "team_rule",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("guard_values", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", BigId, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["agent.id"], name="fk_team_rule_changed_by_id_agent"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_team_rule"),
        sa.UniqueConstraint("kind", "key", "version", name="uq_team_rule_kind_key_version"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _pg_security(schema)
    team_rules.seed(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _sql("DROP POLICY IF EXISTS agent_read ON change_log", schema)
        _sql(
            f"CREATE POLICY agent_read ON change_log FOR SELECT TO {AGENT} "
            f"USING ({VISIBLE_CUSTOMER} OR (customer_id IS NULL AND {ME} IS NOT NULL "
            "AND table_name IN ('agent', 'setting')))",
            schema,
        )
    op.drop_table("team_rule")
    if bind.dialect.name == "postgresql":
        _sql(f"DROP FUNCTION IF EXISTS {GUARD}.team_rule_to_guards()", schema)
        _sql(f"DROP FUNCTION IF EXISTS {GUARD}.team_rule_check()", schema)
