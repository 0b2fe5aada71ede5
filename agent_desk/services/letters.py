"""Letters from the database: build the letter data, write the PDF, record what was sent.

The ``agent_desk.letters`` package renders plain dataclasses and knows nothing of the
database. This module copies what a letter needs from the customer, the address, the
books and the arrangement into those dataclasses, writes the PDF atomically and
records a ``LetterSent`` row (template, template version, SHA-256, how it left and the
letter's input as JSON) plus an audit event. ``regenerate`` rebuilds the very same PDF
from the record alone, so what the customer received can always be shown again.

Letters tell the truth:

* an arrangement confirmation is made only for an *active* arrangement (agreed within
  policy, or approved by a supervisor); :func:`confirmation_refusal` says why not;
* the 14-day letter names what ``notices.draft_notice`` names (claims in default on the
  letter date) and the costs that become owed; a claim already named by an earlier
  14-day letter is not named again (its costs are booked once);
* how a letter left is recorded (``delivery``): ``printed`` (for the post) or
  ``emailed`` is sent, and a 14-day letter that is sent starts its term (a
  ``DemandNotice``); ``saved`` is a PDF kept on disk, which starts nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk import letters
from agent_desk.domain import ledger as books
from agent_desk.domain.codes import ArrangementStatus, ContactKind
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.errors import AgentDeskError, NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.letters import (
    AnyLetter,
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
from agent_desk.letters.data import LANGUAGES

if TYPE_CHECKING:
    from agent_desk.letters import WrittenLetter  # its module loads reportlab
from agent_desk.models import (
    Arrangement,
    ContactPoint,
    Customer,
    DemandNotice,
    DemandNoticeClaim,
    LetterSent,
)
from agent_desk.services import ledger, notices, team_rules
from agent_desk.services.actor import SYSTEM, Actor
from agent_desk.services.audit import audit
from agent_desk.services.creditor import add_vat_on_costs, current_profile, letter_creditor
from agent_desk.services.derived import refresh_customers

#: Version of the ``parameters`` JSON stored with each sent letter.
PARAMETERS_FORMAT = 1

Delivery = Literal["printed", "emailed", "saved"]
#: How a letter left: printed (for the post), e-mailed, or only saved as a PDF.
DELIVERIES: tuple[Delivery, ...] = ("printed", "emailed", "saved")
#: The deliveries that mean the customer gets the letter.
SENT: frozenset[str] = frozenset({"printed", "emailed"})
#: 14-day letters in these states still name their claims: a new letter names others.
_NOTICE_NAMES = ("running", "costs_booked")


@dataclass(frozen=True)
class LetterRecord:
    """A letter that was written and recorded."""

    letter_id: int
    path: Path
    sha256: str
    kind: str
    template_version: str
    reference: str
    size: int
    delivery: str = "printed"
    #: A 14-day letter that was sent: its notice and the last day of its term.
    notice_id: int | None = None
    term_ends: date | None = None
    #: Costs booked at once because the (back-dated) letter's term had already run out.
    costs_booked_cents: int = 0


# --------------------------------------------------------------------------- lookups


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


def _creditor(session: Session) -> Creditor:
    """The sender as the team's creditor profile says (``services.creditor``)."""
    return letter_creditor(current_profile(session))


#: The name a letter is signed with when nobody in particular signs it (``--as`` left out).
_NOBODY = {SYSTEM.display_name}


def _signer(session: Session, agent_name: str) -> str:
    """The agent's own name, or the profile's default signatory for a letter of the system."""
    if agent_name.strip() in _NOBODY:
        return current_profile(session).signatory
    return agent_name


def channel_for(delivery: str) -> books.Channel | None:
    """The receipt convention a sent letter follows; ``None`` for a letter only saved."""
    if delivery not in DELIVERIES:
        raise ValidationError(
            "A letter leaves printed, e-mailed or saved, not '{delivery}'.",
            "delivery",
            delivery=delivery,
        )
    if delivery == "printed":
        return books.Channel.POST
    if delivery == "emailed":
        return books.Channel.EMAIL
    return None


def _require_agent_name(agent_name: str) -> str:
    if not agent_name.strip():
        raise ValidationError("Give the name of the agent who signs the letter.", "agent_name")
    return agent_name.strip()


