"""``agent-desk messages``: e-mail and SMS to customers (see services.sending).

* ``send-due --today DATE [--dry-run] --json``: the nightly run's sending part;
* ``send --customer N --kind KIND [--channel email|sms] [--text ...] --json``;
* ``list --customer N --json``;
* ``check``: the message texts against their rules;
* ``poll-status``: delivery reports of SMS from the provider;
* ``report --id ID --status S``: a status report the provider called us with;
* ``set-password smtp|sms``: the mail password or SMS access key, into the keyring;
* ``campaign --trigger T [--trigger-from D --trigger-to D] --kind announcement
  [--send]``: a supervisor's proactive message to a selection, with a count first.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from agent_desk.cli._common import EXIT_FAILED, EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain import team_day
from agent_desk.domain.messaging import MessageChannel, MessageKind, load_templates
from agent_desk.errors import NotFoundError, UsageError
from agent_desk.models import Customer
from agent_desk.services import bounces as bounce_reports
from agent_desk.services import campaigns, due_messages, mail, secrets, sending, sms
from agent_desk.services import messages as msgs
from agent_desk.services.actor import SYSTEM, actor_for_login

KINDS = [k.value for k in MessageKind]


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=team_day.team_zone())  # a time as the team says it
    return value.astimezone(UTC)


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "messages", "e-mail and SMS to customers", database=False)
    sub = parser.add_subparsers(dest="messages_command", metavar="ACTION", required=True)

    due = add_command(sub, "send-due", "queue and send the reminders the day owes")
    due.add_argument("--today", type=iso_date, metavar="DATE", help="the day (default today)")
    due.add_argument(
        "--now",
        type=_moment,
        metavar="DATETIME",
        help="the moment to judge the sending window by (default: now, or --today at the "
        "current time); for replays and tests",
    )
    due.add_argument("--dry-run", action="store_true", help="count, send and write nothing")
    due.add_argument("--json", action="store_true", help="print JSON for scripts")
    due.set_defaults(func=run_send_due)

    bounces = add_command(
        sub,
        "read-bounces",
        "read the bounce reports (RFC 3464) that came back to the bounce mailbox: each "
        "bounced e-mail is marked in the timeline and its address flagged",
    )
    bounces.add_argument(
        "--maildir",
        metavar="PATH",
        help="the maildir folder (default: AGENT_DESK_BOUNCE_MAILDIR or the team setting "
        "messages.bounce_maildir)",
    )
    bounces.add_argument("--now", type=_moment, metavar="DATETIME", help=argparse.SUPPRESS)
    bounces.add_argument("--json", action="store_true", help="print JSON for scripts")
    bounces.set_defaults(func=run_read_bounces)

    send = add_command(sub, "send", "send one message to a customer")
    send.add_argument("--customer", required=True, metavar="N", help="customer number")
    send.add_argument("--kind", required=True, choices=KINDS)
    send.add_argument("--channel", choices=["email", "sms"])
    send.add_argument("--text", help="the text of a free-text message")
    send.add_argument("--when", help="announcement: when we will call, in words")
    send.add_argument("--to", metavar="ADDRESS", help="one of the customer's addresses")
    send.add_argument("--key", help="idempotency key (default: a new one)")
    send.add_argument("--as", dest="as_login", metavar="LOGIN", help="the agent sending it")
    send.add_argument("--now", type=_moment, metavar="DATETIME", help=argparse.SUPPRESS)
    send.add_argument("--json", action="store_true", help="print JSON for scripts")
    send.set_defaults(func=run_send)

    listing = add_command(sub, "list", "the messages of one customer, newest first")
    listing.add_argument("--customer", required=True, metavar="N", help="customer number")
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    listing.set_defaults(func=run_list)

    check = add_command(sub, "check", "check the message texts", database=False)
    check.set_defaults(func=run_check)

    poll = add_command(sub, "poll-status", "fetch SMS delivery reports from the provider")
    poll.add_argument("--json", action="store_true")
    poll.set_defaults(func=run_poll)

    report = add_command(sub, "report", "apply a provider's status report (id, status)")
    report.add_argument("--id", required=True)
    report.add_argument("--status", required=True)
    report.add_argument("--status-error-code", default=None)
    report.set_defaults(func=run_report)

    password = add_command(
        sub, "set-password", "store the mail password or SMS key in the keyring", database=False
    )
    password.add_argument("account", choices=["smtp", "sms"])
    password.set_defaults(func=run_set_password)

    campaign = add_command(sub, "campaign", "a supervisor's message to a selection")
    campaign.add_argument("--name", required=True, help="name of the campaign (its key)")
    campaign.add_argument("--trigger", required=True, help="known trigger, e.g. discount_ending")
    campaign.add_argument("--trigger-from", type=iso_date, metavar="DATE")
    campaign.add_argument("--trigger-to", type=iso_date, metavar="DATE")
    campaign.add_argument("--kind", default="announcement", choices=["announcement", "free-text"])
    campaign.add_argument("--text")
    campaign.add_argument("--when")
    campaign.add_argument("--send", action="store_true", help="queue them (default: preview)")
    campaign.add_argument("--as", dest="as_login", metavar="LOGIN", required=True)
    campaign.add_argument("--json", action="store_true")
    campaign.set_defaults(func=run_campaign)


def _now(args: argparse.Namespace) -> datetime:
    if getattr(args, "now", None):
        return args.now  # type: ignore[no-any-return]
    today = getattr(args, "today", None)
    current = datetime.now(UTC)
    zone = team_day.team_zone()  # the sending policy's zone, as the books' days
    if today is None or today == team_day.local_day(current, zone):
        return current
    local_clock = current.astimezone(zone).time()
    return datetime.combine(today, local_clock, tzinfo=zone).astimezone(UTC)


def _customer(session: Any, number: str) -> Customer:
    customer: Customer | None = session.scalar(
        select(Customer).where(Customer.customer_number == number.strip())
    )
    if customer is None:
        raise NotFoundError("There is no customer with number '{number}'.", number=number)
    return customer


def run_send_due(args: argparse.Namespace) -> int:
    now = _now(args)
    today: date = args.today or team_day.local_day(now)
    with open_database(args) as database:
        result = due_messages.send_due(database, today, now, dry_run=args.dry_run)
    if args.json:
        print_json(result.as_json())
    else:
        print(result.summary())
    return EXIT_OK


def run_read_bounces(args: argparse.Namespace) -> int:
    now = _now(args)
    with open_database(args) as database:
        result = bounce_reports.read_bounces(database, now, args.maildir)
    if args.json:
        print_json(result.as_json())
    else:
        print(result.summary())
    return EXIT_FAILED if result.errors else EXIT_OK


def run_send(args: argparse.Namespace) -> int:
    kind = MessageKind(args.kind)
    if kind is MessageKind.FREE_TEXT and not args.text:
        raise UsageError("a free-text message needs --text")
    now = _now(args)
    with open_database(args) as database:
        with database.transaction() as s:
            actor = actor_for_login(s, args.as_login) if args.as_login else SYSTEM
            customer = _customer(s, args.customer)
            allowed = [MessageChannel(args.channel)] if args.channel else None
            if allowed is None:
                allowed = (
                    [MessageChannel.EMAIL]
                    if kind is MessageKind.ARRANGEMENT_CONFIRMATION
                    else [MessageChannel.EMAIL, MessageChannel.SMS]
                )
            channel = msgs.choose_channel(s, customer, allowed)
            assert channel is not None
            point_id = None
            if args.to:
                found = [p for p in msgs.recipients(s, customer.id, channel) if p.value == args.to]
                if not found:
                    raise UsageError(f"{args.to} is not one of this customer's addresses")
                point_id = found[0].id
            subject = msgs.subject_for(s, customer, kind)
            draft = msgs.compose(
                s,
                customer,
                kind,
                channel,
                subject=subject,
                agent_name=actor.display_name if actor is not SYSTEM else "",
                text=args.text,
                when=args.when,
                contact_point_id=point_id,
            )
            if kind is MessageKind.ARRANGEMENT_CONFIRMATION:
                draft = msgs.attach_confirmation(
                    s, actor, draft, int(subject.values["arrangement_id"]), now
                )
            queued = msgs.queue(s, actor, draft, now, key=args.key)
            settings = msgs.team_settings(s)
        result = sending.dispatch(
            database,
            sending.ConfiguredTransports(settings),
            now,
            only_ids=[queued.message_id],
        )
        with database.transaction() as s:
            row = next(r for r in msgs.list_messages(s, customer.id) if r.id == queued.message_id)
    document = row.as_json() | {
        "customer": args.customer,
        "replayed": not queued.created,
        "errors": result.errors,
    }
    if args.json:
        print_json(document)
    else:
        reason = f" ({row.held_reason})" if row.held_reason else ""
        print(f"{row.kind} by {row.channel} to {row.to}: {row.status}{reason}")
    return EXIT_OK if row.status not in ("failed", "bounced") else EXIT_FAILED


def run_list(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as s:
        customer = _customer(s, args.customer)
        rows = msgs.list_messages(s, customer.id)
    if args.json:
        print_json([r.as_json() for r in rows])
    else:
        for r in rows:
            when = (r.sent_at or r.created_at).isoformat(timespec="minutes")
            print(f"{when}  {r.kind:26} {r.channel:5} {r.to:30} {r.status}")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    problems = load_templates().problems()
    for problem in problems:
        print(f"{problem.where}: {problem.message}")
    if problems:
        return EXIT_FAILED
    print("All message texts are fine.")
    return EXIT_OK


def run_poll(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    with open_database(args) as database:
        with database.transaction() as s:
            config = sms.config_from(msgs.team_settings(s))
        if config is None:
            raise UsageError("no SMS provider is set up (AGENT_DESK_SMS_URL)")
        try:
            gateway = sms.gateway_from(config)
        except sms.SmsConfigError as error:
            raise UsageError(str(error)) from None
        changed = sending.poll_sms_status(database, gateway, now)
    if args.json:
        print_json({"changed": changed})
    else:
        print(f"{changed} SMS changed status.")
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    params = {"id": args.id, "status": args.status}
    if args.status_error_code:
        params["statusErrorCode"] = args.status_error_code
    report = sms.report_from_query(params)
    with open_database(args) as database, database.transaction() as s:
        found = msgs.apply_delivery_report(s, report.provider_id, report.status, datetime.now(UTC))
    print("applied" if found else "no message with that id")
    return EXIT_OK if found else EXIT_FAILED


def run_set_password(args: argparse.Namespace) -> int:
    if args.account == "smtp":
        config = mail.config_from(None, "check@example.org")
        if config is None or not config.user:
            raise UsageError("set AGENT_DESK_SMTP_URL=smtp://user@host:port first")
        service, user = secrets.smtp_service(config.host, config.port), config.user
    else:
        config_sms = sms.config_from({})
        if config_sms is None:
            raise UsageError(
                "set AGENT_DESK_SMS_URL, AGENT_DESK_SMS_KEY_NAME and AGENT_DESK_SMS_ORIGINATOR"
            )
        service, user = secrets.sms_service(config_sms.key_name), "api"
    secret = getpass.getpass("Password or key: ") if sys.stdin.isatty() else sys.stdin.readline()
    secret = secret.strip()
    if not secret:
        raise UsageError("nothing was given")
    secrets.set_secret(service, user, secret)
    print("Stored in the keyring.")
    return EXIT_OK


def run_campaign(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    with open_database(args) as database, database.transaction() as s:
        actor = actor_for_login(s, args.as_login)
        selection = campaigns.Selection(args.trigger, args.trigger_from, args.trigger_to)
        result = campaigns.run_campaign(
            s,
            actor,
            args.name,
            selection,
            MessageKind(args.kind),
            now,
            text=args.text,
            when=args.when,
            send=args.send,
        )
    if args.json:
        print_json(result.as_json())
    else:
        print(result.summary())
    return EXIT_OK
