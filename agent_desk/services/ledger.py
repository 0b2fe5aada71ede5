"""The books: what each customer owes, per claim, as the sum of dated entries.

Every figure the desk, the CLI and the letters show is read from here. The rules are
``agent_desk.domain.ledger``'s; this module loads a customer's entries, applies the
rules, and appends the entries that follow (never an UPDATE of an entry).

Interest is booked when something happens that needs it exact (a payment, an
arrangement, a 14-day letter, the end of an arrangement) and by the nightly run once a
month; in between :func:`customer_balance` adds what accrued since the last booking,
computed from the same entries, so a balance shown is always "as of today".

While an arrangement runs (active or waiting for approval), the claims it covers (due
on or before the day it was agreed) accrue no interest: the plan fixed what is owed.
When it ends without being paid (declined, broken, cancelled) a zero interest entry
marks the day accrual resumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as rules
from agent_desk.domain import limits
from agent_desk.domain.allocation import Allocation
from agent_desk.domain.arrangements import add_months
from agent_desk.domain.codes import ArrangementStatus, CustomerStatus, InstalmentStatus
from agent_desk.domain.fees import FeeTable
from agent_desk.domain.interest import RateTable, load_rate_table
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.models import (
    Arrangement,
    Claim,
    Customer,
    DemandNotice,
    DemandNoticeClaim,
    Instalment,
    LedgerEntry,
    NextStep,
    Payment,
)
from agent_desk.services import bulk, team_rules
from agent_desk.services.actor import Actor

_RUNNING = (ArrangementStatus.ACTIVE.value, ArrangementStatus.PENDING_APPROVAL.value)
_ENTRY_TABLE: Table = LedgerEntry.__table__  # type: ignore[assignment]
LOAD_BATCH = 500


# --------------------------------------------------------------------- loading


@dataclass
class ClaimBook:
    """One claim's entries, summed; ``interest_booked`` lists (through, amount)."""

    claim_id: int
    reference: str
    description: str
    due_date: date
    invoiced: int = 0  # principal and corrections booked
    principal: int = 0  # outstanding
    costs: int = 0
    interest: int = 0
    costs_booked: int = 0
    interest_booked_total: int = 0
    paid: int = 0
    interest_through: date | None = None
    interest_booked: list[tuple[date, int]] = field(default_factory=list)
    interest_paid: int = 0
    frozen_from: date | None = None  # a running arrangement stops accrual from here

    @property
    def outstanding(self) -> int:
        return self.principal + self.costs + self.interest

    def balance(self) -> rules.ClaimBalance:
        return rules.ClaimBalance(
            self.claim_id, self.due_date, self.principal, self.costs, self.interest
        )


@dataclass
class CustomerBooks:
    customer_id: int
    claims: dict[int, ClaimBook]
    credit: int = 0
    running_arrangement_id: int | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # entries to insert

    @property
    def outstanding(self) -> int:
        return sum(c.outstanding for c in self.claims.values())

    def balances(self) -> list[rules.ClaimBalance]:
        return [c.balance() for c in self.claims.values()]

    def ordered(self) -> list[ClaimBook]:
        return sorted(self.claims.values(), key=lambda c: (c.due_date, c.claim_id))

    # -- entries

    def add(
        self,
        claim: ClaimBook | None,
        kind: EntryKind,
        part: Part,
        amount: int,
        on: date,
        now: datetime,
        **extra: Any,
    ) -> None:
        row: dict[str, Any] = {
            "customer_id": self.customer_id,
            "claim_id": claim.claim_id if claim else None,
            "kind": kind.value,
            "part": part.value,
            "amount_cents": amount,
            "booked_on": on,
            "interest_through": None,
            "payment_id": None,
            "arrangement_id": None,
            "notice_id": None,
            "agent_id": None,
            "created_at": now,
            "note": "",
        }
        row.update(extra)
        self.pending.append(row)
        if claim is None:
            self.credit += amount
            return
        _apply_sum(claim, kind, part, amount)
        through = extra.get("interest_through")
        if kind is EntryKind.INTEREST and through is not None:
            claim.interest_booked.append((through, amount))
            claim.interest_through = max(claim.interest_through or through, through)