# --------------------------------------------------------------------------- builders


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


def _confirmable(session: Session, arrangement_id: int) -> Arrangement:
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
    arrangement = _confirmable(session, arrangement_id)
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
        creditor=_creditor(session),
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
        creditor=_creditor(session),
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
        creditor=_creditor(session),
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
        creditor=_creditor(session),
        agent_name=_require_agent_name(_signer(session, agent_name)),
        text_overrides=team_rules.letter_texts(session, recipient.language),
        help=help,
        outstanding_cents=customer.arrears_cents if customer.arrears_cents > 0 else None,
    )


# --------------------------------------------------------------------------- parameters JSON


def _debt_help_to_json(value: DebtHelp) -> dict[str, Any]:
    return {
        "name": value.name,
        "phone": value.phone,
        "website": value.website,
        "email": value.email,
        "address_lines": list(value.address_lines),
    }


def _debt_help_from_json(raw: Mapping[str, Any]) -> DebtHelp:
    return DebtHelp(
        name=raw["name"],
        phone=raw.get("phone", ""),
        website=raw.get("website", ""),
        email=raw.get("email", ""),
        address_lines=tuple(raw.get("address_lines", ())),
    )


def _creditor_to_json(value: Creditor) -> dict[str, Any]:
    return {
        "name": value.name,
        "address_lines": list(value.address_lines),
        "phone": value.phone,
        "email": value.email,
        "website": value.website,
        "kvk": value.kvk,
        "iban": value.iban,
        "bic": value.bic,
        "logo_path": value.logo_path,
        "contact_hours": dict(value.contact_hours),
        "debt_help": _debt_help_to_json(value.debt_help),
        "payment_link_template": value.payment_link_template,
    }


def _creditor_from_json(raw: Mapping[str, Any]) -> Creditor:
    return Creditor(
        name=raw["name"],
        address_lines=tuple(raw["address_lines"]),
        phone=raw["phone"],
        email=raw["email"],
        website=raw["website"],
        kvk=raw["kvk"],
        iban=raw["iban"],
        bic=raw.get("bic"),
        logo_path=raw.get("logo_path"),
        contact_hours=dict(raw.get("contact_hours", {})),
        debt_help=_debt_help_from_json(raw["debt_help"]),
        payment_link_template=raw.get("payment_link_template"),
    )


def _recipient_to_json(value: Recipient) -> dict[str, Any]:
    return {
        "name": value.name,
        "street": value.street,
        "house_number": value.house_number,
        "postcode": value.postcode,
        "city": value.city,
        "country": value.country,
        "language": value.language,
    }


def _recipient_from_json(raw: Mapping[str, Any]) -> Recipient:
    language = raw.get("language", "nl")
    if language not in LANGUAGES:
        raise ValidationError(
            "The stored letter has an unknown language '{language}'.", language=language
        )
    return Recipient(
        name=raw["name"],
        street=raw["street"],
        house_number=raw["house_number"],
        postcode=raw["postcode"],
        city=raw["city"],
        country=raw.get("country"),
        language=cast(Language, language),
    )


