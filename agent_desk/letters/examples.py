"""Made-up letters of every kind, for previews, the benchmarks and the tests; not
real people."""

from __future__ import annotations

from datetime import date

from agent_desk.letters.data import (
    ArrangementLetterData,
    DebtHelp,
    DebtHelpReferralData,
    FourteenDayLetterData,
    Language,
    LetterClaim,
    PauseLetterData,
    Recipient,
    ScheduleLine,
    demo_creditor,
)


def example_recipient(language: Language = "nl") -> Recipient:
    return Recipient(
        name="Şebnem Yılmaz-Kowalczyk" if language == "nl" else "Nguyễn Thị Hồng",
        street="Burgemeester Reigerstraat" if language == "nl" else "Lange Nieuwstraat",
        house_number="112 bis" if language == "nl" else "7-A",
        postcode="3512 PK",
        city="Utrecht",
        language=language,
    )


def example_arrangement(
    language: Language = "nl", instalments: int = 6, *, reference: str = "AD-2027-000123"
) -> ArrangementLetterData:
    from datetime import timedelta

    principal, costs, interest = 118_250, 17_738, 1_512
    total = principal + interest  # costs waived in the example
    base, rest = divmod(total, instalments)
    first = date(2027, 2, 1)
    schedule = tuple(
        ScheduleLine(
            number=i + 1,
            due=date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            if instalments <= 120
            else first + timedelta(days=30 * i),
            amount_cents=base + (rest if i == instalments - 1 else 0),
        )
        for i in range(instalments)
    )
    return ArrangementLetterData(
        reference=reference,
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        principal_cents=principal,
        costs_cents=costs,
        interest_cents=interest,
        costs_waived=True,
        interest_waived=False,
        total_cents=total,
        schedule=schedule,
        payment_reference="7001 2027 0001 2345",
        missed_after_days=7,
        missed_instalments_before_broken=2,
    )


def example_fourteen_day(language: Language = "nl") -> FourteenDayLetterData:
    nl = language == "nl"
    claims = (
        LetterClaim(
            "HUUR-2026-11-4411",
            "Huur november 2026" if nl else "Rent November 2026",
            date(2026, 11, 1),
            12_000,
        ),
        LetterClaim(
            "HUUR-2026-12-4411",
            "Huur december 2026" if nl else "Rent December 2026",
            date(2026, 12, 1),
            12_000,
        ),
        LetterClaim(
            "SVK-2026-4411",
            "Servicekosten 2026, naheffing na de jaarafrekening"
            if nl
            else "Service charges 2026, balance after the annual statement",
            date(2026, 12, 15),
            6_000,
        ),
    )
    return FourteenDayLetterData(
        reference="AD-2027-000124",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        outstanding_cents=30_000,
        costs_cents=4_500,
        vat_cents=945,
        vat_statement=True,
        payment_reference="7001 2027 0001 2346",
        claims=claims,
        later_claims=True,
    )


def example_pause(language: Language = "nl") -> PauseLetterData:
    return PauseLetterData(
        reference="AD-2027-000125",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        paused_until=date(2027, 3, 1),
        reason=(
            "u wacht op een besluit over uw uitkering"
            if language == "nl"
            else "you are waiting for a decision about your benefit"
        ),
    )


def example_debt_help(language: Language = "nl") -> DebtHelpReferralData:
    return DebtHelpReferralData(
        reference="AD-2027-000126",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        help=DebtHelp(
            name="Geldfit",
            phone="0800-8115",
            website="www.geldfit.nl",
        ),
        outstanding_cents=119_762,
    )
