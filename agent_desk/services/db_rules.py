"""What the team database's guards know of the rules, generated from the Python rules.

The guards (migration 0004) keep invariants; where they need a number or a rule that
Python owns, they read it from here instead of a copy typed into SQL:

They are the team's current versions (``services.team_rules``, migration 0009)
when the database holds them, else the shipped files; a supervisor's later edit
reaches the guards at once through the database's own team-rule trigger.

* ``agent_desk_guard.rule``: the arrangement policy (``resources/policy/arrangements.toml``),
  the 14-day letter conventions (``resources/policy/books.toml``) and the limits of
  ``agent_desk.domain.limits``, one number per name;
* ``agent_desk_guard.interest_rate``: the statutory rates
  (``resources/rates/statutory_interest_consumer.toml``), for the upper bound of the
  interest an agent's connection may book;
* ``agent_desk_guard.queue_bucket(...)``: ``agent_desk.domain.queue.bucket`` as a
  table of every combination of its inputs, evaluated by the Python function itself.

:func:`install` writes all three; migration 0004 calls it and so does every
``agent-desk db upgrade`` (``services.migrate.upgrade_to_head``), so an edited policy
file or rate table reaches the database at the next upgrade. It touches only objects
migration 0004 creates. PostgreSQL only (SQLite has no guards: one desk, one person).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, text

from agent_desk.domain import limits
from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import NextStepKind
from agent_desk.domain.interest import RateTable, load_rate_table
from agent_desk.domain.ledger import BooksPolicy, load_books_policy
from agent_desk.domain.policy import ArrangementPolicy, load_default_policy

GUARD_SCHEMA = "agent_desk_guard"
#: A next-step kind the Python rule does not know, as the bucket table spells it.
OTHER_KIND = "*"


#: The guards' numbers a team may change (through its policy documents); the
#: database's team-rule trigger updates only these, never the limits.
POLICY_RULES = ("max_instalments", "min_instalment_cents", "max_term_months", "costs_may_be_added")
BOOKS_RULES = ("post_receipt_working_days", "email_receipt_days", "fourteen_day_term_days")


def policy_rule_values(policy: ArrangementPolicy) -> dict[str, int]:
    return {
        "max_instalments": policy.max_instalments,
        "min_instalment_cents": policy.min_instalment,
        "max_term_months": policy.max_term_months,
        "costs_may_be_added": int(policy.costs_may_be_added),
    }


def books_rule_values(books: BooksPolicy) -> dict[str, int]:
    return {
        "post_receipt_working_days": books.post_receipt_working_days,
        "email_receipt_days": books.email_receipt_days,
        "fourteen_day_term_days": books.fourteen_day_term_days,
    }


def rule_values(
    policy: ArrangementPolicy | None = None, books: BooksPolicy | None = None
) -> dict[str, int]:
    """The numbers the guards check against, by name (the shipped policy by default)."""
    return {
        **policy_rule_values(policy or load_default_policy()),
        **books_rule_values(books or load_books_policy()),
        "max_pause_days": limits.MAX_PAUSE_DAYS,
        "max_promise_days": limits.MAX_PROMISE_DAYS,
        "max_next_step_days": limits.MAX_NEXT_STEP_DAYS,
        "max_hold_hours": limits.MAX_HOLD_HOURS,
        "max_notice_backdate_days": limits.MAX_NOTICE_BACKDATE_DAYS,
    }


def rate_rows(table: RateTable | None = None) -> list[tuple[date, Decimal]]:
    return [(r.effective_from, r.rate) for r in (table or load_rate_table()).rates]


def bucket_kinds() -> list[str | None]:
    return [None, *(k.value for k in NextStepKind), OTHER_KIND]


def bucket_rows() -> list[tuple[bool, str, bool, bool, bool, bool, int]]:
    """``(open, kind, called_in, broken, missed, first_time, bucket)`` for every input;
    kind ``''`` is no next step, ``'*'`` any kind the rule does not name."""
    rows = []
    flags = (False, True)
    for is_open, kind, called_in, broken, missed, first in itertools.product(
        flags, bucket_kinds(), flags, flags, flags, flags
    ):
        facts = queue_rules.QueueFacts(
            open=is_open,
            arrears_cents=0,
            oldest_due_date=None,
            first_time_arrears=first,
            broken_arrangement=broken,
            missed_instalment=missed,
            called_in=called_in,
            next_step_kind=kind,
        )
        bucket = int(queue_rules.bucket(facts))
        rows.append((is_open, kind or "", called_in, broken, missed, first, bucket))
    return rows


def _bucket_function() -> str:
    values = ",\n        ".join(
        f"({o}, '{k}', {c}, {b}, {m}, {f}, {n})" for o, k, c, b, m, f, n in bucket_rows()
    )
    known = ", ".join(f"'{k.value}'" for k in NextStepKind)
    return f"""
CREATE OR REPLACE FUNCTION {GUARD_SCHEMA}.queue_bucket(
    is_open boolean, step_kind text, called_in boolean, broken boolean, missed boolean,
    first_time boolean
) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t.bucket::smallint FROM (VALUES
        {values}
    ) AS t(is_open, kind, called_in, broken, missed, first_time, bucket)
    WHERE t.is_open = $1
      AND t.kind = CASE WHEN $2 IS NULL THEN '' WHEN $2 IN ({known}) THEN $2
                        ELSE '{OTHER_KIND}' END
      AND t.called_in = $3 AND t.broken = $4 AND t.missed = $5 AND t.first_time = $6
$$
"""


def install(
    connection: Connection,
    policy: ArrangementPolicy | None = None,
    books: BooksPolicy | None = None,
    rates: RateTable | None = None,
) -> None:
    """Write the rules, the rates and the queue rule into the guards (PostgreSQL).

    The team's versions where the caller gives them (``migrate.upgrade_to_head`` reads
    them from ``team_rules``), else the shipped files: this module reads no team table,
    so the team's rules depend on it and not the other way round.
    """
    if connection.dialect.name != "postgresql":
        return
    present = connection.scalar(text("SELECT to_regclass(:t)"), {"t": f"{GUARD_SCHEMA}.rule"})
    if present is None:  # a database before migration 0004
        return
    connection.execute(text(f"DELETE FROM {GUARD_SCHEMA}.rule"))
    connection.execute(
        text(f"INSERT INTO {GUARD_SCHEMA}.rule (name, value) VALUES (:name, :value)"),
        [{"name": name, "value": value} for name, value in rule_values(policy, books).items()],
    )
    connection.execute(text(f"DELETE FROM {GUARD_SCHEMA}.interest_rate"))
    connection.execute(
        text(
            f"INSERT INTO {GUARD_SCHEMA}.interest_rate (effective_from, rate) VALUES (:on, :rate)"
        ),
        [{"on": on, "rate": rate} for on, rate in rate_rows(rates)],
    )
    connection.execute(text(_bucket_function()))
    connection.execute(
        text(
            f"REVOKE ALL ON FUNCTION {GUARD_SCHEMA}.queue_bucket"
            "(boolean, text, boolean, boolean, boolean, boolean) FROM PUBLIC"
        )
    )


__all__ = [
    "BOOKS_RULES",
    "GUARD_SCHEMA",
    "POLICY_RULES",
    "books_rule_values",
    "bucket_rows",
    "install",
    "policy_rule_values",
    "rate_rows",
    "rule_values",
]
