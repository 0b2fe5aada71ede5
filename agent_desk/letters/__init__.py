"""Letters as PDF: arrangement confirmation, 14-day letter, pause and debt-help referral.

Built on plain data (``agent_desk.letters.data``) so it does not depend on the database;
the text lives in ``agent_desk.letters.templates`` with a version per letter kind.
No Qt here. The rooms: ``style`` (page geometry, colours, fonts, paragraph styles),
``frame`` (what every page carries), ``blocks`` (the parts letters share), ``kinds``
(one module per letter kind), ``render`` (one letter to PDF bytes), ``files`` (writing
one atomically) and ``batch`` (many, on a process pool).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_desk.letters.checks import validate
from agent_desk.letters.data import (
    GELDFIT,
    AnyLetter,
    ArrangementLetterData,
    Creditor,
    DebtHelp,
    DebtHelpReferralData,
    FourteenDayLetterData,
    Language,
    LetterClaim,
    LetterKind,
    PauseLetterData,
    Recipient,
    ScheduleLine,
    demo_creditor,
)
from agent_desk.letters.templates import TEMPLATE_VERSION, template_version

if TYPE_CHECKING:
    from agent_desk.letters.batch import BatchFailure, BatchItem, BatchSummary, render_batch
    from agent_desk.letters.files import WrittenLetter, default_filename, sha256_hex, write_pdf
    from agent_desk.letters.render import render_pdf
    from agent_desk.letters.style import ADDRESS_WINDOW

# Drawing loads reportlab (a large library): only when a letter is made, not when the
# desk starts (these names resolve on first use, PEP 562). Each module is imported by
# a plain statement, so freezers (PyInstaller) follow it.
_BATCH = frozenset({"BatchFailure", "BatchItem", "BatchSummary", "render_batch"})
_FILES = frozenset({"WrittenLetter", "default_filename", "sha256_hex", "write_pdf"})


def __getattr__(name: str) -> Any:
    if name == "render_pdf":
        from agent_desk.letters import render

        return render.render_pdf
    if name in _FILES:
        from agent_desk.letters import files

        return getattr(files, name)
    if name in _BATCH:
        from agent_desk.letters import batch

        return getattr(batch, name)
    if name == "ADDRESS_WINDOW":
        from agent_desk.letters import style

        return style.ADDRESS_WINDOW
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ADDRESS_WINDOW",
    "GELDFIT",
    "TEMPLATE_VERSION",
    "AnyLetter",
    "ArrangementLetterData",
    "BatchFailure",
    "BatchItem",
    "BatchSummary",
    "Creditor",
    "DebtHelp",
    "DebtHelpReferralData",
    "FourteenDayLetterData",
    "Language",
    "LetterClaim",
    "LetterKind",
    "PauseLetterData",
    "Recipient",
    "ScheduleLine",
    "WrittenLetter",
    "default_filename",
    "demo_creditor",
    "render_batch",
    "render_pdf",
    "sha256_hex",
    "template_version",
    "validate",
    "write_pdf",
]
