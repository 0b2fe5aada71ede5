"""Imports from the billing system: customers with their claims, and payments.

All or nothing: every row is checked; if any row is bad, nothing is written and every
bad row is reported with its line number and reason. Importing the same file again
changes nothing (customers and claims are matched by their numbers, payments by
their reference).

At portfolio scale (hundreds of thousands of rows) the file is streamed, never held
in memory: rows are parsed one by one and written in chunks, in bulk (``COPY`` on
PostgreSQL, one ``executemany`` per table on SQLite), inside the caller's one
transaction. Once a bad row is found nothing more is written, the rest of the file is
still checked (so every bad row is listed), and the transaction is rolled back: the
database never sees a half import. ``progress`` is told how far the file has been
read; raising ``ImportCancelled`` from it stops the import (nothing written).
"""

from __future__ import annotations

import contextlib
import csv
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import ContactKind, CustomerStatus, NextStepKind
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
    AuditEvent,
    Claim,
    ContactPoint,
    Customer,
    CustomerSearchKey,
    LedgerEntry,
    NextStep,
    Payment,
    SignalObjection,
)
from agent_desk.services import bulk, ledger, payments
from agent_desk.services.activity import NextStepInput, set_next_step
from agent_desk.services.actor import Actor
from agent_desk.services.changelog import log_changes
from agent_desk.services.derived import refresh_customers
from agent_desk.services.search_index import keys_for_rows
from agent_desk.services.signals import record_objection

MAX_FILE_BYTES = 200 * 1024 * 1024
#: Rows parsed before they are written together.
CHUNK_ROWS = 5000
#: How often (in rows) ``progress`` hears about it.
PROGRESS_EVERY = 1000
T = TypeVar("T")

#: ``progress(bytes_read, file_bytes)``; may raise ``ImportCancelled``.
Progress = Callable[[int, int], None]


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


class ImportCancelled(AgentDeskError):
    """The person stopped the import; nothing was written."""

    def __init__(self) -> None:
        super().__init__("The import was cancelled; nothing was imported.")


# ----------------------------------------------------------------- reading


def _open(path: Path) -> BinaryIO:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AgentDeskError(
                "{name} is larger than 200 MB; split it into smaller files.", name=path.name
            )
        return path.open("rb")
    except FileNotFoundError:
        raise AgentDeskError("There is no file {path}.", path=path) from None
    except IsADirectoryError:
        raise AgentDeskError("{path} is a folder, not a CSV file.", path=path) from None
    except PermissionError:
        raise AgentDeskError("Agent Desk may not read {path}.", path=path) from None


@dataclass
class _Position:
    line: int = 0
    bytes: int = 0


def _lines(path: Path, binary: BinaryIO, at: _Position) -> Iterator[str]:
    """The file's lines as text, one at a time; a line that is not UTF-8 ends the file
    with a line-precise reason."""
    first = True
    for raw in binary:
        at.line += 1
        at.bytes += len(raw)
        if first:
            first = False
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRejected(
                path, [RowError(at.line, "the file is not UTF-8 text; save it as CSV UTF-8.")]
            ) from None


