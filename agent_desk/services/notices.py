"""Demand notices (the 14-day letter) and the collection costs they make chargeable.

A 14-day letter names the claims in default on the day it is sent (``draft_notice``)
and is recorded with the figures it showed (``record_notice``). When its term has run
without payment, the costs it announced are booked on the claims (``book_due_costs``,
from the nightly run and when a letter is sent late), by the Dutch scale
(``domain.fees``) and the team's VAT choice. The figures are the books'
(``ledger``); this module only adds the entries that follow from a notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as rules
from agent_desk.domain import limits
from agent_desk.domain.fees import FeeTable
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.models import (
    Customer,
    DemandNotice,
    DemandNoticeClaim,
    LedgerEntry,
)
from agent_desk.services import team_rules
from agent_desk.services.actor import Actor
from agent_desk.services.ledger import (
    ClaimFigures,
    figures,
    load_books,
    load_customer_books,
    write,
)


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
