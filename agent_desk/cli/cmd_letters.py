"""``agent-desk letter …`` and ``agent-desk letters``: write letters as PDF and record them.

* ``agent-desk letter arrangement --arrangement ID --out FILE.pdf``
* ``agent-desk letter fourteen-day --customer NUMBER [--date DATE] --out FILE.pdf``
* ``agent-desk letters --kind arrangement --since DATE --out DIR`` (a batch, both cores)

The CLI makes letters to post: each is recorded as ``printed`` (sent), and a 14-day
letter starts its term. Only an active arrangement gets a confirmation.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk import letters
from agent_desk.cli._common import EXIT_FAILED, EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain import team_day
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import AgentDeskError, UsageError
from agent_desk.letters import AnyLetter, BatchItem
from agent_desk.models import Arrangement, Customer
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.letter_data import (
    arrangement_letter_data,
    confirmation_refusal,
    fourteen_day_letter_data,
)
from agent_desk.services.letters import (
    LetterRecord,
    arrangements_since,
    generate_letter,
    record_letter,
)

#: Said in every ``--help``: what the CLI records.
POSTED = "the letter is for the post: it is recorded as printed (sent)"


def _positive_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the id must be 1 or more")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("choose between 1 and 64 workers")
    return value


def _add_actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="the agent who sends (and signs) the letter (default: the system)",
    )


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def register(subparsers: Any) -> None:
    letter = add_command(subparsers, "letter", f"write one letter as PDF and record it ({POSTED})")
    kinds = letter.add_subparsers(dest="letter_kind", metavar="KIND", required=True)

    arrangement = add_command(
        kinds,
        "arrangement",
        f"confirmation of an active arrangement (agreed, or approved by a supervisor); {POSTED}",
    )
    arrangement.add_argument(
        "--arrangement", required=True, type=_positive_id, metavar="ID", help="arrangement id"
    )
    arrangement.add_argument("--out", required=True, metavar="FILE.pdf", help="PDF to write")
    _add_actor_option(arrangement)
    _add_json_option(arrangement)
    arrangement.set_defaults(func=run_arrangement)

    fourteen = add_command(
        kinds,
        "fourteen-day",
        "the 14-day letter (art. 6:96 lid 6 BW) for a customer: it names the claims in "
        f"default on its date and the costs owed if they stay unpaid; {POSTED}, and its "
        "14-day term starts (post: received 2 working days after its date)",
    )
    fourteen.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    fourteen.add_argument(
        "--date",
        type=iso_date,
        metavar="DATE",
        help=(
            "the day the letter went out (YYYY-MM-DD), e.g. from the billing system; default "
            "today, never in the future; if its term has already run out unpaid, the costs "
            "are booked at once"
        ),
    )
    fourteen.add_argument("--out", required=True, metavar="FILE.pdf", help="PDF to write")
    _add_actor_option(fourteen)
    _add_json_option(fourteen)
    fourteen.set_defaults(func=run_fourteen_day)

    batch = add_command(
        subparsers,
        "letters",
        f"write a batch of letters into a folder and record them ({POSTED}); "
        "arrangements that are not active are skipped",
    )
    batch.add_argument(
        "--kind", required=True, choices=["arrangement"], help="which letters to write"
    )
    batch.add_argument(
        "--since",
        required=True,
        type=iso_date,
        metavar="DATE",
        help="arrangements created on or after this date (YYYY-MM-DD)",
    )
    batch.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    batch.add_argument(
        "--workers", type=_workers, default=2, metavar="N", help="processes to use (default 2)"
    )
    _add_actor_option(batch)
    _add_json_option(batch)
    batch.set_defaults(func=run_batch)


# --------------------------------------------------------------------------- helpers


def _actor(session: Session, args: argparse.Namespace) -> Actor:
    login = getattr(args, "as_login", None)
    return SYSTEM if not login else actor_for_login(session, login)


def _out_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"'{text}' is a folder; give the name of the PDF file to write.")
    if not path.parent.is_dir():
        raise UsageError(f"The folder '{path.parent}' does not exist; create it first.")
    return path


def _record_json(record: LetterRecord) -> dict[str, Any]:
    return {
        "letter_id": record.letter_id,
        "kind": record.kind,
        "reference": record.reference,
        "path": str(record.path),
        "size": record.size,
        "sha256": record.sha256,
        "template_version": record.template_version,
        "delivery": record.delivery,
    }


def _report(record: LetterRecord, args: argparse.Namespace, **extra: Any) -> None:
    if getattr(args, "json", False):
        print_json({**_record_json(record), **extra})
        return
    print(
        f"Wrote {record.kind} letter {record.reference} to {record.path} "
        f"({record.size:,} bytes, SHA-256 {record.sha256[:12]}…, recorded as letter "
        f"{record.letter_id}, {record.delivery})."
    )


# --------------------------------------------------------------------------- single letters


def run_arrangement(args: argparse.Namespace) -> int:
    out = _out_file(args.out)
    with open_database(args) as database:
        now = utcnow()
        with database.transaction() as session:
            actor = _actor(session, args)
            data = arrangement_letter_data(session, args.arrangement, now, actor.display_name)
            arrangement = session.get(Arrangement, args.arrangement)
            assert arrangement is not None  # the builder found it
            record = generate_letter(
                session,
                actor,
                data,
                out,
                now,
                customer_id=arrangement.customer_id,
                arrangement_id=args.arrangement,
                delivery="printed",
            )
    _report(record, args, arrangement_id=args.arrangement)
    return EXIT_OK


def run_fourteen_day(args: argparse.Namespace) -> int:
    out = _out_file(args.out)
    with open_database(args) as database:
        now = utcnow()
        today = team_day.local_day(now)  # the team's day, as the desk and the books count it
        with database.transaction() as session:
            actor = _actor(session, args)
            data = fourteen_day_letter_data(
                session,
                args.customer,
                now,
                actor.display_name,
                sent_on=args.date or today,
                today=today,
            )
            customer = session.scalar(
                select(Customer.id).where(Customer.customer_number == args.customer.strip())
            )
            assert customer is not None  # the builder found it
            record = generate_letter(
                session,
                actor,
                data,
                out,
                now,
                customer_id=customer,
                delivery="printed",
                today=today,
            )
    term_ends = record.term_ends
    costs = data.costs_cents + data.vat_cents
    _report(
        record,
        args,
        sent_on=data.letter_date.isoformat(),
        claims=[c.reference for c in data.claims],
        principal=cents_to_str(data.outstanding_cents),
        costs=cents_to_str(costs),
        vat=cents_to_str(data.vat_cents),
        notice_id=record.notice_id,
        term_ends=term_ends.isoformat() if term_ends else None,
        costs_booked=cents_to_str(record.costs_booked_cents),
    )
    if not args.json and term_ends is not None:
        print(
            f"It names {len(data.claims)} claim(s), {cents_to_str(data.outstanding_cents)} in "
            f"all, with {cents_to_str(costs)} costs if unpaid; its term ends on "
            f"{term_ends.isoformat()}."
        )
        if record.costs_booked_cents:
            print(
                f"That term has already run out: {cents_to_str(record.costs_booked_cents)} "
                "costs were booked now."
            )
    return EXIT_OK


# --------------------------------------------------------------------------- batch


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\rWriting letters [{bar}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_batch(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"'{args.out}' is a file; give a folder to write the letters into.")
    with open_database(args) as database:
        return _batch_with(args, database, out_dir)


def _batch_with(args: argparse.Namespace, database: Database, out_dir: Path) -> int:
    now = utcnow()
    since = datetime.combine(args.since, time(0), tzinfo=UTC)
    items: list[BatchItem] = []
    # file name -> (customer id, arrangement id, data)
    owners: dict[str, tuple[int, int, AnyLetter]] = {}
    failed: list[tuple[str, str]] = []
    skipped: list[tuple[str, str, str]] = []  # (label, status, why)
    with database.transaction() as session:
        actor = _actor(session, args)
        for arrangement in arrangements_since(session, since):
            label = f"arrangement {arrangement.id}"
            refusal = confirmation_refusal(arrangement.id, arrangement.status)
            if refusal is not None:
                skipped.append((label, arrangement.status, str(refusal)))
                continue
            try:
                data = arrangement_letter_data(session, arrangement.id, now, actor.display_name)
            except AgentDeskError as error:
                failed.append((label, str(error)))
                continue
            item = BatchItem(data, filename=f"arrangement-{arrangement.id}.pdf")
            items.append(item)
            owners[item.name] = (arrangement.customer_id, arrangement.id, data)

    if not items and not failed and not skipped:
        if args.json:
            print_json({"written": [], "skipped": [], "failed": []})
        else:
            print(
                f"No arrangements were made on or after {args.since.isoformat()}; nothing written."
            )
        return EXIT_OK

    written_records: list[LetterRecord] = []
    seconds = 0.0
    if items:
        try:
            summary = letters.render_batch(
                items, out_dir, workers=args.workers, progress=_Progress()
            )
        except OSError as error:
            raise AgentDeskError(
                f"Could not write into '{out_dir}': {error.strerror or error}."
            ) from None
        failed.extend((f.name, f.reason) for f in summary.failed)
        seconds = summary.seconds
        with database.transaction() as session:
            actor = _actor(session, args)
            for written in summary.written:
                customer_id, arrangement_id, letter = owners[written.path.name]
                try:
                    record = record_letter(
                        session,
                        actor,
                        letter,
                        written,
                        now,
                        customer_id=customer_id,
                        arrangement_id=arrangement_id,
                        delivery="printed",
                    )
                except AgentDeskError as error:  # e.g. declined while the batch ran
                    written.path.unlink(missing_ok=True)
                    failed.append((written.path.name, str(error)))
                    continue
                written_records.append(record)

    if args.json:
        print_json(
            {
                "written": [_record_json(r) for r in written_records],
                "skipped": [
                    {"arrangement": label, "status": status, "reason": why}
                    for label, status, why in skipped
                ],
                "failed": [{"name": name, "reason": reason} for name, reason in failed],
            }
        )
        return EXIT_OK if not failed else EXIT_FAILED
    print(
        f"Wrote {len(written_records)} letter(s) to {out_dir} in {seconds:.1f} s; "
        f"{_skipped_summary(skipped)}; {len(failed)} failed."
    )
    for label, _status, why in skipped:
        print(f"  skipped: {label}: {why}")
    for name, reason in failed:
        print(f"  failed: {name}: {reason}")
    return EXIT_OK if not failed else EXIT_FAILED


_SKIP_WORDS = {
    "pending_approval": "waiting for approval",
    "declined": "not approved",
    "broken": "broken off",
    "completed": "paid in full",
    "cancelled": "withdrawn",
}


def _skipped_summary(skipped: list[tuple[str, str, str]]) -> str:
    """``2 skipped, not active (1 waiting for approval, 1 broken off)`` or ``0 skipped``."""
    if not skipped:
        return "0 skipped"
    counts: dict[str, int] = {}
    for _label, status, _why in skipped:
        counts[status] = counts.get(status, 0) + 1
    parts = ", ".join(
        f"{count} {_SKIP_WORDS.get(status, status.replace('_', ' '))}"
        for status, count in sorted(counts.items())
    )
    return f"{len(skipped)} skipped, not active ({parts})"