def stream_rows(
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    parse: Callable[[dict[str, str]], T],
    errors: list[RowError],
    progress: Progress | None = None,
    *,
    parallel: bool = False,
) -> Iterator[tuple[int, T]]:
    """Parse a CSV file row by row: yields ``(line, record)`` for each good row, in file
    order, and appends each bad one to ``errors``. A file that cannot be read as CSV at
    all raises ``ImportRejected`` (with the errors found so far).

    ``parallel``: a large file's rows are checked by worker processes, batch by batch
    with a few batches in flight (``parse`` must then be picklable, e.g. a
    ``functools.partial`` of a module-level function); the order stays the file's.
    """
    with _open(path) as binary:
        size = max(1, path.stat().st_size)
        head = binary.read(4096).removeprefix(b"\xef\xbb\xbf").decode("utf-8", "ignore")
        binary.seek(0)
        dialect: Any = csv.excel
        with contextlib.suppress(csv.Error):  # no clear dialect: comma-separated
            dialect = csv.Sniffer().sniff(head, delimiters=",;\t")
        at = _Position()
        reader = csv.reader(_lines(path, binary, at), dialect=dialect)
        try:
            header = next(reader, None)
        except csv.Error:
            header = None
        try:
            rules.check_header(header, columns, required)
        except ValidationError as error:
            raise ImportRejected(path, [RowError(1, str(error))]) from None
        assert header is not None
        names = [h.strip().lower() for h in header]

        def batches() -> Iterator[list[tuple[int, list[str]]]]:
            batch: list[tuple[int, list[str]]] = []
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    # e.g. a value longer than the csv module's limit (131,072 characters)
                    errors.append(
                        RowError(
                            at.line,  # the physical line the reader was in
                            "a value on this line is far too long or not CSV; check the file.",
                        )
                    )
                    raise ImportRejected(path, errors) from None
                batch.append((reader.line_num, values))
                if len(batch) >= PROGRESS_EVERY:
                    yield batch
                    batch = []
                    if progress is not None:
                        progress(at.bytes, size)
            if batch:
                yield batch

        workers = _workers() if parallel and size >= PARALLEL_FROM_BYTES else 0
        if workers:
            results = _parse_in_processes(parse, names, batches(), workers)
        else:
            results = (_parse_batch(parse, names, batch) for batch in batches())
        for parsed in results:
            for line, record, message in parsed:
                if message is not None:
                    errors.append(RowError(line, message))
                elif record is not None:
                    yield line, record
        if progress is not None:
            progress(size, size)


#: Files from this size are checked by worker processes (below it, starting them
#: costs more than it saves).
PARALLEL_FROM_BYTES = 2 * 1024 * 1024


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _parse_batch(
    parse: Callable[[dict[str, str]], T],
    names: list[str],
    batch: list[tuple[int, list[str]]],
) -> list[tuple[int, T | None, str | None]]:
    """Each row of a batch: ``(line, record, None)``, ``(line, None, reason)``, or
    ``(line, None, None)`` for an empty row."""
    width = len(names)
    out: list[tuple[int, T | None, str | None]] = []
    for line, values in batch:
        if len(values) > width:
            out.append((line, None, "the row has more values than the header has columns."))
            continue
        if all(not v.strip() for v in values):
            continue
        row = dict(zip(names, values, strict=False))
        for name in names[len(values) :]:
            row[name] = ""
        try:
            out.append((line, parse(row), None))
        except ValidationError as error:
            out.append((line, None, str(error)))
    return out


