"""Letters from the database: build the letter data, write the PDF, record what was sent.

The ``agent_desk.letters`` package renders plain dataclasses and knows nothing of the
database. This module copies what a letter needs from the customer, the address, the
claims and the arrangement into those dataclasses, writes the PDF atomically and
records a ``LetterSent`` row (template, template version, SHA-256 and the letter's
input as JSON) plus an audit event. ``regenerate`` rebuilds the very same PDF from the
record alone, so what the customer received can always be shown again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk import letters
from agent_desk.domain.codes import ContactKind
from agent_desk.domain.fees import collection_costs, load_fee_table
from agent_desk.errors import AgentDeskError, NotFoundError, ValidationError
from agent_desk.letters import (
    AnyLetter,
    ArrangementLetterData,
    Creditor,
    DebtHelp,
    DebtHelpReferralData,
    FourteenDayLetterData,
    Language,
    PauseLetterData,
    Recipient,
    ScheduleLine,
    WrittenLetter,
)
from agent_desk.letters.data import LANGUAGES
from agent_desk.models import Arrangement, Claim, ContactPoint, Customer, LetterSent, Setting
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit

#: Setting (JSON ``true``/``false``): add VAT to the collection costs in the 14-day
#: letter, for a creditor that cannot deduct VAT. Off unless configured.
VAT_SETTING = "letters.add_vat_on_costs"

#: Version of the ``parameters`` JSON stored with each sent letter.
PARAMETERS_FORMAT = 1


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


def _creditor() -> Creditor:
    return letters.demo_creditor()


def _add_vat(session: Session) -> bool:
    setting = session.get(Setting, VAT_SETTING)
    if setting is None:
        return False
    try:
        return json.loads(setting.value) is True
    except ValueError:
        return False


def _open_claim_amounts(session: Session, customer: Customer) -> list[int]:
    claims = session.scalars(
        select(Claim).where(Claim.customer_id == customer.id, Claim.settled_on.is_(None))
    ).all()
    return [c.principal_cents - c.paid_cents for c in claims if c.principal_cents > c.paid_cents]


def _require_agent_name(agent_name: str) -> str:
    if not agent_name.strip():
        raise ValidationError("Give the name of the agent who signs the letter.", "agent_name")
    return agent_name.strip()


# --------------------------------------------------------------------------- builders


def arrangement_letter_data(
    session: Session, arrangement_id: int, now: datetime, agent_name: str
) -> ArrangementLetterData:
    """The confirmation of an arrangement, with its full schedule of instalments."""
    arrangement = session.get(Arrangement, arrangement_id)
    if arrangement is None:
        raise NotFoundError(
            "There is no arrangement with id {arrangement_id}.", arrangement_id=arrangement_id
        )
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
        creditor=_creditor(),
        agent_name=_require_agent_name(agent_name),
        principal_cents=arrangement.principal_cents,
        costs_cents=arrangement.costs_cents,
        interest_cents=arrangement.interest_cents,
        costs_waived=arrangement.costs_waived,
        interest_waived=arrangement.interest_waived,
        total_cents=arrangement.total_cents,
        schedule=schedule,
        payment_reference=f"{customer.customer_number}-{arrangement.id}",
    )


def fourteen_day_letter_data(
    session: Session,
    customer_number: str,
    now: datetime,
    agent_name: str,
    *,
    add_vat: bool | None = None,
) -> FourteenDayLetterData:
    """The 14-day letter (art. 6:96 lid 6 BW) for the customer's current arrears.

    The collection costs follow the BIK scale in force today, applied to the sum of the
    open claims. VAT is added only when ``add_vat`` (or the setting) says the creditor
    cannot deduct it.
    """
    customer = _customer_by_number(session, customer_number)
    if customer.arrears_cents <= 0:
        raise ValidationError(
            "Customer {customer_number} has no arrears; no 14-day letter is needed.",
            "outstanding_cents",
            customer_number=customer.customer_number,
        )
    amounts = _open_claim_amounts(session, customer)
    if not amounts:
        raise ValidationError(
            "Customer {customer_number} has no open claims to charge costs on.",
            "claims",
            customer_number=customer.customer_number,
        )
    recipient = _recipient(session, customer)
    vat = _add_vat(session) if add_vat is None else add_vat
    breakdown = collection_costs(amounts, load_fee_table(), now.date(), add_vat=vat)
    return FourteenDayLetterData(
        reference=f"AD-{customer.customer_number}-{now.date():%Y%m%d}",
        letter_date=now.date(),
        recipient=recipient,
        creditor=_creditor(),
        agent_name=_require_agent_name(agent_name),
        outstanding_cents=customer.arrears_cents,
        costs_cents=breakdown.costs,
        vat_cents=breakdown.vat,
        vat_statement=breakdown.vat > 0,
        payment_reference=customer.customer_number,
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
        creditor=_creditor(),
        agent_name=_require_agent_name(agent_name),
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
        creditor=_creditor(),
        agent_name=_require_agent_name(agent_name),
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
        )
    elif isinstance(data, FourteenDayLetterData):
        values.update(
            outstanding_cents=data.outstanding_cents,
            costs_cents=data.costs_cents,
            vat_cents=data.vat_cents,
            vat_statement=data.vat_statement,
            payment_reference=data.payment_reference,
            claim_description=data.claim_description,
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


def record_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    written: WrittenLetter,
    now: datetime,
    *,
    customer_id: int,
    arrangement_id: int | None = None,
) -> LetterRecord:
    """Record a letter that was written (``LetterSent`` and an audit event)."""
    row = LetterSent(
        customer_id=customer_id,
        agent_id=actor.agent_id,
        arrangement_id=arrangement_id,
        at=now,
        template=data.kind,
        template_version=written.template_version,
        sha256=written.sha256,
        parameters=json.dumps(letter_parameters(data), ensure_ascii=False, sort_keys=True),
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "create",
        "letter_sent",
        row.id,
        customer_id=customer_id,
        detail=json.dumps(
            {"kind": data.kind, "reference": data.reference, "sha256": written.sha256},
            ensure_ascii=False,
        ),
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
    )


def generate_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    out_path: str | os.PathLike[str],
    now: datetime,
    *,
    customer_id: int,
    arrangement_id: int | None = None,
) -> LetterRecord:
    """Write the PDF atomically (nothing is written if the data is not right) and record it."""
    target = Path(out_path)
    if not target.parent.is_dir():
        raise ValidationError(
            "The folder '{folder}' does not exist; choose another place to save.",
            "out",
            folder=target.parent,
        )
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("This customer no longer exists.")
    try:
        written = letters.write_pdf(data, target)
    except OSError as error:
        raise AgentDeskError(
            "Could not write '{target}': {reason}.", target=target, reason=error.strerror or error
        ) from None
    return record_letter(
        session,
        actor,
        data,
        written,
        now,
        customer_id=customer_id,
        arrangement_id=arrangement_id,
    )


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
    row, data = letter_data_from_record(session, letter_id)
    current = letters.template_version(data.kind)
    if current != row.template_version:
        raise AgentDeskError(
            "Letter {letter_id} was written with template version {template_version}, but this "
            "version of Agent Desk has {current}; it cannot be regenerated identically.",
            letter_id=letter_id,
            template_version=row.template_version,
            current=current,
        )
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
