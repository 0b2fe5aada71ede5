"""``import payments``: each payment stored once (by its reference) and booked on the
customer's claims and arrangement, in parts of customers with bounded memory."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.team_day import local_day
from agent_desk.i18n import N_
from agent_desk.models import AuditEvent, Claim, Customer, Payment
from agent_desk.services import bulk, payments
from agent_desk.services.actor import Actor
from agent_desk.services.importers.reading import (
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    _table,
    stream_rows,
)

#: Customers whose payments are booked together: the books, claims and customers
#: of one part are in memory at a time, not the whole file's.
PAYMENT_CUSTOMERS_PER_PART = 5000


def _compact_payment(row: dict[str, str], today: date) -> tuple[Any, ...]:
    """A payment row as a small tuple: (reference, customer number, cents, paid on,
    claim reference or None). Module-level for the worker processes."""
    record = rules.parse_payment_row(row, today)
    return (
        record.reference,
        record.customer_number,
        record.amount_cents,
        record.paid_on,
        record.claim_reference,
    )


def import_payments(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Apply payments: to the named claim, else to the customer's oldest claims first
    (6:43 BW), and to an active arrangement's instalments in due order.

    Streamed with bounded memory: the rows are kept as small tuples, and the books
    are worked in parts of ``PAYMENT_CUSTOMERS_PER_PART`` customers, each part with
    all the payments of its customers in file order (the order the books apply them
    in), so the result is the whole file's at once; one transaction, all or nothing.
    """
    actor.require_supervisor(N_("import payments"))
    errors: list[RowError] = []
    lines: list[int] = []
    records: list[tuple[Any, ...]] = []
    first_line: dict[str, int] = {}
    days: dict[date, date] = {}  # one date object per day
    twice: set[str] = set()
    for line, record in stream_rows(
        path,
        rules.PAYMENT_COLUMNS,
        rules.PAYMENT_REQUIRED,
        partial(_compact_payment, today=local_day(now)),
        errors,
        progress,
    ):
        reference = record[0]
        if first_line.setdefault(reference, line) != line:
            twice.add(reference)
        paid_on = days.setdefault(record[3], record[3])
        lines.append(line)
        records.append((reference, record[1], record[2], paid_on, record[4]))
    if not records and not errors:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    if errors:
        raise ImportRejected(path, errors)
    del first_line
    numbers = list(dict.fromkeys(r[1] for r in records))
    customers = bulk.ids_by(session, _table(Customer), "customer_number", numbers)
    del numbers
    errors = [
        RowError(line, f"there is no customer {r[1]}.")
        for line, r in zip(lines, records, strict=True)
        if r[1] not in customers
    ]
    errors += [
        RowError(line, f"payment {r[0]} appears twice in the file.")
        for line, r in zip(lines, records, strict=True)
        if r[0] in twice
    ]
    if errors:
        raise ImportRejected(path, sorted(errors, key=lambda e: e.line))
    known = set(bulk.ids_by(session, _table(Payment), "reference", [r[0] for r in records]))
    result = ImportResult(rows=len(records))
    # Named claims: only the customers whose rows name one.
    naming = sorted({customers[r[1]] for r in records if r[4]})
    claim_ids: dict[tuple[int, str], int] = {}
    for start in range(0, len(naming), bulk.IN_BATCH):
        part = naming[start : start + bulk.IN_BATCH]
        for claim_id, customer_id, reference in session.execute(
            select(Claim.id, Claim.customer_id, Claim.reference).where(Claim.customer_id.in_(part))
        ):
            claim_ids[(customer_id, reference)] = claim_id
    # The rows to book, per customer in file order.
    rows_of: dict[int, list[int]] = {}
    for index, (line, record) in enumerate(zip(lines, records, strict=True)):
        if record[0] in known:
            result.unchanged += 1
            continue
        customer_id = customers[record[1]]
        if record[4] and (customer_id, record[4]) not in claim_ids:
            errors.append(RowError(line, f"customer {record[1]} has no claim {record[4]}."))
            continue
        rows_of.setdefault(customer_id, []).append(index)
    if errors:
        raise ImportRejected(path, errors)
    del known
    paid = [records[i][3] for indexes in rows_of.values() for i in indexes]
    between = (min(paid), max(paid)) if paid else (local_day(now), local_day(now))
    del paid
    notes: list[tuple[int, str]] = []
    order = list(rows_of)  # customers in the order of their first payment in the file
    for start in range(0, len(order), PAYMENT_CUSTOMERS_PER_PART):
        part_customers = order[start : start + PAYMENT_CUSTOMERS_PER_PART]
        indexes = sorted(i for cid in part_customers for i in rows_of[cid])
        incoming = [
            payments.PaymentInput(
                customers[records[i][1]],
                records[i][2],
                records[i][3],
                records[i][0],
                claim_ids.get((customers[records[i][1]], records[i][4])) if records[i][4] else None,
            )
            for i in indexes
        ]
        booked = payments.receive_payments(session, actor, incoming, now, paid_between=between)
        for i, outcome in zip(indexes, booked.outcomes, strict=True):
            if outcome.credit:
                notes.append(
                    (
                        lines[i],
                        f"line {lines[i]}: {cents_to_str(outcome.credit)} more than owed; "
                        "kept as credit.",
                    )
                )
        result.created += booked.payments
        bulk.insert_rows(
            session,
            _table(AuditEvent),
            [
                {
                    "at": now,
                    "agent_id": actor.agent_id,
                    "action": "import",
                    "entity": "payment",
                    "entity_id": None,
                    "customer_id": customer_id,
                    "detail": path.name,
                }
                for customer_id in sorted(part_customers)
            ],
        )
        session.flush()  # the part's rows written: its objects may go
    result.notes = [note for _line, note in sorted(notes)]
    return result
