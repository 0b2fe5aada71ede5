"""Writing one chunk of imported customer rows: new customers in bulk, known ones changed.

One job: the database side of ``import customers``. New customers (most of a
portfolio the first time) are inserted in bulk with their derived queue columns,
search keys, books and next step worked out here; known ones are compared and
changed through the ORM, all in the caller's transaction. Reading and checking the
file is :mod:`agent_desk.services.importers.customers`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain import queue as queue_rules
from agent_desk.domain import search_keys
from agent_desk.domain.codes import ContactKind, CustomerStatus, NextStepKind
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.domain.team_day import local_day
from agent_desk.models import (
    AuditEvent,
    Claim,
    ContactPoint,
    Customer,
    CustomerSearchKey,
    LedgerEntry,
    NextStep,
    SignalObjection,
)
from agent_desk.services import bulk, ledger, team_rules
from agent_desk.services.activity import NextStepInput, set_next_step
from agent_desk.services.actor import Actor
from agent_desk.services.changelog import log_changes
from agent_desk.services.derived import refresh_customers
from agent_desk.services.importers.reading import (
    RowError,
    _table,
)
from agent_desk.services.signals import record_objection

# The columns of the new rows ``_insert_new`` builds, in the order of its tuples, then
# the ones every new row has the same value in (appended by ``_with``).
_CUSTOMER_COLUMNS = (
    "id",
    "customer_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "language",
    "segment",
    "trigger",
    "trigger_on",
    "status",
    "assigned_agent_id",
    "arrears_cents",
    "oldest_due_date",
    "first_time_arrears",
    "queue_bucket",
    "next_step_kind",
    "next_step_due_at",
    "created_at",
    "salutation",
    "vulnerable",
    "credit_cents",
    "broken_arrangement",
    "missed_instalment",
    "version",
)
_CUSTOMER_FIXED = (None, False, 0, False, False, 1)
_POINT_COLUMNS = (
    "customer_id",
    "kind",
    "value",
    "street",
    "house_number",
    "postcode",
    "city",
    "preferred",
    "consent_sms",
    "consent_whatsapp",
    "verification_source",
    "invalid",
    "version",
)
_POINT_FIXED = (False, False, False, None, False, 1)
_CLAIM_COLUMNS = (
    "id",
    "customer_id",
    "reference",
    "description",
    "principal_cents",
    "due_date",
    "settled_on",
    "paid_cents",
    "version",
)
_CLAIM_FIXED = (0, 1)
_ENTRY_COLUMNS = (
    "customer_id",
    "claim_id",
    "kind",
    "part",
    "amount_cents",
    "booked_on",
    "created_at",
    "interest_through",
    "payment_id",
    "arrangement_id",
    "notice_id",
    "agent_id",
    "note",
)
_ENTRY_FIXED = (None, None, None, None, None, "")
_STEP_COLUMNS = (
    "customer_id",
    "kind",
    "due_at",
    "assigned_agent_id",
    "note",
    "created_by_id",
    "created_at",
    "version",
)
_STEP_FIXED = (1,)
_AUDIT_COLUMNS = ("at", "agent_id", "action", "entity", "entity_id", "customer_id", "detail")
_SEARCH_KEY_COLUMNS = ("customer_id", "field", "key")
_NEW_ROW_TABLES = (
    "customer",
    "contact_point",
    "claim",
    "customer_search_key",
    "ledger_entry",
    "next_step",
    "audit_event",
)


def _with(rows: list[tuple[Any, ...]], fixed: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return [row + fixed for row in rows]


@dataclass
class _NewCustomer:
    number: str
    records: list[rules.CustomerRecord]


#: A table's new rows: tuples in its columns' order, or already in COPY's text format.
_Rows = list[tuple[Any, ...]] | bytes


@dataclass
class _NewRows:
    """A chunk's new customers with everything that comes with them, each table's rows
    ready to be written."""

    ids: list[int]
    claim_count: int
    customers: _Rows
    points: _Rows
    claims: _Rows
    search_keys: _Rows
    entries: _Rows
    steps: _Rows
    audits: _Rows


@dataclass
class Plan:
    """One chunk of good rows, checked against the database and worked out
    (:meth:`CustomerWriter.plan`), for :meth:`CustomerWriter.store` to write."""

    chunk: list[tuple[int, rules.CustomerRecord]]
    new: _NewRows | None
    old: list[rules.CustomerRecord]
    ids: dict[str, int]  # customer number -> id, of the known customers in ``old``


class CustomerWriter:
    """Writes one chunk of good rows at a time: new customers (most of a portfolio
    import) in bulk with their derived queue columns worked out here, changes to known
    customers through the ORM as before.

    In two steps, which may run on two threads one chunk apart (``_WriteBehind``):
    :meth:`plan` reads what it must know from the database through ``reader`` and
    builds the new rows; :meth:`store` writes them in the import's session. With a
    ``reader`` of its own (a second connection, PostgreSQL), the plan cannot see what
    the import wrote so far: the customers it created are known here (``numbers``),
    and a claim cannot be in two rows of one file (the rows' own check)."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        path: Path,
        now: datetime,
        logins: dict[str, int],
        *,
        reader: Session | None = None,
    ) -> None:
        self.session = session
        self.reader = reader if reader is not None else session
        self.actor = actor
        self.path = path
        self.now = now
        self.logins = logins
        # Planning's own (the importing thread's):
        self.created: set[str] = set()  # customer numbers
        # number -> id of the customers created, for a ``reader`` of its own only (20 MB
        # at 200,000 customers: the import's session sees them anyway).
        self.numbers: dict[str, int] = {}
        # Storing's own (the writing thread's):
        self.touched: set[str] = set()  # known customers changed, by number
        self.audited: set[int] = set()
        # The tables whose rows go by COPY for this login (PostgreSQL): their rows are
        # put in COPY's text format while planning, so that storing only sends them.
        # Asked here, before any thread shares the session.
        self.copied = {t for t in _NEW_ROW_TABLES if bulk.may_copy(session, t)}

    def write(self, chunk: list[tuple[int, rules.CustomerRecord]], errors: list[RowError]) -> None:
        """Plan and store one chunk in place."""
        plan = self.plan(chunk, errors)
        if plan is not None:
            self.store(plan)

    def plan(
        self, chunk: list[tuple[int, rules.CustomerRecord]], errors: list[RowError]
    ) -> Plan | None:
        """The chunk checked against the database (a claim of another customer goes to
        ``errors``: then ``None``) and its new customers' rows built."""
        reader = self.reader
        if reader is self.session:
            reader.flush()  # what the ORM holds of the chunks before, before reading
        numbers = list(dict.fromkeys(r.customer_number for _, r in chunk))
        created = self.numbers
        existing = _lookup(
            reader, "customer", "customer_number", "id", [n for n in numbers if n not in created]
        )
        existing.update((n, created[n]) for n in numbers if n in created)
        claims = _lookup(
            reader, "claim", "reference", "customer_id", [r.claim_reference for _, r in chunk]
        )
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
            return None
        new: dict[str, _NewCustomer] = {}
        old: list[rules.CustomerRecord] = []
        for _line, record in chunk:
            if record.customer_number in existing:
                old.append(record)
            else:
                new.setdefault(
                    record.customer_number, _NewCustomer(record.customer_number, [])
                ).records.append(record)
        rows = self._build_new(list(new.values())) if new else None
        return Plan(chunk, rows, old, existing)

    def store(self, plan: Plan) -> None:
        """Write what :meth:`plan` worked out, in the import's session."""
        session = self.session
        if plan.new is not None:
            self._write_new(plan.new)
        if plan.old:
            self._update_known(plan.old, plan.ids)
        session.flush()
        self._objections(plan.chunk)

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

    # -- new customers: bulk

    def _build_new(self, customers: list[_NewCustomer]) -> _NewRows:
        """The new customers of a chunk with everything that comes with them, as rows
        built as tuples for one bulk write per table; their ids are reserved first (as
        the database would give them), so nothing needs reading back."""
        reader, now, today = self.reader, self.now, local_day(self.now)
        review = NextStepKind.REVIEW.value
        open_status = CustomerStatus.OPEN.value
        principal_kind, principal_part = EntryKind.PRINCIPAL.value, Part.PRINCIPAL.value
        actor_id, detail = self.actor.agent_id, self.path.name
        new_ids = bulk.reserve_ids(reader, "customer", len(customers))
        claim_ids = iter(bulk.reserve_ids(reader, "claim", sum(len(c.records) for c in customers)))
        rows: list[tuple[Any, ...]] = []
        points: list[tuple[Any, ...]] = []
        claims: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        steps: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        search_rows: list[tuple[int, str, str]] = []
        for cid, item in zip(new_ids, customers, strict=True):
            records = item.records
            last = records[-1]
            agent = next((r.agent for r in reversed(records) if r.agent), None)
            born = next((r.date_of_birth for r in reversed(records) if r.date_of_birth), None)
            known_trigger = next((r for r in reversed(records) if r.trigger), None)
            open_claims = [r for r in records if r.principal_cents > 0]
            history = [
                queue_rules.ClaimHistory(r.due_date, None if r.principal_cents > 0 else today)
                for r in records
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
                    next_step_kind=review,
                    next_step_due_at=now,
                )
            )
            agent_id = self.logins.get(agent) if agent else None
            rows.append(
                (
                    cid,
                    item.number,
                    last.first_name,
                    last.last_name,
                    born,
                    last.language,
                    last.segment,
                    known_trigger.trigger if known_trigger else None,
                    known_trigger.trigger_on if known_trigger else None,
                    open_status,
                    agent_id,
                    arrears,
                    oldest,
                    first_time,
                    int(bucket),
                    review,
                    now,
                    now,
                )
            )
            seen: set[tuple[str, str]] = set()
            facts: list[search_keys.PointFacts] = []
            for record in records:
                for kind, value, parts in _wanted_points(record):
                    if (kind, value) in seen:
                        continue
                    seen.add((kind, value))
                    postcode, house_number = parts.get("postcode"), parts.get("house_number")
                    facts.append(search_keys.PointFacts(kind, value, postcode, house_number))
                    points.append(
                        (
                            cid,
                            kind,
                            value,
                            parts.get("street"),
                            house_number,
                            postcode,
                            parts.get("city"),
                        )
                    )
                claim_id = next(claim_ids)
                cents = record.principal_cents
                claims.append(
                    (
                        claim_id,
                        cid,
                        record.claim_reference,
                        record.claim_description,
                        cents,
                        record.due_date,
                        # Nothing owed on it: settled the day it arrived (as the books say).
                        None if cents > 0 else today,
                    )
                )
                if cents > 0:
                    entries.append(
                        (cid, claim_id, principal_kind, principal_part, cents, record.due_date, now)
                    )
            steps.append((cid, review, now, agent_id, "imported", actor_id, now))
            audits.append((now, actor_id, "import", "customer", cid, cid, detail))
            search_rows += [
                (cid, field, key)
                for field, key in search_keys.key_pairs(
                    item.number,
                    last.first_name or "",
                    last.last_name,
                    facts,
                    [r.claim_reference for r in records],
                )
            ]
        self.created.update(c.number for c in customers)
        if reader is not self.session:  # it cannot see them: they are known here
            self.numbers.update((c.number, cid) for c, cid in zip(customers, new_ids, strict=True))
        copied = self.copied

        def ready(table: str, rows: list[tuple[Any, ...]]) -> _Rows:
            return bulk.copy_text(rows) if table in copied else rows

        return _NewRows(
            new_ids,
            len(claims),
            ready("customer", _with(rows, _CUSTOMER_FIXED)),
            ready("contact_point", _with(points, _POINT_FIXED)),
            ready("claim", _with(claims, _CLAIM_FIXED)),
            ready("customer_search_key", search_rows),
            ready("ledger_entry", _with(entries, _ENTRY_FIXED)),
            ready("next_step", _with(steps, _STEP_FIXED)),
            ready("audit_event", audits),
        )

    def _write_new(self, new: _NewRows) -> None:
        """Each table's new rows in one bulk write."""
        session = self.session

        def put(model: Any, columns: tuple[str, ...], rows: _Rows) -> None:
            table = _table(model)
            if isinstance(rows, bytes):
                bulk.copy_data(session, table.name, columns, rows)
            else:
                bulk.insert_tuples(session, table, columns, rows)

        put(Customer, _CUSTOMER_COLUMNS, new.customers)
        bulk.keep_statistics(session, "customer", len(new.ids))
        put(ContactPoint, _POINT_COLUMNS, new.points)
        put(Claim, _CLAIM_COLUMNS, new.claims)
        bulk.keep_statistics(session, "claim", new.claim_count)
        # Find anyone: the new customers' search keys, by the one rule of search_keys.
        put(CustomerSearchKey, _SEARCH_KEY_COLUMNS, new.search_keys)
        put(LedgerEntry, _ENTRY_COLUMNS, new.entries)
        put(NextStep, _STEP_COLUMNS, new.steps)
        put(AuditEvent, _AUDIT_COLUMNS, new.audits)
        log_changes(session, "customer", new.ids, "insert", new.ids)
        self.audited.update(new.ids)

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


