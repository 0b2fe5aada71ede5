"""Keeps ``customer_search_key`` right: the keys follow the customer's own rows.

Every ORM flush that changes a customer's name or number, a contact point or a
claim rewrites that customer's keys in the same transaction (an ``after_flush``
hook, like the change log); bulk Core paths (the demo load) call ``keys_for_rows``
or ``refresh_keys`` themselves. The keys are a cache: ``rebuild_all`` makes them
again from the rows (migration 0006 uses it for existing databases).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.domain.search_keys import Key, PointFacts, customer_keys
from agent_desk.models import Claim, ContactPoint, Customer, CustomerSearchKey

_CHUNK = 500
_CUSTOMER_FIELDS = ("customer_number", "first_name", "last_name")
_POINT_FIELDS = ("customer_id", "kind", "value", "postcode", "house_number")


def key_rows(customer_id: int, keys: Iterable[Key]) -> list[dict[str, Any]]:
    return [{"customer_id": customer_id, "field": k.field.value, "key": k.key} for k in keys]


def keys_for_rows(
    customers: Sequence[Mapping[str, Any]],
    points: Sequence[Mapping[str, Any]],
    claims: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Key rows for customers given as plain rows (bulk loads: no database reads)."""
    by_customer: dict[int, list[PointFacts]] = defaultdict(list)
    for p in points:
        by_customer[int(p["customer_id"])].append(
            PointFacts(p["kind"], p["value"], p.get("postcode"), p.get("house_number"))
        )
    references: dict[int, list[str]] = defaultdict(list)
    for c in claims:
        references[int(c["customer_id"])].append(c["reference"])
    rows: list[dict[str, Any]] = []
    for c in customers:
        cid = int(c["id"])
        keys = customer_keys(
            c["customer_number"],
            c.get("first_name") or "",
            c["last_name"],
            by_customer.get(cid, ()),
            references.get(cid, ()),
        )
        rows += key_rows(cid, keys)
    return rows


def refresh_keys(connection: Connection, customer_ids: Iterable[int]) -> None:
    """Rewrite the keys of these customers from their rows as the transaction sees them."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        customers = [
            dict(r._mapping)
            for r in connection.execute(
                select(
                    Customer.id, Customer.customer_number, Customer.first_name, Customer.last_name
                ).where(Customer.id.in_(chunk))
            )
        ]
        points = [
            dict(r._mapping)
            for r in connection.execute(
                select(*(getattr(ContactPoint, f) for f in _POINT_FIELDS)).where(
                    ContactPoint.customer_id.in_(chunk)
                )
            )
        ]
        claims = [
            dict(r._mapping)
            for r in connection.execute(
                select(Claim.customer_id, Claim.reference).where(Claim.customer_id.in_(chunk))
            )
        ]
        connection.execute(
            delete(CustomerSearchKey).where(CustomerSearchKey.customer_id.in_(chunk))
        )
        rows = keys_for_rows(customers, points, claims)
        if rows:
            connection.execute(insert(CustomerSearchKey), rows)


def rebuild_all(connection: Connection, batch: int = 5000) -> int:
    """Make every customer's keys again (a new or repaired index); returns customers done."""
    done = 0
    last = 0
    while True:
        ids = list(
            connection.scalars(
                select(Customer.id).where(Customer.id > last).order_by(Customer.id).limit(batch)
            )
        )
        if not ids:
            return done
        refresh_keys(connection, ids)
        done += len(ids)
        last = ids[-1]


def count_keys(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CustomerSearchKey)) or 0)


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _old_customers(obj: Any) -> set[int]:
    """The customer a contact point or claim belonged to before this flush moved it."""
    state: Any = inspect(obj)
    return {int(c) for c in state.attrs["customer_id"].history.deleted if c is not None}


def _touched_customers(session: Session) -> set[int]:
    touched: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Customer) and obj.id is not None:
            touched.add(obj.id)
        elif isinstance(obj, ContactPoint | Claim) and obj.customer_id is not None:
            touched.add(obj.customer_id)
    for obj in session.dirty:
        if isinstance(obj, Customer) and _changed(obj, _CUSTOMER_FIELDS):
            touched.add(obj.id)
        elif (isinstance(obj, ContactPoint) and _changed(obj, _POINT_FIELDS)) or (
            isinstance(obj, Claim) and _changed(obj, ("reference", "customer_id"))
        ):
            touched.add(obj.customer_id)
            touched.update(_old_customers(obj))
    for obj in session.deleted:
        if isinstance(obj, ContactPoint | Claim) and obj.customer_id is not None:
            touched.add(obj.customer_id)
    return touched


def _after_flush(session: Session, _context: Any) -> None:
    touched = _touched_customers(session)
    if touched:
        refresh_keys(session.connection(), touched)


def install_search_index(factory: sessionmaker[Session]) -> None:
    if not event.contains(factory, "after_flush", _after_flush):
        event.listen(factory, "after_flush", _after_flush)
