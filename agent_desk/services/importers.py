"""Imports from the billing system: customers with their claims, and payments.

All or nothing: every row is checked first; if any row is bad, nothing is written
and every bad row is reported with its line number and reason. Importing the same
file again changes nothing (customers and claims are matched by their numbers,
payments by their reference).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain.codes import ContactKind, CustomerStatus, NextStepKind
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
    Claim,
    ContactPoint,
    Customer,
    NextStep,
    Payment,
    SignalObjection,
)
from agent_desk.services import ledger
from agent_desk.services.activity import NextStepInput, set_next_step
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.derived import refresh_customers
from agent_desk.services.signals import record_objection

MAX_FILE_BYTES = 200 * 1024 * 1024
_NUL = re.compile("\x00")
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)


class ImportRejected(AgentDeskError):
    """Bad rows were found; nothing was written."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  line {e.line}: {e.message}" for e in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(
            f"{path.name} has {len(errors)} bad row(s); nothing was imported:\n{shown}{more}"
        )


def read_rows(
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    parse: Callable[[dict[str, str]], T],
) -> list[tuple[int, T]]:
    """Parse every row of a CSV file, raising ``ImportRejected`` with all bad rows."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AgentDeskError(
                "{name} is larger than 200 MB; split it into smaller files.", name=path.name
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AgentDeskError("There is no file {path}.", path=path) from None
    except IsADirectoryError:
        raise AgentDeskError("{path} is a folder, not a CSV file.", path=path) from None
    except PermissionError:
        raise AgentDeskError("Agent Desk may not read {path}.", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportRejected(
            path, [RowError(line, "the file is not UTF-8 text; save it as CSV UTF-8.")]
        ) from None
    if "\x00" in text:
        lines = sorted({text.count("\n", 0, m.start()) + 1 for m in _NUL.finditer(text)})
        raise ImportRejected(
            path,
            [
                RowError(
                    n,
                    "the line holds a NUL character (a binary zero); save the file again as CSV text.",
                )
                for n in lines[:20]
            ],
        )
    dialect = csv.excel
    with contextlib.suppress(csv.Error):  # no clear dialect: comma-separated
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")  # type: ignore[assignment]
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        rules.check_header(
            list(reader.fieldnames) if reader.fieldnames else None, columns, required
        )
    except ValidationError as error:
        raise ImportRejected(path, [RowError(1, str(error))]) from None
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    parsed: list[tuple[int, T]] = []
    errors: list[RowError] = []
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:
            # e.g. a value longer than the csv module's limit (131,072 characters)
            errors.append(
                RowError(
                    reader.line_num + 1,  # the reader counts the line only once it is read
                    "a value on this line is far too long or not CSV; check the file.",
                )
            )
            raise ImportRejected(path, errors) from None
        line = reader.line_num
        if None in row:
            errors.append(RowError(line, "the row has more values than the header has columns."))
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        try:
            parsed.append((line, parse({k: v or "" for k, v in row.items()})))
        except ValidationError as error:
            errors.append(RowError(line, str(error)))
    if errors:
        raise ImportRejected(path, errors)
    if not parsed:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    return parsed


def import_customers(session: Session, actor: Actor, path: Path, now: datetime) -> ImportResult:
    actor.require_supervisor(N_("import customers"))
    logins = {login: agent_id for login, agent_id in session.execute(select(Agent.login, Agent.id))}
    records = read_rows(
        path,
        rules.CUSTOMER_COLUMNS,
        rules.CUSTOMER_REQUIRED,
        lambda row: rules.parse_customer_row(row, set(logins), now.date()),
    )
    _check_consistent(path, records)
    result = ImportResult(rows=len(records))
    touched: set[int] = set()
    invoiced: dict[int, Claim] = {}
    for _line, record in records:
        customer = session.scalar(
            select(Customer).where(Customer.customer_number == record.customer_number)
        )
        changed = False
        if customer is None:
            customer = Customer(
                customer_number=record.customer_number,
                first_name=record.first_name,
                last_name=record.last_name,
                language=record.language,
                segment=record.segment,
                date_of_birth=record.date_of_birth,
                trigger=record.trigger,
                trigger_on=record.trigger_on,
                status=CustomerStatus.OPEN.value,
                assigned_agent_id=logins.get(record.agent) if record.agent else None,
            )
            session.add(customer)
            session.flush()
            session.add(
                NextStep(
                    customer_id=customer.id,
                    kind=NextStepKind.REVIEW.value,
                    due_at=now,
                    assigned_agent_id=customer.assigned_agent_id,
                    note="imported",
                    created_by_id=actor.agent_id,
                    created_at=now,
                )
            )
            result.created += 1
            changed = True
        else:
            values: dict[str, object] = {
                "first_name": record.first_name,
                "last_name": record.last_name,
                "language": record.language,
                "segment": record.segment,
            }
            if record.agent:
                values["assigned_agent_id"] = logins[record.agent]
            if record.date_of_birth is not None:  # empty: keep the one the desk holds
                values["date_of_birth"] = record.date_of_birth
            if record.trigger is not None:  # empty: keep the trigger the desk holds
                values |= {"trigger": record.trigger, "trigger_on": record.trigger_on}
            for name, value in values.items():
                if getattr(customer, name) != value:
                    setattr(customer, name, value)
                    changed = True
        changed |= _sync_contact_points(session, customer, record)
        if record.signal_objection is not None:
            changed |= _objection(session, actor, customer.id, record.signal_objection, now)
        claim = _sync_claim(session, customer, record)
        if claim is not None:
            invoiced[id(claim)] = claim
            changed = True
        if changed:
            touched.add(customer.id)
    session.flush()
    _book_invoices(session, actor, list(invoiced.values()), now)
    for customer_id in touched:
        audit(
            session,
            actor,
            "import",
            "customer",
            customer_id,
            customer_id=customer_id,
            detail=path.name,
            at=now,
        )
    refresh_customers(session, touched)
    result.updated = len(touched) - result.created
    result.unchanged = len({r.customer_number for _, r in records}) - len(touched)
    return result


def _objection(session: Session, actor: Actor, customer_id: int, on: date, now: datetime) -> bool:
    """The billing system's objection to an early signal, recorded once per day."""
    known = session.scalar(
        select(SignalObjection.id).where(
            SignalObjection.customer_id == customer_id, SignalObjection.objected_on == on
        )
    )
    if known is not None:
        return False
    record_objection(session, actor, customer_id, on=on, channel="import", now=now, source="import")
    return True


