"""The books: what each customer owes, per claim, as the sum of dated entries.

Every figure the desk, the CLI and the letters show is read from here. The rules are
``agent_desk.domain.ledger``'s; this module loads a customer's entries, applies the
rules, and appends the entries that follow (never an UPDATE of an entry).

Interest is booked when something happens that needs it exact (a payment, an
arrangement, a 14-day letter, the end of an arrangement) and by the nightly run once a
month; in between :func:`agent_desk.services.balance.customer_balance` adds what accrued since the last booking,
computed from the same entries, so a balance shown is always "as of today".

While an arrangement runs (active or waiting for approval), the claims it covers (due
on or before the day it was agreed) accrue no interest: the plan fixed what is owed.
When it ends without being paid (declined, broken, cancelled) a zero interest entry
marks the day accrual resumes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, case, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as rules
from agent_desk.domain.arrangements import add_months
from agent_desk.domain.codes import ArrangementStatus
from agent_desk.domain.interest import RateTable, load_rate_table
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.domain.team_day import local_day
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    Claim,
    Customer,
    LedgerEntry,
)
from agent_desk.services import bulk

_RUNNING = (ArrangementStatus.ACTIVE.value, ArrangementStatus.PENDING_APPROVAL.value)
_ENTRY_TABLE: Table = LedgerEntry.__table__  # type: ignore[assignment]
_AUDIT_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]
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
    lowered_on: date | None = None  # the latest day an entry lowered what is open

    @property
    def outstanding(self) -> int:
        return self.principal + self.costs + self.interest

    def balance(self) -> rules.ClaimBalance:
        return rules.ClaimBalance(
            self.claim_id, self.due_date, self.principal, self.costs, self.interest
        )


@dataclass
class CreditLot:
    """One surplus kept as credit: the day it arose, what is left of it, and the
    payment that left it."""

    on: date
    cents: int
    payment_id: int | None


@dataclass
class CustomerBooks:
    customer_id: int
    claims: dict[int, ClaimBook]
    credit: int = 0
    credit_used: int = 0  # credit that settled later claims, in all (positive)
    # What is left of each surplus, oldest first: credit used takes the oldest first.
    credit_lots: list[CreditLot] = field(default_factory=list)
    running_arrangement_id: int | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # entries to insert
    audits: list[dict[str, Any]] = field(default_factory=list)  # audit rows to insert

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
            self._credit_moved(amount, on, extra.get("payment_id"))
            return
        _apply_sum(claim, kind, part, amount)
        if amount < 0:
            claim.lowered_on = max(claim.lowered_on or on, on)
        through = extra.get("interest_through")
        if kind is EntryKind.INTEREST and through is not None:
            claim.interest_booked.append((through, amount))
            claim.interest_through = max(claim.interest_through or through, through)

    def _credit_moved(self, amount: int, on: date, payment_id: int | None) -> None:
        """A credit entry of ``amount``: a surplus kept on ``on`` (positive) or credit
        used (negative), which takes the oldest surplus first."""
        self.credit += amount
        if amount > 0:
            self.credit_lots.append(CreditLot(on, amount, payment_id))
            self.credit_lots.sort(key=lambda lot: lot.on)  # stable: same day, booking order
            return
        self.credit_used -= amount
        self._use_lots(-amount)

    def _use_lots(self, cents: int) -> None:
        while cents > 0 and self.credit_lots:
            oldest = self.credit_lots[0]
            taken = min(cents, oldest.cents)
            oldest.cents -= taken
            cents -= taken
            if oldest.cents == 0:
                self.credit_lots.pop(0)


def lock_books(session: Session, customer_ids: Iterable[int]) -> None:
    """Hold these customers' books until the transaction ends, before reading them to
    book on them (a payment, credit used): two transactions that book on the same
    customer (the nightly run, a claims or payments import) then take turns, and the
    second reads what the first booked, so no credit is used twice.

    PostgreSQL: the customers' rows, in id order (no deadlock between two runs that
    lock in the same order), ``FOR NO KEY UPDATE`` (a desk adding a note or a contact
    point to the customer is not held up). SQLite: the database's write lock, taken
    now rather than at the first insert; waits as long as the busy timeout.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if session.connection().dialect.name == "postgresql":
        for chunk in _chunks(ids, 10_000):
            session.execute(
                text("SELECT id FROM customer WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
                {"ids": chunk},
            )
        return
    try:  # a write (that changes nothing) takes the write lock for the transaction
        session.execute(
            text("UPDATE customer SET credit_cents = credit_cents WHERE id = :id"), {"id": ids[0]}
        )
    except OperationalError as error:
        if "locked" not in str(error.orig).lower():
            raise
        raise books_busy() from None


def books_busy() -> ConflictError:
    """SQLite: another run held the database's write lock past the busy timeout."""
    return ConflictError(
        "Another run is booking on this database and did not finish in time; nothing "
        "was saved. Try again when it is done."
    )


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
    lowered = e.amount_cents < 0
    for entry_customer, entry_claim, kind, part, total, lowered_on in session.execute(
        select(
            e.customer_id,
            e.claim_id,
            e.kind,
            e.part,
            func.sum(e.amount_cents),
            func.max(case((lowered, e.booked_on), else_=None)),
        )
        .where(
            e.customer_id.in_(ids),
            e.claim_id.is_not(None),
            e.kind != EntryKind.INTEREST.value,
            *in_effect,
        )
        .group_by(e.customer_id, e.claim_id, e.kind, e.part)
    ):
        claim = books[entry_customer].claims[entry_claim]
        _apply_sum(claim, EntryKind(kind), Part(part), int(total or 0))
        if lowered_on is not None:
            claim.lowered_on = max(claim.lowered_on or lowered_on, lowered_on)
    # Credit entry by entry (a customer has few): each surplus with its own day, and
    # the credit used taken from the oldest surplus first.
    used: dict[int, int] = {}
    for entry_customer, amount, booked_on, payment_id in session.execute(
        select(e.customer_id, e.amount_cents, e.booked_on, e.payment_id)
        .where(e.customer_id.in_(ids), e.claim_id.is_(None), *in_effect)
        .order_by(e.customer_id, e.booked_on, e.id)
    ):
        book = books[entry_customer]
        book.credit += amount
        if amount > 0:
            book.credit_lots.append(CreditLot(booked_on, amount, payment_id))
        else:
            used[entry_customer] = used.get(entry_customer, 0) - amount
    for entry_customer, cents in used.items():
        books[entry_customer].credit_used += cents
        books[entry_customer]._use_lots(cents)
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
        agreed = local_day(created_at)
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
    """Insert the entries (and their audit rows) the books gathered; returns how many
    entries."""
    rows: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for book in books:
        rows.extend(book.pending)
        book.pending = []
        audits.extend(book.audits)
        book.audits = []
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:  # every entry has the same columns; grouped in case one does not
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        bulk.insert_rows(session, _ENTRY_TABLE, same)
    if audits:
        bulk.insert_rows(session, _AUDIT_TABLE, audits)
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
    return sum(
        _book_claim_interest(books, claim, through, now, table, **extra)
        for claim in books.ordered()
    )


def _book_claim_interest(
    books: CustomerBooks,
    claim: ClaimBook,
    through: date,
    now: datetime,
    table: RateTable,
    **extra: Any,
) -> int:
    total = 0
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


# -------------------------------------------------------------------- invoices


def book_invoice(
    books: CustomerBooks,
    claim: Claim,
    now: datetime,
    *,
    on: date | None = None,
    rates: RateTable | None = None,
    use_credit: bool = True,
) -> int:
    """Make the booked principal of ``claim`` equal what the billing system invoiced.

    A new claim gets a ``principal`` entry; a changed amount a ``correction``. Credit
    the customer has settles what is then owed (:func:`apply_credit`), in the same
    entries, so an import that is refused books none of it (``use_credit=False``:
    the caller applies it, e.g. :func:`book_invoices` once every claim is booked).
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
    if use_credit and delta > 0 and books.credit > 0:
        apply_credit(books, local_day(now), now, rates or load_rate_table())
    return delta


def book_invoices(
    books: dict[int, CustomerBooks],
    claims: Iterable[Claim],
    now: datetime,
    *,
    rates: RateTable | None = None,
) -> None:
    """:func:`book_invoice` for each claim, then each customer's credit once: oldest
    claim first whatever the order of ``claims`` (art. 6:43 BW)."""
    grown: set[int] = set()
    for claim in claims:
        if book_invoice(books[claim.customer_id], claim, now, use_credit=False) > 0:
            grown.add(claim.customer_id)
    today = local_day(now)
    for customer_id in sorted(grown):
        book = books[customer_id]
        if book.credit > 0:
            apply_credit(book, today, now, rates or load_rate_table())


# ---------------------------------------------------------------------- credit

CREDIT_NOTE = "credit used"


def apply_credit(
    books: CustomerBooks,
    today: date,
    now: datetime,
    table: RateTable,
    *,
    agent_id: int | None = None,
) -> int:
    """Let the customer's credit settle what they owe, as a payment would (art. 6:43
    and 6:44 BW: oldest claim first; costs, interest, principal).

    Each claim is paid from the oldest credit first, on the later of its due date
    and the day that credit arose (the day both existed), never after ``today`` and
    never before interest already booked on it (that is not undone); interest up to
    that day is booked first. Per claim and surplus: ``payment`` entries on the claim
    and one negative ``credit`` entry that lowers the credit by as much, all with the
    note "credit used" and the id of the payment that left that surplus (the team
    database's guards want a payment on every payment entry); an audit row per day.
    Works from the balances, so running it again books nothing more. Returns the
    cents used.
    """
    if books.credit <= 0 or books.outstanding <= 0:
        return 0
    used_on: dict[date, tuple[int, list[str]]] = {}
    for claim in books.ordered():
        while claim.outstanding > 0 and books.credit > 0 and books.credit_lots:
            lot = books.credit_lots[0]
            on = min(today, max(claim.due_date, lot.on, claim.interest_through or lot.on))
            _book_claim_interest(books, claim, on, now, table, note=CREDIT_NOTE)
            available = min(lot.cents, books.credit)
            split = rules.split_payment(available, [claim.balance()], on, None)
            used = available - split.credit
            if used <= 0:  # pragma: no cover - the claim is open, so credit pays some
                break
            for _claim_id, allocation in split.allocations:
                for part, cents in (
                    (Part.COSTS, allocation.costs),
                    (Part.INTEREST, allocation.interest),
                    (Part.PRINCIPAL, allocation.principal),
                ):
                    if cents:
                        books.add(
                            claim,
                            EntryKind.PAYMENT,
                            part,
                            -cents,
                            on,
                            now,
                            payment_id=lot.payment_id,
                            agent_id=agent_id,
                            note=CREDIT_NOTE,
                        )
            books.add(
                None,
                EntryKind.CREDIT,
                Part.CREDIT,
                -used,
                on,
                now,
                payment_id=lot.payment_id,
                agent_id=agent_id,
                note=CREDIT_NOTE,
            )
            cents_that_day, references = used_on.setdefault(on, (0, []))
            if claim.reference not in references:
                references.append(claim.reference)
            used_on[on] = (cents_that_day + used, references)
    for on, (cents, references) in sorted(used_on.items()):
        books.audits.append(
            {
                "at": now,
                "agent_id": agent_id,
                "action": "credit_used",
                "entity": "customer",
                "entity_id": books.customer_id,
                "customer_id": books.customer_id,
                # Machine words the desk puts in the agent's language (customer_file, audit).
                "detail": json.dumps(
                    {"amount_cents": cents, "claims": references, "on": on.isoformat()}
                ),
            }
        )
    return sum(cents for cents, _references in used_on.values())


def sync_claim_caches(session: Session, books: Iterable[CustomerBooks], today: date) -> None:
    """Write ``claim.paid_cents``/``settled_on`` and ``customer.credit_cents`` from the books.

    ``settled_on`` is the day of the last entry that lowered what was open on the
    claim (a payment, credit used); ``today`` where the books know none."""
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
            # The day the payment (or credit) that settled it was booked.
            settled = claim_book.lowered_on or today
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
