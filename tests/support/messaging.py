"""Real servers for the message tests: an aiosmtpd SMTP server (plain, STARTTLS with
login, implicit TLS; certificates from trustme) and a local HTTP server that speaks
MessageBird's SMS API (send, view, errors), both started by the tests."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agent_desk.models import Arrangement, ContactPoint, Customer, Instalment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.email.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    def attachments(self) -> list[tuple[str, bytes]]:
        return [
            (str(part.get_filename()), bytes(part.get_content()))
            for part in self.email.iter_attachments()
        ]


@dataclass
class SmtpStore:
    received: list[Received] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)
    data_delay: float = 0.0
    rcpt_delay: float = 0.0
    rcpt_seen: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.rcpt_seen += 1
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    store: SmtpStore
    port: int
    url: str
    ca_file: str | None = None


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"desk" and data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(mode: str = "plain", tmp: Path | None = None) -> Iterator[SmtpServer]:
    """``plain`` (loopback, no TLS), ``starttls`` (login required) or ``smtps``."""
    store = SmtpStore()
    port = free_port()
    kwargs: dict[str, Any] = {}
    ca_file = None
    if mode in ("starttls", "smtps"):
        assert tmp is not None
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        ca_file = str(tmp / f"ca-{uuid.uuid4().hex[:6]}.pem")
        ca.cert_pem.write_to_path(ca_file)
        if mode == "starttls":
            kwargs = {
                "tls_context": context,
                "require_starttls": True,
                "auth_required": True,
                "authenticator": _auth,
            }
        else:
            kwargs = {"ssl_context": context, "server_hostname": "127.0.0.1"}
    controller = Controller(store, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        if mode == "starttls":
            url = f"smtp://desk@127.0.0.1:{port}"
        elif mode == "smtps":
            url = f"smtps://127.0.0.1:{port}"
        else:
            url = f"smtp://127.0.0.1:{port}"
        yield SmtpServer(store, port, url, ca_file)
    finally:
        controller.stop()


# ---------------------------------------------------------------- MessageBird, locally


@dataclass
class FakeBird:
    """State of the local MessageBird: messages sent, and statuses to report."""

    key: str = "test-access-key"
    sent: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    invalid_numbers: set[str] = field(default_factory=set)
    fail_next: int = 0  # answer 503 this many times
    delay: float = 0.0  # take the message, then answer this late
    delay_from: int = 1  # ... from the n-th message on (the ones before answer at once)
    balance: bool = True


def _bird_handler(bird: FakeBird) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"AccessKey {bird.key}":
                self._json(
                    401,
                    {
                        "errors": [
                            {
                                "code": 2,
                                "description": "Request not allowed (incorrect access_key)",
                                "parameter": "access_key",
                            }
                        ]
                    },
                )
                return False
            return True

        def do_POST(self) -> None:
            if self.path != "/messages":
                self._json(404, {"errors": [{"code": 20, "description": "not found"}]})
                return
            if not self._authorised():
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            if bird.fail_next:
                bird.fail_next -= 1
                self._json(503, {"errors": [{"code": 99, "description": "internal error"}]})
                return
            if not bird.balance:
                self._json(402, {"errors": [{"code": 25, "description": "Not enough balance"}]})
                return
            recipients = [str(r) for r in body.get("recipients", [])]
            if not recipients or any(r in bird.invalid_numbers for r in recipients):
                self._json(
                    422,
                    {
                        "errors": [
                            {
                                "code": 9,
                                "description": "no (correct) recipients found",
                                "parameter": "recipients",
                            }
                        ]
                    },
                )
                return
            message_id = uuid.uuid4().hex
            now = datetime.now(UTC).isoformat(timespec="seconds")
            bird.sent.append(body | {"id": message_id})
            if bird.delay and len(bird.sent) >= bird.delay_from:
                time.sleep(bird.delay)
            bird.statuses[message_id] = ("sent", None)
            self._json(
                201,
                {
                    "id": message_id,
                    "href": f"http://127.0.0.1/messages/{message_id}",
                    "direction": "mt",
                    "type": "sms",
                    "originator": body.get("originator"),
                    "body": body.get("body"),
                    "reference": body.get("reference"),
                    "datacoding": "plain",
                    "createdDatetime": now,
                    "recipients": {
                        "totalCount": len(recipients),
                        "totalSentCount": len(recipients),
                        "totalDeliveredCount": 0,
                        "totalDeliveryFailedCount": 0,
                        "items": [
                            {"recipient": int(r), "status": "sent", "statusDatetime": now}
                            for r in recipients
                        ],
                    },
                },
            )

        def do_GET(self) -> None:
            if not self.path.startswith("/messages/"):
                self._json(404, {"errors": [{"code": 20, "description": "not found"}]})
                return
            if not self._authorised():
                return
            message_id = self.path.rsplit("/", 1)[-1]
            found = next((m for m in bird.sent if m["id"] == message_id), None)
            if found is None:
                self._json(404, {"errors": [{"code": 20, "description": "message not found"}]})
                return
            status, code = bird.statuses[message_id]
            item: dict[str, Any] = {
                "recipient": int(found["recipients"][0]),
                "status": status,
                "statusDatetime": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            if code is not None:
                item["statusErrorCode"] = code
            self._json(
                200,
                {
                    "id": message_id,
                    "reference": found.get("reference"),
                    "recipients": {"totalCount": 1, "items": [item]},
                },
            )

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that gave up (the timeout test) is not an error of the server


@contextmanager
def messagebird_server() -> Iterator[tuple[FakeBird, str]]:
    bird = FakeBird()
    server = _QuietServer(("127.0.0.1", 0), _bird_handler(bird))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bird, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------- customers


def add_customer(
    session: Any,
    number: str,
    *,
    language: str = "nl",
    email: str | None = "klant@example.org",
    mobile: str | None = "+31612345678",
    salutation: str | None = "ms",
    verified: bool = True,
    preferred_channel: str | None = None,
    agent_id: int | None = None,
) -> Customer:
    now = datetime.now(UTC)
    customer = Customer(
        customer_number=number,
        first_name="Fatma",
        last_name="Çelik" if language == "nl" else "Smith",
        salutation=salutation,
        language=language,
        status="open",
        arrears_cents=31240,
        preferred_channel=preferred_channel,
        assigned_agent_id=agent_id,
    )
    session.add(customer)
    session.flush()
    points = [
        ContactPoint(
            customer_id=customer.id,
            kind="address",
            value="Dorpsstraat 4, 1234 AB Ede",
            street="Dorpsstraat",
            house_number="4",
            postcode="1234AB",
            city="Ede",
        )
    ]
    if email:
        points.append(
            ContactPoint(
                customer_id=customer.id,
                kind="email",
                value=email,
                verified_at=now - timedelta(days=3) if verified else None,
                preferred=True,
            )
        )
    if mobile:
        points.append(
            ContactPoint(
                customer_id=customer.id,
                kind="mobile",
                value=mobile,
                verified_at=now - timedelta(days=3) if verified else None,
            )
        )
    session.add_all(points)
    session.flush()
    return customer


def add_arrangement(
    session: Any,
    customer: Customer,
    first_due: date,
    *,
    count: int = 3,
    amount: int = 5000,
    status: str = "active",
) -> Arrangement:
    arrangement = Arrangement(
        customer_id=customer.id,
        principal_cents=amount * count,
        total_cents=amount * count,
        status=status,
    )
    session.add(arrangement)
    session.flush()
    for number in range(1, count + 1):
        session.add(
            Instalment(
                arrangement_id=arrangement.id,
                number=number,
                due_date=first_due + timedelta(days=30 * (number - 1)),
                amount_cents=amount,
            )
        )
    session.flush()
    session.refresh(arrangement)
    return arrangement