def letter_parameters(data: AnyLetter) -> dict[str, Any]:
    """Everything needed to rebuild ``data`` exactly, as JSON-ready values."""
    values: dict[str, Any] = {
        "format": PARAMETERS_FORMAT,
        "kind": data.kind,
        "reference": data.reference,
        "letter_date": data.letter_date.isoformat(),
        "recipient": _recipient_to_json(data.recipient),
        "creditor": _creditor_to_json(data.creditor),
        "agent_name": data.agent_name,
        "text_overrides": dict(data.text_overrides),
    }
    if isinstance(data, ArrangementLetterData):
        values.update(
            principal_cents=data.principal_cents,
            costs_cents=data.costs_cents,
            interest_cents=data.interest_cents,
            costs_waived=data.costs_waived,
            interest_waived=data.interest_waived,
            total_cents=data.total_cents,
            schedule=[[s.number, s.due.isoformat(), s.amount_cents] for s in data.schedule],
            payment_reference=data.payment_reference,
            missed_after_days=data.missed_after_days,
            missed_instalments_before_broken=data.missed_instalments_before_broken,
            interest_provisional_from=(
                data.interest_provisional_from.isoformat()
                if data.interest_provisional_from
                else None
            ),
        )
    elif isinstance(data, FourteenDayLetterData):
        values.update(
            outstanding_cents=data.outstanding_cents,
            costs_cents=data.costs_cents,
            vat_cents=data.vat_cents,
            vat_statement=data.vat_statement,
            payment_reference=data.payment_reference,
            claim_description=data.claim_description,
            claims=[
                [c.reference, c.description, c.due.isoformat(), c.amount_cents] for c in data.claims
            ],
            later_claims=data.later_claims,
            early_signal_offer=data.early_signal_offer,
            objection_days=data.objection_days,
        )
    elif isinstance(data, PauseLetterData):
        values.update(paused_until=data.paused_until.isoformat(), reason=data.reason)
    elif isinstance(data, DebtHelpReferralData):
        values.update(
            help=None if data.help is None else _debt_help_to_json(data.help),
            outstanding_cents=data.outstanding_cents,
        )
    return values


def letter_from_parameters(raw: Mapping[str, Any]) -> AnyLetter:
    """The inverse of :func:`letter_parameters`."""
    if raw.get("format") != PARAMETERS_FORMAT:
        raise ValidationError("The stored letter parameters are in an unknown format.")
    common: dict[str, Any] = {
        "reference": raw["reference"],
        "letter_date": date.fromisoformat(raw["letter_date"]),
        "recipient": _recipient_from_json(raw["recipient"]),
        "creditor": _creditor_from_json(raw["creditor"]),
        "agent_name": raw["agent_name"],
        "text_overrides": dict(raw.get("text_overrides") or {}),
    }
    kind = raw.get("kind")
    if kind == "arrangement":
        return ArrangementLetterData(
            **common,
            principal_cents=raw["principal_cents"],
            costs_cents=raw["costs_cents"],
            interest_cents=raw["interest_cents"],
            costs_waived=raw["costs_waived"],
            interest_waived=raw["interest_waived"],
            total_cents=raw["total_cents"],
            schedule=tuple(
                ScheduleLine(number=n, due=date.fromisoformat(d), amount_cents=a)
                for n, d, a in raw["schedule"]
            ),
            payment_reference=raw["payment_reference"],
            missed_after_days=raw["missed_after_days"],
            missed_instalments_before_broken=raw["missed_instalments_before_broken"],
            interest_provisional_from=(
                date.fromisoformat(raw["interest_provisional_from"])
                if raw.get("interest_provisional_from")
                else None
            ),
        )
    if kind == "fourteen_day":
        return FourteenDayLetterData(
            **common,
            outstanding_cents=raw["outstanding_cents"],
            costs_cents=raw["costs_cents"],
            vat_cents=raw["vat_cents"],
            vat_statement=raw["vat_statement"],
            payment_reference=raw["payment_reference"],
            claim_description=raw.get("claim_description", ""),
            claims=tuple(
                LetterClaim(reference=r, description=d, due=date.fromisoformat(due), amount_cents=a)
                for r, d, due, a in raw.get("claims", ())
            ),
            later_claims=bool(raw.get("later_claims", False)),
            early_signal_offer=bool(raw.get("early_signal_offer", False)),
            objection_days=int(raw.get("objection_days", 14)),
        )
    if kind == "pause":
        return PauseLetterData(
            **common,
            paused_until=date.fromisoformat(raw["paused_until"]),
            reason=raw["reason"],
        )
    if kind == "debt_help":
        help_raw = raw.get("help")
        return DebtHelpReferralData(
            **common,
            help=None if help_raw is None else _debt_help_from_json(help_raw),
            outstanding_cents=raw.get("outstanding_cents"),
        )
    raise ValidationError("The stored letter is of an unknown kind '{kind}'.", kind=kind)


# --------------------------------------------------------------------------- record and write


@dataclass(frozen=True)
class _Sending:
    """What recording a letter will do, worked out before anything is written."""

    delivery: Delivery
    draft: notices.NoticeDraft | None  # a 14-day letter that is sent: what its notice names
    add_vat: bool