def _lookup(session: Session, table: str, key: str, value: str, keys: list[str]) -> dict[str, int]:
    """``{key: value}`` of ``table``'s rows whose unique ``key`` is one of ``keys``:
    on PostgreSQL one statement with an array (no list of thousands of parameters
    for the driver to take apart), on SQLite in lists of ``bulk.IN_BATCH``."""
    if not bulk.is_postgresql(session):
        column = _table({"customer": Customer, "claim": Claim}[table]).c
        found: dict[str, int] = {}
        for start in range(0, len(keys), bulk.IN_BATCH):
            part = keys[start : start + bulk.IN_BATCH]
            found.update(
                (k, int(v))
                for k, v in session.execute(
                    select(column[key], column[value]).where(column[key].in_(part))
                )
            )
        return found
    rows = session.execute(
        text(f"SELECT {key}, {value} FROM {table} WHERE {key} = ANY(:keys)"),  # our names
        {"keys": keys},
    )
    return {k: int(v) for k, v in rows}


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
    customer_ids = {c.customer_id for c in claims}
    ledger.lock_books(session, customer_ids)  # read after a concurrent run has committed
    books = ledger.load_books(session, customer_ids)
    rates = team_rules.rate_table(session)  # credit used at once pays interest at these
    # Every claim first, then each customer's credit once, oldest claim first.
    ledger.book_invoices(books, claims, now, rates=rates)
    ledger.write(session, books.values())
    ledger.sync_claim_caches(session, books.values(), local_day(now))
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