def load_books(
    session: Session, customer_ids: Iterable[int], *, as_of: date | None = None
) -> dict[int, CustomerBooks]:
    """The books of these customers, in a few queries per batch of customers.

    ``as_of``: only the entries that had taken effect on that day (``booked_on``), e.g.
    for a 14-day letter dated in the past; by default every entry.
    """
    ids = sorted(set(customer_ids))
    out: dict[int, CustomerBooks] = {}
    for start in range(0, len(ids), LOAD_BATCH):
        batch = ids[start : start + LOAD_BATCH]
        out.update(_load_batch(session, batch, as_of))
    return out


def _load_batch(session: Session, ids: list[int], as_of: date | None) -> dict[int, CustomerBooks]:
    books = {cid: CustomerBooks(cid, {}) for cid in ids}
    for claim_id, customer_id, reference, description, due in session.execute(
        select(Claim.id, Claim.customer_id, Claim.reference, Claim.description, Claim.due_date)
        .where(Claim.customer_id.in_(ids))
        .order_by(Claim.due_date, Claim.id)
    ):
        books[customer_id].claims[claim_id] = ClaimBook(claim_id, reference, description, due)
    e = LedgerEntry
    in_effect = [e.booked_on <= as_of] if as_of is not None else []
    for entry_customer, entry_claim, kind, part, total in session.execute(
        select(e.customer_id, e.claim_id, e.kind, e.part, func.sum(e.amount_cents))
        .where(e.customer_id.in_(ids), e.kind != EntryKind.INTEREST.value, *in_effect)
        .group_by(e.customer_id, e.claim_id, e.kind, e.part)
    ):
        book = books[entry_customer]
        amount = int(total or 0)
        if entry_claim is None:
            book.credit += amount
            continue
        _apply_sum(book.claims[entry_claim], EntryKind(kind), Part(part), amount)
    for entry_customer, entry_claim, amount, through in session.execute(
        select(e.customer_id, e.claim_id, e.amount_cents, e.interest_through).where(
            e.customer_id.in_(ids), e.kind == EntryKind.INTEREST.value, *in_effect
        )
    ):
        if entry_claim is None:  # pragma: no cover - interest is always on a claim
            continue
        claim = books[entry_customer].claims[entry_claim]
        _apply_sum(claim, EntryKind.INTEREST, Part.INTEREST, amount)
        if through is not None:
            claim.interest_booked.append((through, amount))
            claim.interest_through = max(claim.interest_through or through, through)
    for arrangement_id, customer_id, created_at in session.execute(
        select(Arrangement.id, Arrangement.customer_id, Arrangement.created_at).where(
            Arrangement.customer_id.in_(ids), Arrangement.status.in_(_RUNNING)
        )
    ):
        book = books[customer_id]
        book.running_arrangement_id = arrangement_id
        agreed = created_at.date()
        for claim in book.claims.values():
            if claim.due_date <= agreed:
                claim.frozen_from = agreed
    return books


def _apply_sum(claim: ClaimBook, kind: EntryKind, part: Part, amount: int) -> None:
    if part is Part.PRINCIPAL:
        claim.principal += amount
        if kind in (EntryKind.PRINCIPAL, EntryKind.CORRECTION):
            claim.invoiced += amount
    elif part is Part.COSTS:
        claim.costs += amount
        if kind is EntryKind.COSTS:
            claim.costs_booked += amount
    elif part is Part.INTEREST:
        claim.interest += amount
        if kind is EntryKind.INTEREST:
            claim.interest_booked_total += amount
        elif kind is EntryKind.PAYMENT:
            claim.interest_paid -= amount
    if kind is EntryKind.PAYMENT:
        claim.paid -= amount


def load_customer_books(
    session: Session, customer_id: int, *, as_of: date | None = None
) -> CustomerBooks:
    books = load_books(session, [customer_id], as_of=as_of).get(customer_id)
    if books is None:  # pragma: no cover - load_books returns every id asked for
        raise NotFoundError("This customer no longer exists.")
    return books