def _prepare(
    session: Session,
    data: AnyLetter,
    *,
    customer_id: int,
    delivery: str,
    arrangement_id: int | None,
    add_vat: bool | None,
) -> _Sending:
    """Refuse what may not be recorded, before a file is written or a row added."""
    channel = channel_for(delivery)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("This customer no longer exists.")
    if isinstance(data, ArrangementLetterData):
        if arrangement_id is None:
            raise ValidationError(
                "Say which arrangement the confirmation is for.", "arrangement_id"
            )
        _confirmable(session, arrangement_id)
    vat = add_vat_on_costs(session) if add_vat is None else add_vat
    draft = None
    if isinstance(data, FourteenDayLetterData) and channel is not None:
        draft = fourteen_day_draft(session, customer_id, data.letter_date, channel, add_vat=vat)
        _require_same_figures(data, draft)
    return _Sending(cast(Delivery, delivery), draft, vat)


def _require_same_figures(data: FourteenDayLetterData, draft: notices.NoticeDraft) -> None:
    """The notice must name what the letter names; a payment since the preview changes it."""
    in_letter = sorted((c.reference, c.due, c.amount_cents) for c in data.claims)
    in_books = sorted((c.reference, c.due_date, c.outstanding_principal) for c in draft.claims)
    if (
        in_letter != in_books
        or data.costs_cents + data.vat_cents != draft.costs
        or data.vat_cents != draft.vat
    ):
        raise ValidationError(
            "The customer's figures changed since this letter was made; make the letter "
            "again before sending it.",
            "claims",
        )


def _record(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    written: WrittenLetter,
    now: datetime,
    sending: _Sending,
    *,
    customer_id: int,
    arrangement_id: int | None,
    today: date | None,
) -> LetterRecord:
    row = LetterSent(
        customer_id=customer_id,
        agent_id=actor.agent_id,
        arrangement_id=arrangement_id,
        at=now,
        template=data.kind,
        template_version=written.template_version,
        sha256=written.sha256,
        delivery=sending.delivery,
        parameters=json.dumps(letter_parameters(data), ensure_ascii=False, sort_keys=True),
    )
    session.add(row)
    session.flush()
    notice_id: int | None = None
    term_ends: date | None = None
    booked = 0
    if sending.draft is not None:
        notice = notices.record_notice(
            session, actor, customer_id, sending.draft, now, letter_id=row.id
        )
        notice_id, term_ends = notice.id, notice.term_ends
        today = today or now.date()
        # Back-dated: the term ran out, the costs are owed. A supervisor's (or the
        # system's) connection books them at once; an agent's may not book costs
        # (migration 0004), so tonight's nightly run books them.
        if notice.term_ends < today and actor.is_supervisor:
            costs = notices.book_due_costs(session, today, now, customer_ids=[customer_id])
            refresh_customers(session, costs.customers)
            booked = notice.costs_booked_cents
    detail: dict[str, Any] = {
        "kind": data.kind,
        "reference": data.reference,
        "sha256": written.sha256,
        "delivery": sending.delivery,
    }
    if notice_id is not None:
        detail.update(notice_id=notice_id, sent_on=data.letter_date.isoformat())
        detail.update(term_ends=term_ends.isoformat() if term_ends else None)
        if booked:
            detail.update(costs_booked_cents=booked)
    audit(
        session,
        actor,
        "create",
        "letter_sent",
        row.id,
        customer_id=customer_id,
        detail=json.dumps(detail, ensure_ascii=False),
        at=now,
    )
    return LetterRecord(
        letter_id=row.id,
        path=written.path,
        sha256=written.sha256,
        kind=data.kind,
        template_version=written.template_version,
        reference=data.reference,
        size=written.size,
        delivery=sending.delivery,
        notice_id=notice_id,
        term_ends=term_ends,
        costs_booked_cents=booked,
    )


