"""the books: ledger entries per claim, 14-day letters, promise and letter outcomes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing data keep what every customer owes:

* each claim gets a ``principal`` entry for its invoiced amount, dated its due date,
  and, when something was paid on it, one ``payment`` entry on the principal for
  what was paid (payments were allocated to principal before this revision);
* an **active** arrangement's costs and interest that were not waived were owed
  through the arrangement without being on any claim: they are booked on the
  customer's claims as ``costs`` and ``interest`` entries dated the day it was
  agreed, spread over the open claims in proportion to what was open on them (the
  rest on the oldest), so the arrangement's balance and the claims' agree. Pending,
  declined, broken and completed arrangements booked nothing: nothing made those
  costs owed by the rules this revision brings (a 14-day letter's term run out);
* letters already recorded were printed; promises keep their status.

The ``claim.paid_cents`` cache then holds what was allocated to each claim.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BigCents = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AGENT = "agent_desk_agent"
SUPERVISOR = "agent_desk_supervisor"


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("credit_cents", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("promise_to_pay") as batch:
        batch.add_column(sa.Column("paid_cents", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
    with op.batch_alter_table("payment") as batch:
        batch.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="import")
        )
        batch.add_column(sa.Column("agent_id", BigId, nullable=True))
        batch.create_foreign_key("fk_payment_agent_id_agent", "agent", ["agent_id"], ["id"])
    with op.batch_alter_table("letter_sent") as batch:
        batch.add_column(
            sa.Column("delivery", sa.String(16), nullable=False, server_default="printed")
        )

    op.create_table(
        "demand_notice",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("letter_id", BigId, nullable=True),
        sa.Column("agent_id", BigId, nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("term_ends", sa.Date(), nullable=False),
        sa.Column("principal_named_cents", BigCents, nullable=False),
        sa.Column("costs_named_cents", BigCents, nullable=False),
        sa.Column("vat_named_cents", BigCents, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("costs_booked_cents", BigCents, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_demand_notice_customer_id_customer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letter_sent.id"], name="fk_demand_notice_letter_id_letter_sent"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name="fk_demand_notice_agent_id_agent"),
        sa.PrimaryKeyConstraint("id", name="pk_demand_notice"),
    )
    op.create_index("ix_demand_notice_customer_id", "demand_notice", ["customer_id"])
    op.create_index("ix_demand_notice_term_ends", "demand_notice", ["term_ends"])
    op.create_index("ix_demand_notice_status", "demand_notice", ["status"])
    op.create_table(
        "demand_notice_claim",
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("claim_id", BigId, nullable=False),
        sa.Column("principal_named_cents", BigCents, nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["demand_notice.id"],
            name="fk_demand_notice_claim_notice_id_demand_notice",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name="fk_demand_notice_claim_claim_id_claim",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "claim_id", name="pk_demand_notice_claim"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("claim_id", BigId, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("part", sa.String(16), nullable=False),
        sa.Column("amount_cents", BigCents, nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("interest_through", sa.Date(), nullable=True),
        sa.Column("payment_id", BigId, nullable=True),
        sa.Column("arrangement_id", BigId, nullable=True),
        sa.Column("notice_id", BigId, nullable=True),
        sa.Column("agent_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_ledger_entry_customer_id_customer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name="fk_ledger_entry_claim_id_claim", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
            name="fk_ledger_entry_payment_id_payment",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangement.id"],
            name="fk_ledger_entry_arrangement_id_arrangement",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["demand_notice.id"], name="fk_ledger_entry_notice_id_demand_notice"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name="fk_ledger_entry_agent_id_agent"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entry"),
    )
    op.create_index("ix_ledger_entry_customer_claim", "ledger_entry", ["customer_id", "claim_id"])
    op.create_index("ix_ledger_entry_claim_part", "ledger_entry", ["claim_id", "part"])
    op.create_index("ix_ledger_entry_payment_id", "ledger_entry", ["payment_id"])

    _book_existing()
    _grant()


def _book_existing() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    today = now.date()
    entries: list[dict[str, object]] = []

    def entry(customer: int, claim: int, kind: str, part: str, amount: int, on: date) -> None:
        entries.append(
            {
                "customer_id": customer,
                "claim_id": claim,
                "kind": kind,
                "part": part,
                "amount_cents": amount,
                "booked_on": on,
                "created_at": now,
                "note": "migrated",
            }
        )

    claims = bind.execute(
        sa.text(
            "SELECT id, customer_id, principal_cents, paid_cents, due_date, settled_on "
            "FROM claim ORDER BY customer_id, due_date, id"
        )
    ).all()
    open_of: dict[int, list[tuple[int, int, date]]] = {}
    for claim_id, customer_id, principal, paid, due_value, settled in claims:
        due = _as_date(due_value) or today
        entry(customer_id, claim_id, "principal", "principal", principal, due)
        if paid:
            entry(customer_id, claim_id, "payment", "principal", -paid, _as_date(settled) or today)
        if principal - paid > 0:
            open_of.setdefault(customer_id, []).append((claim_id, principal - paid, due))

    arrangements = bind.execute(
        sa.text(
            "SELECT id, customer_id, costs_cents, interest_cents, costs_waived, "
            "interest_waived, created_at FROM arrangement WHERE status = 'active'"
        )
    ).all()
    for (
        arrangement_id,
        customer_id,
        costs,
        interest,
        costs_waived,
        interest_waived,
        at,
    ) in arrangements:
        targets = open_of.get(customer_id, [])
        if not targets:
            continue
        on = at.date() if isinstance(at, datetime) else _as_date(at) or today
        if costs and not costs_waived:
            for (claim_id, _, _), share in zip(targets, _spread(costs, targets), strict=True):
                if share:
                    entry(customer_id, claim_id, "costs", "costs", share, on)
                    entries[-1]["arrangement_id"] = arrangement_id
        # The arrangement's interest was computed up to the day it was agreed: each
        # claim it covers says so ("interest through" that day, zero if waived), so the
        # books do not count that interest a second time.
        interest_shares = _spread(0 if interest_waived else interest, targets)
        for (claim_id, _, _), share in zip(targets, interest_shares, strict=True):
            entry(customer_id, claim_id, "interest", "interest", share, on)
            entries[-1]["arrangement_id"] = arrangement_id
            entries[-1]["interest_through"] = on
    if entries:
        table = sa.table(
            "ledger_entry",
            *(
                sa.column(name)
                for name in (
                    "customer_id",
                    "claim_id",
                    "kind",
                    "part",
                    "amount_cents",
                    "booked_on",
                    "created_at",
                    "note",
                    "arrangement_id",
                    "interest_through",
                )
            ),
        )
        for row in entries:
            row.setdefault("arrangement_id", None)
            row.setdefault("interest_through", None)
        bind.execute(table.insert(), entries)
    # arrears now include the booked costs and interest of active arrangements
    bind.execute(
        sa.text(
            "UPDATE customer SET arrears_cents = COALESCE((SELECT SUM(amount_cents) "
            "FROM ledger_entry WHERE ledger_entry.customer_id = customer.id "
            "AND ledger_entry.part <> 'credit'), 0)"
        )
    )


def _spread(amount: int, targets: list[tuple[int, int, date]]) -> list[int]:
    """``amount`` over the claims in proportion to what is open; the rest on the oldest."""
    open_total = sum(t[1] for t in targets)
    shares = [amount * t[1] // open_total for t in targets]
    shares[0] += amount - sum(shares)
    return shares


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _grant() -> None:
    """Team databases: the new tables follow the rules of revision 0002."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tables = ("ledger_entry", "demand_notice", "demand_notice_claim")
    op.execute(f"GRANT SELECT ON {', '.join(tables)} TO {AGENT}, {SUPERVISOR}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(tables)} TO {SUPERVISOR}")
    op.execute(
        f"GRANT USAGE ON SEQUENCE ledger_entry_id_seq, demand_notice_id_seq "
        f"TO {AGENT}, {SUPERVISOR}"
    )
    op.execute(f"REVOKE UPDATE, DELETE ON ledger_entry FROM {SUPERVISOR}")  # append-only
    # An agent's desk books what the agent does: the interest and waivers of an
    # arrangement, a 14-day letter sent. Payments come only from the billing system
    # (a supervisor's import). Issue 12 narrows what an agent may book.
    op.execute(f"GRANT INSERT ON {', '.join(tables)} TO {AGENT}")
    op.execute(f"GRANT UPDATE (status, settled_on, costs_booked_cents) ON demand_notice TO {AGENT}")
    op.execute(f"GRANT UPDATE (paid_cents, settled_on, version) ON claim TO {AGENT}")
    op.execute(f"GRANT UPDATE (paid_cents, status, version) ON instalment TO {AGENT}")
    op.execute(f"GRANT UPDATE (paid_cents, resolved_on) ON promise_to_pay TO {AGENT}")
    op.execute(f"GRANT UPDATE (date_of_birth, credit_cents) ON customer TO {AGENT}")
    visible_customer = "customer_id IN (SELECT id FROM customer)"
    for table in ("ledger_entry", "demand_notice"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY supervisor_all ON {table} TO {SUPERVISOR} USING (true)")
        op.execute(f"CREATE POLICY agent_own ON {table} TO {AGENT} USING ({visible_customer})")
    op.execute("ALTER TABLE demand_notice_claim ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY supervisor_all ON demand_notice_claim TO {SUPERVISOR} USING (true)")
    op.execute(
        f"CREATE POLICY agent_own ON demand_notice_claim TO {AGENT} "
        "USING (notice_id IN (SELECT id FROM demand_notice))"
    )


def downgrade() -> None:
    op.drop_table("ledger_entry")
    op.drop_table("demand_notice_claim")
    op.drop_table("demand_notice")
    with op.batch_alter_table("letter_sent") as batch:
        batch.drop_column("delivery")
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint("fk_payment_agent_id_agent", type_="foreignkey")
        batch.drop_column("agent_id")
        batch.drop_column("source")
    with op.batch_alter_table("promise_to_pay") as batch:
        batch.drop_column("resolved_on")
        batch.drop_column("paid_cents")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("credit_cents")
        batch.drop_column("date_of_birth")
