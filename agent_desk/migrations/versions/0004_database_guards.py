"""the database is the last line: guards against a hostile client (PostgreSQL only)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Every desk connects with the person's own login role, so the team database assumes
the client may send anything. This revision makes the database keep what matters,
whatever the connection writes (``docs/architecture.md``, "The database is the last
line", says why each mechanism):

* **One team per database.** Every policy asks whether the login is an *active
  person of this database's* ``agent`` table with the role of its group
  (``agent_desk_my_role()``); rights in another Agent Desk database on the server
  give nothing here. Every table has row-level security, also ``agent``, ``setting``,
  ``change_log`` and ``alembic_version``. ``CONNECT`` and ``TEMPORARY`` on the
  database go from ``PUBLIC`` to each person's login (``admin add-user`` grants it
  from now on), so a stranger cannot even open a session (or ``NOTIFY`` its desks).
* **The books.** An agent's connection books only interest (never more than the
  statutory rates allow) and waivers (of costs or interest, never more than is
  open), and only with an arrangement agreed in the same transaction. Every
  arrangement a person writes must be what the books say is owed when it is agreed,
  its instalments must add up to its total, an agent's ``active`` one must be within
  the policy, and its terms never change afterwards. The checks run at commit
  (deferred constraint triggers), so they see the whole transaction.
* **Derived columns.** A person may change a customer's queue columns (arrears,
  oldest due date, flags, next step, bucket, credit) and a claim's caches only to what
  the database works out from the books and the next steps itself.
* **Audit and change log.** Pauses, vulnerability, assignment and status changes and
  a supervisor's decision on an arrangement get an audit row the database writes
  itself. Audit events and the change log are written in one's own name about
  customers one may see; the change log only through ``agent_desk_log_changes()``.
* **Bounds.** Pauses, next steps, promises, holds and back-dated 14-day letters of an
  agent stay within ``agent_desk.domain.limits``.

The numbers and the queue rule come from the Python rules (``services.db_rules``),
written again at every ``agent-desk db upgrade``. The owner (who migrates, runs the
nightly run and bulk loads) is trusted: the guards check people, not the owner.

On SQLite (one desk, one person) this migration does nothing.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from agent_desk.services import db_rules

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"
GUARD = db_rules.GUARD_SCHEMA

TABLES = (
    "agent",
    "setting",
    "change_log",
    "audit_event",
    "customer",
    "contact_point",
    "claim",
    "contact_attempt",
    "note",
    "promise_to_pay",
    "arrangement",
    "instalment",
    "next_step",
    "letter_sent",
    "payment",
    "ledger_entry",
    "demand_notice",
    "demand_notice_claim",
    "alembic_version",
)
# Tables whose rows belong to one customer (a ``customer_id`` column).
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
    "ledger_entry",
    "demand_notice",
)
DERIVED = (
    "arrears_cents",
    "oldest_due_date",
    "first_time_arrears",
    "broken_arrangement",
    "missed_instalment",
    "queue_bucket",
    "next_step_kind",
    "next_step_due_at",
    "credit_cents",
)
# What an agent's desk changes on a customer: their own work, never the assignment or
# the status; the derived columns only to what the database works out.
AGENT_CUSTOMER_COLUMNS = (
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
    "date_of_birth",
    "held_by_agent_id",
    "held_until",
    "version",
    *DERIVED,
)
SUPERVISOR_AGENT_COLUMNS = ("display_name", "role", "active", "version")

ME = "(SELECT agent_desk_current_agent_id())"  # an InitPlan: once per statement
IS_SUPERVISOR = "((SELECT agent_desk_my_role()) = 'supervisor')"
IS_PERSON = "((SELECT agent_desk_my_role()) IS NOT NULL)"
VISIBLE_CUSTOMER = "customer_id IN (SELECT id FROM customer)"


def _sql(template: str, schema: str) -> None:
    """Run the statements of ``template`` one by one (a driver runs one at a time)."""
    script = (
        template.replace("@schema@", f'"{schema}"')
        .replace("@guard@", GUARD)
        .replace("@agent@", AGENT)
        .replace("@supervisor@", SUPERVISOR)
    )
    for statement in _statements(script):
        op.execute(text(statement))


def _statements(script: str) -> list[str]:
    """Split at a ``;`` that ends a line outside ``$$`` quotes."""
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


# ----------------------------------------------------------------- who is calling

_WHO = """
-- Policies run as the caller: current_user is the login (the default argument is
-- evaluated at the call). A person is an active row of THIS database's agent table
-- whose login is in the group role of that row's role.
CREATE OR REPLACE FUNCTION agent_desk_my_role(login name DEFAULT current_user)
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
    found text;
BEGIN
    SELECT a.role INTO found FROM agent a WHERE a.login = $1 AND a.active;
    IF found IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = $1) THEN
        RETURN NULL;
    END IF;
    IF found = 'supervisor' AND pg_has_role($1, '@supervisor@', 'USAGE') THEN
        RETURN 'supervisor';
    END IF;
    IF found = 'agent' AND pg_has_role($1, '@agent@', 'USAGE') THEN
        RETURN 'agent';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION agent_desk_current_agent_id(login name DEFAULT current_user)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = @schema@, pg_temp
AS $$ SELECT a.id FROM agent a WHERE a.login = $1 AND a.active AND a.role = agent_desk_my_role($1) $$;

-- Triggers and functions with side effects run as the owner, so they ask who the
-- session belongs to (session_user: SET ROLE cannot change it) instead of taking it
-- as an argument a client could forge.
CREATE FUNCTION @guard@.caller(OUT kind text, OUT agent_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
    found text;
BEGIN
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user)
       OR pg_has_role(session_user, current_user, 'MEMBER') THEN
        kind := 'owner';
        RETURN;
    END IF;
    SELECT a.id, a.role INTO agent_id, found FROM agent a
     WHERE a.login = session_user AND a.active;
    IF found = 'supervisor' AND pg_has_role(session_user, '@supervisor@', 'USAGE') THEN
        kind := 'supervisor';
    ELSIF found = 'agent' AND pg_has_role(session_user, '@agent@', 'USAGE') THEN
        kind := 'agent';
    ELSE
        kind := 'nobody';
        agent_id := NULL;
    END IF;
END
$$;

