"""What a letter says, from the database: the customer, the address, the books and the
arrangement copied into the plain letter dataclasses (``agent_desk.letters.data``).

Letters tell the truth: an arrangement confirmation is made only for an *active*
arrangement (:func:`confirmation_refusal` says why not); the 14-day letter names what
``notices.draft_notice`` names (claims in default on the letter date) and the costs that
become owed, and a claim already named by an earlier 14-day letter is not named again.
Writing and recording the letter is :mod:`agent_desk.services.letters`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as books
from agent_desk.domain.codes import ArrangementStatus, ContactKind
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.letters.data import (
    ArrangementLetterData,
    Creditor,
    DebtHelp,
    DebtHelpReferralData,
    FourteenDayLetterData,
    Language,
    LetterClaim,
    PauseLetterData,
    Recipient,
    ScheduleLine,
)
from agent_desk.models import (
    Arrangement,
    ContactPoint,
    Customer,
    DemandNotice,
    DemandNoticeClaim,
)
from agent_desk.services import ledger, notices, team_rules
from agent_desk.services.actor import SYSTEM
from agent_desk.services.creditor import add_vat_on_costs, current_profile, letter_creditor

#: 14-day letters in these states still name their claims: a new letter names others.
_NOTICE_NAMES = ("running", "costs_booked")


def _customer_by_number(session: Session, customer_number: str) -> Customer:
    number = customer_number.strip()
    customer = session.scalar(select(Customer).where(Customer.customer_number == number))
    if customer is None:
        raise NotFoundError("There is no customer with number '{number}'.", number=number)
    return customer


def _language(customer: Customer) -> Language:
    return "en" if (customer.language or "").strip().lower() == "en" else "nl"


def _address(session: Session, customer: Customer) -> ContactPoint:
    points = session.scalars(
        select(ContactPoint).where(
            ContactPoint.customer_id == customer.id,
            ContactPoint.kind == ContactKind.ADDRESS.value,
            ContactPoint.invalid.is_(False),
        )
    ).all()
    if not points:
        raise ValidationError(
            "Customer {customer_number} has no valid postal address; add one before sending a "
            "letter.",
            "address",
            customer_number=customer.customer_number,
        )

    def rank(point: ContactPoint) -> tuple[int, float, int]:
        verified = point.verified_at.timestamp() if point.verified_at else 0.0
        return (1 if point.preferred else 0, verified, point.id)

    return max(points, key=rank)


def _recipient(session: Session, customer: Customer) -> Recipient:
    point = _address(session, customer)
    missing = [
        label
        for label, value in (
            ("street", point.street),
            ("house number", point.house_number),
            ("postcode", point.postcode),
            ("town or city", point.city),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise ValidationError(
            "The address of customer {customer_number} has no {missing}; complete it before "
            "sending a letter.",
            "address",
            customer_number=customer.customer_number,
            missing=" or ".join(missing),
        )
    return Recipient(
        name=customer.name,
        street=point.street or "",
        house_number=point.house_number or "",
        postcode=point.postcode or "",
        city=point.city or "",
        language=_language(customer),
    )


def team_creditor(session: Session) -> Creditor:
    """The sender as the team's creditor profile says (``services.creditor``)."""
    return letter_creditor(current_profile(session))


#: The name a letter is signed with when nobody in particular signs it (``--as`` left out).
_NOBODY = {SYSTEM.display_name}


def _signer(session: Session, agent_name: str) -> str:
    """The agent's own name, or the profile's default signatory for a letter of the system."""
    if agent_name.strip() in _NOBODY:
        return current_profile(session).signatory
    return agent_name


def _require_agent_name(agent_name: str) -> str:
    if not agent_name.strip():
        raise ValidationError("Give the name of the agent who signs the letter.", "agent_name")
    return agent_name.strip()


