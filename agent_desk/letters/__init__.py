"""Letters as PDF: arrangement confirmation, 14-day letter, pause and debt-help referral.

Built on plain data (``agent_desk.letters.data``) so it does not depend on the database;
the text lives in ``agent_desk.letters.templates`` with a version per letter kind.
No Qt here.
"""

from __future__ import annotations

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
from agent_desk.letters.templates import TEMPLATE_VERSION, template_version

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