CREATE FUNCTION @guard@.refuse(message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Agent Desk: %', message USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION @guard@.wrong(message text, detail text DEFAULT '') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Agent Desk: %', message USING ERRCODE = 'check_violation', DETAIL = detail;
END
$$;

CREATE FUNCTION @guard@.rule(rule_name text) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp
AS $$ SELECT r.value FROM @guard@.rule r WHERE r.name = $1 $$;

-- The agreement day as the desk saw it: the desk's zone lies between UTC-12 and
-- UTC+14, so at most two dates.
CREATE FUNCTION @guard@.local_days(at timestamptz) RETURNS SETOF date
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT d FROM (VALUES (($1 AT TIME ZONE 'UTC' - interval '12 hours')::date),
                                   (($1 AT TIME ZONE 'UTC' + interval '14 hours')::date)) v(d)
    ORDER BY d
$$;
"""

# ------------------------------------------------------------------ guard tables

_TABLES = """
CREATE SCHEMA IF NOT EXISTS @guard@;
REVOKE ALL ON SCHEMA @guard@ FROM PUBLIC;
CREATE TABLE @guard@.rule (name text PRIMARY KEY, value numeric NOT NULL);
CREATE TABLE @guard@.interest_rate (effective_from date PRIMARY KEY, rate numeric NOT NULL);
-- Which transaction agreed an arrangement: its instalments and its waivers and
-- interest may be written only in that one.
CREATE TABLE @guard@.arrangement_tx (arrangement_id bigint PRIMARY KEY, xact xid8 NOT NULL);
-- Customers an agent's transaction changed: it may log those changes even when the
-- change took the customer off the agent's desk (a hold released after reassignment).
CREATE TABLE @guard@.touched (customer_id bigint PRIMARY KEY, xact xid8 NOT NULL);
"""

# --------------------------------------------------------------- derived columns

_DERIVED = """
-- The customer's queue facts by the rules of services/derived.py, from the books.
CREATE FUNCTION @guard@.customer_facts(c_id bigint,
    OUT arrears bigint, OUT oldest date, OUT first_time boolean, OUT broken boolean,
    OUT missed boolean, OUT step_kind text, OUT step_due timestamptz, OUT credit bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    promises integer;
    arrangements integer;
    n_broken integer;
    n_active integer;
BEGIN
    SELECT coalesce(sum(t.owed) FILTER (WHERE t.owed > 0), 0),
           min(t.due_date) FILTER (WHERE t.owed > 0)
      INTO arrears, oldest
      FROM (SELECT c.due_date,
                   coalesce((SELECT sum(e.amount_cents) FROM ledger_entry e
                              WHERE e.claim_id = c.id), 0) AS owed
              FROM claim c WHERE c.customer_id = c_id) t;
    SELECT count(*) INTO promises FROM promise_to_pay p WHERE p.customer_id = c_id;
    SELECT count(*), count(*) FILTER (WHERE a.status = 'broken'),
           count(*) FILTER (WHERE a.status = 'active')
      INTO arrangements, n_broken, n_active
      FROM arrangement a WHERE a.customer_id = c_id;
    first_time := promises = 0 AND arrangements = 0
        AND EXISTS (SELECT 1 FROM claim c WHERE c.customer_id = c_id AND c.settled_on IS NULL)
        AND NOT EXISTS (SELECT 1 FROM claim c
                         WHERE c.customer_id = c_id AND c.settled_on > c.due_date);
    broken := n_broken > 0 AND n_active = 0;
    missed := EXISTS (SELECT 1 FROM instalment i JOIN arrangement a ON a.id = i.arrangement_id
                       WHERE a.customer_id = c_id AND a.status = 'active'
                         AND i.status = 'missed');
    SELECT s.kind, s.due_at INTO step_kind, step_due FROM next_step s
     WHERE s.customer_id = c_id AND s.done_at IS NULL ORDER BY s.due_at, s.id LIMIT 1;
    SELECT coalesce(sum(e.amount_cents), 0) INTO credit FROM ledger_entry e
     WHERE e.customer_id = c_id AND e.claim_id IS NULL;
END
$$;

CREATE FUNCTION @guard@.customer_before_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    f record;
    bad text[] := '{}';
    bucket smallint;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team change its customers');
    END IF;
    IF (NEW.arrears_cents, NEW.oldest_due_date, NEW.first_time_arrears,
        NEW.broken_arrangement, NEW.missed_instalment, NEW.queue_bucket, NEW.next_step_kind,
        NEW.next_step_due_at, NEW.credit_cents)
       IS DISTINCT FROM
       (OLD.arrears_cents, OLD.oldest_due_date, OLD.first_time_arrears,
        OLD.broken_arrangement, OLD.missed_instalment, OLD.queue_bucket, OLD.next_step_kind,
        OLD.next_step_due_at, OLD.credit_cents) THEN
        f := @guard@.customer_facts(NEW.id);
        IF NEW.arrears_cents IS DISTINCT FROM OLD.arrears_cents
           AND NEW.arrears_cents IS DISTINCT FROM f.arrears THEN
            bad := bad || format('arrears_cents %s (the books say %s)', NEW.arrears_cents, f.arrears);
        END IF;
        IF NEW.oldest_due_date IS DISTINCT FROM OLD.oldest_due_date
           AND NEW.oldest_due_date IS DISTINCT FROM f.oldest THEN
            bad := bad || format('oldest_due_date %s (the books say %s)', NEW.oldest_due_date, f.oldest);
        END IF;
        IF NEW.first_time_arrears IS DISTINCT FROM OLD.first_time_arrears
           AND NEW.first_time_arrears IS DISTINCT FROM f.first_time THEN
            bad := bad || format('first_time_arrears %s', NEW.first_time_arrears);
        END IF;
        IF NEW.broken_arrangement IS DISTINCT FROM OLD.broken_arrangement
           AND NEW.broken_arrangement IS DISTINCT FROM f.broken THEN
            bad := bad || format('broken_arrangement %s', NEW.broken_arrangement);
        END IF;
        IF NEW.missed_instalment IS DISTINCT FROM OLD.missed_instalment
           AND NEW.missed_instalment IS DISTINCT FROM f.missed THEN
            bad := bad || format('missed_instalment %s', NEW.missed_instalment);
        END IF;
        IF NEW.next_step_kind IS DISTINCT FROM OLD.next_step_kind
           AND NEW.next_step_kind IS DISTINCT FROM f.step_kind THEN
            bad := bad || format('next_step_kind %s (the open next step is %s)', NEW.next_step_kind, f.step_kind);
        END IF;
        IF NEW.next_step_due_at IS DISTINCT FROM OLD.next_step_due_at
           AND NEW.next_step_due_at IS DISTINCT FROM f.step_due THEN
            bad := bad || format('next_step_due_at %s (the open next step is due %s)', NEW.next_step_due_at, f.step_due);
        END IF;
        IF NEW.credit_cents IS DISTINCT FROM OLD.credit_cents
           AND NEW.credit_cents IS DISTINCT FROM f.credit THEN
            bad := bad || format('credit_cents %s (the books say %s)', NEW.credit_cents, f.credit);
        END IF;
        IF NEW.queue_bucket IS DISTINCT FROM OLD.queue_bucket THEN
            bucket := @guard@.queue_bucket(NEW.status = 'open', NEW.next_step_kind,
                NEW.called_in_at IS NOT NULL, NEW.broken_arrangement, NEW.missed_instalment,
                NEW.first_time_arrears);
            IF NEW.queue_bucket IS DISTINCT FROM bucket THEN
                bad := bad || format('queue_bucket %s (the queue rule says %s)', NEW.queue_bucket, bucket);
            END IF;
        END IF;
        IF cardinality(bad) > 0 THEN
            PERFORM @guard@.refuse(format(
                'customer %s: the queue columns follow the books and the next steps, not the desk: %s',
                NEW.id, array_to_string(bad, '; ')));
        END IF;
    END IF;
    IF who.kind = 'agent' THEN
        IF NEW.held_by_agent_id IS DISTINCT FROM OLD.held_by_agent_id
           AND NEW.held_by_agent_id IS DISTINCT FROM who.agent_id
           AND NEW.held_by_agent_id IS NOT NULL THEN
            PERFORM @guard@.refuse('an agent holds customers for themselves only');
        END IF;
        IF NEW.held_until IS DISTINCT FROM OLD.held_until
           AND NEW.held_until > now() + make_interval(hours => @guard@.rule('max_hold_hours')::int) THEN
            PERFORM @guard@.refuse('a desk holds a customer for a few hours at most');
        END IF;
        IF NEW.paused_until IS DISTINCT FROM OLD.paused_until
           AND NEW.paused_until > current_date + 1 + @guard@.rule('max_pause_days')::int THEN
            PERFORM @guard@.refuse(format('a pause lasts at most %s days',
                                          @guard@.rule('max_pause_days')));
        END IF;
        IF NEW.vulnerability_consent_by_id IS DISTINCT FROM OLD.vulnerability_consent_by_id
           AND NEW.vulnerability_consent_by_id IS DISTINCT FROM who.agent_id
           AND NEW.vulnerability_consent_by_id IS NOT NULL THEN
            PERFORM @guard@.refuse('a consent is recorded in one''s own name');
        END IF;
        INSERT INTO @guard@.touched (customer_id, xact) VALUES (NEW.id, pg_current_xact_id())
            ON CONFLICT (customer_id) DO UPDATE SET xact = EXCLUDED.xact;
    END IF;
    RETURN NEW;
END
$$;

-- What takes a customer out of sight or protects them is recorded by the database,
-- whatever the desk writes to the audit trail itself.
CREATE FUNCTION @guard@.customer_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    changes text[] := '{}';
BEGIN
    who := @guard@.caller();
    IF who.kind NOT IN ('agent', 'supervisor') THEN
        RETURN NULL;
    END IF;
    IF NEW.paused_until IS DISTINCT FROM OLD.paused_until THEN
        changes := changes || format('paused_until %s -> %s',
            coalesce(OLD.paused_until::text, 'none'), coalesce(NEW.paused_until::text, 'none'));
    END IF;
    IF NEW.pause_reason IS DISTINCT FROM OLD.pause_reason THEN
        changes := changes || 'pause_reason changed'::text;
    END IF;
    IF NEW.vulnerable IS DISTINCT FROM OLD.vulnerable THEN
        changes := changes || format('vulnerable %s -> %s', OLD.vulnerable, NEW.vulnerable);
    END IF;
    IF NEW.vulnerability_note IS DISTINCT FROM OLD.vulnerability_note
       OR NEW.vulnerability_consent_at IS DISTINCT FROM OLD.vulnerability_consent_at
       OR NEW.vulnerability_consent_by_id IS DISTINCT FROM OLD.vulnerability_consent_by_id THEN
        changes := changes || 'vulnerability record changed'::text;
    END IF;
    IF NEW.assigned_agent_id IS DISTINCT FROM OLD.assigned_agent_id THEN
        changes := changes || format('assigned_agent_id %s -> %s',
            coalesce(OLD.assigned_agent_id::text, 'none'), coalesce(NEW.assigned_agent_id::text, 'none'));
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        changes := changes || format('status %s -> %s', OLD.status, NEW.status);
    END IF;
    IF cardinality(changes) > 0 THEN
        INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, detail)
        VALUES (now(), who.agent_id, 'db_recorded', 'customer', NEW.id, NEW.id,
                'recorded by the database: ' || array_to_string(changes, '; '));
    END IF;
    RETURN NULL;
END
$$;

-- A claim's caches follow its entries.
CREATE FUNCTION @guard@.claim_before_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    paid bigint;
    owed bigint;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team change its claims');
    END IF;
    SELECT coalesce(-sum(e.amount_cents) FILTER (WHERE e.kind = 'payment'), 0),
           coalesce(sum(e.amount_cents), 0)
      INTO paid, owed FROM ledger_entry e WHERE e.claim_id = NEW.id;
    IF NEW.paid_cents IS DISTINCT FROM OLD.paid_cents AND NEW.paid_cents <> paid THEN
        PERFORM @guard@.refuse(format('claim %s: paid_cents follows the payments on the books (%s)',
                                      NEW.id, paid));
    END IF;
    IF NEW.settled_on IS DISTINCT FROM OLD.settled_on THEN
        IF (NEW.settled_on IS NULL) <> (owed > 0)
           OR NEW.settled_on > current_date + 1
           OR (who.kind = 'agent' AND NEW.settled_on < current_date - 1) THEN
            PERFORM @guard@.refuse(format(
                'claim %s: settled_on follows the books (%s owed)', NEW.id, owed));
        END IF;
    END IF;
    RETURN NEW;
END
$$;
"""

# ----------------------------------------------------------------- arrangements

_ARRANGEMENTS = """
CREATE FUNCTION @guard@.arrangement_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team agree arrangements');
    END IF;
    IF NEW.agent_id IS DISTINCT FROM who.agent_id THEN
        PERFORM @guard@.refuse('an arrangement is agreed in one''s own name');
    END IF;
    IF NEW.created_at NOT BETWEEN now() - interval '1 day' AND now() + interval '1 day' THEN
        PERFORM @guard@.refuse('an arrangement is agreed today, not on another day');
    END IF;
    IF who.kind = 'agent' AND NEW.status NOT IN ('active', 'pending_approval') THEN
        PERFORM @guard@.refuse('an agent''s arrangement is active or waits for approval');
    END IF;
    INSERT INTO @guard@.arrangement_tx (arrangement_id, xact)
    VALUES (NEW.id, pg_current_xact_id())
    ON CONFLICT (arrangement_id) DO UPDATE SET xact = EXCLUDED.xact;
    RETURN NEW;
END
$$;

-- At commit: the arrangement is what the books say is owed, its instalments add up,
-- and an agent's active one is within the policy.
CREATE FUNCTION @guard@.check_arrangement(a_id bigint, who_kind text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    a arrangement%ROWTYPE;
    n integer;
    total bigint;
    nonpositive integer;
    not_new integer;
    first_due date;
    last_due date;
    regular_n integer;
    first_regular bigint;
    running integer;
    w_costs bigint;
    w_interest bigint;
    d date;
    p bigint;
    k bigint;
    i bigint;
    stale integer;
    ok boolean := false;
BEGIN
    SELECT * INTO a FROM arrangement WHERE id = a_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT count(*), coalesce(sum(s.amount_cents), 0), count(*) FILTER (WHERE s.amount_cents <= 0),
           count(*) FILTER (WHERE s.status <> 'open' OR s.paid_cents <> 0), min(s.due_date),
           count(*) FILTER (WHERE s.number >= 1)
      INTO n, total, nonpositive, not_new, first_due, regular_n
      FROM instalment s WHERE s.arrangement_id = a_id;
    SELECT s.due_date INTO last_due FROM instalment s WHERE s.arrangement_id = a_id
     ORDER BY s.number DESC, s.due_date DESC LIMIT 1;
    SELECT s.amount_cents INTO first_regular FROM instalment s
     WHERE s.arrangement_id = a_id AND s.number >= 1 ORDER BY s.number LIMIT 1;
    IF n = 0 OR total <> a.total_cents OR nonpositive > 0 OR not_new > 0 THEN
        PERFORM @guard@.wrong(format(
            'the %s instalments of arrangement %s add up to %s cents, its total is %s '
            '(each more than zero, open and unpaid)', n, a_id, total, a.total_cents));
    END IF;
    IF a.principal_cents <= 0 OR a.costs_cents < 0 OR a.interest_cents < 0
       OR a.total_cents <> a.principal_cents
            + (CASE WHEN a.costs_waived THEN 0 ELSE a.costs_cents END)
            + (CASE WHEN a.interest_waived THEN 0 ELSE a.interest_cents END) THEN
        PERFORM @guard@.wrong(format(
            'arrangement %s: the total %s is not the principal %s plus the costs %s and '
            'interest %s that are not waived', a_id, a.total_cents, a.principal_cents,
            a.costs_cents, a.interest_cents));
    END IF;
    IF a.status IN ('active', 'pending_approval') THEN
        SELECT count(*) INTO running FROM arrangement o
         WHERE o.customer_id = a.customer_id AND o.id <> a_id
           AND o.status IN ('active', 'pending_approval');
        IF running > 0 THEN
            PERFORM @guard@.wrong(format(
                'customer %s already has an arrangement running or waiting for approval',
                a.customer_id));
        END IF;
    END IF;
    IF a.status = 'pending_approval' AND coalesce(btrim(a.approval_needed_reason), '') = '' THEN
        PERFORM @guard@.wrong('an arrangement waiting for approval says why it needs it');
    END IF;

    -- What the books say: the claims due by the day it was agreed, after the interest
    -- and waivers booked with it.
    SELECT coalesce(-sum(e.amount_cents) FILTER (WHERE e.part = 'costs'), 0),
           coalesce(-sum(e.amount_cents) FILTER (WHERE e.part = 'interest'), 0)
      INTO w_costs, w_interest
      FROM ledger_entry e WHERE e.arrangement_id = a_id AND e.kind = 'waiver';
    FOR d IN SELECT @guard@.local_days(a.created_at) LOOP
        SELECT coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'principal'), 0),
               coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'costs'), 0),
               coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'interest'), 0)
          INTO p, k, i
          FROM ledger_entry e JOIN claim c ON c.id = e.claim_id
         WHERE c.customer_id = a.customer_id AND c.due_date <= d;
        -- Interest must be booked up to that day on every claim in default with
        -- principal open: an arrangement never lets unbooked interest go silently.
        SELECT count(*) INTO stale FROM claim c
         WHERE c.customer_id = a.customer_id AND c.due_date + 1 < d
           AND (SELECT coalesce(sum(e.amount_cents), 0) FROM ledger_entry e
                 WHERE e.claim_id = c.id AND e.part = 'principal') > 0
           AND coalesce((SELECT max(e.interest_through) FROM ledger_entry e
                          WHERE e.claim_id = c.id AND e.kind = 'interest'), '-infinity') < d;
        IF p = a.principal_cents AND k + w_costs = a.costs_cents
           AND i + w_interest = a.interest_cents
           AND (CASE WHEN a.costs_waived THEN k = 0 ELSE w_costs = 0 END)
           AND (CASE WHEN a.interest_waived THEN i = 0 ELSE w_interest = 0 END)
           AND stale = 0 THEN
            ok := true;
            EXIT;
        END IF;
    END LOOP;
    IF NOT ok THEN
        PERFORM @guard@.wrong(
            format('arrangement %s is not what the books say is owed', a_id),
            format('books (claims due by %s, after the entries of this transaction): principal '
                   '%s, costs %s, interest %s, waived in it %s costs and %s interest, %s claims '
                   'with interest not booked up to that day; arrangement: principal %s, costs %s '
                   '(waived %s), interest %s (waived %s)', d, p, k, i, w_costs, w_interest,
                   stale, a.principal_cents, a.costs_cents, a.costs_waived, a.interest_cents,
                   a.interest_waived));
    END IF;

    IF who_kind = 'agent' THEN
        IF first_due < current_date - 1 THEN
            PERFORM @guard@.wrong('the first instalment cannot be due in the past');
        END IF;
        IF a.status = 'active' THEN
            IF regular_n > @guard@.rule('max_instalments') THEN
                PERFORM @guard@.refuse(format(
                    'an agent''s arrangement of %s instalments waits for a supervisor (the policy '
                    'allows %s)', regular_n, @guard@.rule('max_instalments')));
            END IF;
            IF regular_n > 1 AND first_regular < @guard@.rule('min_instalment_cents') THEN
                PERFORM @guard@.refuse(format(
                    'an agent''s arrangement with instalments of %s cents waits for a supervisor '
                    '(the policy minimum is %s)', first_regular,
                    @guard@.rule('min_instalment_cents')));
            END IF;
            IF last_due > (first_due
                           + make_interval(months => @guard@.rule('max_term_months')::int))::date THEN
                PERFORM @guard@.refuse(format(
                    'an agent''s arrangement ending %s waits for a supervisor (the policy allows %s '
                    'months)', last_due, @guard@.rule('max_term_months')));
            END IF;
            IF @guard@.rule('costs_may_be_added') = 0 AND NOT a.costs_waived
               AND a.costs_cents > 0 THEN
                PERFORM @guard@.refuse(
                    'the policy does not let an agent add collection costs without approval');
            END IF;
        END IF;
    END IF;