#: Why an arrangement in this status gets no confirmation, in the words the desk shows.
_NOT_CONFIRMABLE = {
    ArrangementStatus.PENDING_APPROVAL.value: N_(
        "Arrangement {arrangement_id} is waiting for a supervisor's approval; it can be "
        "confirmed once it is approved."
    ),
    ArrangementStatus.DECLINED.value: N_(
        "Arrangement {arrangement_id} was not approved, so there is nothing to confirm."
    ),
    ArrangementStatus.BROKEN.value: N_(
        "Arrangement {arrangement_id} was broken off, so it can no longer be confirmed."
    ),
    ArrangementStatus.COMPLETED.value: N_(
        "Arrangement {arrangement_id} is paid in full, so there is nothing left to confirm."
    ),
    ArrangementStatus.CANCELLED.value: N_(
        "Arrangement {arrangement_id} was withdrawn, so there is nothing to confirm."
    ),
}


def confirmation_refusal(arrangement_id: int, status: str) -> ValidationError | None:
    """Why an arrangement in ``status`` gets no confirmation (one sentence), or ``None``.

    A confirmation confirms what was agreed: only an active arrangement (agreed within
    policy, or approved by a supervisor) was. The desk shows the same sentence.
    """
    if status == ArrangementStatus.ACTIVE.value:
        return None
    why = _NOT_CONFIRMABLE.get(status)
    if why is not None:
        return ValidationError(why, "status", arrangement_id=arrangement_id)
    return ValidationError(
        "Arrangement {arrangement_id} is not active, so it cannot be confirmed.",
        "status",
        arrangement_id=arrangement_id,
    )


def confirmable_arrangement(session: Session, arrangement_id: int) -> Arrangement:
    arrangement = session.get(Arrangement, arrangement_id)
    if arrangement is None:
        raise NotFoundError(
            "There is no arrangement with id {arrangement_id}.", arrangement_id=arrangement_id
        )
    refusal = confirmation_refusal(arrangement.id, arrangement.status)
    if refusal is not None:
        raise refusal
    return arrangement


def arrangement_letter_data(
    session: Session,
    arrangement_id: int,
    now: datetime,
    agent_name: str,
    *,
    policy: ArrangementPolicy | None = None,
) -> ArrangementLetterData:
    """The confirmation of an active arrangement, with its full schedule of instalments
    and the policy's rules for a missed instalment and a broken arrangement."""
    arrangement = confirmable_arrangement(session, arrangement_id)
    policy = policy or team_rules.policy(session)
    customer = session.get(Customer, arrangement.customer_id)
    if customer is None:  # pragma: no cover - foreign key
        raise NotFoundError(
            "The customer of arrangement {arrangement_id} no longer exists.",
            arrangement_id=arrangement_id,
        )
    if not arrangement.instalments:
        raise ValidationError(
            "Arrangement {arrangement_id} has no instalments, so there is nothing to confirm.",
            "schedule",
            arrangement_id=arrangement_id,
        )
    recipient = _recipient(session, customer)
    schedule = tuple(
        ScheduleLine(number=i.number, due=i.due_date, amount_cents=i.amount_cents)
        for i in sorted(arrangement.instalments, key=lambda i: (i.number, i.due_date))
    )
    return ArrangementLetterData(
        reference=f"AD-{customer.customer_number}-{arrangement.id}",
        letter_date=now.date(),
        recipient=recipient,
        creditor=team_creditor(session),
        agent_name=_require_agent_name(_signer(session, agent_name)),
        text_overrides=team_rules.letter_texts(session, recipient.language),
        principal_cents=arrangement.principal_cents,
        costs_cents=arrangement.costs_cents,
        interest_cents=arrangement.interest_cents,
        costs_waived=arrangement.costs_waived,
        interest_waived=arrangement.interest_waived,
        total_cents=arrangement.total_cents,
        schedule=schedule,
        payment_reference=f"{customer.customer_number}-{arrangement.id}",
        missed_after_days=policy.missed_after_days,
        missed_instalments_before_broken=policy.missed_instalments_before_broken,
        interest_provisional_from=_provisional_from(session, arrangement),
    )


