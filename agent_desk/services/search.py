"""Find anyone (Ctrl+K, ``agent-desk search``): every customer the user may see.

A query becomes a few prefix look-ups in ``customer_search_key`` (one index range
scan each, ``domain.search_keys.probes``); the customers found are ranked (an exact
customer number, claim reference, phone, e-mail or postcode + house number first)
and say why they matched.

Who is found: on SQLite (one desk) and for a supervisor, everyone. An agent on the
team database sees only the customers assigned to or held by them (row-level
security), but an inbound caller may be a colleague's customer; those are found
only by an identifying key the caller stated in full, through the database's
``agent_desk_find_by_key`` (number and name only, never by a name or a prefix, so
nobody can list the team's customers), and opened with ``agent_desk_open_inbound``,
which holds the customer for the agent and writes the audit event itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, select, text
from sqlalchemy.orm import Session, aliased

from agent_desk.domain import search_keys as rules
from agent_desk.domain.codes import Role
from agent_desk.domain.search_keys import Field, Key, Probe
from agent_desk.models import Agent, Customer, CustomerSearchKey
from agent_desk.services.actor import Actor
from agent_desk.services.customer_file import customer_file
from agent_desk.services.opening import Opened, open_customer
from agent_desk.services.queue import release_holds

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: An inbound call is held longer than a queue customer: the caller is on the line.
INBOUND_LEASE = timedelta(hours=1)

_FIND_BY_KEY = text(
    "SELECT customer_id, customer_number, first_name, last_name, field, assigned_agent_id "
    "FROM agent_desk_find_by_key(CAST(:fields AS text[]), CAST(:keys AS text[]), :n)"
)
_OPEN_INBOUND = text("SELECT agent_desk_open_inbound(:c, :f, :k, :until)")


@dataclass(frozen=True)
class SearchHit:
    customer_id: int
    customer_number: str
    name: str
    matched: tuple[Field, ...]  # why, most telling first
    rank: int  # lower is better (domain.search_keys.rank)
    status: str | None  # None: a colleague's customer (not shown before opening)
    assigned_agent: str | None
    visible: bool = True  # False: a colleague's customer, opened as an inbound call
    proof: Key | None = None  # the stated key that found it (for opening it)
    closeness: tuple[int, int] = (0, 0)  # characters beyond the query, field order

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_number": self.customer_number,
            "name": self.name,
            "matched": [f.value for f in self.matched],
            "status": self.status,
            "assigned_agent": self.assigned_agent,
            "colleagues_customer": not self.visible,
        }


_FIELD_ORDER = {f: n for n, f in enumerate(Field)}


@dataclass
class _Found:
    order: tuple[int, int, int]  # rank, characters beyond the query, field
    fields: set[Field] = field(default_factory=set)


def _in_range(column: Any, name: str) -> Any:
    return and_(column >= bindparam(name), column < bindparam(f"{name}_end"))


@lru_cache(maxsize=64)
def _probe_shape(field_value: str, words: int, limit: int) -> Select[int, str]:
    """The statement of one probe shape, built once (the values are bound)."""
    k = aliased(CustomerSearchKey, name="k")
    statement = select(k.customer_id, k.key).where(k.field == field_value, _in_range(k.key, "p"))
    for n in range(words):
        w = aliased(CustomerSearchKey, name=f"w{n}")
        statement = statement.where(
            exists().where(
                w.customer_id == k.customer_id,
                w.field == Field.NAME.value,
                _in_range(w.key, f"w{n}"),
            )
        )
    return statement.order_by(k.field, k.key).limit(limit)


def probe_params(probe: Probe) -> dict[str, str]:
    params = {"p": probe.prefix, "p_end": rules.upper_bound(probe.prefix)}
    for n, word in enumerate(probe.words):
        params[f"w{n}"] = word
        params[f"w{n}_end"] = rules.upper_bound(word)
    return params


def probe_statement(probe: Probe, limit: int) -> Select[int, str]:
    """One probe as SQL: an ordered index range scan on ``(field, key)``, values bound."""
    return _probe_shape(probe.field.value, len(probe.words), limit).params(probe_params(probe))


def _clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, int(limit)))


def _colleagues_allowed(session: Session, actor: Actor) -> bool:
    """True where row-level security hides colleagues' customers from this user."""
    return session.get_bind().dialect.name == "postgresql" and actor.role is Role.AGENT