END
$$;

CREATE FUNCTION @guard@.arrangement_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind IN ('agent', 'supervisor') THEN
        PERFORM @guard@.check_arrangement(NEW.id, who.kind);
    END IF;
    RETURN NULL;
END
$$;

-- Terms never change; a supervisor decides once, in their own name.
CREATE FUNCTION @guard@.arrangement_before_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind <> 'supervisor' THEN
        PERFORM @guard@.refuse('only a supervisor changes an arrangement''s status');
    END IF;
    IF (NEW.customer_id, NEW.agent_id, NEW.created_at, NEW.frequency, NEW.principal_cents,
        NEW.costs_cents, NEW.interest_cents, NEW.costs_waived, NEW.interest_waived,
        NEW.total_cents, NEW.approval_needed_reason)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.agent_id, OLD.created_at, OLD.frequency, OLD.principal_cents,
        OLD.costs_cents, OLD.interest_cents, OLD.costs_waived, OLD.interest_waived,
        OLD.total_cents, OLD.approval_needed_reason) THEN
        PERFORM @guard@.refuse(format(
            'the terms of arrangement %s never change; agree a new arrangement instead', OLD.id));
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending_approval' AND NEW.status IN ('active', 'declined', 'cancelled'))
        OR (OLD.status = 'active' AND NEW.status IN ('completed', 'broken', 'cancelled'))) THEN
        PERFORM @guard@.refuse(format('an arrangement does not go from %s to %s',
                                      OLD.status, NEW.status));
    END IF;
    IF (NEW.approved_by_id, NEW.approved_at, NEW.approval_note)
       IS DISTINCT FROM (OLD.approved_by_id, OLD.approved_at, OLD.approval_note) THEN
        IF OLD.status <> 'pending_approval' OR NEW.status = OLD.status
           OR NEW.approved_by_id IS DISTINCT FROM who.agent_id
           OR NEW.approved_at IS NULL OR coalesce(btrim(NEW.approval_note), '') = '' THEN
            PERFORM @guard@.refuse(
                'a supervisor decides on a waiting arrangement once, in their own name, with a note');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION @guard@.arrangement_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind IN ('agent', 'supervisor') AND NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, detail)
        VALUES (now(), who.agent_id, 'db_recorded', 'arrangement', NEW.id, NEW.customer_id,
                format('recorded by the database: status %s -> %s%s', OLD.status, NEW.status,
                       CASE WHEN NEW.approval_note IS DISTINCT FROM OLD.approval_note
                            THEN ': ' || NEW.approval_note ELSE '' END));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION @guard@.instalment_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team write instalments');
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM @guard@.arrangement_tx g
                        WHERE g.arrangement_id = NEW.arrangement_id
                          AND g.xact = pg_current_xact_id()) THEN
            PERFORM @guard@.refuse(
                'instalments are written with their arrangement, in the same transaction');
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.arrangement_id, NEW.number, NEW.due_date, NEW.amount_cents)
       IS DISTINCT FROM (OLD.arrangement_id, OLD.number, OLD.due_date, OLD.amount_cents) THEN
        PERFORM @guard@.refuse(format(
            'the terms of arrangement %s never change; agree a new arrangement instead',
            OLD.arrangement_id));
    END IF;
    IF NEW.paid_cents < 0 OR NEW.paid_cents > NEW.amount_cents
       OR NEW.status NOT IN ('open', 'paid', 'missed') THEN
        PERFORM @guard@.wrong('an instalment is paid between nothing and its amount');
    END IF;
    RETURN NEW;
