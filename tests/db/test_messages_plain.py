"""``smtp://`` without STARTTLS is refused to any host but this computer's loopback,
before the user name, the password or a message goes over the wire.

The server is a real aiosmtpd server that offers no STARTTLS but would take a plain
login (``auth_require_tls=False``), bound to a non-loopback address of this machine
(``hostname -I``); it records every command it is sent. The same server on 127.0.0.1
takes the plain login and the message: the recorder sees what it is meant to see.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.models import Message
from agent_desk.services import mail, secrets
from agent_desk.services.database import Database
from tests.support.messaging import add_arrangement, add_customer, free_port


def _non_loopback_address() -> str:
    """An IPv4 address of this machine that is not loopback (``hostname -I``)."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True).stdout
    for word in out.split():
        try:
            address = ipaddress.ip_address(word)
        except ValueError:
            continue
        if address.version == 4 and not address.is_loopback:
            return word
    raise AssertionError(f"this machine has no non-loopback IPv4 address ({out.strip()!r})")


@dataclass
class Recorder:
    """Every step the client took: EHLO, AUTH (with what it sent), MAIL, RCPT, DATA."""

    seen: list[str] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.seen.append("EHLO")
        session.host_name = hostname  # aiosmtpd leaves this to a handler's EHLO hook
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.seen.append("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.seen.append("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen.append("DATA")
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.seen.append("AUTH")
        if isinstance(data, LoginPassword):
            self.logins.append((data.login, data.password))
        return AuthResult(success=True)


@contextmanager
def plain_server(host: str) -> Iterator[tuple[Recorder, int]]:
    """No STARTTLS on offer (no TLS context), plain AUTH allowed: a careless server."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(
        recorder,
        hostname=host,
        port=port,
        auth_require_tls=False,
        authenticator=recorder.authenticate,
    )
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _email() -> Any:
    return mail.build_email(
        mail_from="desk@delinde.example",
        to="klant@example.org",
        subject="Herinnering",
        body="Tekst",
        message_id_key="desk:plain-1",
    )


def test_plain_smtp_to_a_non_loopback_host_is_refused_before_login_or_message() -> None:
    host = _non_loopback_address()
    with plain_server(host) as (recorder, port):
        secrets.set_secret(secrets.smtp_service(host, port), "desk", "s3cret")
        config = mail.parse_smtp_url(f"smtp://desk@{host}:{port}", "desk@delinde.example")
        assert not config.loopback
        transport = mail.SmtpTransport.from_config(config)
        handed: list[bool] = []
        with pytest.raises(mail.MailConfigError, match="does not offer STARTTLS"):
            transport.send(_email(), ["klant@example.org"], lambda: handed.append(True))
        transport.close()
    assert recorder.seen == ["EHLO"]  # it connected and asked, then went no further
    assert recorder.logins == [] and handed == []


def test_the_same_careless_server_on_loopback_gets_the_login_and_the_message() -> None:
    with plain_server("127.0.0.1") as (recorder, port):
        secrets.set_secret(secrets.smtp_service("127.0.0.1", port), "desk", "s3cret")
        config = mail.parse_smtp_url(f"smtp://desk@127.0.0.1:{port}", "desk@delinde.example")
        transport = mail.SmtpTransport.from_config(config)
        transport.send(_email(), ["klant@example.org"], lambda: None)
        transport.close()
    assert recorder.seen[:2] == ["EHLO", "AUTH"] and recorder.seen[-3:] == ["MAIL", "RCPT", "DATA"]
    assert recorder.logins == [(b"desk", b"s3cret")]


def test_the_nightly_run_holds_its_messages_and_names_the_refusal(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host = _non_loopback_address()
    today = date(2026, 12, 8)
    with database.transaction() as s:
        for n in ("1", "2"):
            add_arrangement(s, add_customer(s, n, email=f"k{n}@example.org"), date(2026, 12, 10))
    with plain_server(host) as (recorder, port):
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", f"smtp://desk@{host}:{port}")
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        monkeypatch.delenv("AGENT_DESK_SMS_URL", raising=False)
        secrets.set_secret(secrets.smtp_service(host, port), "desk", "s3cret")
        url = database.url.render_as_string(hide_password=False)
        args = ["nightly", "--database", url, "--today", today.isoformat()]
        assert main([*args, "--now", "2026-12-08T10:00", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)["messages"]
    assert document["sent_total"] == 0
    assert document["held_back"] == {"not_configured": 2}
    assert any("does not offer STARTTLS" in e for e in document["errors"])
    assert "AUTH" not in recorder.seen and "MAIL" not in recorder.seen
    assert recorder.logins == []
    with database.transaction() as s:
        rows = s.scalars(select(Message)).all()
        assert [(m.status, m.held_reason) for m in rows] == [("queued", "not_configured")] * 2
