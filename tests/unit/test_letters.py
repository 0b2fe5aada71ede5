"""Letters: read every PDF back and find what the customer must see."""

from __future__ import annotations

import dataclasses
import io
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from agent_desk.domain.money import format_money
from agent_desk.errors import ValidationError
from agent_desk.letters import (
    TEMPLATE_VERSION,
    ArrangementLetterData,
    BatchItem,
    DebtHelp,
    Recipient,
    ScheduleLine,
    render_batch,
    render_pdf,
    sha256_hex,
    write_pdf,
)
from agent_desk.letters.data import AnyLetter
from agent_desk.letters.examples import (
    example_arrangement,
    example_debt_help,
    example_fourteen_day,
    example_pause,
)
from agent_desk.letters.style import format_long_date
from agent_desk.letters.templates import FOURTEEN_DAY_TERM

ESCAPE_NAME = '<b>Zoë & "Ş. Çelik"</b>'


def _norm(text: str) -> str:
    """Collapse all whitespace (also the no-break space babel puts after €)."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _pages(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [_norm(page.extract_text()) for page in reader.pages]


def _text(pdf: bytes) -> str:
    return " ".join(_pages(pdf))


def _money(cents: int, lang: str) -> str:
    return _norm(format_money(cents, lang))


def _fonts(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts: Any = resources.get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]))
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
    return names


def _with_recipient(data: AnyLetter, **changes: Any) -> AnyLetter:
    return dataclasses.replace(data, recipient=dataclasses.replace(data.recipient, **changes))


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_arrangement_letter_has_everything(lang: str) -> None:
    data = example_arrangement(lang)  # type: ignore[arg-type]
    text = _text(render_pdf(data))
    r = data.recipient
    assert r.name in text
    assert f"{r.street} {r.house_number}" in text
    assert "3512 PK UTRECHT" in text
    for line in data.schedule:
        row = f"{line.number} {format_long_date(line.due, lang)} {_money(line.amount_cents, lang)}"  # type: ignore[arg-type]
        assert row in text, row
    assert _money(data.total_cents, lang) in text
    assert _money(data.principal_cents, lang) in text
    assert "NL91 ABNA 0417 1643 00" in text
    assert data.payment_reference in text
    assert data.reference in text
    assert "Geldfit" in text and "0800-8115" in text
    if lang == "nl":
        assert "Bevestiging van uw betalingsregeling" in text
        assert "18 januari 2027" in text
        assert "€ 1.197,62" in text
        assert "Incassokosten van € 177,38: u hoeft deze niet te betalen" in text
        assert "pagina 1 van 2" in text
    else:
        assert "Confirmation of your payment arrangement" in text
        assert "18 January 2027" in text
        assert "€1,197.62" in text
        assert "page 1 of 2" in text


def test_costs_and_interest_charged_are_listed() -> None:
    base = example_arrangement("nl", 3)
    total = base.principal_cents + base.costs_cents + base.interest_cents
    schedule = (
        ScheduleLine(1, date(2027, 2, 1), total - 2 * 40_000),
        ScheduleLine(2, date(2027, 3, 1), 40_000),
        ScheduleLine(3, date(2027, 4, 1), 40_000),
    )
    data = dataclasses.replace(base, costs_waived=False, total_cents=total, schedule=schedule)
    text = _text(render_pdf(data))
    assert f"Incassokosten {_money(data.costs_cents, 'nl')}" in text
    assert f"Rente {_money(data.interest_cents, 'nl')}" in text
    assert f"Totaal {_money(total, 'nl')}" in text


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_fourteen_day_letter_wording_and_costs(lang: str) -> None:
    data = example_fourteen_day(lang)  # type: ignore[arg-type]
    text = _text(render_pdf(data))
    assert FOURTEEN_DAY_TERM[lang] in text  # type: ignore[index]
    assert _money(data.outstanding_cents, lang) in text
    assert _money(data.costs_cents, lang) in text
    assert _money(data.vat_cents, lang) in text
    assert _money(data.costs_cents + data.vat_cents, lang) in text
    assert _money(data.total_if_unpaid_cents, lang) in text
    assert data.payment_reference in text
    if lang == "nl":
        assert "binnen 14 dagen na de dag waarop u deze brief ontvangt" in text
        assert "omdat wij deze btw niet kunnen verrekenen" in text
    else:
        assert "within 14 days after the day on which you receive this letter" in text
        assert "because we cannot deduct this VAT" in text


def test_fourteen_day_letter_without_vat_has_no_vat_statement() -> None:
    data = dataclasses.replace(example_fourteen_day("nl"), vat_cents=0, vat_statement=False)
    text = _text(render_pdf(data))
    assert "btw" not in text.lower()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_pause_letter(lang: str) -> None:
    data = example_pause(lang)  # type: ignore[arg-type]
    text = _text(render_pdf(data))
    assert format_long_date(data.paused_until, lang) in text  # type: ignore[arg-type]
    assert data.reason in text
    assert data.recipient.name in text


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_debt_help_letter(lang: str) -> None:
    data = dataclasses.replace(
        example_debt_help(lang),  # type: ignore[arg-type]
        help=DebtHelp(
            name="Schuldhulp Gemeente Utrecht",
            phone="14 030",
            website="www.utrecht.nl/geldzaken",
            address_lines=("Stadsplateau 1", "3521 AZ  Utrecht"),
        ),
    )
    text = _text(render_pdf(data))
    for part in (
        "Schuldhulp Gemeente Utrecht",
        "14 030",
        "www.utrecht.nl/geldzaken",
        "Stadsplateau 1",
    ):
        assert part in text
    assert data.outstanding_cents is not None
    assert _money(data.outstanding_cents, lang) in text


# --------------------------------------------------------------------------- escaping and glyphs


@pytest.mark.parametrize(
    "make", [example_arrangement, example_fourteen_day, example_pause, example_debt_help]
)
def test_markup_in_data_prints_literally(make: Any) -> None:
    data = _with_recipient(make("nl"), name=ESCAPE_NAME, street="Kerk<straat> & Co")
    pdf = render_pdf(data)
    text = _text(pdf)
    # in the window, in the salutation, and in the header of later pages
    assert text.count(ESCAPE_NAME) >= 2
    assert "Kerk<straat> & Co" in text
    assert "&amp;" not in text and "&lt;" not in text


def test_reason_and_references_are_escaped() -> None:
    data = dataclasses.replace(example_pause("nl"), reason='ziekte <br/> & "herstel"')
    assert 'ziekte <br/> & "herstel"' in _text(render_pdf(data))


def test_font_is_embedded_dejavu_and_covers_latin_scripts() -> None:
    names = [
        "Şükrü Ğüneş İğdır ıı",
        "Łucja Żółć-Świątek",
        "Nguyễn Thị Hồng ệ ừ",
    ]
    data = _with_recipient(
        example_arrangement("nl"), name=" ".join(names), city="Łódź", country="PL"
    )
    pdf = render_pdf(data)
    text = _text(pdf)
    for name in names:
        assert name in text
    assert "Łódź" in text
    assert "POLAND" not in text and "PL" in text
    assert "€" in text
    fonts = _fonts(pdf)
    assert fonts, "no fonts found"
    assert all(re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(-Bold)?", f) for f in fonts), fonts


# --------------------------------------------------------------------------- long schedule


def test_sixty_instalments_flow_over_pages_with_repeated_header() -> None:
    data = example_arrangement("nl", 60)
    pages = _pages(render_pdf(data))
    assert len(pages) >= 2
    assert f"pagina 2 van {len(pages)}" in pages[1]
    assert "Termijn Uiterlijk op Bedrag" in pages[0]
    assert "Termijn Uiterlijk op Bedrag" in pages[1]
    text = " ".join(pages)
    for line in data.schedule:
        row = f"{line.number} {format_long_date(line.due, 'nl')} {_money(line.amount_cents, 'nl')}"
        assert row in text, row
    assert sum(line.amount_cents for line in data.schedule) == data.total_cents


# --------------------------------------------------------------------------- validation


def _bad_cases() -> list[tuple[str, AnyLetter, str]]:
    arr = example_arrangement("nl", 3)
    return [
        ("street", _with_recipient(arr, street="  "), "recipient.street"),
        ("postcode", _with_recipient(arr, postcode=""), "recipient.postcode"),
        ("city", _with_recipient(arr, city=""), "recipient.city"),
        ("dutch postcode", _with_recipient(arr, postcode="35120"), "recipient.postcode"),
        (
            "iban",
            dataclasses.replace(
                arr, creditor=dataclasses.replace(arr.creditor, iban="NL91ABNA0417164301")
            ),
            "creditor.iban",
        ),
        ("no instalments", dataclasses.replace(arr, schedule=()), "schedule"),
        (
            "sum",
            dataclasses.replace(
                arr,
                schedule=(
                    *arr.schedule[:-1],
                    dataclasses.replace(arr.schedule[-1], amount_cents=1),
                ),
            ),
            "schedule",
        ),
        ("negative principal", dataclasses.replace(arr, principal_cents=-1), "principal_cents"),
        (
            "negative instalment",
            dataclasses.replace(
                arr,
                schedule=(
                    *arr.schedule[:-1],
                    dataclasses.replace(arr.schedule[-1], amount_cents=-5),
                ),
            ),
            "schedule",
        ),
        ("total", dataclasses.replace(arr, total_cents=arr.total_cents + 1), "total_cents"),
        (
            "vat without statement",
            dataclasses.replace(example_fourteen_day("nl"), vat_statement=False),
            "vat_statement",
        ),
        (
            "negative costs",
            dataclasses.replace(example_fourteen_day("nl"), costs_cents=-100),
            "costs_cents",
        ),
        (
            "pause in the past",
            dataclasses.replace(example_pause("nl"), paused_until=date(2027, 1, 1)),
            "paused_until",
        ),
    ]


@pytest.mark.parametrize("case", _bad_cases(), ids=lambda c: c[0])
def test_bad_input_raises_before_anything_is_written(
    case: tuple[str, AnyLetter, str], tmp_path: Path
) -> None:
    _, data, field = case
    target = tmp_path / "letter.pdf"
    with pytest.raises(ValidationError) as info:
        write_pdf(data, target)
    assert info.value.field == field
    assert str(info.value).endswith(".")
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_pdf(example_pause("nl"), tmp_path / "letter.pdf")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- determinism and record


def test_same_input_gives_same_bytes(tmp_path: Path) -> None:
    data = example_arrangement("en", 24)
    first = render_pdf(data)
    second = render_pdf(example_arrangement("en", 24))
    assert first == second
    written = write_pdf(data, tmp_path / "a.pdf")
    assert written.sha256 == sha256_hex(first) == sha256_hex((tmp_path / "a.pdf").read_bytes())
    assert written.template_version == TEMPLATE_VERSION["arrangement"]
    assert written.kind == "arrangement"
    meta = PdfReader(io.BytesIO(first)).metadata
    assert meta is not None
    assert str(meta["/CreationDate"]).startswith("D:20270118")
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


def test_different_data_gives_different_bytes() -> None:
    a = example_arrangement("nl")
    b = dataclasses.replace(a, reference="AD-2027-000999")
    assert render_pdf(a) != render_pdf(b)


# --------------------------------------------------------------------------- batch


def test_batch_writes_good_letters_and_reports_bad_ones(tmp_path: Path) -> None:
    good = [example_arrangement("nl", 3, reference=f"AD-B-{i}") for i in range(3)]
    bad = _with_recipient(example_arrangement("nl", 3, reference="AD-B-bad"), street="")
    seen: list[tuple[int, int]] = []
    summary = render_batch(
        [good[0], bad, BatchItem(good[1], "second.pdf"), good[2], example_pause("en")],
        tmp_path,
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(summary.written) == 4
    assert [f.reference for f in summary.failed] == ["AD-B-bad"]
    assert "street" in summary.failed[0].reason
    assert seen[-1] == (5, 5) and len(seen) == 5
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "second.pdf" in files and len(files) == 4
    assert not any(name.endswith(".part") for name in files)
    for written in summary.written:
        assert sha256_hex(written.path.read_bytes()) == written.sha256


def test_batch_duplicate_names_fail_plainly(tmp_path: Path) -> None:
    data = example_pause("nl")
    summary = render_batch([data, data], tmp_path, workers=1)
    assert len(summary.written) == 1
    assert summary.failed[0].reason == "Another letter in this batch has the same file name."


def test_letters_package_does_not_import_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agent_desk.letters; print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    assert out.stdout.strip() == "False"


def test_recipient_abroad_gets_country_line() -> None:
    r = Recipient("A. Janssens", "Meir", "1", "2000", "Antwerpen", country="België", language="nl")
    assert r.address_lines() == ("A. Janssens", "Meir 1", "2000  Antwerpen", "BELGIË")


def test_arrangement_dataclass_is_plain_and_picklable() -> None:
    import pickle

    data = example_arrangement("nl")
    assert isinstance(data, ArrangementLetterData)
    assert pickle.loads(pickle.dumps(data)) == data


def test_logo_is_drawn_and_a_missing_logo_is_a_plain_error(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (31, 90, 115)).save(logo)
    data = example_pause("nl")
    with_logo = dataclasses.replace(
        data, creditor=dataclasses.replace(data.creditor, logo_path=str(logo))
    )
    reader = PdfReader(io.BytesIO(render_pdf(with_logo)))
    resources: Any = reader.pages[0]["/Resources"]
    assert "/XObject" in resources
    missing = dataclasses.replace(
        data, creditor=dataclasses.replace(data.creditor, logo_path=str(tmp_path / "nope.png"))
    )
    with pytest.raises(ValidationError) as info:
        render_pdf(missing)
    assert info.value.field == "creditor.logo_path"


def test_regenerated_in_a_fresh_process_gives_the_same_hash() -> None:
    import subprocess
    import sys

    code = (
        "from agent_desk.letters import render_pdf, sha256_hex;"
        "from agent_desk.letters.examples import example_arrangement;"
        "print(sha256_hex(render_pdf(example_arrangement('nl', 30))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == sha256_hex(render_pdf(example_arrangement("nl", 30)))


# --------------------------------------------------------------------------- letters tell the truth


def _arrangement_with_rules(lang: str, days: int, count: int) -> ArrangementLetterData:
    return dataclasses.replace(
        example_arrangement(lang),  # type: ignore[arg-type]
        missed_after_days=days,
        missed_instalments_before_broken=count,
    )


@pytest.mark.parametrize(
    ("lang", "missed", "broken"),
    [
        (
            "nl",
            "Staat een termijn meer dan 10 dagen na de datum in het schema nog niet helemaal op "
            "onze rekening? Dan is die termijn gemist.",
            "Zijn er 3 termijnen tegelijk gemist? Dan stopt de betalingsregeling.",
        ),
        (
            "en",
            "If an instalment is not fully in our account more than 10 days after its date in "
            "the schedule, it counts as missed.",
            "If 3 instalments are missed at the same time, the payment arrangement ends.",
        ),
    ],
)
def test_the_confirmation_says_when_an_instalment_is_missed_and_when_the_plan_ends(
    lang: str, missed: str, broken: str
) -> None:
    text = _text(render_pdf(_arrangement_with_rules(lang, 10, 3)))
    assert missed in text
    assert broken in text
    if lang == "nl":
        assert "De afspraken in deze brief gelden dan niet meer." in text
        assert "gaat de wettelijke rente weer lopen" in text
        assert "We nemen eerst contact met u op, om samen een oplossing te zoeken." in text
    else:
        assert "The agreements in this letter no longer apply." in text
        assert "Statutory interest starts to run again" in text
        assert "We will contact you first, to look for a solution together." in text


def test_the_policy_numbers_come_from_the_data_in_singular_and_zero() -> None:
    one = _text(render_pdf(_arrangement_with_rules("nl", 1, 1)))
    assert "meer dan 1 dag na de datum" in one
    assert "Is er één termijn gemist? Dan stopt de betalingsregeling." in one
    zero = _text(render_pdf(_arrangement_with_rules("en", 0, 2)))
    assert "If an instalment is not fully in our account after its date in the schedule" in zero
    assert "If 2 instalments are missed at the same time" in zero
    default = _text(render_pdf(example_arrangement("nl")))
    assert "meer dan 7 dagen na de datum" in default
    assert "Zijn er 2 termijnen tegelijk gemist?" in default


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_fourteen_day_letter_lists_every_claim_it_names(lang: str) -> None:
    data = example_fourteen_day(lang)  # type: ignore[arg-type]
    text = _text(render_pdf(data))
    for claim in data.claims:
        assert claim.reference in text
        assert _norm(claim.description) in text
        assert format_long_date(claim.due, lang) in text  # type: ignore[arg-type]
    first = data.claims[0]
    row = f"{first.reference} {first.description} {format_long_date(first.due, lang)} "  # type: ignore[arg-type]
    assert row + _money(first.amount_cents, lang) in text
    total = "Totaal" if lang == "nl" else "Total"
    assert f"{total} {_money(data.outstanding_cents, lang)}" in text
    if lang == "nl":
        assert "Kenmerk Omschrijving Vervaldatum Bedrag" in text
        assert "Die staan niet in deze brief." in text
        assert "alleen over het bedrag dat daarna nog openstaat" in text
    else:
        assert "Reference Description Due date Amount" in text
        assert "They are not in this letter." in text


def test_the_later_claims_sentence_only_when_there_are_later_claims() -> None:
    data = dataclasses.replace(example_fourteen_day("nl"), later_claims=False)
    assert "Die staan niet in deze brief." not in _text(render_pdf(data))


def test_a_long_claim_reference_wraps_inside_its_column() -> None:
    base = example_fourteen_day("nl")
    long_ref = "INV-2026-000000000000123456789-ABCDEF-XYZ"
    claims = (dataclasses.replace(base.claims[0], reference=long_ref), *base.claims[1:])
    text = _text(render_pdf(dataclasses.replace(base, claims=claims)))
    assert long_ref not in text  # broken over lines, not running into the next column
    assert "".join(text.split()).count(long_ref) == 1
    assert "Huur november 2026" in text


def _fourteen_day_bad_cases() -> list[tuple[str, AnyLetter, str]]:
    data = example_fourteen_day("nl")
    first = data.claims[0]
    return [
        ("no claims", dataclasses.replace(data, claims=()), "claims"),
        (
            "claims do not add up",
            dataclasses.replace(data, outstanding_cents=data.outstanding_cents + 1),
            "outstanding_cents",
        ),
        (
            "claim due on the letter date",
            dataclasses.replace(
                data,
                claims=(dataclasses.replace(first, due=data.letter_date), *data.claims[1:]),
            ),
            "claims",
        ),
        (
            "claim with nothing open",
            dataclasses.replace(
                data,
                claims=(dataclasses.replace(first, amount_cents=0), *data.claims[1:]),
                outstanding_cents=data.outstanding_cents - first.amount_cents,
            ),
            "claims",
        ),
        (
            "missed after negative days",
            dataclasses.replace(example_arrangement("nl"), missed_after_days=-1),
            "missed_after_days",
        ),
        (
            "broken after no missed instalment",
            dataclasses.replace(example_arrangement("nl"), missed_instalments_before_broken=0),
            "missed_instalments_before_broken",
        ),
    ]


@pytest.mark.parametrize("case", _fourteen_day_bad_cases(), ids=lambda c: c[0])
def test_a_letter_that_would_not_tell_the_truth_is_refused(
    case: tuple[str, AnyLetter, str], tmp_path: Path
) -> None:
    _, data, field = case
    with pytest.raises(ValidationError) as info:
        write_pdf(data, tmp_path / "letter.pdf")
    assert info.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_template_versions_say_the_wording_changed() -> None:
    assert TEMPLATE_VERSION["arrangement"] != "1.0"
    assert TEMPLATE_VERSION["fourteen_day"] != "1.0"


def test_the_refusal_of_a_confirmation_is_one_sentence_in_both_languages() -> None:
    from agent_desk.i18n import Translator
    from agent_desk.services.letter_data import confirmation_refusal

    assert confirmation_refusal(12, "active") is None
    for status in ("pending_approval", "declined", "broken", "completed", "cancelled", "odd"):
        refusal = confirmation_refusal(12, status)
        assert refusal is not None and refusal.field == "status"
        english = str(refusal)
        dutch = Translator("nl").error(refusal)
        for sentence in (english, dutch):
            assert "12" in sentence and sentence.endswith(".") and ". " not in sentence
        assert dutch != english and dutch.startswith("Regeling 12 ")
    pending = confirmation_refusal(12, "pending_approval")
    assert pending is not None and "goedkeuring" in Translator("nl").error(pending)