END
$$;
"""

# ---------------------------------------------------------------------- the books

_BOOKS = """
-- An upper bound of the statutory interest on a claim up to the last day booked:
-- the invoiced principal at the highest rate of the period, compounded every 365
-- days, plus a cent of rounding per entry, per year and per rate. Python books the
-- exact figure (domain/interest.py); this only keeps a forged one out.
CREATE FUNCTION @guard@.interest_cap(c_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    since date;
    upto date;
    base numeric;
    entries integer;
    r numeric;
    rates integer;
    days integer;
    years integer;
BEGIN
    SELECT c.due_date + 1 INTO since FROM claim c WHERE c.id = c_id;
    SELECT coalesce(sum(e.amount_cents) FILTER (
               WHERE e.part = 'principal' AND e.kind IN ('principal', 'correction')
                 AND e.amount_cents > 0), 0),
           max(coalesce(e.interest_through, e.booked_on)) FILTER (WHERE e.kind = 'interest'),
           count(*) FILTER (WHERE e.kind = 'interest')
      INTO base, upto, entries FROM ledger_entry e WHERE e.claim_id = c_id;
    IF upto IS NULL OR upto <= since THEN
        RETURN entries + 1;
    END IF;
    SELECT max(x.rate), count(*) INTO r, rates FROM (
        SELECT t.rate, t.effective_from,
               lead(t.effective_from) OVER (ORDER BY t.effective_from) AS until
          FROM @guard@.interest_rate t) x
     WHERE x.effective_from < upto AND (x.until IS NULL OR x.until > since);
    IF r IS NULL THEN
        SELECT max(t.rate), count(*) INTO r, rates FROM @guard@.interest_rate t;
    END IF;
    days := upto - since;
    years := days / 365;
    RETURN ceil(base * (power(1 + r, years) * (1 + r * (days - years * 365) / 365.0) - 1))::bigint
           + entries + years + rates + 1;
END
$$;

CREATE FUNCTION @guard@.ledger_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team book on its claims');
    END IF;
    IF NEW.agent_id IS NULL THEN
        NEW.agent_id := who.agent_id;  -- the books say who booked
    ELSIF NEW.agent_id <> who.agent_id THEN
        PERFORM @guard@.refuse('an entry is booked in one''s own name');
    END IF;
    IF NEW.claim_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM claim c WHERE c.id = NEW.claim_id AND c.customer_id = NEW.customer_id) THEN
        PERFORM @guard@.refuse('an entry is booked on a claim of its own customer');
    END IF;
    IF who.kind = 'agent' THEN
        IF NEW.kind NOT IN ('interest', 'waiver') THEN
            PERFORM @guard@.refuse(format(
                'an agent''s connection books no %s: payments come from the import, costs from '
                'the nightly run, claims from the billing system', NEW.kind));
        END IF;
        IF (NEW.kind = 'waiver' AND NEW.amount_cents >= 0)
           OR (NEW.kind = 'interest' AND NEW.amount_cents < 0) THEN
            PERFORM @guard@.refuse(
                'an agent books interest (never negative) and waivers (never positive)');
        END IF;
        IF NEW.arrangement_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM @guard@.arrangement_tx g JOIN arrangement a ON a.id = g.arrangement_id
             WHERE g.arrangement_id = NEW.arrangement_id AND g.xact = pg_current_xact_id()
               AND a.customer_id = NEW.customer_id) THEN
            PERFORM @guard@.refuse(
                'an agent books interest and waivers only with the arrangement agreed in the '
                'same transaction');
        END IF;
        IF NEW.payment_id IS NOT NULL OR NEW.notice_id IS NOT NULL
           OR NEW.booked_on > current_date + 1 OR NEW.interest_through > current_date + 1 THEN
            PERFORM @guard@.refuse('an agent books up to today, without a payment or letter');
        END IF;
    END IF;
    IF NOT (CASE NEW.kind
        WHEN 'principal' THEN NEW.part = 'principal' AND NEW.amount_cents >= 0
        WHEN 'correction' THEN NEW.part = 'principal'
        WHEN 'costs' THEN NEW.part = 'costs' AND NEW.amount_cents >= 0
        WHEN 'interest' THEN NEW.part = 'interest' AND NEW.amount_cents >= 0
        WHEN 'payment' THEN NEW.part IN ('principal', 'costs', 'interest')
                            AND NEW.amount_cents <= 0 AND NEW.payment_id IS NOT NULL
        WHEN 'waiver' THEN NEW.part IN ('costs', 'interest')
        WHEN 'credit' THEN NEW.part = 'credit' AND NEW.claim_id IS NULL
        ELSE false END)
       OR (NEW.part <> 'credit' AND NEW.claim_id IS NULL) THEN
        PERFORM @guard@.wrong(format('a %s entry of %s cents on %s is not an entry of the books',
                                     NEW.kind, NEW.amount_cents, NEW.part));
    END IF;
    RETURN NEW;
