"""team view aggregates: each customer's contact check, kept by the database itself

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The team view counts the open customers whose contact data needs checking (a
usable point never verified or verified too long ago, or no usable point at all).
Asked per open customer (``NOT EXISTS`` over the contact points) that is a million
probes at a million customers. Instead ``customer.contact_verified_at`` keeps the
answer per customer: the oldest verification among its usable (not invalid)
contact points, and NULL when one of them was never verified or it has none.
Stale at a cutoff is then ``contact_verified_at IS NULL OR contact_verified_at <
cutoff``: two ranges of the index ``(status, contact_verified_at)``.

The database keeps the column right for every writer (the desk's services, the
imports, the demo, a script with plain SQL): triggers on ``contact_point``
recompute it for the customers whose points were inserted, changed or deleted.
SQLite: row triggers. PostgreSQL: one statement trigger per kind of change, over
its transition table, so a bulk write (``COPY``, ``executemany``) costs one
recomputation per customer touched, not a trigger call per row; it locks those
customers first, so two desks adding points to one customer at once both count.
The function runs as the table owner (``SECURITY DEFINER``, like the guards of
0004) and writes only this column; a person's own write of the column is ignored
(a ``BEFORE`` trigger puts the database's value back), so row security and the
guards stay as they are and no new table needs a policy.

The reassign preview counts the customers open on a desk now over
``ix_customer_held`` (SQLite only, see below). The figures of the team view also
get what their counts read: each agent's open
customers and queue in one pass over ``ix_customer_team_load`` (every column the
queue's eligibility looks at, none of the hold columns: a claim's update stays a
HOT update on PostgreSQL), and contact attempts, promises and arrangements by their
time (they were read whole).

Existing rows are filled in by the migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GUARD = db_rules.GUARD_SCHEMA

# name -> (table, columns); the same list as the models' ``Index`` entries.
INDEXES: dict[str, tuple[str, list[str]]] = {
    "ix_customer_contact_check": ("customer", ["status", "contact_verified_at"]),
    "ix_customer_team_load": (
        "customer",
        ["status", "assigned_agent_id", "queue_bucket", "paused_until", "next_step_due_at"],
    ),
    "ix_contact_attempt_day": ("contact_attempt", ["at", "agent_id", "outcome", "customer_id"]),
    "ix_promise_to_pay_day": ("promise_to_pay", ["created_at", "agent_id", "status"]),
    "ix_arrangement_day": ("arrangement", ["created_at", "agent_id"]),
}

PRIORITY: list[str | sa.TextClause] = [
    "status",
    "queue_bucket",
    "oldest_due_date",
    sa.text("arrears_cents DESC"),
    "id",
]

# The reassign preview's count of customers open on a desk now, on SQLite. Not on
# PostgreSQL: an index on a hold column would turn every claim's update from a HOT
# update into one that writes all of the customer's indexes again; there the count
# reads the rows in the same pass (a bitmap scan, fast enough).
SQLITE_HELD_INDEX = "ix_customer_held"

# The one definition of the column's value for customer ``{c}`` (SQL text).
_CHECKED = (
    "(SELECT CASE WHEN count(*) = count(p.verified_at) THEN min(p.verified_at) END "
    "FROM contact_point p WHERE p.customer_id = {c} AND p.invalid = {false})"
)

# SQLite: after each row, the customer it belongs to (and, when a point moved to
# another customer, the one it left) is worked out again.
_SQLITE_TRIGGERS = {
    "contact_point_checked_update": (
        "AFTER UPDATE OF customer_id, invalid, verified_at ON contact_point",
        ["NEW.customer_id", "OLD.customer_id"],
    ),
    "contact_point_checked_delete": ("AFTER DELETE ON contact_point", ["OLD.customer_id"]),
}

# An insert (the bulk case: imports, the demo) needs no recount in the usual cases:
# an invalid point changes nothing; a usable point never verified makes the check
# NULL; a verified one can only lower the oldest verification, except for a
# customer whose NULL may mean "no usable point yet" (then it is worked out again).
_C = "contact_verified_at"
_SQLITE_INSERT_TRIGGERS = [
    "CREATE TRIGGER contact_point_checked_insert_never AFTER INSERT ON contact_point "
    "FOR EACH ROW WHEN NEW.invalid = 0 AND NEW.verified_at IS NULL BEGIN "
    f"UPDATE customer SET {_C} = NULL WHERE id = NEW.customer_id AND {_C} IS NOT NULL; END",
    "CREATE TRIGGER contact_point_checked_insert_verified AFTER INSERT ON contact_point "
    "FOR EACH ROW WHEN NEW.invalid = 0 AND NEW.verified_at IS NOT NULL BEGIN "
    f"UPDATE customer SET {_C} = min({_C}, NEW.verified_at) "
    f"WHERE id = NEW.customer_id AND {_C} > NEW.verified_at; "
    f"UPDATE customer SET {_C} = {_CHECKED.format(c='NEW.customer_id', false='0')} "
    f"WHERE id = NEW.customer_id AND {_C} IS NULL "
    f"AND {_CHECKED.format(c='NEW.customer_id', false='0')} IS NOT NULL; END",
]


def _sqlite_trigger(name: str, event: str, customers: list[str]) -> str:
    body = []
    for customer in customers:
        checked = _CHECKED.format(c=customer, false="0")
        body.append(
            f"UPDATE customer SET contact_verified_at = {checked} "
            f"WHERE id = {customer} AND contact_verified_at IS NOT {checked};"
        )
    return f"CREATE TRIGGER {name} {event} FOR EACH ROW BEGIN {' '.join(body)} END"


_PG_FUNCTIONS = f"""
CREATE FUNCTION {GUARD}.refresh_contact_check(ids bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
    -- Lock first, then read the points in a statement of its own (a fresh snapshot
    -- under READ COMMITTED): a desk adding a point to the same customer right now
    -- commits before we read, so its point is counted.
    PERFORM 1 FROM customer c WHERE c.id = ANY(ids) ORDER BY c.id FOR NO KEY UPDATE;
    UPDATE customer c SET contact_verified_at = f.checked
      FROM (SELECT u.id, {_CHECKED.format(c="u.id", false="false")} AS checked
              FROM unnest(ids) AS u(id)) f
     WHERE c.id = f.id AND c.contact_verified_at IS DISTINCT FROM f.checked;
END
$$;

CREATE FUNCTION {GUARD}.contact_points_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM {GUARD}.refresh_contact_check(
            ARRAY(SELECT DISTINCT n.customer_id FROM new_points n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM {GUARD}.refresh_contact_check(
            ARRAY(SELECT DISTINCT o.customer_id FROM old_points o));
    ELSE
        PERFORM {GUARD}.refresh_contact_check(ARRAY(
            SELECT n.customer_id FROM new_points n JOIN old_points o ON o.id = n.id
             WHERE (n.customer_id, n.invalid, n.verified_at)
                   IS DISTINCT FROM (o.customer_id, o.invalid, o.verified_at)
            UNION
            SELECT o.customer_id FROM new_points n JOIN old_points o ON o.id = n.id
             WHERE n.customer_id IS DISTINCT FROM o.customer_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION {GUARD}.customer_contact_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
    -- Only the database writes the column (from the triggers above, one level
    -- down); a statement of a desk or a script gets the database's value.
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.contact_verified_at := NULL;  -- a new customer has no contact points yet
    ELSE
        NEW.contact_verified_at := OLD.contact_verified_at;
    END IF;
    RETURN NEW;
END
$$;
"""


def _sql(statement: str, schema: str) -> None:
    op.execute(text(statement.replace("@schema@", f'"{schema}"')))


def _pg_triggers(schema: str) -> None:
    for function in _PG_FUNCTIONS.strip().split("\n\nCREATE FUNCTION"):
        body = function if function.startswith("CREATE") else "CREATE FUNCTION" + function
        _sql(body, schema)
    for name in (
        "refresh_contact_check(bigint[])",
        "contact_points_changed()",
        "customer_contact_check()",
    ):
        _sql(f"REVOKE ALL ON FUNCTION {GUARD}.{name} FROM PUBLIC", schema)
    changed = f"EXECUTE FUNCTION {GUARD}.contact_points_changed()"
    statements = [
        "CREATE TRIGGER contact_checked_insert AFTER INSERT ON contact_point "
        f"REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT {changed}",
        "CREATE TRIGGER contact_checked_update AFTER UPDATE ON contact_point "
        "REFERENCING OLD TABLE AS old_points NEW TABLE AS new_points "
        f"FOR EACH STATEMENT {changed}",
        "CREATE TRIGGER contact_checked_delete AFTER DELETE ON contact_point "
        f"REFERENCING OLD TABLE AS old_points FOR EACH STATEMENT {changed}",
        # Fired only when a statement writes the column at all (WHEN: no call per row).
        "CREATE TRIGGER guard_contact_check_insert BEFORE INSERT ON customer FOR EACH ROW "
        "WHEN (NEW.contact_verified_at IS NOT NULL) "
        f"EXECUTE FUNCTION {GUARD}.customer_contact_check()",
        "CREATE TRIGGER guard_contact_check BEFORE UPDATE OF contact_verified_at ON customer "
        "FOR EACH ROW WHEN (NEW.contact_verified_at IS DISTINCT FROM OLD.contact_verified_at) "
        f"EXECUTE FUNCTION {GUARD}.customer_contact_check()",
    ]
    for statement in statements:
        _sql(statement, schema)


def upgrade() -> None:
    op.add_column(
        "customer", sa.Column("contact_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    # Backfill: the column starts NULL (stale); only customers whose usable points
    # are all verified get their oldest verification.
    op.execute(
        text(
            "UPDATE customer SET contact_verified_at = ("
            "SELECT min(p.verified_at) FROM contact_point p "
            f"WHERE p.customer_id = customer.id AND p.invalid = {'false' if postgresql else '0'}) "
            "WHERE id IN (SELECT p.customer_id FROM contact_point p "
            f"WHERE p.invalid = {'false' if postgresql else '0'} "
            "GROUP BY p.customer_id HAVING count(*) = count(p.verified_at))"
        )
    )
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    # The team's priority order has the biggest arrears first within a due date: the
    # index says so, so the first page needs no sort of every customer due that day.
    op.drop_index("ix_customer_team_priority", table_name="customer")
    op.create_index("ix_customer_team_priority", "customer", PRIORITY)
    if postgresql:
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _pg_triggers(schema)
        for table in sorted({table for table, _columns in INDEXES.values()}):
            op.execute(f"ANALYZE {table}")
    else:
        # SQLite only (no HOT updates to lose there): who is open on a desk now.
        op.create_index(SQLITE_HELD_INDEX, "customer", ["held_until"])
        for name, (event, customers) in _SQLITE_TRIGGERS.items():
            op.execute(_sqlite_trigger(name, event, customers))
        for statement in _SQLITE_INSERT_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        for trigger, table in (
            ("contact_checked_insert", "contact_point"),
            ("contact_checked_update", "contact_point"),
            ("contact_checked_delete", "contact_point"),
            ("guard_contact_check", "customer"),
            ("guard_contact_check_insert", "customer"),
        ):
            _sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}", schema)
        for name in (
            "contact_points_changed()",
            "customer_contact_check()",
            "refresh_contact_check(bigint[])",
        ):
            _sql(f"DROP FUNCTION IF EXISTS {GUARD}.{name}", schema)
    else:
        for name in (
            *_SQLITE_TRIGGERS,
            "contact_point_checked_insert_never",
            "contact_point_checked_insert_verified",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_index(SQLITE_HELD_INDEX, table_name="customer")
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ix_customer_team_priority", table_name="customer")
    op.create_index(
        "ix_customer_team_priority",
        "customer",
        ["status", "queue_bucket", "oldest_due_date", "arrears_cents", "id"],
    )
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("contact_verified_at")