def _check_consistent(path: Path, records: list[tuple[int, rules.CustomerRecord]]) -> None:
    first: dict[str, tuple[int, rules.CustomerRecord]] = {}
    born: dict[str, tuple[int, date]] = {}
    claims: dict[str, int] = {}
    totals: dict[str, int] = {}
    errors: list[RowError] = []
    for line, record in records:
        seen = first.setdefault(record.customer_number, (line, record))
        if (seen[1].last_name, seen[1].address) != (record.last_name, record.address):
            errors.append(
                RowError(
                    line,
                    f"customer {record.customer_number} has other details than on line {seen[0]}.",
                )
            )
        if record.date_of_birth is not None:
            # Rows may leave it empty; two different dates cannot both be right.
            other = born.setdefault(record.customer_number, (line, record.date_of_birth))
            if other[1] != record.date_of_birth:
                errors.append(
                    RowError(
                        line,
                        f"customer {record.customer_number} has another date of birth "
                        f"than on line {other[0]}.",
                    )
                )
        if record.claim_reference in claims:
            errors.append(
                RowError(
                    line,
                    f"claim {record.claim_reference} appears twice (also on line {claims[record.claim_reference]}).",
                )
            )
        claims.setdefault(record.claim_reference, line)
        totals[record.customer_number] = (
            totals.get(record.customer_number, 0) + record.principal_cents
        )
        if totals[record.customer_number] > rules.MAX_CUSTOMER_TOTAL_CENTS:
            errors.append(
                RowError(
                    line,
                    f"customer {record.customer_number}'s claims add up to more than "
                    "20,000,000.00; check the file.",
                )
            )
    if errors:
        raise ImportRejected(path, errors)


def _sync_contact_points(
    session: Session, customer: Customer, record: rules.CustomerRecord
) -> bool:
    existing = {
        (p.kind, p.value): p
        for p in session.scalars(
            select(ContactPoint).where(ContactPoint.customer_id == customer.id)
        )
    }
    wanted: list[tuple[str, str, dict[str, str | None]]] = []
    if record.mobile:
        wanted.append((ContactKind.MOBILE.value, record.mobile, {}))
    if record.phone:
        wanted.append((ContactKind.PHONE.value, record.phone, {}))
    if record.email:
        wanted.append((ContactKind.EMAIL.value, record.email, {}))
    address = record.address
    wanted.append(
        (
            ContactKind.ADDRESS.value,
            address.one_line(),
            {
                "street": address.street,
                "house_number": address.house_number,
                "postcode": address.postcode,
                "city": address.city,
            },
        )
    )
    changed = False
    for kind, value, parts in wanted:
        if (kind, value) in existing:
            continue
        session.add(
            ContactPoint(
                customer_id=customer.id, kind=kind, value=value, verification_source=None, **parts
            )
        )
        changed = True
    return changed