def _provisional_from(session: Session, arrangement: Arrangement) -> date | None:
    """The first day of the arrangement's interest without a confirmed rate, if any
    (the interest runs up to the day the arrangement was agreed)."""
    if not arrangement.interest_cents:
        return None
    agreed = arrangement.created_at.date()
    confirmed = team_rules.rate_table(session).confirmed_until
    if confirmed is None or agreed <= confirmed:
        return None
    return date.fromordinal(confirmed.toordinal() + 1)


def _already_named(session: Session, customer_id: int) -> dict[int, date]:
    """Claims an earlier 14-day letter named that is still running or made costs owed:
    claim id -> the day that letter was sent."""
    rows = session.execute(
        select(DemandNoticeClaim.claim_id, DemandNotice.sent_on)
        .join(DemandNotice, DemandNotice.id == DemandNoticeClaim.notice_id)
        .where(DemandNotice.customer_id == customer_id, DemandNotice.status.in_(_NOTICE_NAMES))
    )
    named: dict[int, date] = {}
    for claim_id, sent_on in rows:
        named[int(claim_id)] = max(sent_on, named.get(int(claim_id), sent_on))
    return named


def fourteen_day_draft(
    session: Session,
    customer_id: int,
    sent_on: date,
    channel: books.Channel,
    *,
    add_vat: bool,
) -> notices.NoticeDraft:
    """What a 14-day letter sent on ``sent_on`` names: ``notices.draft_notice`` (claims in
    default that day), without the claims an earlier letter already named (their costs
    are booked once), and the BIK costs over what is left."""
    draft = notices.draft_notice(session, customer_id, sent_on, channel, add_vat=add_vat)
    named = _already_named(session, customer_id)
    if not named or not any(c.claim_id in named for c in draft.claims):
        return draft
    claims = tuple(c for c in draft.claims if c.claim_id not in named)
    costs = books.letter_costs(
        [c.outstanding_principal for c in claims],
        team_rules.fee_table(session),
        sent_on,
        add_vat=add_vat,
    )
    return replace(
        draft,
        claims=claims,
        principal=sum(c.outstanding_principal for c in claims),
        costs=costs.costs,
        vat=costs.vat,
    )


def fourteen_day_letter_data(
    session: Session,
    customer_number: str,
    now: datetime,
    agent_name: str,
    *,
    add_vat: bool | None = None,
    sent_on: date | None = None,
    today: date | None = None,
) -> FourteenDayLetterData:
    """The 14-day letter (art. 6:96 lid 6 BW) sent on ``sent_on`` (default today).

    It names the claims in default that day (see :func:`fourteen_day_draft`; a claim
    due today is not in default yet) and the costs that become owed if they stay
    unpaid: the BIK scale over what it names, with VAT only when ``add_vat`` (or the
    team setting) says the creditor cannot deduct it. A letter is never dated after
    ``today``.
    """
    today = today or now.date()
    sent_on = sent_on or today
    if sent_on > today:
        raise ValidationError(
            "The letter date {date} is in the future; give the day the letter went out, "
            "today or earlier.",
            "date",
            date=sent_on.isoformat(),
        )
    customer = _customer_by_number(session, customer_number)
    profile = current_profile(session)
    vat = add_vat_on_costs(session) if add_vat is None else add_vat
    draft = fourteen_day_draft(session, customer.id, sent_on, books.Channel.POST, add_vat=vat)
    if not draft.claims:
        _no_claims_to_name(session, customer, sent_on)
    recipient = _recipient(session, customer)
    balance = ledger.customer_balance(session, customer.id, sent_on)
    named = {c.claim_id for c in draft.claims}
    later = any(
        c.in_default_since is None and c.outstanding > 0 and c.claim_id not in named
        for c in balance.claims
    )
    return FourteenDayLetterData(
        reference=f"AD-{customer.customer_number}-{sent_on:%Y%m%d}",
        letter_date=sent_on,
        recipient=recipient,
        creditor=team_creditor(session),
        agent_name=_require_agent_name(_signer(session, agent_name)),
        text_overrides=team_rules.letter_texts(session, recipient.language),
        outstanding_cents=draft.principal,
        costs_cents=draft.costs - draft.vat,
        vat_cents=draft.vat,
        vat_statement=draft.vat > 0,
        payment_reference=customer.customer_number,
        claims=tuple(
            LetterClaim(
                reference=c.reference,
                description=c.description,
                due=c.due_date,
                amount_cents=c.outstanding_principal,
            )
            for c in draft.claims
        ),
        later_claims=later,
        early_signal_offer=profile.early_signal_duty,
        objection_days=profile.signal_wait_days,
    )


