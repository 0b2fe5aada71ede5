"""The payment link and the EPC069-12 QR payload."""

from __future__ import annotations

import pytest

from agent_desk.domain.payment import (
    amount_text,
    check_link_template,
    epc_qr_payload,
    payment_link,
)
from agent_desk.errors import ValidationError

TEMPLATE = "https://pay.example/{reference}?amount={amount}"


def test_the_link_carries_the_reference_url_encoded_and_the_amount_in_machine_form() -> None:
    assert payment_link(TEMPLATE, "INV 2026/001", 12345) == (
        "https://pay.example/INV%202026%2F001?amount=123.45"
    )
    assert payment_link(TEMPLATE, "R1", 5) == "https://pay.example/R1?amount=0.05"


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("http://pay.example/{reference}", "https://"),
        ("https://pay.example/{reference}?x={iban}", "{iban}"),
        ("https://pay.example/?amount={amount}", "{reference}"),
        ("https://pay.example/{reference", "not closed"),
        ("https://pay.example/{reference} x", "space"),
        ("{reference}", "https://"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(template: str, why: str) -> None:
    with pytest.raises(ValidationError, match=None) as caught:
        check_link_template(template)
    assert why in str(caught.value)


def test_amounts_are_never_negative() -> None:
    assert amount_text(100_000) == "1000.00"
    with pytest.raises(ValidationError):
        amount_text(-1)


def test_the_epc_payload_follows_epc069_12_version_002() -> None:
    payload = epc_qr_payload(
        name="Woonstichting De Linde",
        iban="NL91 ABNA 0417 1643 00",
        bic="ABNANL2A",
        amount_cents=4250,
        text="Regeling 2026-0042",
    )
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "ABNANL2A",
        "Woonstichting De Linde",
        "NL91ABNA0417164300",
        "EUR42.50",
        "",
        "",
        "Regeling 2026-0042",
    ]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("iban", {"iban": "NL91 ABNA 0417 1643 01"}),
        ("amount", {"amount_cents": 0}),
        ("amount", {"amount_cents": 100_000_000_000}),
        ("name", {"name": "x" * 71}),
        ("name", {"name": "a\nb"}),
        ("text", {"text": "y" * 141}),
        ("bic", {"bic": "NOTABIC"}),
    ],
)
def test_what_a_qr_code_cannot_carry_is_refused(field: str, kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "name": "De Linde",
        "iban": "NL91ABNA0417164300",
        "amount_cents": 100,
        "text": "ref",
    }
    base.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        epc_qr_payload(**base)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_lock_screen_link_leaves_the_amount_out() -> None:
    from agent_desk.domain.payment import lock_screen_link

    assert lock_screen_link(TEMPLATE, "INV 1") == "https://pay.example/INV%201"
    assert (
        lock_screen_link("https://pay.example/p?ref={reference}&amount={amount}&x=1", "R1")
        == "https://pay.example/p?ref=R1&x=1"
    )
    assert lock_screen_link("https://pay.example/{reference}/{amount}", "R1") is None
