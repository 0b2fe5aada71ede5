"""team security: group roles, grants and row-level security (PostgreSQL only)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Two group roles (cluster-wide, created if missing, never dropped): every person's
login role is a member of exactly one. The table owner (the role that migrates)
keeps all rights and bypasses row-level security (ENABLE, not FORCE).

* ``agent_desk_agent`` reads the tables; on customers and everything hanging off
  them only the rows of customers assigned to them or held by them. They write
  their own work (contacts, notes, promises, next steps, arrangements, letters,
  audit and change-log rows) and may change only the customer columns an agent
  changes: never ``assigned_agent_id`` or ``status``. They cannot approve (no
  approval columns, no arrangement ``status``), write settings, import payments, or
  change or delete audit events; an audit event they write names themselves.
* ``agent_desk_supervisor`` reads and changes everything except that audit events and
  the change log are append-only for them too.

On SQLite (one desk, no server roles) this migration does nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"

ALL_TABLES = (
    "agent",
    "change_log",
    "audit_event",
    "customer",
    "setting",
    "arrangement",
    "claim",
    "contact_attempt",
    "contact_point",
    "next_step",
    "note",
    "promise_to_pay",
    "instalment",
    "letter_sent",
    "payment",
    "alembic_version",
)
APPEND_ONLY = ("audit_event", "change_log")
AGENT_INSERTS = (
    "contact_attempt",
    "contact_point",
    "note",
    "promise_to_pay",
    "next_step",
    "arrangement",
    "instalment",
    "letter_sent",
    "audit_event",
    "change_log",
)
AGENT_UPDATES = {
    "customer": (
        "first_name",
        "last_name",
        "salutation",
        "language",
        "preferred_channel",
        "best_time",
        "vulnerable",
        "vulnerability_note",
        "vulnerability_consent_at",
        "vulnerability_consent_by_id",
        "debt_help_referred_at",
        "paused_until",
        "pause_reason",
        "called_in_at",
        # derived columns, recomputed by the services in the agent's own transaction
        "arrears_cents",
        "oldest_due_date",
        "first_time_arrears",
        "broken_arrangement",
        "missed_instalment",
        "queue_bucket",
        "next_step_kind",
        "next_step_due_at",
        # the hold while the customer is on the agent's desk
        "held_by_agent_id",
        "held_until",
        "version",
    ),
    "contact_point": (
        "kind",
        "value",
        "street",
        "house_number",
        "postcode",
        "city",
        "preferred",
        "consent_sms",
        "consent_whatsapp",
        "verified_at",
        "verified_by_id",
        "verification_source",
        "invalid",
        "invalid_reason",
        "version",
    ),
    "next_step": ("kind", "due_at", "note", "done_at", "version"),
    "promise_to_pay": ("amount_cents", "due_date", "status", "version"),
    "note": ("text", "version"),
    # Not status and not the approval columns: only a supervisor decides.
    "arrangement": (
        "frequency",
        "principal_cents",
        "costs_cents",
        "interest_cents",
        "costs_waived",
        "interest_waived",
        "total_cents",
        "approval_needed_reason",
        "version",
    ),
}
# Tables whose rows belong to one customer: visible when the customer is.
CUSTOMER_CHILDREN = (
    "contact_point",
    "claim",
    "contact_attempt",
    "note",
    "promise_to_pay",
    "arrangement",
    "next_step",
    "letter_sent",
    "payment",
)

_CREATE_GROUP = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another database on this server created it at the same moment
END
$$
"""

_CURRENT_AGENT_FUNCTION = """
CREATE OR REPLACE FUNCTION agent_desk_current_agent_id(login name DEFAULT current_user)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp
AS $$ SELECT id FROM agent WHERE agent.login = $1 AND agent.active $$
"""