def search_customers(
    session: Session, actor: Actor, query: str, limit: int = DEFAULT_LIMIT
) -> list[SearchHit]:
    """The customers ``query`` finds, best first, at most ``limit``."""
    limit = _clamp(limit)
    probes = rules.probes(query)
    if not probes:
        return []
    found: dict[int, _Found] = {}
    for probe in probes:
        statement = _probe_shape(probe.field.value, len(probe.words), limit * 3)
        for customer_id, key in session.execute(statement, probe_params(probe)):
            score = (
                rules.rank(probe.field, key, probe),
                len(key) - len(probe.prefix),
                _FIELD_ORDER[probe.field],
            )
            entry = found.setdefault(int(customer_id), _Found(score))
            entry.order = min(entry.order, score)
            entry.fields.add(probe.field)
    rows = {
        r.id: r
        for r in (
            session.execute(
                select(
                    Customer.id,
                    Customer.customer_number,
                    Customer.first_name,
                    Customer.last_name,
                    Customer.status,
                    Customer.assigned_agent_id,
                    Agent.display_name.label("agent_name"),
                )
                .outerjoin(Agent, Agent.id == Customer.assigned_agent_id)
                .where(Customer.id.in_(list(found)))
            )
            if found
            else []
        )
    }
    colleagues: list[Any] = []
    if _colleagues_allowed(session, actor):
        stated = rules.exact_keys(query)
        if stated:
            colleagues = list(
                session.execute(
                    _FIND_BY_KEY,
                    {
                        "fields": [k.field.value for k in stated],
                        "keys": [k.key for k in stated],
                        "n": limit,
                    },
                )
            )
    names: dict[int | None, str] = {r.assigned_agent_id: r.agent_name for r in rows.values()}
    missing = {r.assigned_agent_id for r in colleagues} - set(names) - {None}
    if missing:
        names.update(
            (agent_id, name)
            for agent_id, name in session.execute(
                select(Agent.id, Agent.display_name).where(Agent.id.in_(missing))
            )
        )
    hits: list[SearchHit] = []
    for customer_id, entry in found.items():
        row = rows.get(customer_id)
        if row is None:  # a key without its customer (cannot happen with the FK)
            continue
        hits.append(
            SearchHit(
                customer_id=customer_id,
                customer_number=row.customer_number,
                name=f"{row.first_name} {row.last_name}".strip(),
                matched=tuple(rules.iter_fields(entry.fields)),
                rank=entry.order[0],
                closeness=entry.order[1:],
                status=row.status,
                assigned_agent=names.get(row.assigned_agent_id),
            )
        )
    for row in colleagues:
        if int(row.customer_id) in rows:
            continue
        stated_field = Field(row.field)
        proof = next(k for k in rules.exact_keys(query) if k.field is stated_field)
        hits.append(
            SearchHit(
                customer_id=int(row.customer_id),
                customer_number=row.customer_number,
                name=f"{row.first_name} {row.last_name}".strip(),
                matched=(stated_field,),
                rank=0,
                status=None,
                assigned_agent=names.get(row.assigned_agent_id),
                visible=False,
                proof=proof,
            )
        )
    hits.sort(key=lambda h: (h.rank, *h.closeness, rules.fold(h.name), h.customer_number))
    return hits[:limit]


def open_found(session: Session, actor: Actor, hit: SearchHit, now: datetime) -> Opened:
    """Open a customer the search found, as the desk opens one: held for this agent.

    A colleague's customer (an inbound caller) is held through the database's
    ``agent_desk_open_inbound``, which checks the key the caller stated again.
    """
    if hit.visible or hit.proof is None:
        return open_customer(session, actor, hit.customer_id, now)
    release_holds(session, actor)
    taken = session.scalar(
        _OPEN_INBOUND,
        {
            "c": hit.customer_id,
            "f": hit.proof.field.value,
            "k": hit.proof.key,
            "until": now + INBOUND_LEASE,
        },
    )
    if not taken:
        return Opened(None, False)
    session.expire_all()
    return Opened(customer_file(session, actor, hit.customer_id, now), True)