END
$$;

-- At commit: nothing is paid or waived beyond what is open, credit is never below
-- zero, and the interest on a claim stays under the statutory bound.
CREATE FUNCTION @guard@.ledger_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    p bigint;
    k bigint;
    i bigint;
    interest bigint;
    cap bigint;
BEGIN
    who := @guard@.caller();
    IF who.kind NOT IN ('agent', 'supervisor') THEN
        RETURN NULL;
    END IF;
    IF NEW.claim_id IS NULL THEN
        IF (SELECT coalesce(sum(e.amount_cents), 0) FROM ledger_entry e
             WHERE e.customer_id = NEW.customer_id AND e.claim_id IS NULL) < 0 THEN
            PERFORM @guard@.wrong(format('customer %s: more credit used than kept',
                                         NEW.customer_id));
        END IF;
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'principal'), 0),
           coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'costs'), 0),
           coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'interest'), 0),
           coalesce(sum(e.amount_cents) FILTER (WHERE e.kind = 'interest'), 0)
      INTO p, k, i, interest FROM ledger_entry e WHERE e.claim_id = NEW.claim_id;
    IF p < 0 OR k < 0 OR i < 0 THEN
        PERFORM @guard@.wrong(format(
            'claim %s: more paid or waived than is open (principal %s, costs %s, interest %s)',
            NEW.claim_id, p, k, i));
    END IF;
    IF NEW.kind = 'interest' THEN
        cap := @guard@.interest_cap(NEW.claim_id);
        IF interest > cap THEN
            PERFORM @guard@.wrong(format(
                'claim %s: %s cents of interest booked, more than the statutory rates allow (%s)',
                NEW.claim_id, interest, cap));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A 14-day letter an agent records: their own, just written, with the legal term.
