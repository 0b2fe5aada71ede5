"""Letters as PDF: arrangement confirmation, 14-day letter, pause and debt-help referral.

Built on plain data (``agent_desk.letters.data``) so it does not depend on the database;
the text lives in ``agent_desk.letters.templates`` with a version per letter kind.
No Qt here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    validate,
)
from agent_desk.letters.templates import TEMPLATE_VERSION, template_version

if TYPE_CHECKING:
    from agent_desk.letters.render import (
        ADDRESS_WINDOW,
        BatchFailure,
        BatchItem,
        BatchSummary,
        WrittenLetter,
        default_filename,
        render_batch,
        render_pdf,
        sha256_hex,
        write_pdf,
    )

# The renderer loads reportlab (a large library): only when a letter is written, not
# when the desk starts (these names resolve on first use, PEP 562).
_RENDER = frozenset(
    {
        "ADDRESS_WINDOW",
        "BatchFailure",
        "BatchItem",
        "BatchSummary",
        "WrittenLetter",
        "default_filename",
        "render_batch",
        "render_pdf",
        "sha256_hex",
        "write_pdf",
    }
)


def __getattr__(name: str) -> Any:
    if name in _RENDER:
        from agent_desk.letters import render

        return getattr(render, name)
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
