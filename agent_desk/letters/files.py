"""Writing a letter to disk: atomically (a temporary file, then a rename), with the
SHA-256 and template version to record, under a name safe on every file system."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent_desk.letters import templates
from agent_desk.letters.data import AnyLetter
from agent_desk.letters.render import render_pdf


def sha256_hex(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


@dataclass(frozen=True)
class WrittenLetter:
    """What to record about a letter that was written."""

    path: Path
    sha256: str
    kind: str
    template_version: str
    reference: str
    size: int


def write_pdf(data: AnyLetter, path: str | os.PathLike[str]) -> WrittenLetter:
    """Render and write atomically: a temporary file in the same folder, then rename.

    Validation runs first, so bad input never creates a file; an error while writing
    removes the temporary file, so no half-written letter is ever left behind.
    """
    pdf = render_pdf(data)
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return WrittenLetter(
        path=target,
        sha256=sha256_hex(pdf),
        kind=data.kind,
        template_version=templates.template_version(data.kind, data.text_overrides),
        reference=data.reference,
        size=len(pdf),
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_filename(data: AnyLetter) -> str:
    """``arrangement-REF-2027-01-31.pdf``, safe on every file system."""
    reference = _UNSAFE.sub("_", data.reference.strip()).strip("._") or "letter"
    return f"{data.kind}-{reference}-{data.letter_date.isoformat()}.pdf"
