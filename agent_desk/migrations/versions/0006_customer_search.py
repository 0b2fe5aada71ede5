"""find anyone: normalised search keys per customer, and inbound-call look-ups

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01

``customer_search_key`` holds every key a customer is found by (unaccented folded
name words, the customer number, phones as E.164 digits, e-mail, postcode + house
number, claim references; ``domain.search_keys``), with one index on
``(field, key, customer_id)`` so a prefix search is an index range scan. The keys
of existing customers are built here; from now on every write path keeps them
(``services.search_index``).

On PostgreSQL:

* Row-level security as for every table of a customer: a supervisor all rows, an
  agent the keys of the customers they may see. People insert and delete keys (the
  desk rewrites them with a customer's contact points); nobody updates them. A key
  is only a pointer: nothing shown comes from it.
* An inbound caller may be a colleague's customer (the caller does not choose whom
  they reach, and "be reachable" is half of social collection). An agent finds
  such a customer only by an **identifying key stated in full** (customer number,
  claim reference, phone, e-mail, postcode + house number), never by a name or a
  prefix, so the team's customers cannot be listed. ``agent_desk_find_by_key``
  (SECURITY DEFINER) returns only number, name, the matched field and the assigned
  agent, after confirming the key against the customer's own rows (a planted key
  finds nothing). ``agent_desk_open_inbound`` holds such a customer for the
  calling agent (so the file opens for them, like any hold) after the same check,
  unless a colleague has them open; the database writes the audit event itself
  (``inbound_open``) and allows a bounded number per agent per hour.
* ``agent_desk_release_holds`` releases one's holds: an agent's own ``UPDATE``
  cannot release a customer they no longer see afterwards (PostgreSQL checks the
  new row against the reading policy as well), such as an inbound caller.

On SQLite (one desk) only the table and its keys are made.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from agent_desk.services import search_index

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
GUARD = "agent_desk_guard"
ME = "(SELECT agent_desk_current_agent_id())"
IS_SUPERVISOR = "((SELECT agent_desk_my_role()) = 'supervisor')"
#: Inbound opens one agent may make in an hour (a busy inbound line is ~15 calls).
INBOUND_PER_HOUR = 60

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KeyText = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")

_FUNCTIONS = """
-- Does this identifying key belong to this customer, by the customer's own rows?
CREATE OR REPLACE FUNCTION @guard@.key_matches(c_id bigint, f text, k text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
    SELECT CASE f
        WHEN 'customer_number' THEN EXISTS (SELECT 1 FROM customer c WHERE c.id = c_id
            AND regexp_replace(lower(c.customer_number), '[^a-z0-9]', '', 'g') = k)
        WHEN 'claim_reference' THEN EXISTS (SELECT 1 FROM claim x WHERE x.customer_id = c_id
            AND regexp_replace(lower(x.reference), '[^a-z0-9]', '', 'g') = k)
        WHEN 'phone' THEN EXISTS (SELECT 1 FROM contact_point p WHERE p.customer_id = c_id
            AND p.kind IN ('phone', 'mobile') AND p.value = '+' || k)
        WHEN 'email' THEN EXISTS (SELECT 1 FROM contact_point p WHERE p.customer_id = c_id
            AND p.kind = 'email' AND lower(p.value) = k)
        WHEN 'postcode_house_number' THEN EXISTS (SELECT 1 FROM contact_point p
            WHERE p.customer_id = c_id AND p.kind = 'address'
            AND regexp_replace(lower(p.postcode), '[^a-z0-9]', '', 'g') || ' '
                || regexp_replace(lower(p.house_number), '[^a-z0-9]', '', 'g') = k)
        ELSE false END
$$;

CREATE OR REPLACE FUNCTION agent_desk_find_by_key(fields text[], keys text[], max_rows integer)
RETURNS TABLE (customer_id bigint, customer_number text, first_name text, last_name text,
               field text, assigned_agent_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team search its customers');
    END IF;
    IF cardinality(fields) IS DISTINCT FROM cardinality(keys) OR cardinality(fields) > 8 THEN
        PERFORM @guard@.wrong('give up to 8 fields with one key each');
    END IF;
    RETURN QUERY
    SELECT DISTINCT ON (c.id) c.id, c.customer_number::text, c.first_name::text,
           c.last_name::text, q.f, c.assigned_agent_id
      FROM unnest(fields, keys) AS q(f, k)
      JOIN customer_search_key s ON s.field = q.f AND s.key = q.k
      JOIN customer c ON c.id = s.customer_id
     WHERE q.f IN ('customer_number', 'claim_reference', 'phone', 'email',
                   'postcode_house_number')
       AND @guard@.key_matches(c.id, q.f, q.k)
     ORDER BY c.id
     LIMIT least(greatest(coalesce(max_rows, 0), 0), 50);
END
$$;

CREATE OR REPLACE FUNCTION agent_desk_open_inbound(
    c_id bigint, f text, k text, until timestamptz)
RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    held bigint;
    held_to timestamptz;
BEGIN
    who := @guard@.caller();
    IF who.kind NOT IN ('agent', 'supervisor') THEN
        PERFORM @guard@.refuse('only the team''s agents take inbound calls');
    END IF;
    IF NOT @guard@.key_matches(c_id, f, k) THEN
        PERFORM @guard@.refuse('an inbound caller is opened by a number or address they stated');
    END IF;
    IF (SELECT count(*) FROM audit_event a WHERE a.agent_id = who.agent_id
         AND a.action = 'inbound_open' AND a.at > now() - interval '1 hour') >= @per_hour@ THEN
        PERFORM @guard@.refuse('too many inbound customers opened in the last hour');
    END IF;
    SELECT c.held_by_agent_id, c.held_until INTO held, held_to FROM customer c
     WHERE c.id = c_id FOR UPDATE;
    IF held IS NOT NULL AND held <> who.agent_id AND held_to > now() THEN
        RETURN false;
    END IF;
    -- The customer guard checks the hold (one's own, a few hours at most).
    UPDATE customer SET held_by_agent_id = who.agent_id, held_until = until WHERE id = c_id;
    INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, detail)
    VALUES (now(), who.agent_id, 'inbound_open', 'customer', c_id, c_id, f);
    PERFORM agent_desk_log_changes(ARRAY['customer'], ARRAY[c_id], ARRAY['update'], ARRAY[c_id]);
    RETURN true;
END
$$;

-- Release one's holds (all but keep). A person's own UPDATE cannot release a customer
-- they no longer see afterwards (a colleague's: an inbound caller, or one reassigned
-- meanwhile), because PostgreSQL checks the new row against the reading policy too.
-- The owner (bulk tools, tests) names the agent; people always release their own.
CREATE OR REPLACE FUNCTION agent_desk_release_holds(for_agent bigint, keep bigint)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    me bigint;
    released bigint[];
BEGIN
    who := @guard@.caller();
    IF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team hold customers');
    END IF;
    me := CASE WHEN who.kind = 'owner' THEN for_agent ELSE who.agent_id END;
    WITH done AS (
        UPDATE customer SET held_by_agent_id = NULL, held_until = NULL
         WHERE held_by_agent_id = me AND (keep IS NULL OR id <> keep)
        RETURNING id)
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO released FROM done;
    IF cardinality(released) > 0 THEN
        PERFORM agent_desk_log_changes(
            array_fill('customer'::text, ARRAY[cardinality(released)]), released,
            array_fill('update'::text, ARRAY[cardinality(released)]), released);
    END IF;
    RETURN released;
END
$$;
"""


def _statements(script: str) -> list[str]:
    """Split at a ``;`` that ends a line outside ``$$`` quotes (as in 0004)."""
    statements: list[str] = []
    current: list[str] = []
    quoted = False
    for line in script.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        if line.count("$$") % 2:
            quoted = not quoted
        if not quoted and line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if "".join(current).strip():
        statements.append("\n".join(current))
    return statements


def _run(script: str, schema: str) -> None:
    script = (
        script.replace("@schema@", f'"{schema}"')
        .replace("@guard@", GUARD)
        .replace("@per_hour@", str(INBOUND_PER_HOUR))
    )
    for statement in _statements(script):
        op.execute(text(statement))


def _security(schema: str) -> None:
    groups = f"{AGENT}, {SUPERVISOR}"
    table = "customer_search_key"
    _run(_FUNCTIONS, schema)
    _run(
        f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR}
    USING {IS_SUPERVISOR} WITH CHECK {IS_SUPERVISOR};
CREATE POLICY agent_own ON {table} TO {AGENT}
    USING (customer_id IN (SELECT id FROM customer))
    WITH CHECK (customer_id IN (SELECT id FROM customer));
REVOKE ALL ON {table} FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON {table} TO {groups};
REVOKE ALL ON FUNCTION {GUARD}.key_matches(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_desk_find_by_key(text[], text[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_desk_find_by_key(text[], text[], integer) TO {groups};
REVOKE ALL ON FUNCTION agent_desk_open_inbound(bigint, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_desk_open_inbound(bigint, text, text, timestamptz) TO {groups};
REVOKE ALL ON FUNCTION agent_desk_release_holds(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_desk_release_holds(bigint, bigint) TO {groups};
""",
        schema,
    )


def upgrade() -> None:
    op.create_table(
        "customer_search_key",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("field", sa.String(24), nullable=False),
        sa.Column("key", KeyText, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_customer_search_key_customer_id_customer",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "field", "key", name="pk_customer_search_key"),
    )
    op.create_index(
        "ix_customer_search_key_lookup", "customer_search_key", ["field", "key", "customer_id"]
    )
    bind = op.get_bind()
    search_index.rebuild_all(bind)
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        _security(schema)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for signature in (
            "agent_desk_release_holds(bigint, bigint)",
            "agent_desk_open_inbound(bigint, text, text, timestamptz)",
            "agent_desk_find_by_key(text[], text[], integer)",
            f"{GUARD}.key_matches(bigint, text, text)",
        ):
            op.execute(text(f"DROP FUNCTION IF EXISTS {signature}"))
    op.drop_index("ix_customer_search_key_lookup", "customer_search_key")
    op.drop_table("customer_search_key")