def _execute(sql: str) -> None:
    op.execute(sql)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    for role in (AGENT, SUPERVISOR):
        _execute(_CREATE_GROUP.format(role=role))
    _execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {AGENT}, {SUPERVISOR}')

    # The login -> agent id lookup the policies use. SECURITY DEFINER so it works
    # whatever the caller may read; the default argument is evaluated as the caller.
    _execute(_CURRENT_AGENT_FUNCTION.format(schema=f'"{schema}"'))
    _execute("REVOKE ALL ON FUNCTION agent_desk_current_agent_id(name) FROM PUBLIC")
    _execute(
        f"GRANT EXECUTE ON FUNCTION agent_desk_current_agent_id(name) TO {AGENT}, {SUPERVISOR}"
    )

    # --- grants
    tables = ", ".join(ALL_TABLES)
    _execute(f"GRANT SELECT ON {tables} TO {AGENT}, {SUPERVISOR}")
    _execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {AGENT}, {SUPERVISOR}')
    writable = ", ".join(t for t in ALL_TABLES if t not in (*APPEND_ONLY, "alembic_version"))
    _execute(f"GRANT INSERT, UPDATE, DELETE ON {writable} TO {SUPERVISOR}")
    _execute(f"REVOKE DELETE ON agent FROM {SUPERVISOR}")  # deactivate, never delete
    _execute(f"GRANT INSERT ON {', '.join(APPEND_ONLY)} TO {SUPERVISOR}")
    _execute(f"GRANT INSERT ON {', '.join(AGENT_INSERTS)} TO {AGENT}")
    for table, columns in AGENT_UPDATES.items():
        _execute(f"GRANT UPDATE ({', '.join(columns)}) ON {table} TO {AGENT}")

    # --- row-level security
    me = "(SELECT agent_desk_current_agent_id())"  # an InitPlan: once per statement
    _execute("ALTER TABLE customer ENABLE ROW LEVEL SECURITY")
    _execute(f"CREATE POLICY supervisor_all ON customer TO {SUPERVISOR} USING (true)")
    _execute(
        f"CREATE POLICY agent_own ON customer TO {AGENT} "
        f"USING (assigned_agent_id = {me} OR held_by_agent_id = {me}) "
        # Releasing a hold on a customer reassigned meanwhile must still work.
        f"WITH CHECK (assigned_agent_id = {me} OR held_by_agent_id = {me} "
        "OR held_by_agent_id IS NULL)"
    )
    visible_customer = "customer_id IN (SELECT id FROM customer)"
    for table in CUSTOMER_CHILDREN:
        _execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        _execute(f"CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR} USING (true)")
        _execute(f"CREATE POLICY agent_own ON {table} TO {AGENT} USING ({visible_customer})")
    _execute("ALTER TABLE instalment ENABLE ROW LEVEL SECURITY")
    _execute(f"CREATE POLICY supervisor_all ON instalment TO {SUPERVISOR} USING (true)")
    _execute(
        f"CREATE POLICY agent_own ON instalment TO {AGENT} "
        "USING (arrangement_id IN (SELECT id FROM arrangement))"
    )
    # An agent's new arrangement is never born approved.
    _execute(
        f"CREATE POLICY agent_not_approved ON arrangement AS RESTRICTIVE FOR INSERT TO {AGENT} "
        "WITH CHECK (approved_by_id IS NULL AND approved_at IS NULL AND approval_note IS NULL "
        "AND status IN ('active', 'pending_approval'))"
    )
    # Audit: agents read their own events and those of their customers, and write
    # events only in their own name.
    _execute("ALTER TABLE audit_event ENABLE ROW LEVEL SECURITY")
    _execute(f"CREATE POLICY supervisor_all ON audit_event TO {SUPERVISOR} USING (true)")
    _execute(
        f"CREATE POLICY agent_read ON audit_event FOR SELECT TO {AGENT} "
        f"USING (agent_id = {me} OR {visible_customer})"
    )
    _execute(
        f"CREATE POLICY agent_write ON audit_event FOR INSERT TO {AGENT} "
        f"WITH CHECK (agent_id = {me})"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    for table in (*CUSTOMER_CHILDREN, "customer", "instalment", "audit_event"):
        for policy in ("supervisor_all", "agent_own", "agent_read", "agent_write"):
            _execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
        _execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    _execute("DROP POLICY IF EXISTS agent_not_approved ON arrangement")
    tables = ", ".join(ALL_TABLES)
    _execute(f"REVOKE ALL ON {tables} FROM {AGENT}, {SUPERVISOR}")
    _execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {AGENT}, {SUPERVISOR}')
    _execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM {AGENT}, {SUPERVISOR}')
    _execute("DROP FUNCTION IF EXISTS agent_desk_current_agent_id(name)")
    # The group roles are shared by every Agent Desk database on the server: kept.
