"""``agent-desk letter …`` and ``agent-desk letters``: write letters as PDF and record them.

* ``agent-desk letter arrangement --arrangement ID --out FILE.pdf``
* ``agent-desk letter fourteen-day --customer NUMBER --out FILE.pdf``
* ``agent-desk letters --kind arrangement --since DATE --out DIR`` (a batch, both cores)
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
from agent_desk.cli._common import EXIT_FAILED, EXIT_OK, add_command, iso_date
from agent_desk.cli._db import open_database
from agent_desk.errors import AgentDeskError, UsageError
from agent_desk.letters import AnyLetter, BatchItem
from agent_desk.models import Arrangement, Customer
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.letters import (
    LetterRecord,
    arrangement_letter_data,
    arrangements_since,
    fourteen_day_letter_data,
    generate_letter,
    record_letter,
)


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


def register(subparsers: Any) -> None:
    letter = add_command(subparsers, "letter", "write one letter as PDF and record it")
    kinds = letter.add_subparsers(dest="letter_kind", metavar="KIND", required=True)

    arrangement = add_command(kinds, "arrangement", "confirmation of an arrangement")
    arrangement.add_argument(
        "--arrangement", required=True, type=_positive_id, metavar="ID", help="arrangement id"
    )
    arrangement.add_argument("--out", required=True, metavar="FILE.pdf", help="PDF to write")
    _add_actor_option(arrangement)
    arrangement.set_defaults(func=run_arrangement)

    fourteen = add_command(
        kinds, "fourteen-day", "the 14-day letter (art. 6:96 lid 6 BW) for a customer"
    )
    fourteen.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    fourteen.add_argument("--out", required=True, metavar="FILE.pdf", help="PDF to write")
    _add_actor_option(fourteen)
    fourteen.set_defaults(func=run_fourteen_day)

    batch = add_command(
        subparsers, "letters", "write a batch of letters into a folder and record them"
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


def _report(record: LetterRecord) -> None:
    print(
        f"Wrote {record.kind} letter {record.reference} to {record.path} "
        f"({record.size:,} bytes, SHA-256 {record.sha256[:12]}…, recorded as letter "
        f"{record.letter_id})."
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
            )
    _report(record)
    return EXIT_OK


def run_fourteen_day(args: argparse.Namespace) -> int:
    out = _out_file(args.out)
    with open_database(args) as database:
        now = utcnow()
        with database.transaction() as session:
            actor = _actor(session, args)
            data = fourteen_day_letter_data(session, args.customer, now, actor.display_name)
            customer = session.scalar(
                select(Customer.id).where(Customer.customer_number == args.customer.strip())
            )
            assert customer is not None  # the builder found it
            record = generate_letter(session, actor, data, out, now, customer_id=customer)
    _report(record)
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
    with database.transaction() as session:
        actor = _actor(session, args)
        for arrangement in arrangements_since(session, since):
            label = f"arrangement {arrangement.id}"
            try:
                data = arrangement_letter_data(session, arrangement.id, now, actor.display_name)
            except AgentDeskError as error:
                failed.append((label, str(error)))
                continue
            item = BatchItem(data, filename=f"arrangement-{arrangement.id}.pdf")
            items.append(item)
            owners[item.name] = (arrangement.customer_id, arrangement.id, data)

    if not items and not failed:
        print(f"No arrangements were made on or after {args.since.isoformat()}; nothing written.")
        return EXIT_OK

    try:
        summary = letters.render_batch(items, out_dir, workers=args.workers, progress=_Progress())
    except OSError as error:
        raise AgentDeskError(
            f"Could not write into '{out_dir}': {error.strerror or error}."
        ) from None
    failed.extend((f.name, f.reason) for f in summary.failed)

    with database.transaction() as session:
        actor = _actor(session, args)
        for written in summary.written:
            customer_id, arrangement_id, letter = owners[written.path.name]
            record_letter(
                session,
                actor,
                letter,
                written,
                now,
                customer_id=customer_id,
                arrangement_id=arrangement_id,
            )

    print(
        f"Wrote {len(summary.written)} letter(s) to {out_dir} in {summary.seconds:.1f} s; "
        f"{len(failed)} failed."
    )
    for name, reason in failed:
        print(f"  failed: {name}: {reason}")
    return EXIT_OK if not failed else EXIT_FAILED