CREATE FUNCTION @guard@.notice_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team record letters');
    END IF;
    IF NEW.agent_id IS DISTINCT FROM who.agent_id THEN
        PERFORM @guard@.refuse('a letter is recorded in one''s own name');
    END IF;
    IF NEW.channel NOT IN ('post', 'email')
       OR NEW.received_on < NEW.sent_on + (CASE NEW.channel
              WHEN 'email' THEN @guard@.rule('email_receipt_days')::int
              ELSE @guard@.rule('post_receipt_working_days')::int END)
       OR NEW.term_ends < NEW.received_on + @guard@.rule('fourteen_day_term_days')::int
       OR NEW.principal_named_cents < 0 OR NEW.costs_named_cents < 0
       OR NEW.vat_named_cents < 0 THEN
        PERFORM @guard@.wrong(
            'a 14-day letter gives the customer the full term from the day they receive it');
    END IF;
    IF who.kind = 'agent' THEN
        IF NEW.status <> 'running' OR NEW.settled_on IS NOT NULL OR NEW.costs_booked_cents <> 0
           OR NEW.sent_on > current_date + 1
           OR NEW.sent_on < current_date - @guard@.rule('max_notice_backdate_days')::int
           OR NEW.created_at NOT BETWEEN now() - interval '1 day' AND now() + interval '1 day' THEN
            PERFORM @guard@.refuse(format(
                'an agent records a 14-day letter sent in the last %s days; its costs are for '
                'the nightly run', @guard@.rule('max_notice_backdate_days')));
        END IF;
        IF NEW.letter_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM letter_sent l WHERE l.id = NEW.letter_id
               AND l.customer_id = NEW.customer_id AND l.agent_id = who.agent_id
               AND l.at > now() - interval '1 day') THEN
            PERFORM @guard@.refuse('a 14-day letter is recorded with the letter just written');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION @guard@.notice_claim_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    notice demand_notice%ROWTYPE;
    owed bigint;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team record letters');
    END IF;
    SELECT * INTO notice FROM demand_notice WHERE id = NEW.notice_id;
    IF who.kind = 'agent' AND (notice.agent_id IS DISTINCT FROM who.agent_id
        OR notice.status <> 'running' OR notice.created_at < now() - interval '1 day') THEN
        PERFORM @guard@.refuse('an agent names claims only in the 14-day letter they just recorded');
    END IF;
    -- What was open on the claim the day the letter went out (a back-dated letter
    -- names what was open then).
    SELECT coalesce(sum(e.amount_cents) FILTER (WHERE e.part = 'principal'), 0) INTO owed
      FROM ledger_entry e JOIN claim c ON c.id = e.claim_id
     WHERE c.id = NEW.claim_id AND c.customer_id = notice.customer_id
       AND c.due_date < notice.sent_on AND e.booked_on <= notice.sent_on;
    IF NOT EXISTS (SELECT 1 FROM claim c WHERE c.id = NEW.claim_id
                      AND c.customer_id = notice.customer_id AND c.due_date < notice.sent_on)
       OR NEW.principal_named_cents <= 0 OR NEW.principal_named_cents > owed THEN
        PERFORM @guard@.wrong(format(
            'a 14-day letter names a claim of its customer in default, for at most what is open '
            '(%s)', owed));
    END IF;
    RETURN NEW;
END
$$;
"""

# ------------------------------------------------------------ an agent's own work

_WORK = """
-- Work is written in one's own name and within the limits.
CREATE FUNCTION @guard@.work_before_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    author bigint;
BEGIN
    who := @guard@.caller();
    IF who.kind = 'owner' THEN
        RETURN NEW;
    ELSIF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team write its work');
    END IF;
    IF who.kind <> 'agent' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'next_step' THEN
        IF TG_OP = 'INSERT' AND NEW.created_by_id IS DISTINCT FROM who.agent_id THEN
            PERFORM @guard@.refuse('a next step is set in one''s own name');
        END IF;
        IF (TG_OP = 'INSERT' OR NEW.due_at IS DISTINCT FROM OLD.due_at)
           AND NEW.due_at > now() + make_interval(days => @guard@.rule('max_next_step_days')::int + 1) THEN
            PERFORM @guard@.refuse(format('a next step is at most %s days ahead',
                                          @guard@.rule('max_next_step_days')));
        END IF;
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'contact_point' THEN
        IF NEW.verified_by_id IS NOT NULL AND NEW.verified_by_id <> who.agent_id
           AND (TG_OP = 'INSERT' OR NEW.verified_by_id IS DISTINCT FROM OLD.verified_by_id) THEN
            PERFORM @guard@.refuse('contact details are verified in one''s own name');
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        RETURN NEW;
    END IF;
    author := (to_jsonb(NEW) ->> 'agent_id')::bigint;
    IF author IS DISTINCT FROM who.agent_id THEN
        PERFORM @guard@.refuse(format('%s is written in one''s own name', TG_TABLE_NAME));
    END IF;
    IF TG_TABLE_NAME = 'promise_to_pay' THEN
        IF NEW.amount_cents <= 0 OR NEW.status <> 'open' OR NEW.paid_cents <> 0
           OR NEW.resolved_on IS NOT NULL
           OR NEW.created_at NOT BETWEEN now() - interval '30 days' AND now() + interval '1 day'
           OR NEW.due_date < (NEW.created_at AT TIME ZONE 'UTC' - interval '12 hours')::date
           OR NEW.due_date > (NEW.created_at AT TIME ZONE 'UTC' + interval '14 hours')::date
                              + @guard@.rule('max_promise_days')::int THEN
            PERFORM @guard@.refuse(format(
                'a promise is open, unpaid, made now and due within %s days',
                @guard@.rule('max_promise_days')));
        END IF;
    ELSIF TG_TABLE_NAME = 'letter_sent' THEN
        IF NEW.arrangement_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM arrangement a
             WHERE a.id = NEW.arrangement_id AND a.customer_id = NEW.customer_id) THEN
            PERFORM @guard@.refuse('a letter about an arrangement is sent to its own customer');
        END IF;
    END IF;
    RETURN NEW;
END
$$;
"""

# ------------------------------------------------------------------ change log

_CHANGE_LOG = """
-- The one way to write the change log. An agent's rows name only existing rows of
-- customers they may see (or changed in this transaction), with the customer the
-- database finds; the notification carries only the highest id, a hint that every
-- person may read with agent_desk_latest_change_id().
CREATE OR REPLACE FUNCTION agent_desk_log_changes(
    tables text[], row_ids bigint[], kinds text[], customer_ids bigint[])
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
    who record;
    top bigint;
    bad text;
    found bigint[];
BEGIN
    who := @guard@.caller();
    IF who.kind = 'nobody' THEN
        PERFORM @guard@.refuse('only the people of this team write its change log');
    END IF;
    IF coalesce(cardinality(tables), 0) = 0 THEN
        RETURN NULL;
    END IF;
    IF cardinality(tables) <> cardinality(row_ids) OR cardinality(tables) <> cardinality(kinds)
       OR cardinality(tables) <> cardinality(customer_ids) THEN
        PERFORM @guard@.wrong('the change-log arrays differ in length');
    END IF;
    IF who.kind = 'agent' THEN
        -- No temporary table here: a function running as the owner must never write
        -- to a table the caller could have created first.
        SELECT array_agg(CASE g.t
            WHEN 'customer' THEN (SELECT x.id FROM customer x WHERE x.id = g.r)
            WHEN 'contact_point' THEN (SELECT x.customer_id FROM contact_point x WHERE x.id = g.r)
            WHEN 'claim' THEN (SELECT x.customer_id FROM claim x WHERE x.id = g.r)
            WHEN 'contact_attempt' THEN (SELECT x.customer_id FROM contact_attempt x WHERE x.id = g.r)
            WHEN 'note' THEN (SELECT x.customer_id FROM note x WHERE x.id = g.r)
            WHEN 'promise_to_pay' THEN (SELECT x.customer_id FROM promise_to_pay x WHERE x.id = g.r)
            WHEN 'arrangement' THEN (SELECT x.customer_id FROM arrangement x WHERE x.id = g.r)
            WHEN 'next_step' THEN (SELECT x.customer_id FROM next_step x WHERE x.id = g.r)
            WHEN 'letter_sent' THEN (SELECT x.customer_id FROM letter_sent x WHERE x.id = g.r)
            WHEN 'ledger_entry' THEN (SELECT x.customer_id FROM ledger_entry x WHERE x.id = g.r)
            WHEN 'demand_notice' THEN (SELECT x.customer_id FROM demand_notice x WHERE x.id = g.r)
            WHEN 'demand_notice_claim' THEN (SELECT x.customer_id FROM demand_notice x WHERE x.id = g.r)
            WHEN 'instalment' THEN (SELECT a.customer_id FROM instalment x
                                      JOIN arrangement a ON a.id = x.arrangement_id
                                     WHERE x.id = g.r)
            END ORDER BY g.n)
          INTO found
          FROM unnest(tables, row_ids) WITH ORDINALITY AS g(t, r, n);
        SELECT string_agg(format('%s %s %s', x.k, x.t, x.r), ', ') INTO bad
          FROM unnest(tables, row_ids, kinds, found) AS x(t, r, k, c)
         WHERE x.k NOT IN ('insert', 'update') OR x.c IS NULL
            OR NOT (x.c IN (SELECT y.id FROM customer y
                             WHERE y.assigned_agent_id = who.agent_id
                                OR y.held_by_agent_id = who.agent_id)
                    OR x.c IN (SELECT z.customer_id FROM @guard@.touched z
                                WHERE z.xact = pg_current_xact_id()));
        IF bad IS NOT NULL THEN
            PERFORM @guard@.refuse(
                'an agent logs changes only of their own customers'' rows: ' || left(bad, 200));
        END IF;
        WITH inserted AS (
            INSERT INTO change_log (at, table_name, row_id, kind, customer_id)
            SELECT now(), x.t, x.r, x.k, x.c
              FROM unnest(tables, row_ids, kinds, found) WITH ORDINALITY AS x(t, r, k, c, n)
             ORDER BY x.n
            RETURNING id)
        SELECT max(id) INTO top FROM inserted;
    ELSE
        WITH inserted AS (
            INSERT INTO change_log (at, table_name, row_id, kind, customer_id)
            SELECT now(), g.t, g.r, g.k, g.c
              FROM unnest(tables, row_ids, kinds, customer_ids) WITH ORDINALITY AS g(t, r, k, c, n)
             ORDER BY g.n
            RETURNING id)
        SELECT max(id) INTO top FROM inserted;
    END IF;
    PERFORM pg_notify('agent_desk_changes', top::text);
    RETURN top;