def write(session: Session, books: Iterable[CustomerBooks]) -> int:
    """Insert the entries the books gathered; returns how many."""
    rows: list[dict[str, Any]] = []
    for book in books:
        rows.extend(book.pending)
        book.pending = []
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:  # every entry has the same columns; grouped in case one does not
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        bulk.insert_rows(session, _ENTRY_TABLE, same)
    return len(rows)


# -------------------------------------------------------------------- interest


def accrued_interest(claim: ClaimBook, through: date, table: RateTable) -> list[tuple[date, int]]:
    """Interest not yet booked on ``claim`` up to ``through`` (exclusive), as
    (interest through, amount) parts split at anniversaries of default."""
    since = rules.in_default_since(claim.due_date)
    end = through if claim.frozen_from is None else min(through, claim.frozen_from)
    start = claim.interest_through or since
    if end <= start or claim.principal <= 0:
        return []
    parts: list[tuple[date, int]] = []
    cursor = start
    while cursor < end:
        anniversary = rules.last_anniversary(since, cursor)
        next_anniversary = add_months(since, 12 * (_years(since, anniversary) + 1))
        stop = min(end, next_anniversary)
        capitalised, pending = _capitalisation(claim, anniversary, parts)
        periods = rules.accrue_interest(
            principal=claim.principal,
            capitalised=capitalised,
            pending=pending,
            default_since=since,
            start=cursor,
            end=stop,
            table=table,
        )
        amount = sum(p.interest for p in periods)
        parts.append((stop, amount))
        cursor = stop
    return parts


def _years(since: date, anniversary: date) -> int:
    return (anniversary.year - since.year) if anniversary > since else 0


def _capitalisation(
    claim: ClaimBook, anniversary: date, extra: Sequence[tuple[date, int]]
) -> tuple[int, int]:
    """Unpaid interest accrued before ``anniversary`` (capitalised) and since (pending).

    Payments pay the oldest interest first.
    """
    booked = [*claim.interest_booked, *extra]
    before = sum(a for t, a in booked if t <= anniversary)
    after = sum(a for t, a in booked if t > anniversary)
    paid = claim.interest_paid
    capitalised = max(0, before - paid)
    pending = max(0, after - max(0, paid - before))
    if anniversary <= rules.in_default_since(claim.due_date):
        return 0, capitalised + pending
    return capitalised, pending


def book_interest(
    books: CustomerBooks, through: date, now: datetime, table: RateTable, **extra: Any
) -> int:
    """Book the interest accrued on every claim up to ``through``; returns the cents."""
    total = 0
    for claim in books.ordered():
        for part_through, amount in accrued_interest(claim, through, table):
            books.add(
                claim,
                EntryKind.INTEREST,
                Part.INTEREST,
                amount,
                part_through,
                now,
                interest_through=part_through,
                **extra,
            )
            total += amount
    return total


def mark_accrual_restart(
    books: CustomerBooks, agreed_on: date, on: date, now: datetime, note: str
) -> int:
    """An arrangement agreed on ``agreed_on`` ended unpaid on ``on``: interest on the
    claims it covered runs again from ``on``, not from the day it was agreed.

    A zero interest entry "through ``on``" says so; returns how many were booked.
    """
    booked = 0
    for claim in books.ordered():
        if claim.due_date > agreed_on or claim.outstanding <= 0:
            continue
        if claim.interest_through is not None and claim.interest_through >= on:
            continue
        claim.frozen_from = None
        books.add(
            claim, EntryKind.INTEREST, Part.INTEREST, 0, on, now, interest_through=on, note=note
        )
        booked += 1
    return booked


# -------------------------------------------------------------------- balances


@dataclass(frozen=True)
class ClaimFigures:
    claim_id: int
    reference: str
    description: str
    due_date: date
    in_default_since: date | None  # None: not yet in default
    principal: int  # booked (invoiced)
    costs: int  # booked
    interest: int  # booked, plus what accrued since the last booking
    paid: int
    outstanding_principal: int
    outstanding_costs: int
    outstanding_interest: int

    @property
    def outstanding(self) -> int:
        return self.outstanding_principal + self.outstanding_costs + self.outstanding_interest


