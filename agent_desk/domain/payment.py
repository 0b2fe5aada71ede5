"""A way to pay: the creditor's payment link and the EPC QR code (pure).

Every message and letter that asks for money carries both, so a customer can pay from
the phone in the hand or from the banking app that scans the letter:

* :func:`payment_link` fills the creditor's payment-provider template
  (``https://pay.example/{reference}?amount={amount}``) with URL-encoded values;
* :func:`epc_qr_payload` writes the text of a "SEPA credit transfer" QR code as
  EPC069-12 (version 002, UTF-8) defines it; :mod:`agent_desk.letters` draws it.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote, urlsplit

from agent_desk.errors import ValidationError

#: What a payment-link template may name.
LINK_PLACEHOLDERS = frozenset({"reference", "amount", "customer"})
#: EPC069-12: the largest amount a code may carry, in cents (EUR 999,999,999.99).
EPC_MAX_CENTS = 99_999_999_999
EPC_MAX_NAME = 70
EPC_MAX_TEXT = 140
EPC_MAX_BYTES = 331
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_link_template(template: str) -> None:
    """Refuse a template that is not an https URL or names an unknown placeholder."""
    template = template.strip()
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        raise ValidationError(
            "The payment link has a curly bracket that is not closed.", "payment_link_template"
        ) from None
    unknown = sorted(names - LINK_PLACEHOLDERS)
    if unknown:
        raise ValidationError(
            "The payment link names {{{name}}}, which is not one of "
            "{{reference}}, {{amount}} or {{customer}}.",
            "payment_link_template",
            name=unknown[0],
        )
    if "reference" not in names:
        raise ValidationError(
            "The payment link must contain {reference}, or the payment cannot be matched.",
            "payment_link_template",
        )
    parts = urlsplit(template.replace("{", "").replace("}", ""))
    if parts.scheme != "https" or not parts.netloc:
        raise ValidationError(
            "The payment link must start with https:// and name the payment provider's site.",
            "payment_link_template",
        )
    if _CONTROL.search(template) or " " in template:
        raise ValidationError(
            "The payment link contains a space or a control character.", "payment_link_template"
        )


def amount_text(cents: int) -> str:
    """``12345`` → ``"123.45"``: the machine form a URL or a QR code carries."""
    if cents < 0:
        raise ValidationError("An amount to pay cannot be negative.", "amount")
    return f"{cents // 100}.{cents % 100:02d}"


def payment_link(template: str, reference: str, amount_cents: int, customer: str = "") -> str:
    """The creditor's payment link for one reference and amount, values URL-encoded."""
    check_link_template(template)
    if not reference.strip():
        raise ValidationError("A payment link needs a payment reference.", "reference")
    return template.strip().format(
        reference=quote(reference.strip(), safe=""),
        amount=amount_text(amount_cents),
        customer=quote(customer.strip(), safe=""),
    )


def lock_screen_link(template: str, reference: str, customer: str = "") -> str | None:
    """The payment link without the amount, for an SMS a housemate may read on a lock
    screen: a query parameter carrying ``{amount}`` is left out (the provider's page
    shows what is owed once opened); ``None`` when the amount sits in the path."""
    check_link_template(template)
    parts = urlsplit(template.strip())
    if "{amount}" in parts.path or "{amount}" in parts.netloc:
        return None
    query = "&".join(pair for pair in parts.query.split("&") if pair and "{amount}" not in pair)
    kept = parts._replace(query=query).geturl()
    return kept.format(
        reference=quote(reference.strip(), safe=""), customer=quote(customer.strip(), safe="")
    )


def epc_qr_payload(
    *, name: str, iban: str, amount_cents: int, text: str, bic: str | None = None
) -> str:
    """The EPC069-12 payload (version 002, UTF-8, SCT) for one transfer.

    ``text`` is the unstructured remittance information (the reference the customer
    would otherwise type). Raises :class:`ValidationError` when a field does not fit.
    """
    from stdnum import bic as stdnum_bic  # loaded with the first letter, not at start-up
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError as StdnumValidationError

    name = name.strip()
    text = text.strip()
    if not name or len(name) > EPC_MAX_NAME or _CONTROL.search(name):
        raise ValidationError(
            "The payee's name must be 1 to {most} characters on one line.",
            "name",
            most=EPC_MAX_NAME,
        )
    try:
        compact_iban = stdnum_iban.validate(iban)
    except StdnumValidationError:
        raise ValidationError("'{iban}' is not a valid IBAN.", "iban", iban=iban) from None
    compact_bic = ""
    if bic:
        try:
            compact_bic = stdnum_bic.validate(bic)
        except StdnumValidationError:
            raise ValidationError("'{bic}' is not a valid BIC.", "bic", bic=bic) from None
    if not 1 <= amount_cents <= EPC_MAX_CENTS:
        raise ValidationError(
            "A QR code carries an amount from EUR 0.01 to EUR 999,999,999.99.", "amount"
        )
    if len(text) > EPC_MAX_TEXT or _CONTROL.search(text):
        raise ValidationError(
            "The payment description must be at most {most} characters on one line.",
            "text",
            most=EPC_MAX_TEXT,
        )
    lines = [
        "BCD",
        "002",
        "1",  # UTF-8
        "SCT",
        compact_bic,
        name,
        compact_iban,
        f"EUR{amount_text(amount_cents)}",
        "",  # purpose
        "",  # structured reference (ISO 11649): we carry the reference as text
        text,
    ]
    payload = "\n".join(lines)
    if len(payload.encode("utf-8")) > EPC_MAX_BYTES:
        raise ValidationError("The payment details are too long for a QR code.", "text")
    return payload
