"""The EPC QR code on the letters decodes to the payload of ``domain.payment``.

The PDF page is rendered to an image (pypdfium2, as the desk's preview does) and the
QR code read back with zxing-cpp; the text must be the EPC069-12 payload exactly.
"""

from __future__ import annotations

from dataclasses import replace

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from agent_desk.letters import data, examples, render_pdf
from agent_desk.letters.data import epc_payload, letter_payment_link


def _decoded(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    found: list[str] = []
    for index in range(len(document)):
        image = document[index].render(scale=200 / 72).to_pil()
        found += [r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "QRCode"]
    return found


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_14_day_letter_carries_a_readable_epc_code(language: str) -> None:
    letter = examples.example_fourteen_day(language)  # type: ignore[arg-type]
    (text,) = _decoded(render_pdf(letter))
    assert text == epc_payload(letter)
    lines = text.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[5] == "Woonstichting De Linde" and lines[6] == "NL91ABNA0417164300"
    assert lines[7] == "EUR300.00" and lines[10] == "7001 2027 0001 2346"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_confirmation_carries_the_first_instalment_and_the_link(language: str) -> None:
    letter = examples.example_arrangement(language)  # type: ignore[arg-type]
    pdf = render_pdf(letter)
    (text,) = _decoded(pdf)
    first = letter.schedule[0].amount_cents
    assert text.split("\n")[7] == f"EUR{first // 100}.{first % 100:02d}"
    link = letter_payment_link(letter)
    assert link == (
        "https://betalen.delinde.example/7001%202027%200001%202345?bedrag="
        f"{first // 100}.{first % 100:02d}"
    )
    words = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert link in words.replace("\n", "")


def test_names_with_accents_survive_the_code() -> None:
    creditor = replace(data.demo_creditor(), name="Woningstichting Ûtrecht-Zuid & Ĳsselstein")
    letter = replace(examples.example_fourteen_day("nl"), creditor=creditor)
    (text,) = _decoded(render_pdf(letter))
    assert text.split("\n")[5] == "Woningstichting Ûtrecht-Zuid & Ĳsselstein"


def test_a_letter_without_a_payment_link_still_has_the_code() -> None:
    creditor = replace(data.demo_creditor(), payment_link_template=None)
    letter = replace(examples.example_fourteen_day("en"), creditor=creditor)
    pdf = render_pdf(letter)
    assert _decoded(pdf) == [epc_payload(letter)]
    assert letter_payment_link(letter) is None