@dataclass(frozen=True)
class Balance:
    customer_id: int
    on: date
    claims: tuple[ClaimFigures, ...]
    credit: int

    @property
    def outstanding(self) -> int:
        return sum(c.outstanding for c in self.claims)

    def total(self, name: str) -> int:
        return sum(int(getattr(c, name)) for c in self.claims)


def figures(books: CustomerBooks, on: date, table: RateTable | None = None) -> Balance:
    """What each claim owes on ``on``: the entries, plus interest accrued since the
    last booking (not booked here)."""
    table = table or load_rate_table()
    lines = []
    for claim in books.ordered():
        accrued = sum(a for _, a in accrued_interest(claim, on, table))
        default = rules.in_default_since(claim.due_date)
        lines.append(
            ClaimFigures(
                claim_id=claim.claim_id,
                reference=claim.reference,
                description=claim.description,
                due_date=claim.due_date,
                in_default_since=default if default <= on else None,
                principal=claim.invoiced,
                costs=claim.costs_booked,
                interest=claim.interest_booked_total + accrued,
                paid=claim.paid,
                outstanding_principal=claim.principal,
                outstanding_costs=claim.costs,
                outstanding_interest=claim.interest + accrued,
            )
        )
    return Balance(books.customer_id, on, tuple(lines), books.credit)


def customer_balance(session: Session, customer_id: int, on: date) -> Balance:
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("There is no customer with id {id}.", id=customer_id)
    books = load_customer_books(session, customer_id, as_of=on)
    return figures(books, on, team_rules.rate_table(session))


# -------------------------------------------------------------------- invoices


def book_invoice(
    books: CustomerBooks, claim: Claim, now: datetime, *, on: date | None = None
) -> int:
    """Make the booked principal of ``claim`` equal what the billing system invoiced.

    A new claim gets a ``principal`` entry; a changed amount a ``correction``.
    Returns the change in cents.
    """
    book = books.claims.get(claim.id)
    if book is None:
        book = ClaimBook(claim.id, claim.reference, claim.description, claim.due_date)
        books.claims[claim.id] = book
    book.due_date = claim.due_date
    delta = claim.principal_cents - book.invoiced
    if delta == 0:
        return 0
    kind = EntryKind.PRINCIPAL if book.invoiced == 0 and not book.paid else EntryKind.CORRECTION
    if delta < 0 and -delta > book.principal:
        raise ValidationError(
            "Claim {reference} cannot be lowered to {amount}: more than that has been paid.",
            "principal",
            reference=claim.reference,
            amount=f"{claim.principal_cents / 100:.2f}",
        )
    books.add(book, kind, Part.PRINCIPAL, delta, on or claim.due_date, now)
    return delta


# -------------------------------------------------------------------- payments


@dataclass
class PaymentOutcome:
    payment_id: int
    allocations: tuple[tuple[int, Allocation], ...]
    credit: int
    interest_booked: int


def apply_payment(
    books: CustomerBooks,
    payment_id: int,
    amount: int,
    paid_on: date,
    now: datetime,
    *,
    named_claim_id: int | None = None,
    rates: RateTable | None = None,
) -> PaymentOutcome:
    """Book a payment on the claims by art. 6:43/6:44 BW; the rest becomes credit.

    Interest up to the day of payment is booked first, so the payment pays it before
    principal.
    """
    interest = book_interest(books, paid_on, now, rates or load_rate_table())
    split = rules.split_payment(amount, books.balances(), paid_on, named_claim_id)
    for claim_id, allocation in split.allocations:
        claim = books.claims[claim_id]
        for part, cents in (
            (Part.COSTS, allocation.costs),
            (Part.INTEREST, allocation.interest),
            (Part.PRINCIPAL, allocation.principal),
        ):
            if cents:
                books.add(
                    claim, EntryKind.PAYMENT, part, -cents, paid_on, now, payment_id=payment_id
                )
    if split.credit:
        books.add(
            None, EntryKind.CREDIT, Part.CREDIT, split.credit, paid_on, now, payment_id=payment_id
        )
    return PaymentOutcome(payment_id, split.allocations, split.credit, interest)