def record_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    written: WrittenLetter,
    now: datetime,
    *,
    customer_id: int,
    delivery: Delivery,
    arrangement_id: int | None = None,
    today: date | None = None,
    add_vat: bool | None = None,
) -> LetterRecord:
    """Record a letter that was written: ``LetterSent`` with how it left, and an audit event.

    An arrangement confirmation is recorded only while its arrangement is active. A
    14-day letter that was sent (``printed`` for the post, or ``emailed``) records its
    ``DemandNotice`` (what it names, checked against the books), which starts the
    term; if that term already ran out before ``today`` (a back-dated letter), its
    costs are booked at once. A ``saved`` letter starts nothing.
    """
    sending = _prepare(
        session,
        data,
        customer_id=customer_id,
        delivery=delivery,
        arrangement_id=arrangement_id,
        add_vat=add_vat,
    )
    return _record(
        session,
        actor,
        data,
        written,
        now,
        sending,
        customer_id=customer_id,
        arrangement_id=arrangement_id,
        today=today,
    )


def generate_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    out_path: str | os.PathLike[str],
    now: datetime,
    *,
    customer_id: int,
    delivery: Delivery,
    arrangement_id: int | None = None,
    today: date | None = None,
    add_vat: bool | None = None,
) -> LetterRecord:
    """Write the PDF atomically and record it (see :func:`record_letter`).

    Everything that can refuse the letter is checked first, so a refused letter writes
    no file; if recording fails after all, the file is removed again.
    """
    target = Path(out_path)
    if not target.parent.is_dir():
        raise ValidationError(
            "The folder '{folder}' does not exist; choose another place to save.",
            "out",
            folder=target.parent,
        )
    sending = _prepare(
        session,
        data,
        customer_id=customer_id,
        delivery=delivery,
        arrangement_id=arrangement_id,
        add_vat=add_vat,
    )
    try:
        written = letters.write_pdf(data, target)
    except OSError as error:
        raise AgentDeskError(
            "Could not write '{target}': {reason}.", target=target, reason=error.strerror or error
        ) from None
    try:
        return _record(
            session,
            actor,
            data,
            written,
            now,
            sending,
            customer_id=customer_id,
            arrangement_id=arrangement_id,
            today=today,
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def letter_data_from_record(session: Session, letter_id: int) -> tuple[LetterSent, AnyLetter]:
    row = session.get(LetterSent, letter_id)
    if row is None:
        raise NotFoundError("There is no recorded letter with id {letter_id}.", letter_id=letter_id)
    try:
        raw = json.loads(row.parameters)
    except ValueError:
        raise ValidationError(
            "The record of letter {letter_id} cannot be read; it cannot be regenerated.",
            letter_id=letter_id,
        ) from None
    try:
        data = letter_from_parameters(raw)
    except (KeyError, TypeError, ValueError):
        raise ValidationError(
            "The record of letter {letter_id} is incomplete; it cannot be regenerated.",
            letter_id=letter_id,
        ) from None
    return row, data


def regenerate(session: Session, letter_id: int) -> bytes:
    """The PDF of a recorded letter, rebuilt from the record: the same bytes as sent.

    Raises if the template changed since (the customer got other text) or if the
    result differs from the recorded SHA-256.
    """
    row = session.get(LetterSent, letter_id)
    if row is None:
        raise NotFoundError("There is no recorded letter with id {letter_id}.", letter_id=letter_id)
    current = (
        letters.template_version(row.template)
        if row.template in letters.TEMPLATE_VERSION
        else "none"
    )
    if current != row.template_version:
        raise AgentDeskError(
            "Letter {letter_id} was written with template version {template_version}, but this "
            "version of Agent Desk has {current}; it cannot be regenerated identically.",
            letter_id=letter_id,
            template_version=row.template_version,
            current=current,
        )
    _row, data = letter_data_from_record(session, letter_id)
    pdf = letters.render_pdf(data)
    if letters.sha256_hex(pdf) != row.sha256:
        raise AgentDeskError(
            "Letter {letter_id} could not be regenerated identically (the SHA-256 differs from "
            "the record).",
            letter_id=letter_id,
        )
    return pdf


def arrangements_since(session: Session, since: datetime) -> Sequence[Arrangement]:
    """Arrangements created at or after ``since``, oldest first."""
    return session.scalars(
        select(Arrangement)
        .where(Arrangement.created_at >= since)
        .order_by(Arrangement.created_at, Arrangement.id)
    ).all()