def _book_invoices(session: Session, actor: Actor, claims: list[Claim], now: datetime) -> None:
    """The books follow the billing system: each new or changed claim's principal is
    booked; a closed customer who owes again is reopened with a review."""
    if not claims:
        return
    books = ledger.load_books(session, {c.customer_id for c in claims})
    for claim in claims:
        ledger.book_invoice(books[claim.customer_id], claim, now)
    ledger.write(session, books.values())
    ledger.sync_claim_caches(session, books.values(), now.date())
    for book in books.values():
        customer = session.get(Customer, book.customer_id)
        if (
            customer is not None
            and customer.status == CustomerStatus.CLOSED
            and book.outstanding > 0
        ):
            customer.status = CustomerStatus.OPEN.value
            set_next_step(
                session,
                actor,
                customer,
                NextStepInput(NextStepKind.REVIEW, now, "new claim imported"),
                now,
            )


def _sync_claim(session: Session, customer: Customer, record: rules.CustomerRecord) -> Claim | None:
    """The claim of this row, created or updated; ``None`` when nothing changed."""
    claim = session.scalar(select(Claim).where(Claim.reference == record.claim_reference))
    if claim is None:
        claim = Claim(
            customer_id=customer.id,
            reference=record.claim_reference,
            description=record.claim_description,
            principal_cents=record.principal_cents,
            due_date=record.due_date,
        )
        session.add(claim)
        return claim
    if claim.customer_id != customer.id:
        raise ValidationError(
            "Claim {claim_reference} already belongs to another customer; nothing was imported.",
            "claim_reference",
            claim_reference=record.claim_reference,
        )
    changed = False
    for name, value in (
        ("description", record.claim_description),
        ("principal_cents", record.principal_cents),
        ("due_date", record.due_date),
    ):
        if getattr(claim, name) != value:
            setattr(claim, name, value)
            changed = True
    return claim if changed else None


def import_payments(session: Session, actor: Actor, path: Path, now: datetime) -> ImportResult:
    """Apply payments: to the named claim, else to the customer's oldest claims first
    (6:43 BW), and to an active arrangement's instalments in due order."""
    actor.require_supervisor(N_("import payments"))
    records = read_rows(
        path,
        rules.PAYMENT_COLUMNS,
        rules.PAYMENT_REQUIRED,
        lambda row: rules.parse_payment_row(row, now.date()),
    )
    numbers = {r.customer_number for _, r in records}
    customers = {
        c.customer_number: c
        for c in session.scalars(select(Customer).where(Customer.customer_number.in_(numbers)))
    }
    errors = [
        RowError(line, f"there is no customer {r.customer_number}.")
        for line, r in records
        if r.customer_number not in customers
    ]
    references = [r.reference for _, r in records]
    duplicates = {ref for ref in references if references.count(ref) > 1}
    errors += [
        RowError(line, f"payment {r.reference} appears twice in the file.")
        for line, r in records
        if r.reference in duplicates
    ]
    if errors:
        raise ImportRejected(path, errors)
    known = set(session.scalars(select(Payment.reference).where(Payment.reference.in_(references))))
    result = ImportResult(rows=len(records))
    claim_ids = {
        (customer_id, reference): claim_id
        for claim_id, customer_id, reference in session.execute(
            select(Claim.id, Claim.customer_id, Claim.reference).where(
                Claim.customer_id.in_([c.id for c in customers.values()])
            )
        )
    }
    incoming: list[ledger.PaymentInput] = []
    lines: list[int] = []
    for line, record in records:
        if record.reference in known:
            result.unchanged += 1
            continue
        customer = customers[record.customer_number]
        claim_id = None
        if record.claim_reference:
            claim_id = claim_ids.get((customer.id, record.claim_reference))
            if claim_id is None:
                raise ImportRejected(
                    path,
                    [
                        RowError(
                            line,
                            f"customer {customer.customer_number} has no claim {record.claim_reference}.",
                        )
                    ],
                )
        incoming.append(
            ledger.PaymentInput(
                customer.id, record.amount_cents, record.paid_on, record.reference, claim_id
            )
        )
        lines.append(line)
    booked = ledger.receive_payments(session, actor, incoming, now)
    for line, outcome in zip(lines, booked.outcomes, strict=True):
        if outcome.credit:
            result.notes.append(
                f"line {line}: {cents_to_str(outcome.credit)} more than owed; kept as credit."
            )
    result.created = booked.payments
    for customer_id in sorted({p.customer_id for p in incoming}):
        audit(
            session,
            actor,
            "import",
            "payment",
            None,
            customer_id=customer_id,
            detail=path.name,
            at=now,
        )
    return result