@dataclass(frozen=True)
class PaymentInput:
    customer_id: int
    amount_cents: int
    paid_on: date
    reference: str
    claim_id: int | None = None


@dataclass
class PaymentsResult:
    payments: int = 0
    credit_cents: int = 0
    outcomes: list[PaymentOutcome] = field(default_factory=list)
    closed_customers: int = 0
    promises_kept: int = 0


def receive_payments(
    session: Session,
    actor: Actor,
    payments: Sequence[PaymentInput],
    now: datetime,
    *,
    source: str = "import",
    rates: RateTable | None = None,
    paid_between: tuple[date, date] | None = None,
) -> PaymentsResult:
    """Store payments and book them: claims (6:43/6:44), the running arrangement's
    instalments in due order, open promises, and close customers who owe nothing.

    One pass per customer, payments in the order given. The caller audits.
    ``paid_between``: the first and last payment day of the whole file when a large
    import books it in parts (each part all the payments of its customers), so
    that every part books as the whole file would.
    """
    from agent_desk.services import promises as promise_service

    rates = rates or team_rules.rate_table(session)
    result = PaymentsResult()
    if not payments:
        return result
    stored = _store_payments(session, actor, payments, now, source)
    books = load_books(session, {p.customer_id for p in payments})
    paid_per_customer: dict[int, list[tuple[date, int]]] = {}
    for payment, payment_id in zip(payments, stored, strict=True):
        book = books[payment.customer_id]
        outcome = apply_payment(
            book,
            payment_id,
            payment.amount_cents,
            payment.paid_on,
            now,
            named_claim_id=payment.claim_id,
            rates=rates,
        )
        result.outcomes.append(outcome)
        result.credit_cents += outcome.credit
        paid_per_customer.setdefault(payment.customer_id, []).append(
            (payment.paid_on, payment.amount_cents - outcome.credit)
        )
    result.payments = len(payments)
    write(session, books.values())
    last_day = paid_between[1] if paid_between else max(p.paid_on for p in payments)
    sync_claim_caches(session, books.values(), last_day)
    fill_instalments(
        session, {cid: sum(a for _, a in received) for cid, received in paid_per_customer.items()}
    )
    result.promises_kept = promise_service.on_payments(
        session, paid_per_customer, now, earliest=paid_between[0] if paid_between else None
    )
    result.closed_customers = settle_customers(
        session, books.values(), now, may_close=actor.is_supervisor
    )
    return result


def _store_payments(
    session: Session,
    actor: Actor,
    payments: Sequence[PaymentInput],
    now: datetime,
    source: str,
) -> list[int]:
    table: Table = Payment.__table__  # type: ignore[assignment]
    rows = [
        {
            "reference": p.reference,
            "customer_id": p.customer_id,
            "claim_id": p.claim_id,
            "amount_cents": p.amount_cents,
            "paid_on": p.paid_on,
            "created_at": now,
            "source": source,
            "agent_id": actor.agent_id,
        }
        for p in payments
    ]
    # In bulk (COPY, or one executemany), then the ids back by their unique reference.
    bulk.insert_rows(session, table, rows)
    bulk.keep_statistics(session, "payment", len(rows))  # its ledger entries' key checks
    ids = bulk.ids_by(session, table, "reference", [p.reference for p in payments])
    return [ids[p.reference] for p in payments]


def fill_instalments(session: Session, amounts: dict[int, int]) -> None:
    """Payments (cents per customer) fill each running arrangement's instalments in due
    order, whatever the customer wrote on the transfer."""
    ids = [cid for cid, amount in amounts.items() if amount > 0]
    left = dict(amounts)
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(Instalment, Arrangement.customer_id)
            .join(Arrangement)
            .where(
                Arrangement.customer_id.in_(chunk),
                # Waiting for approval counts too: once approved, what was paid is there.
                Arrangement.status.in_(_RUNNING),
                Instalment.paid_cents < Instalment.amount_cents,
            )
            .order_by(Arrangement.customer_id, Instalment.due_date, Instalment.number)
        ).all()
        for instalment, customer_id in rows:
            amount = left[customer_id]
            if amount <= 0:
                continue
            take = min(amount, instalment.amount_cents - instalment.paid_cents)
            instalment.paid_cents += take
            left[customer_id] = amount - take
            if instalment.paid_cents == instalment.amount_cents:
                instalment.status = InstalmentStatus.PAID.value