END
$$;

CREATE OR REPLACE FUNCTION agent_desk_latest_change_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp
AS $$ SELECT CASE WHEN agent_desk_my_role(session_user) IS NOT NULL
                  THEN (SELECT coalesce(max(id), 0) FROM change_log) END $$;
"""


def _triggers(schema: str) -> None:
    g = GUARD
    statements = [
        f"CREATE TRIGGER guard_derived BEFORE UPDATE ON customer "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.customer_before_update()",
        f"CREATE TRIGGER guard_recorded AFTER UPDATE ON customer "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.customer_after_update()",
        f"CREATE TRIGGER guard_caches BEFORE UPDATE ON claim "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.claim_before_update()",
        f"CREATE TRIGGER guard_agreed BEFORE INSERT ON arrangement "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.arrangement_before_insert()",
        f"CREATE CONSTRAINT TRIGGER guard_terms AFTER INSERT ON arrangement "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        f"EXECUTE FUNCTION {g}.arrangement_after_insert()",
        f"CREATE TRIGGER guard_decided BEFORE UPDATE ON arrangement "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.arrangement_before_update()",
        f"CREATE TRIGGER guard_recorded AFTER UPDATE ON arrangement "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.arrangement_after_update()",
        f"CREATE TRIGGER guard_terms BEFORE INSERT OR UPDATE ON instalment "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.instalment_guard()",
        f"CREATE TRIGGER guard_entry BEFORE INSERT ON ledger_entry "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.ledger_before_insert()",
        f"CREATE CONSTRAINT TRIGGER guard_books AFTER INSERT ON ledger_entry "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {g}.ledger_after_insert()",
        f"CREATE TRIGGER guard_letter BEFORE INSERT ON demand_notice "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.notice_before_insert()",
        f"CREATE TRIGGER guard_named BEFORE INSERT ON demand_notice_claim "
        f"FOR EACH ROW EXECUTE FUNCTION {g}.notice_claim_before_insert()",
    ]
    for table in ("contact_attempt", "note", "promise_to_pay", "letter_sent"):
        statements.append(
            f"CREATE TRIGGER guard_work BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {g}.work_before_write()"
        )
    for table in ("next_step", "contact_point"):
        statements.append(
            f"CREATE TRIGGER guard_work BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {g}.work_before_write()"
        )
    for statement in statements:
        _sql(statement, schema)


def _drop_policies(schema: str) -> None:
    _sql(
        """
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = current_schema() LOOP
        EXECUTE format('DROP POLICY %I ON %I', p.policyname, p.tablename);
    END LOOP;
END
$$
""",
        schema,
    )


def _policies(schema: str) -> None:
    statements: list[str] = []
    for table in TABLES:
        statements.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        statements.append(
            f"CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR} "
            f"USING {IS_SUPERVISOR} WITH CHECK {IS_SUPERVISOR}"
        )
    statements += [
        # People see who their colleagues are, the team's settings and the schema version.
        f"CREATE POLICY agent_read ON agent FOR SELECT TO {AGENT} USING ({ME} IS NOT NULL)",
        f"CREATE POLICY agent_read ON setting FOR SELECT TO {AGENT} USING ({ME} IS NOT NULL)",
        f"CREATE POLICY agent_read ON alembic_version FOR SELECT TO {AGENT} "
        f"USING ({ME} IS NOT NULL)",
        # An agent: the customers assigned to or held by them, and what hangs off them.
        f"CREATE POLICY agent_own ON customer TO {AGENT} "
        f"USING (assigned_agent_id = {ME} OR held_by_agent_id = {ME}) "
        # Releasing a hold on a customer reassigned meanwhile must still work.
        f"WITH CHECK (assigned_agent_id = {ME} OR held_by_agent_id = {ME} "
        "OR held_by_agent_id IS NULL)",
        f"CREATE POLICY agent_own ON instalment TO {AGENT} "
        "USING (arrangement_id IN (SELECT id FROM arrangement))",
        f"CREATE POLICY agent_own ON demand_notice_claim TO {AGENT} "
        "USING (notice_id IN (SELECT id FROM demand_notice))",
        # An agent's new arrangement is never born approved.
        f"CREATE POLICY agent_not_approved ON arrangement AS RESTRICTIVE FOR INSERT TO {AGENT} "
        "WITH CHECK (approved_by_id IS NULL AND approved_at IS NULL AND approval_note IS NULL "
        "AND status IN ('active', 'pending_approval'))",
        # A note is edited by the one who wrote it.
        f"CREATE POLICY agent_own_note ON note AS RESTRICTIVE FOR UPDATE TO {AGENT} "
        f"USING (agent_id = {ME})",
        # Audit: one's own events and those about one's customers; written in one's own
        # name, about a customer one may see.
        f"CREATE POLICY agent_read ON audit_event FOR SELECT TO {AGENT} "
        f"USING (agent_id = {ME} OR {VISIBLE_CUSTOMER})",
        f"CREATE POLICY agent_write ON audit_event FOR INSERT TO {AGENT} "
        f"WITH CHECK (agent_id = {ME} "
        f"AND (customer_id IS NULL OR {VISIBLE_CUSTOMER}) "
        "AND (entity <> 'customer' OR entity_id IN (SELECT id FROM customer)))",
        f"CREATE POLICY supervisor_own_name ON audit_event AS RESTRICTIVE FOR INSERT "
        f"TO {SUPERVISOR} WITH CHECK (agent_id IS NULL OR agent_id = {ME})",
        # The change log: rows about the customers one may see (and colleagues/settings).
        f"CREATE POLICY agent_read ON change_log FOR SELECT TO {AGENT} "
        f"USING ({VISIBLE_CUSTOMER} OR (customer_id IS NULL AND {ME} IS NOT NULL "
        "AND table_name IN ('agent', 'setting')))",
    ]
    for table in CUSTOMER_CHILDREN:
        statements.append(
            f"CREATE POLICY agent_own ON {table} TO {AGENT} USING ({VISIBLE_CUSTOMER})"
        )
    for statement in statements:
        _sql(statement, schema)


def _grants(schema: str) -> None:
    groups = f"{AGENT}, {SUPERVISOR}"
    tables = ", ".join(TABLES)
    statements = [
        # Nothing is created by people: no objects to shadow the functions with.
        f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC',
        # Append-only for everyone; the change log only through its function.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON change_log FROM {groups}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, ledger_entry FROM {groups}",
        # Supervisors deactivate, decline and correct with new rows: nothing is deleted.
        f"REVOKE DELETE, TRUNCATE ON {tables} FROM {groups}",
        f"REVOKE UPDATE ON agent FROM {SUPERVISOR}",
        f"GRANT UPDATE ({', '.join(SUPERVISOR_AGENT_COLUMNS)}) ON agent TO {SUPERVISOR}",
        # An agent never changes an arrangement, its instalments, a promise, a letter's
        # notice; the nightly run and the import (supervisor) do.
        f"REVOKE UPDATE ON arrangement, instalment, promise_to_pay, demand_notice, "
        f"demand_notice_claim, letter_sent, payment, setting FROM {AGENT}",
        f"REVOKE UPDATE ON customer FROM {AGENT}",
        f"GRANT UPDATE ({', '.join(AGENT_CUSTOMER_COLUMNS)}) ON customer TO {AGENT}",
        f"REVOKE INSERT ON payment, setting, agent, customer, claim FROM {AGENT}",
    ]
    for statement in statements:
        _sql(statement, schema)
    # The change log's sequence is the function's (no nextval probing of the team's
    # activity by anyone else).
    _sql(
        """