def _no_claims_to_name(session: Session, customer: Customer, sent_on: date) -> NoReturn:
    """Say in one sentence why a 14-day letter has nothing to name."""
    named = _already_named(session, customer.id)
    balance = ledger.customer_balance(session, customer.id, sent_on)
    in_default = [
        c for c in balance.claims if c.in_default_since is not None and c.outstanding_principal > 0
    ]
    if in_default and all(c.claim_id in named for c in in_default):
        raise ValidationError(
            "Every claim of customer {customer_number} in default was already named in a "
            "14-day letter (the last one sent on {sent_on}); a claim that falls due later "
            "needs its own letter.",
            "claims",
            customer_number=customer.customer_number,
            sent_on=max(named[c.claim_id] for c in in_default).isoformat(),
        )
    raise ValidationError(
        "Customer {customer_number} has no claim in default on {date}, so there is nothing "
        "a 14-day letter could name.",
        "claims",
        customer_number=customer.customer_number,
        date=sent_on.isoformat(),
    )


def pause_letter_data(
    session: Session,
    customer_number: str,
    now: datetime,
    agent_name: str,
    *,
    paused_until: date | None = None,
    reason: str | None = None,
) -> PauseLetterData:
    """Confirmation that collection is paused (by default: the customer's current pause)."""
    customer = _customer_by_number(session, customer_number)
    until = paused_until or customer.paused_until
    why = (reason if reason is not None else customer.pause_reason) or ""
    if until is None:
        raise ValidationError(
            "Collection for customer {customer_number} is not paused; pause it first or give the "
            "end date.",
            "paused_until",
            customer_number=customer.customer_number,
        )
    if not why.strip():
        raise ValidationError("Give the reason for the pause.", "reason")
    recipient = _recipient(session, customer)
    return PauseLetterData(
        reference=f"AD-{customer.customer_number}-{now.date():%Y%m%d}",
        letter_date=now.date(),
        recipient=recipient,
        creditor=team_creditor(session),
        agent_name=_require_agent_name(_signer(session, agent_name)),
        text_overrides=team_rules.letter_texts(session, recipient.language),
        paused_until=until,
        reason=why.strip(),
    )


def debt_help_letter_data(
    session: Session,
    customer_number: str,
    now: datetime,
    agent_name: str,
    *,
    help: DebtHelp | None = None,
) -> DebtHelpReferralData:
    """A referral to free debt help, with the amount still open if there is one."""
    customer = _customer_by_number(session, customer_number)
    recipient = _recipient(session, customer)
    return DebtHelpReferralData(
        reference=f"AD-{customer.customer_number}-{now.date():%Y%m%d}",
        letter_date=now.date(),
        recipient=recipient,
        creditor=team_creditor(session),
        agent_name=_require_agent_name(_signer(session, agent_name)),
        text_overrides=team_rules.letter_texts(session, recipient.language),
        help=help,
        outstanding_cents=customer.arrears_cents if customer.arrears_cents > 0 else None,
    )
