"""A letter's input as JSON and back: what is stored with each sent letter
(``LetterSent.parameters``) so the very same PDF can be rebuilt from the record.
Versioned by :data:`PARAMETERS_FORMAT`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from agent_desk.errors import ValidationError
from agent_desk.letters.data import (
    LANGUAGES,
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

#: Version of the ``parameters`` JSON stored with each sent letter.
PARAMETERS_FORMAT = 1


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
