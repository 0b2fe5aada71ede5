"""Rules for rows from the billing system's CSV files: one row in, one record or a reason out.

Customers file (UTF-8, comma-separated, header row; one row per claim, so a customer
with three claims has three rows repeating the customer columns):

    customer_number, first_name, last_name, date_of_birth, language, segment, mobile,
    phone, email, street, house_number, postcode, city, agent, claim_reference,
    claim_description, principal, due_date

Required: customer_number, last_name, street, house_number, postcode, city,
claim_reference, principal, due_date. ``language`` nl|en (default nl), ``segment``
consumer|self_employed|small_business (default consumer), ``agent`` a login (default:
unassigned). Amounts like 123.45, dates YYYY-MM-DD.

``date_of_birth`` is optional (the column, and the value in a row): 1981-03-12 or the
Dutch 12-03-1981. A date in the future, before 1900 or of someone under 16 is refused;
the reason never repeats the date (personal data). An empty value keeps what the desk
already holds (e.g. a date an agent recorded on a call).

Payments file: payment_reference, customer_number, amount, paid_on[, claim_reference].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent_desk.domain.codes import Language, Segment
from agent_desk.domain.contact_validation import (
    PostalAddress,
    normalise_email,
    normalise_mobile,
    normalise_phone,
    validate_address,
)
from agent_desk.domain.date_of_birth import parse_date_of_birth
from agent_desk.domain.money import parse_amount
from agent_desk.errors import ValidationError

CUSTOMER_COLUMNS = (
    "customer_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "language",
    "segment",
    "mobile",
    "phone",
    "email",
    "street",
    "house_number",
    "postcode",
    "city",
    "agent",
    "claim_reference",
    "claim_description",
    "principal",
    "due_date",
    # Early signals: the day the customer objected to a signal to the municipality
    # (optional; issue 15).
    "signal_objection",
    "trigger",
    "trigger_on",
)
CUSTOMER_REQUIRED = (
    "customer_number",
    "last_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "claim_reference",
    "principal",
    "due_date",
)
PAYMENT_COLUMNS = ("payment_reference", "customer_number", "amount", "paid_on", "claim_reference")
PAYMENT_REQUIRED = ("payment_reference", "customer_number", "amount", "paid_on")

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")


@dataclass(frozen=True)
class CustomerRecord:
    customer_number: str
    first_name: str
    last_name: str
    language: str
    segment: str
    mobile: str | None
    phone: str | None
    email: str | None
    address: PostalAddress
    agent: str | None
    claim_reference: str
    claim_description: str
    principal_cents: int
    due_date: date
    date_of_birth: date | None = None
    signal_objection: date | None = None
    trigger: str | None = None
    trigger_on: date | None = None


@dataclass(frozen=True)
class PaymentRecord:
    reference: str
    customer_number: str
    amount_cents: int
    paid_on: date
    claim_reference: str | None


def check_header(
    header: list[str] | None, expected: tuple[str, ...], required: tuple[str, ...]
) -> None:
    if not header:
        raise ValidationError(
            "The file is empty; it needs a header row with the column names.", "header"
        )
    names = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise ValidationError(
            "The header lacks the column(s): {missing}.", "header", missing=", ".join(missing)
        )
    unknown = [h for h in names if h and h not in expected]
    if unknown:
        raise ValidationError(
            "Unknown column(s) in the header: {unknown}; expected {expected}.",
            "header",
            unknown=", ".join(unknown),
            expected=", ".join(expected),
        )


#: The largest amount one claim or payment may have: €1,000,000.00. Social collection
#: is about households and small businesses; a larger line is a mistake in the file
#: (a misplaced decimal, an account number in the amount column) to catch, not book.
#: It also keeps every customer's sum far inside the database's integer columns
#: (up to €21,474,836.47), the same on SQLite and PostgreSQL.
MAX_AMOUNT_CENTS = 100_000_000
#: What one customer's claims in one file may add up to, for the same reason.
MAX_CUSTOMER_TOTAL_CENTS = 2_000_000_000


def check_amount(cents: int, name: str) -> int:
    if cents > MAX_AMOUNT_CENTS:
        raise ValidationError(
            "The {name} is more than 1,000,000.00, the most one line may be; check the file.",
            name,
            name=name,
        )
    return cents


def _text(row: dict[str, str], name: str, *, required: bool, limit: int = 150) -> str:
    raw = row.get(name) or ""
    if "\x00" in raw:
        # PostgreSQL cannot hold it and SQLite would: refuse it the same way on both.
        raise ValidationError(
            "The column {name} holds a NUL character (a binary zero); save the file again "
            "as CSV text.",
            name,
            name=name,
        )
    value = " ".join(raw.split())
    if required and not value:
        raise ValidationError("The column {name} is empty.", name, name=name)
    if len(value) > limit:
        raise ValidationError(
            "The column {name} is longer than {limit} characters.", name, name=name, limit=limit
        )
    return value


def _date(row: dict[str, str], name: str) -> date:
    text = _text(row, name, required=True)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "'{text}' in {name} is not a date like 2026-03-31.", name, text=text, name=name
        ) from None


def _identifier(row: dict[str, str], name: str, *, required: bool = True) -> str:
    value = _text(row, name, required=required)
    if value and not _NUMBER.match(value):
        raise ValidationError(
            "'{value}' in {name} is not a valid reference (letters, digits, . _ / -).",
            name,
            value=value,
            name=name,
        )
    return value


def parse_customer_row(row: dict[str, str], known_agents: set[str], today: date) -> CustomerRecord:
    number = _identifier(row, "customer_number")
    language = _text(row, "language", required=False).lower() or Language.NL.value
    if language not in {lang.value for lang in Language}:
        raise ValidationError(
            "Language '{language}' is not nl or en.", "language", language=language
        )
    segment = _text(row, "segment", required=False).lower() or Segment.CONSUMER.value
    if segment not in {s.value for s in Segment}:
        raise ValidationError(
            "Segment '{segment}' is not one of {segments}.",
            "segment",
            segment=segment,
            segments=", ".join(s.value for s in Segment),
        )
    mobile_text = _text(row, "mobile", required=False)
    phone_text = _text(row, "phone", required=False)
    email_text = _text(row, "email", required=False, limit=320)
    address = validate_address(
        PostalAddress(
            street=_text(row, "street", required=True),
            house_number=_text(row, "house_number", required=True),
            postcode=_text(row, "postcode", required=True),
            city=_text(row, "city", required=True),
        )
    )
    agent = _text(row, "agent", required=False).lower() or None
    if agent is not None and agent not in known_agents:
        raise ValidationError("There is no agent with login '{agent}'.", "agent", agent=agent)
    birth_text = _text(row, "date_of_birth", required=False)
    born = parse_date_of_birth(birth_text, today) if birth_text else None
    principal = check_amount(
        parse_amount(_text(row, "principal", required=True), field="principal"), "principal"
    )
    due = _date(row, "due_date")
    if due > today:
        raise ValidationError(
            "The due date {due} lies in the future; only claims in arrears.",
            "due_date",
            due=due.isoformat(),
        )
    objected = (
        _date(row, "signal_objection") if _text(row, "signal_objection", required=False) else None
    )
    if objected is not None and not date(2021, 1, 1) <= objected <= today:
        raise ValidationError(
            "The objection date {date} is in the future or before 2021 (when early signals began).",
            "signal_objection",
            date=objected.isoformat(),
        )
    return CustomerRecord(
        customer_number=number,
        first_name=_text(row, "first_name", required=False, limit=100),
        last_name=_text(row, "last_name", required=True),
        language=language,
        segment=segment,
        mobile=normalise_mobile(mobile_text) if mobile_text else None,
        phone=normalise_phone(phone_text) if phone_text else None,
        email=normalise_email(email_text) if email_text else None,
        address=address,
        agent=agent,
        claim_reference=_identifier(row, "claim_reference"),
        claim_description=_text(row, "claim_description", required=False, limit=200),
        principal_cents=principal,
        due_date=due,
        date_of_birth=born,
        signal_objection=objected,
        **parse_known_trigger(row),
    )


def parse_known_trigger(row: dict[str, str]) -> dict[str, Any]:
    """The optional ``trigger`` (e.g. ``discount_ending``) and ``trigger_on`` (its date)
    columns: a known reason for arrears that a supervisor's message can anticipate."""
    from agent_desk.domain.codes import Trigger

    name = _text(row, "trigger", required=False).lower()
    if not name:
        if _text(row, "trigger_on", required=False):
            raise ValidationError("A trigger date needs a trigger.", "trigger")
        return {}
    if name not in {t.value for t in Trigger}:
        raise ValidationError(
            "'{trigger}' is not a known trigger; use one of: {known}.",
            "trigger",
            trigger=name,
            known=", ".join(t.value for t in Trigger),
        )
    when = _date(row, "trigger_on") if _text(row, "trigger_on", required=False) else None
    return {"trigger": name, "trigger_on": when}


def parse_payment_row(row: dict[str, str], today: date) -> PaymentRecord:
    paid_on = _date(row, "paid_on")
    if paid_on > today:
        raise ValidationError(
            "The payment date {paid_on} lies in the future.", "paid_on", paid_on=paid_on.isoformat()
        )
    return PaymentRecord(
        reference=_identifier(row, "payment_reference"),
        customer_number=_identifier(row, "customer_number"),
        amount_cents=check_amount(
            parse_amount(_text(row, "amount", required=True), field="amount"), "amount"
        ),
        paid_on=paid_on,
        claim_reference=_identifier(row, "claim_reference", required=False) or None,
    )