def sync_claim_caches(session: Session, books: Iterable[CustomerBooks], today: date) -> None:
    """Write ``claim.paid_cents``/``settled_on`` and ``customer.credit_cents`` from the books."""
    claims: dict[int, ClaimBook] = {}
    credits: dict[int, int] = {}
    for book in books:
        claims.update(book.claims)
        credits[book.customer_id] = book.credit
    if not claims:
        return
    claim_rows = prefetch(session, Claim, claims)
    customer_rows = prefetch(session, Customer, credits)
    for claim_id, claim_book in claims.items():
        claim = claim_rows.get(claim_id)
        if claim is None:
            continue
        settled = claim.settled_on
        if claim_book.outstanding <= 0 and settled is None:
            settled = today
        elif claim_book.outstanding > 0:
            settled = None
        if claim.paid_cents != claim_book.paid:
            claim.paid_cents = claim_book.paid
        if claim.settled_on != settled:
            claim.settled_on = settled
    for customer_id, credit in credits.items():
        customer = customer_rows.get(customer_id)
        if customer is not None and customer.credit_cents != credit:
            customer.credit_cents = credit


def _chunks(items: list[int], size: int = 1000) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def prefetch(session: Session, model: Any, ids: Iterable[int]) -> dict[int, Any]:
    """These rows by id, loaded in a few queries instead of one ``session.get`` each.

    Keep the returned dict while you use the rows: the session's identity map holds
    them only weakly.
    """
    found: dict[int, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update(
            (row.id, row) for row in session.scalars(select(model).where(model.id.in_(chunk)))
        )
    return found


def settle_customers(
    session: Session, books: Iterable[CustomerBooks], now: datetime, *, may_close: bool = True
) -> int:
    """Close every open customer who owes nothing on any claim or arrangement.

    Closing takes a customer out of every queue, so only a supervisor's or the
    system's connection does it (``may_close``); after an agent's payment the
    nightly run closes.
    """
    from agent_desk.services.derived import refresh_customers

    books = list(books)
    customers = refresh_customers(session, [b.customer_id for b in books])
    if not may_close:
        return 0
    candidates = [
        b.customer_id
        for b in books
        if b.outstanding <= 0
        and b.customer_id in customers
        and customers[b.customer_id].status == CustomerStatus.OPEN.value
    ]
    still_paying = _arrangements_open(session, candidates)
    closing = [cid for cid in candidates if cid not in still_paying]
    for chunk in _chunks(closing):
        for cid in chunk:
            customers[cid].status = CustomerStatus.CLOSED.value
        session.execute(
            update(NextStep)
            .where(NextStep.customer_id.in_(chunk), NextStep.done_at.is_(None))
            .values(done_at=now, version=NextStep.version + 1)
            .execution_options(synchronize_session=False)
        )
        _complete_paid_arrangements(session, chunk)
    refresh_customers(session, closing)
    return len(closing)


def _arrangements_open(session: Session, customer_ids: list[int]) -> set[int]:
    """Customers whose running arrangement still expects money: they stay open."""
    found: set[int] = set()
    for chunk in _chunks(sorted(customer_ids)):
        rows = session.execute(
            select(
                Arrangement.customer_id,
                Arrangement.total_cents,
                func.coalesce(func.sum(Instalment.paid_cents), 0),
            )
            .join(Instalment, Instalment.arrangement_id == Arrangement.id)
            .where(Arrangement.customer_id.in_(chunk), Arrangement.status.in_(_RUNNING))
            .group_by(Arrangement.id, Arrangement.customer_id, Arrangement.total_cents)
        ).all()
        found.update(int(cid) for cid, total, paid in rows if int(paid) < int(total))
    return found


def _complete_paid_arrangements(session: Session, customer_ids: list[int]) -> None:
    session.execute(
        update(Arrangement)
        .where(
            Arrangement.customer_id.in_(customer_ids),
            Arrangement.status == ArrangementStatus.ACTIVE.value,
        )
        .values(status=ArrangementStatus.COMPLETED.value, version=Arrangement.version + 1)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- 14-day letters


@dataclass(frozen=True)
class NoticeDraft:
    """What a 14-day letter sent on ``sent_on`` names: the claims in default."""

    sent_on: date
    channel: rules.Channel
    received_on: date
    term_ends: date
    claims: tuple[ClaimFigures, ...]  # in default on sent_on, with something open
    principal: int  # outstanding principal of those claims
    costs: int  # what becomes owed if unpaid (VAT included)
    vat: int

    @property
    def costs_chargeable_from(self) -> date:
        return self.term_ends + timedelta(days=1)


def draft_notice(
    session: Session,
    customer_id: int,
    sent_on: date,
    channel: rules.Channel,
    *,
    add_vat: bool,
    fees: FeeTable | None = None,
    policy: rules.BooksPolicy | None = None,
) -> NoticeDraft:
    """The 14-day letter's figures: only claims in default on the day it is sent, and
    not those a running arrangement covers (the plan already says what is owed)."""
    policy = policy or team_rules.books_policy(session)
    fees = fees or team_rules.fee_table(session)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("There is no customer with id {id}.", id=customer_id)
    books = load_customer_books(session, customer_id, as_of=sent_on)
    balance = figures(books, sent_on, team_rules.rate_table(session))
    named = tuple(
        c
        for c in balance.claims
        if c.in_default_since is not None
        and c.outstanding_principal > 0
        and books.claims[c.claim_id].frozen_from is None
    )
    costs = rules.letter_costs(
        [c.outstanding_principal for c in named], fees, sent_on, add_vat=add_vat
    )
    return NoticeDraft(
        sent_on=sent_on,
        channel=channel,
        received_on=rules.received_on(sent_on, channel, policy),
        term_ends=rules.term_ends(sent_on, channel, policy),
        claims=named,
        principal=sum(c.outstanding_principal for c in named),
        costs=costs.costs,
        vat=costs.vat,
    )


def record_notice(
    session: Session,
    actor: Actor,
    customer_id: int,
    draft: NoticeDraft,
    now: datetime,
    *,
    letter_id: int | None = None,
) -> DemandNotice:
    """Record a 14-day letter that went out; its term starts the costs clock.

    An agent records letters sent in the last ``MAX_NOTICE_BACKDATE_DAYS`` days; an
    older one, whose costs are owed at once, is for a supervisor (the team database
    refuses it from an agent's connection too).
    """
    if (
        not actor.is_supervisor
        and (now.date() - draft.sent_on).days > limits.MAX_NOTICE_BACKDATE_DAYS
    ):
        raise ValidationError(
            "A 14-day letter sent more than {days} days ago is recorded by a supervisor.",
            "date",
            days=limits.MAX_NOTICE_BACKDATE_DAYS,
        )
    customer = session.get(Customer, customer_id)
    paused_until = customer.paused_until if customer is not None else None
    if paused_until is not None and paused_until >= draft.sent_on:
        raise ValidationError(
            "Collection is paused until {until}: no 14-day letter goes out during a pause.",
            "date",
            until=paused_until.isoformat(),
        )
    if not draft.claims:
        raise ValidationError(
            "No claim of this customer is in default on {on}: there is nothing a 14-day "
            "letter could name.",
            "date",
            on=draft.sent_on.isoformat(),
        )
    notice = DemandNotice(
        customer_id=customer_id,
        letter_id=letter_id,
        agent_id=actor.agent_id,
        sent_on=draft.sent_on,
        channel=draft.channel.value,
        received_on=draft.received_on,
        term_ends=draft.term_ends,
        principal_named_cents=draft.principal,
        costs_named_cents=draft.costs,
        vat_named_cents=draft.vat,
        status="running",
        costs_booked_cents=0,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    session.execute(
        insert(DemandNoticeClaim.__table__),  # type: ignore[arg-type]
        [
            {
                "notice_id": notice.id,
                "claim_id": c.claim_id,
                "principal_named_cents": c.outstanding_principal,
            }
            for c in draft.claims
        ],
    )
    return notice


@dataclass
class CostsResult:
    notices: int = 0
    booked: int = 0  # notices whose costs were booked
    paid_in_term: int = 0
    in_arrangement: int = 0
    cents: int = 0
    customers: set[int] = field(default_factory=set)


def book_due_costs(
    session: Session,
    today: date,
    now: datetime,
    *,
    customer_ids: Iterable[int] | None = None,
    fees: FeeTable | None = None,
) -> CostsResult:
    """Book the costs of every running 14-day letter whose term ended before ``today``:
    over what it named and is still unpaid (with the VAT it announced, never more than
    it named); a letter paid in time books nothing, nor one whose claims an arrangement
    now covers."""
    fees = fees or team_rules.fee_table(session)
    result = CostsResult()
    query = select(DemandNotice).where(
        DemandNotice.status == "running", DemandNotice.term_ends < today
    )
    if customer_ids is not None:
        query = query.where(DemandNotice.customer_id.in_(list(customer_ids)))
    notices = list(session.scalars(query.order_by(DemandNotice.id)))
    if not notices:
        return result
    named: dict[int, list[tuple[int, int]]] = {}
    for notice_id, claim_id, cents in session.execute(
        select(
            DemandNoticeClaim.notice_id,
            DemandNoticeClaim.claim_id,
            DemandNoticeClaim.principal_named_cents,
        ).where(DemandNoticeClaim.notice_id.in_([n.id for n in notices]))
    ):
        named.setdefault(notice_id, []).append((claim_id, cents))
    books = load_books(session, {n.customer_id for n in notices})
    for notice in notices:
        result.notices += 1
        book = books[notice.customer_id]
        chargeable = notice.term_ends + timedelta(days=1)
        named_claims = [(c, n) for c, n in named.get(notice.id, []) if c in book.claims]
        notice.settled_on = chargeable
        if any(book.claims[c].frozen_from is not None for c, _ in named_claims):
            # An arrangement running for these claims fixed what is owed: no costs on top.
            notice.status = "in_arrangement"
            result.in_arrangement += 1
            continue
        late = _principal_paid_late(session, [c for c, _ in named_claims], chargeable)
        claims = [
            rules.NamedClaim(cid, cents, book.claims[cid].principal + late.get(cid, 0))
            for cid, cents in named_claims
        ]
        # The letter's own terms: the VAT it announced, never more than it named.
        owed = rules.costs_owed(claims, fees, notice.sent_on, add_vat=notice.vat_named_cents > 0)
        if owed.costs > notice.costs_named_cents:  # pragma: no cover - the scale is monotone
            owed = rules.CostsOwed(notice.costs_named_cents, owed.vat, owed.per_claim)
        if owed.costs == 0:
            notice.status = "paid_in_term"
            result.paid_in_term += 1
            continue
        for claim_id, share in owed.per_claim:
            book.add(
                book.claims[claim_id],
                EntryKind.COSTS,
                Part.COSTS,
                share,
                chargeable,
                now,
                notice_id=notice.id,
            )
        notice.status = "costs_booked"
        notice.costs_booked_cents = owed.costs
        result.booked += 1
        result.cents += owed.costs
        result.customers.add(notice.customer_id)
    write(session, books.values())
    return result


def _principal_paid_late(session: Session, claim_ids: list[int], day: date) -> dict[int, int]:
    """Principal paid on these claims from ``day`` on: not paid within the term."""
    e = LedgerEntry
    return {
        int(claim_id or 0): -int(amount or 0)
        for claim_id, amount in session.execute(
            select(e.claim_id, func.sum(e.amount_cents))
            .where(
                e.claim_id.in_(claim_ids),
                e.kind == EntryKind.PAYMENT.value,
                e.part == Part.PRINCIPAL.value,
                e.booked_on >= day,
            )
            .group_by(e.claim_id)
        )
    }


def start_of_day(on: date) -> datetime:
    return datetime.combine(on, time(0), tzinfo=UTC)