DO $$
DECLARE
    seq text := pg_get_serial_sequence('change_log', 'id');
BEGIN
    IF seq IS NOT NULL THEN
        EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM @agent@, @supervisor@', seq);
    END IF;
END
$$
""",
        schema,
    )
    _sql(
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {GUARD} FROM PUBLIC; "
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {GUARD} FROM PUBLIC; "
        "REVOKE ALL ON FUNCTION agent_desk_my_role(name) FROM PUBLIC; "
        f"GRANT EXECUTE ON FUNCTION agent_desk_my_role(name) TO {groups}; "
        "REVOKE ALL ON FUNCTION agent_desk_log_changes(text[], bigint[], text[], bigint[]) "
        "FROM PUBLIC; "
        "GRANT EXECUTE ON FUNCTION agent_desk_log_changes(text[], bigint[], text[], bigint[]) "
        f"TO {groups}; "
        "REVOKE ALL ON FUNCTION agent_desk_latest_change_id() FROM PUBLIC; "
        f"GRANT EXECUTE ON FUNCTION agent_desk_latest_change_id() TO {groups}",
        schema,
    )


def _connect_only_people(schema: str) -> None:
    """Only the team's people (and the owner) open a session on this database."""
    _sql(
        """
DO $$
DECLARE
    person record;
BEGIN
    IF NOT (pg_has_role(current_user, (SELECT d.datdba FROM pg_database d
                                        WHERE d.datname = current_database()), 'MEMBER')
            OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN
        RAISE NOTICE 'Agent Desk: not the database owner, CONNECT stays as it was';
        RETURN;
    END IF;
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    FOR person IN SELECT a.login FROM agent a JOIN pg_roles r ON r.rolname = a.login
                   WHERE a.active AND NOT r.rolsuper LOOP
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), person.login);
    END LOOP;
END
$$
""",
        schema,
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    _sql(_TABLES, schema)
    for block in (_WHO, _DERIVED, _ARRANGEMENTS, _BOOKS, _WORK, _CHANGE_LOG):
        _sql(block, schema)
    db_rules.install(bind)
    _triggers(schema)
    _drop_policies(schema)
    _policies(schema)
    _grants(schema)
    _connect_only_people(schema)


_TRIGGERS = (
    ("customer", "guard_derived"),
    ("customer", "guard_recorded"),
    ("claim", "guard_caches"),
    ("arrangement", "guard_agreed"),
    ("arrangement", "guard_terms"),
    ("arrangement", "guard_decided"),
    ("arrangement", "guard_recorded"),
    ("instalment", "guard_terms"),
    ("ledger_entry", "guard_entry"),
    ("ledger_entry", "guard_books"),
    ("demand_notice", "guard_letter"),
    ("demand_notice_claim", "guard_named"),
    ("contact_attempt", "guard_work"),
    ("note", "guard_work"),
    ("promise_to_pay", "guard_work"),
    ("letter_sent", "guard_work"),
    ("next_step", "guard_work"),
    ("contact_point", "guard_work"),
)


def downgrade() -> None:
    """Back to the rules of 0002/0003 (the cross-database hole included)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    for table, trigger in _TRIGGERS:
        _sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}", schema)
    _drop_policies(schema)
    for table in ("agent", "setting", "change_log", "alembic_version"):
        _sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY", schema)
    _sql(
        "DROP FUNCTION IF EXISTS agent_desk_log_changes(text[], bigint[], text[], bigint[])", schema
    )
    _sql("DROP FUNCTION IF EXISTS agent_desk_latest_change_id()", schema)
    _sql(
        "CREATE OR REPLACE FUNCTION agent_desk_current_agent_id(login name DEFAULT current_user) "
        "RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp "
        "AS $$ SELECT id FROM agent WHERE agent.login = $1 AND agent.active $$",
        schema,
    )
    _sql("DROP FUNCTION IF EXISTS agent_desk_my_role(name)", schema)
    _sql(f"DROP SCHEMA IF EXISTS {GUARD} CASCADE", schema)
    groups = f"{AGENT}, {SUPERVISOR}"
    _sql(f"GRANT INSERT ON change_log TO {groups}", schema)
    _sql(
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', "
        "current_database()); END $$",
        schema,
    )
    me = "(SELECT agent_desk_current_agent_id())"
    visible = "customer_id IN (SELECT id FROM customer)"
    old = [
        f"CREATE POLICY agent_own ON customer TO {AGENT} "
        f"USING (assigned_agent_id = {me} OR held_by_agent_id = {me}) "
        f"WITH CHECK (assigned_agent_id = {me} OR held_by_agent_id = {me} "
        "OR held_by_agent_id IS NULL)",
        f"CREATE POLICY agent_own ON instalment TO {AGENT} "
        "USING (arrangement_id IN (SELECT id FROM arrangement))",
        f"CREATE POLICY agent_own ON demand_notice_claim TO {AGENT} "
        "USING (notice_id IN (SELECT id FROM demand_notice))",
        f"CREATE POLICY agent_not_approved ON arrangement AS RESTRICTIVE FOR INSERT TO {AGENT} "
        "WITH CHECK (approved_by_id IS NULL AND approved_at IS NULL AND approval_note IS NULL "
        "AND status IN ('active', 'pending_approval'))",
        f"CREATE POLICY agent_read ON audit_event FOR SELECT TO {AGENT} "
        f"USING (agent_id = {me} OR {visible})",
        f"CREATE POLICY agent_write ON audit_event FOR INSERT TO {AGENT} "
        f"WITH CHECK (agent_id = {me})",
    ]
    for table in (
        *CUSTOMER_CHILDREN,
        "customer",
        "instalment",
        "audit_event",
        "demand_notice_claim",
    ):
        old.append(f"CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR} USING (true)")
    for table in CUSTOMER_CHILDREN:
        old.append(f"CREATE POLICY agent_own ON {table} TO {AGENT} USING ({visible})")
    for statement in old:
        _sql(statement, schema)