def _parse_in_processes(
    parse: Callable[[dict[str, str]], T],
    names: list[str],
    batches: Iterator[list[tuple[int, list[str]]]],
    workers: int,
) -> Iterator[list[tuple[int, T | None, str | None]]]:
    """``_parse_batch`` on worker processes, results in the order of the batches, with
    at most a few batches in flight (bounded memory). Spawned, not forked: the desk
    has threads."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[list[tuple[int, T | None, str | None]]]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_parse_batch, parse, names, batch))
                if len(pending) >= 3 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def read_rows(
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    parse: Callable[[dict[str, str]], T],
) -> list[tuple[int, T]]:
    """Parse every row of a (small) CSV file, raising ``ImportRejected`` with all bad rows."""
    errors: list[RowError] = []
    parsed = list(stream_rows(path, columns, required, parse, errors))
    if errors:
        raise ImportRejected(path, errors)
    if not parsed:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    return parsed


# --------------------------------------------------------------- customers


class _Consistency:
    """What must agree across the rows of one file, kept small per customer and claim
    (not the rows themselves): a fingerprint of name and address, the date of birth,
    the claims seen and the running total."""

    def __init__(self) -> None:
        # number -> [line, fingerprint, birth line, birth, total]
        self.customers: dict[str, list[Any]] = {}
        self.claims: dict[str, int] = {}

    def check(self, line: int, record: rules.CustomerRecord, errors: list[RowError]) -> None:
        number = record.customer_number
        fingerprint = hash((record.last_name, record.address))
        seen = self.customers.get(number)
        if seen is None:
            seen = self.customers[number] = [line, fingerprint, 0, None, 0]
        elif seen[1] != fingerprint:
            errors.append(
                RowError(line, f"customer {number} has other details than on line {seen[0]}.")
            )
        if record.date_of_birth is not None:
            # Rows may leave it empty; two different dates cannot both be right.
            if seen[3] is None:
                seen[2], seen[3] = line, record.date_of_birth
            elif seen[3] != record.date_of_birth:
                errors.append(
                    RowError(
                        line,
                        f"customer {number} has another date of birth than on line {seen[2]}.",
                    )
                )
        earlier = self.claims.setdefault(record.claim_reference, line)
        if earlier != line:
            errors.append(
                RowError(
                    line,
                    f"claim {record.claim_reference} appears twice (also on line {earlier}).",
                )
            )
        seen[4] += record.principal_cents
        if seen[4] > rules.MAX_CUSTOMER_TOTAL_CENTS:
            errors.append(
                RowError(
                    line,
                    f"customer {number}'s claims add up to more than 20,000,000.00; "
                    "check the file.",
                )
            )


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def import_customers(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    actor.require_supervisor(N_("import customers"))
    logins = {login: agent_id for login, agent_id in session.execute(select(Agent.login, Agent.id))}
    known = set(logins)
    today = now.date()
    errors: list[RowError] = []  # rows that are bad on their own
    conflicts: list[RowError] = []  # rows that disagree with others or with the database
    consistency = _Consistency()
    writer = _CustomerWriter(session, actor, path, now, logins)
    chunk: list[tuple[int, rules.CustomerRecord]] = []
    rows = 0
    for line, record in stream_rows(
        path,
        rules.CUSTOMER_COLUMNS,
        rules.CUSTOMER_REQUIRED,
        partial(rules.parse_customer_row, known_agents=known, today=today),
        errors,
        progress,
        parallel=True,
    ):
        rows += 1
        consistency.check(line, record, conflicts)
        if errors or conflicts:  # nothing more is written; the rest is only checked
            chunk.clear()
            continue
        chunk.append((line, record))
        if len(chunk) >= CHUNK_ROWS:
            writer.write(chunk, conflicts)
            chunk = []
    if chunk and not errors and not conflicts:
        writer.write(chunk, conflicts)
    if errors or conflicts:
        # Bad rows first: whether the others agree is worth knowing once they are fixed.
        raise ImportRejected(path, errors or conflicts)
    if rows == 0:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    session.flush()
    result = ImportResult(rows=rows)
    result.created = len(writer.created)
    result.updated = len(writer.touched - writer.created)
    result.unchanged = len(consistency.customers) - len(writer.touched)
    return result


@dataclass
class _NewCustomer:
    number: str
    records: list[rules.CustomerRecord]


class _CustomerWriter:
    """Writes one chunk of good rows at a time: new customers (most of a portfolio
    import) in bulk with their derived queue columns worked out here, changes to known
    customers through the ORM as before."""

    def __init__(
        self, session: Session, actor: Actor, path: Path, now: datetime, logins: dict[str, int]
    ) -> None:
        self.session = session
        self.actor = actor
        self.path = path
        self.now = now
        self.logins = logins
        self.created: set[str] = set()  # customer numbers
        self.touched: set[str] = set()
        self.audited: set[int] = set()

    def write(self, chunk: list[tuple[int, rules.CustomerRecord]], errors: list[RowError]) -> None:
        session = self.session
        session.flush()
        numbers = list(dict.fromkeys(r.customer_number for _, r in chunk))
        existing = bulk.ids_by(session, _table(Customer), "customer_number", numbers)
        claims = self._claims_of([r.claim_reference for _, r in chunk])
        for line, record in chunk:
            owner = claims.get(record.claim_reference)
            if owner is not None and owner != existing.get(record.customer_number):
                errors.append(
                    RowError(
                        line,
                        f"claim {record.claim_reference} already belongs to another customer.",
                    )
                )
        if errors:
            return
        new: dict[str, _NewCustomer] = {}
        old: list[rules.CustomerRecord] = []
        for _line, record in chunk:
            if record.customer_number in existing:
                old.append(record)
            else:
                new.setdefault(
                    record.customer_number, _NewCustomer(record.customer_number, [])
                ).records.append(record)
        if new:
            self._insert_new(list(new.values()))
        if old:
            self._update_known(old, existing)
        session.flush()
        self._objections(chunk)

    def _objections(self, chunk: list[tuple[int, rules.CustomerRecord]]) -> None:
        """The billing system's objections to an early signal, each recorded once a day."""
        wanted = list(
            dict.fromkeys(
                (r.customer_number, r.signal_objection) for _, r in chunk if r.signal_objection
            )
        )
        if not wanted:
            return
        ids = bulk.ids_by(self.session, _table(Customer), "customer_number", [n for n, _ in wanted])
        for number, on in wanted:
            assert on is not None
            if _objection(self.session, self.actor, ids[number], on, self.now):
                self.touched.add(number)

    def _claims_of(self, references: list[str]) -> dict[str, int]:
        """The customer id of each claim that already exists."""
        found: dict[str, int] = {}
        for start in range(0, len(references), bulk.IN_BATCH):
            part = references[start : start + bulk.IN_BATCH]
            found.update(
                (reference, int(customer_id))
                for reference, customer_id in self.session.execute(
                    select(Claim.reference, Claim.customer_id).where(Claim.reference.in_(part))
                )
            )
        return found

    # -- new customers: bulk

    def _insert_new(self, customers: list[_NewCustomer]) -> None:
        session, now, today = self.session, self.now, self.now.date()
        rows: list[dict[str, Any]] = []
        for item in customers:
            last = item.records[-1]
            agent = next((r.agent for r in reversed(item.records) if r.agent), None)
            born = next((r.date_of_birth for r in reversed(item.records) if r.date_of_birth), None)
            known_trigger = next((r for r in reversed(item.records) if r.trigger), None)
            open_claims = [r for r in item.records if r.principal_cents > 0]
            history = [
                queue_rules.ClaimHistory(r.due_date, None if r.principal_cents > 0 else today)
                for r in item.records
            ]
            first_time = queue_rules.is_first_time_arrears(
                history, earlier_promises=0, earlier_arrangements=0
            )
            arrears = sum(r.principal_cents for r in open_claims)
            oldest = min((r.due_date for r in open_claims), default=None)
            bucket = queue_rules.bucket(
                queue_rules.QueueFacts(
                    open=True,
                    arrears_cents=arrears,
                    oldest_due_date=oldest,
                    first_time_arrears=first_time,
                    next_step_kind=NextStepKind.REVIEW.value,
                    next_step_due_at=now,
                )
            )
            rows.append(
                {
                    "customer_number": item.number,
                    "first_name": last.first_name,
                    "last_name": last.last_name,
                    "salutation": None,
                    "date_of_birth": born,
                    "language": last.language,
                    "segment": last.segment,
                    "trigger": known_trigger.trigger if known_trigger else None,
                    "trigger_on": known_trigger.trigger_on if known_trigger else None,
                    "status": CustomerStatus.OPEN.value,
                    "assigned_agent_id": self.logins.get(agent) if agent else None,
                    "vulnerable": False,
                    "arrears_cents": arrears,
                    "credit_cents": 0,
                    "oldest_due_date": oldest,
                    "first_time_arrears": first_time,
                    "broken_arrangement": False,
                    "missed_instalment": False,
                    "queue_bucket": int(bucket),
                    "next_step_kind": NextStepKind.REVIEW.value,
                    "next_step_due_at": now,
                    "created_at": now,
                    "version": 1,
                }
            )
        bulk.insert_rows(session, _table(Customer), rows)
        ids = bulk.ids_by(
            session, _table(Customer), "customer_number", [c.number for c in customers]
        )
        points: list[dict[str, Any]] = []
        claims: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        for item, row in zip(customers, rows, strict=True):
            cid = ids[item.number]
            seen: set[tuple[str, str]] = set()
            for record in item.records:
                for kind, value, parts in _wanted_points(record):
                    if (kind, value) in seen:
                        continue
                    seen.add((kind, value))
                    points.append(
                        {
                            "customer_id": cid,
                            "kind": kind,
                            "value": value,
                            "street": parts.get("street"),
                            "house_number": parts.get("house_number"),
                            "postcode": parts.get("postcode"),
                            "city": parts.get("city"),
                            "preferred": False,
                            "consent_sms": False,
                            "consent_whatsapp": False,
                            "verification_source": None,
                            "invalid": False,
                            "version": 1,
                        }
                    )
                claims.append(
                    {
                        "customer_id": cid,
                        "reference": record.claim_reference,
                        "description": record.claim_description,
                        "principal_cents": record.principal_cents,
                        "paid_cents": 0,
                        "due_date": record.due_date,
                        # Nothing owed on it: settled the day it arrived (as the books say).
                        "settled_on": None if record.principal_cents > 0 else today,
                        "version": 1,
                    }
                )
            steps.append(
                {
                    "customer_id": cid,
                    "kind": NextStepKind.REVIEW.value,
                    "due_at": now,
                    "assigned_agent_id": row["assigned_agent_id"],
                    "note": "imported",
                    "created_by_id": self.actor.agent_id,
                    "created_at": now,
                    "version": 1,
                }
            )
            audits.append(self._audit_row(cid))
        bulk.insert_rows(session, _table(ContactPoint), points)
        bulk.insert_rows(session, _table(Claim), claims)
        # Find anyone: the new customers' search keys, from the rows just written.
        bulk.insert_rows(
            session,
            _table(CustomerSearchKey),
            keys_for_rows(
                [{**row, "id": ids[row["customer_number"]]} for row in rows], points, claims
            ),
        )
        claim_ids = bulk.ids_by(
            session, _table(Claim), "reference", [c["reference"] for c in claims]
        )
        entries = [
            {
                "customer_id": c["customer_id"],
                "claim_id": claim_ids[c["reference"]],
                "kind": EntryKind.PRINCIPAL.value,
                "part": Part.PRINCIPAL.value,
                "amount_cents": c["principal_cents"],
                "booked_on": c["due_date"],
                "interest_through": None,
                "payment_id": None,
                "arrangement_id": None,
                "notice_id": None,
                "agent_id": None,
                "created_at": now,
                "note": "",
            }
            for c in claims
            if c["principal_cents"] > 0
        ]
        bulk.insert_rows(session, _table(LedgerEntry), entries)
        bulk.insert_rows(session, _table(NextStep), steps)
        bulk.insert_rows(session, _table(AuditEvent), audits)
        new_ids = [ids[c.number] for c in customers]
        log_changes(session, "customer", new_ids, "insert", new_ids)
        self.created.update(c.number for c in customers)
        self.touched.update(c.number for c in customers)
        self.audited.update(new_ids)

    def _audit_row(self, customer_id: int) -> dict[str, Any]:
        return {
            "at": self.now,
            "agent_id": self.actor.agent_id,
            "action": "import",
            "entity": "customer",
            "entity_id": customer_id,
            "customer_id": customer_id,
            "detail": self.path.name,
        }

    # -- known customers: compared, changed through the ORM

    def _update_known(self, records: list[rules.CustomerRecord], ids: dict[str, int]) -> None:
        records = self._needing_work(records, ids)
        if not records:  # a file imported before: compared, nothing to write
            return
        session = self.session
        wanted_ids = sorted({ids[r.customer_number] for r in records})
        customers = ledger.prefetch(session, Customer, wanted_ids)
        points: dict[int, set[tuple[str, str]]] = {cid: set() for cid in wanted_ids}
        claims: dict[str, Claim] = {}
        for start in range(0, len(wanted_ids), bulk.IN_BATCH):
            part = wanted_ids[start : start + bulk.IN_BATCH]
            for cid, kind, value in session.execute(
                select(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.value).where(
                    ContactPoint.customer_id.in_(part)
                )
            ):
                points[cid].add((kind, value))
        references = [r.claim_reference for r in records]
        for start in range(0, len(references), bulk.IN_BATCH):
            part_refs = references[start : start + bulk.IN_BATCH]
            claims.update(
                (c.reference, c)
                for c in session.scalars(select(Claim).where(Claim.reference.in_(part_refs)))
            )
        touched: set[int] = set()
        invoiced: dict[int, Claim] = {}
        for record in records:
            customer = customers[ids[record.customer_number]]
            changed = False
            values: dict[str, object] = {
                "first_name": record.first_name,
                "last_name": record.last_name,
                "language": record.language,
                "segment": record.segment,
            }
            if record.agent:
                values["assigned_agent_id"] = self.logins[record.agent]
            if record.date_of_birth is not None:  # empty: keep the one the desk holds
                values["date_of_birth"] = record.date_of_birth
            if record.trigger is not None:  # empty: keep the trigger the desk holds
                values |= {"trigger": record.trigger, "trigger_on": record.trigger_on}
            for name, wanted in values.items():
                if getattr(customer, name) != wanted:
                    setattr(customer, name, wanted)
                    changed = True
            have = points[customer.id]
            for kind, point, parts in _wanted_points(record):
                if (kind, point) in have:
                    continue
                have.add((kind, point))
                session.add(
                    ContactPoint(
                        customer_id=customer.id,
                        kind=kind,
                        value=point,
                        verification_source=None,
                        **parts,
                    )
                )
                changed = True
            claim = _sync_claim(session, claims, customer, record)
            if claim is not None:
                invoiced[id(claim)] = claim
                changed = True
            if changed:
                touched.add(customer.id)
                self.touched.add(record.customer_number)
        session.flush()
        _book_invoices(session, self.actor, list(invoiced.values()), self.now)
        audits = [self._audit_row(cid) for cid in sorted(touched - self.audited)]
        bulk.insert_rows(session, _table(AuditEvent), audits)
        self.audited.update(touched)
        refresh_customers(session, touched)

    def _needing_work(
        self, records: list[rules.CustomerRecord], ids: dict[str, int]
    ) -> list[rules.CustomerRecord]:
        """The rows that would change something, found with plain column reads (no ORM
        objects): re-importing the same portfolio only compares."""
        session = self.session
        customer_ids = sorted({ids[r.customer_number] for r in records})
        known: dict[int, tuple[Any, ...]] = {}
        points: dict[int, set[tuple[str, str]]] = {cid: set() for cid in customer_ids}
        for start in range(0, len(customer_ids), bulk.IN_BATCH):
            part = customer_ids[start : start + bulk.IN_BATCH]
            for row in session.execute(
                select(
                    Customer.id,
                    Customer.first_name,
                    Customer.last_name,
                    Customer.language,
                    Customer.segment,
                    Customer.assigned_agent_id,
                    Customer.date_of_birth,
                    Customer.trigger,
                    Customer.trigger_on,
                ).where(Customer.id.in_(part))
            ):
                known[int(row[0])] = tuple(row[1:])
            for cid, kind, value in session.execute(
                select(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.value).where(
                    ContactPoint.customer_id.in_(part)
                )
            ):
                points[cid].add((kind, value))
        claims: dict[str, tuple[Any, ...]] = {}
        references = [r.claim_reference for r in records]
        for start in range(0, len(references), bulk.IN_BATCH):
            part_refs = references[start : start + bulk.IN_BATCH]
            for reference, description, principal, due in session.execute(
                select(
                    Claim.reference, Claim.description, Claim.principal_cents, Claim.due_date
                ).where(Claim.reference.in_(part_refs))
            ):
                claims[reference] = (description, principal, due)
        needed: list[rules.CustomerRecord] = []
        for record in records:
            cid = ids[record.customer_number]
            first, last, language, segment, agent_id, born, trigger, trigger_on = known[cid]
            same = (
                (first, last, language, segment)
                == (record.first_name, record.last_name, record.language, record.segment)
                and (not record.agent or agent_id == self.logins[record.agent])
                and (record.date_of_birth is None or born == record.date_of_birth)
                and (
                    record.trigger is None
                    or (trigger, trigger_on) == (record.trigger, record.trigger_on)
                )
                and all((k, v) in points[cid] for k, v, _parts in _wanted_points(record))
                and claims.get(record.claim_reference)
                == (record.claim_description, record.principal_cents, record.due_date)
            )
            if not same:
                needed.append(record)
        # All rows of a customer with any change, in file order: the last row's values win
        # as they always did.
        changing = {r.customer_number for r in needed}
        return [r for r in records if r.customer_number in changing]


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


def _wanted_points(
    record: rules.CustomerRecord,
) -> list[tuple[str, str, dict[str, str | None]]]:
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
    return wanted


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
    customers = ledger.prefetch(session, Customer, books)
    for book in books.values():
        customer = customers.get(book.customer_id)
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


def _sync_claim(
    session: Session, claims: dict[str, Claim], customer: Customer, record: rules.CustomerRecord
) -> Claim | None:
    """The claim of this row, created or updated; ``None`` when nothing changed."""
    claim = claims.get(record.claim_reference)
    if claim is None:
        claim = Claim(
            customer_id=customer.id,
            reference=record.claim_reference,
            description=record.claim_description,
            principal_cents=record.principal_cents,
            due_date=record.due_date,
        )
        session.add(claim)  # its id comes with the flush before the books
        claims[record.claim_reference] = claim
        return claim
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


# ---------------------------------------------------------------- payments


def import_payments(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Apply payments: to the named claim, else to the customer's oldest claims first
    (6:43 BW), and to an active arrangement's instalments in due order."""
    actor.require_supervisor(N_("import payments"))
    errors: list[RowError] = []
    records: list[tuple[int, rules.PaymentRecord]] = []
    first_line: dict[str, int] = {}
    for line, record in stream_rows(
        path,
        rules.PAYMENT_COLUMNS,
        rules.PAYMENT_REQUIRED,
        lambda row: rules.parse_payment_row(row, now.date()),
        errors,
        progress,
    ):
        records.append((line, record))
        first_line.setdefault(record.reference, line)
    if not records and not errors:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    if errors:
        raise ImportRejected(path, errors)
    numbers = list(dict.fromkeys(r.customer_number for _, r in records))
    customers = bulk.ids_by(session, _table(Customer), "customer_number", numbers)
    twice = {r.reference for line, r in records if first_line[r.reference] != line}
    errors = [
        RowError(line, f"there is no customer {r.customer_number}.")
        for line, r in records
        if r.customer_number not in customers
    ]
    errors += [
        RowError(line, f"payment {r.reference} appears twice in the file.")
        for line, r in records
        if r.reference in twice
    ]
    if errors:
        raise ImportRejected(path, sorted(errors, key=lambda e: e.line))
    known = set(
        bulk.ids_by(session, _table(Payment), "reference", [r.reference for _, r in records])
    )
    result = ImportResult(rows=len(records))
    customer_ids = sorted(set(customers.values()))
    claim_ids: dict[tuple[int, str], int] = {}
    for start in range(0, len(customer_ids), bulk.IN_BATCH):
        part = customer_ids[start : start + bulk.IN_BATCH]
        for claim_id, customer_id, reference in session.execute(
            select(Claim.id, Claim.customer_id, Claim.reference).where(Claim.customer_id.in_(part))
        ):
            claim_ids[(customer_id, reference)] = claim_id
    incoming: list[payments.PaymentInput] = []
    lines: list[int] = []
    for line, record in records:
        if record.reference in known:
            result.unchanged += 1
            continue
        customer_id = customers[record.customer_number]
        named: int | None = None
        if record.claim_reference:
            named = claim_ids.get((customer_id, record.claim_reference))
            if named is None:
                errors.append(
                    RowError(
                        line,
                        f"customer {record.customer_number} has no claim {record.claim_reference}.",
                    )
                )
                continue
        incoming.append(
            payments.PaymentInput(
                customer_id, record.amount_cents, record.paid_on, record.reference, named
            )
        )
        lines.append(line)
    if errors:
        raise ImportRejected(path, errors)
    del records
    booked = payments.receive_payments(session, actor, incoming, now)
    for line, outcome in zip(lines, booked.outcomes, strict=True):
        if outcome.credit:
            result.notes.append(
                f"line {line}: {cents_to_str(outcome.credit)} more than owed; kept as credit."
            )
    result.created = booked.payments
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
            for customer_id in sorted({p.customer_id for p in incoming})
        ],
    )
    return result
