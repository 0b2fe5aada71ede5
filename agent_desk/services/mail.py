"""E-mail over SMTP: the transport the sender uses, configured by URL, password from the keyring.

``AGENT_DESK_SMTP_URL`` (or the team setting ``messages.smtp_url``):

* ``smtp://[user@]host:port`` — STARTTLS whenever the server offers it; without it,
  plain text is allowed only to a loopback address (a local relay), never across a
  network;
* ``smtps://[user@]host:port`` — implicit TLS (port 465).

A password in the URL is refused: it lives in the keyring (``agent-desk messages
set-password smtp``), under the server and the user. Certificates are checked against
the system's CAs, or ``AGENT_DESK_SMTP_CA_FILE`` for a private CA.

The send is split where a crash matters (``services.sending``): everything up to the
recipients being accepted can be repeated safely; ``before_data`` is called just
before the message itself is handed over, so the caller can journal that moment.
"""

from __future__ import annotations

import email.policy
import ipaddress
import os
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from agent_desk.errors import ValidationError
from agent_desk.services import secrets

ENV_SMTP_URL = "AGENT_DESK_SMTP_URL"
ENV_MAIL_FROM = "AGENT_DESK_MAIL_FROM"
ENV_SMTP_CA_FILE = "AGENT_DESK_SMTP_CA_FILE"
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    user: str | None
    mail_from: str
    ca_file: str | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def display(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        who = f"{self.user}@" if self.user else ""
        return f"{scheme}://{who}{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str, mail_from: str, ca_file: str | None = None) -> SmtpConfig:
    """Check and read an SMTP URL; refuses a password in it and unknown schemes."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValidationError(
            "The mail server must be given as smtp://host:port or smtps://host:port.",
            "smtp_url",
        )
    if parts.password is not None:
        raise ValidationError(
            "Do not put the mail password in the URL; store it in the keyring with "
            "'agent-desk messages set-password smtp'.",
            "smtp_url",
        )
    if not parts.hostname:
        raise ValidationError("The mail server URL names no host.", "smtp_url")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ValidationError("The mail server URL has an invalid port.", "smtp_url") from None
    if parts.path not in ("", "/") or parts.query:
        raise ValidationError("The mail server URL must be only scheme, host and port.", "smtp_url")
    mail_from = mail_from.strip()
    if "@" not in mail_from or "\n" in mail_from or "\r" in mail_from:
        raise ValidationError(
            "Give the sender's e-mail address (AGENT_DESK_MAIL_FROM), e.g. "
            "klantenservice@example.nl.",
            "mail_from",
        )
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        user=unquote(parts.username) if parts.username else None,
        mail_from=mail_from,
        ca_file=ca_file,
    )


class MailRefused(Exception):
    """The server refused the recipient for good (a 5xx at RCPT): the address bounced."""


class MailPermanent(Exception):
    """The server refused the message itself for good (a 5xx after the recipients)."""


class MailTemporary(Exception):
    """Try again later: the server was unreachable or answered 4xx.

    ``safe``: the server said it does not have the message (a 4xx reply, or no
    connection); ``False`` when the connection broke while it might have taken it."""

    def __init__(self, text: str, *, safe: bool = True) -> None:
        super().__init__(text)
        self.safe = safe


class MailConfigError(Exception):
    """Retrying will not help until someone fixes the set-up (TLS, password)."""


def build_email(
    *,
    mail_from: str,
    to: str,
    subject: str,
    body: str,
    message_id_key: str,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """The e-mail; its Message-ID comes from the outbox key, so a replay is recognisable."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = mail_from.rsplit("@", 1)[-1]
    safe = message_id_local(message_id_key)
    message["Message-ID"] = f"<{safe}@{domain}>" if safe else make_msgid(domain=domain)
    message.set_content(body)
    if attachment is not None:
        name, data = attachment
        message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return message


def message_id_local(key: str) -> str:
    """The part of a message's Message-ID before the ``@``, from its outbox key."""
    return "".join(ch if ch.isalnum() or ch in "-." else "." for ch in key)


# ----------------------------------------------------------- bounces that come later


ENV_BOUNCE_MAILDIR = "AGENT_DESK_BOUNCE_MAILDIR"


@dataclass(frozen=True)
class Bounce:
    """One failed recipient of a delivery status notification (RFC 3464)."""

    recipient: str
    status: str  # e.g. "5.1.1"
    diagnostic: str
    original_message_id: str | None  # the local part, as message_id_local() makes it


def parse_dsn(raw: bytes) -> list[Bounce]:
    """The recipients a DSN reports as failed (``Action: failed``); [] for anything else
    (an out-of-office reply, a "delayed" notice, a delivery receipt, spam)."""
    import email
    from email.message import Message as MimeMessage

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    report_type = str(parsed.get_param("report-type") or "").lower()
    if parsed.get_content_type() != "multipart/report" or report_type != "delivery-status":
        return []
    status_part: MimeMessage | None = None
    original: str | None = None
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            status_part = part
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_message_id(part)
    if status_part is None:
        return []
    bounces = []
    for fields in _status_groups(status_part):
        action = fields.get("action", "").strip().lower()
        status = fields.get("status", "").strip()
        if action != "failed" or not status.startswith("5"):
            continue  # delayed, delivered, relayed, expanded, or a temporary failure
        recipient = _address(fields.get("final-recipient") or fields.get("original-recipient"))
        if recipient:
            bounces.append(
                Bounce(recipient, status, fields.get("diagnostic-code", "").strip(), original)
            )
    return bounces


def _status_groups(part: object) -> list[dict[str, str]]:
    """The per-message and per-recipient field groups of a message/delivery-status part."""
    import email
    from email.message import Message as MimeMessage

    groups: list[dict[str, str]] = []
    assert isinstance(part, MimeMessage)
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parsed the groups as messages
        for block in payload:
            if isinstance(block, MimeMessage):
                groups.append({k.lower(): str(v) for k, v in block.items()})
        return groups
    text = payload if isinstance(payload, str) else ""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if block.strip():
            parsed = email.message_from_string(block + "\n")
            groups.append({k.lower(): str(v) for k, v in parsed.items()})
    return groups


def _address(field: str | None) -> str:
    """``rfc822; klant@example.org`` → ``klant@example.org``."""
    if not field:
        return ""
    kind, _, value = field.partition(";")
    value = value if value else kind
    return value.strip().strip("<>").strip()


def _original_message_id(part: object) -> str | None:
    import email
    from email.message import Message as MimeMessage

    assert isinstance(part, MimeMessage)
    payload = part.get_payload()
    headers: MimeMessage | None = None
    if isinstance(payload, list) and payload and isinstance(payload[0], MimeMessage):
        headers = payload[0]
    elif isinstance(payload, str):
        headers = email.message_from_string(payload)
    if headers is None or not headers.get("Message-ID"):
        return None
    value = str(headers["Message-ID"]).strip().strip("<>")
    return value.split("@", 1)[0] or None


def read_maildir(path: str) -> list[tuple[str, bytes]]:
    """The messages not read yet in a maildir (its ``new/`` folder): (key, bytes)."""
    import mailbox

    if not os.path.isdir(os.path.join(path, "new")):
        raise ValidationError(
            "'{path}' is not a maildir folder (it has no 'new' folder).",
            "bounce_maildir",
            path=path,
        )
    box = mailbox.Maildir(path, create=False)
    out = []
    for key in list(box.iterkeys()):
        message = box.get_message(key)
        if message.get_subdir() == "new":
            out.append((key, box.get_bytes(key)))
    return out


def mark_read(path: str, key: str) -> None:
    """Move a maildir message to ``cur/``, flagged Seen: the next run does not read it."""
    import mailbox

    box = mailbox.Maildir(path, create=False)
    message = box.get_message(key)
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message


def _context(config: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpTransport:
    """One connection per batch; ``send`` reports a refused address as :class:`MailRefused`."""

    def __init__(self, config: SmtpConfig, password: str | None = None) -> None:
        self.config = config
        self._password = password
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: SmtpConfig) -> SmtpTransport:
        password = None
        if config.user:
            password = secrets.get_secret(
                secrets.smtp_service(config.host, config.port), config.user
            )
            if password is None:
                raise MailConfigError(
                    f"no password for {config.user} at {config.host}:{config.port} in the keyring"
                )
        return cls(config, password)

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            smtp: smtplib.SMTP
            if c.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=TIMEOUT_SECONDS, context=_context(c)
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=TIMEOUT_SECONDS)
            smtp.ehlo()
            if not c.implicit_tls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=_context(c))
                    smtp.ehlo()
                elif not c.loopback:
                    smtp.close()
                    raise MailConfigError(
                        f"{c.host} does not offer STARTTLS; plain text is only allowed to "
                        "this computer (use smtps:// or a server with STARTTLS)"
                    )
            if c.user:
                smtp.login(c.user, self._password or "")
        except ssl.SSLError as error:
            raise MailConfigError(f"TLS failed: {error.reason or error}") from None
        except smtplib.SMTPAuthenticationError:
            raise MailConfigError("the mail server refused the user name or password") from None
        except smtplib.SMTPNotSupportedError:
            raise MailConfigError("the mail server does not allow logging in here") from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailTemporary(f"cannot reach {c.host}:{c.port}: {type(error).__name__}") from None
        return smtp

    def send(
        self, message: EmailMessage, to: Sequence[str], before_data: Callable[[], None]
    ) -> None:
        """Send ``message``; ``before_data`` runs once the recipients are accepted."""
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        try:
            code, reply = smtp.mail(self.config.mail_from)
            if code != 250:
                smtp.rset()
                raise self._failure(code, reply, "MAIL")
            for address in to:
                code, reply = smtp.rcpt(address)
                if code not in (250, 251):
                    smtp.rset()
                    if 500 <= code < 600:
                        raise MailRefused(f"{code} {reply.decode(errors='replace')}")
                    raise MailTemporary(f"{code} {reply.decode(errors='replace')}")
            before_data()
            # CRLF line ends: smtplib sends bytes as they are.
            code, reply = smtp.data(message.as_bytes(policy=email.policy.SMTP))
            if code != 250:
                raise self._failure(code, reply, "DATA")
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            raise MailTemporary(f"connection lost: {type(error).__name__}", safe=False) from None

    @staticmethod
    def _failure(code: int, reply: bytes, step: str) -> Exception:
        text = f"{step} {code} {reply.decode(errors='replace')}"
        return MailPermanent(text) if 500 <= code < 600 else MailTemporary(text)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def config_from(smtp_url: str | None, mail_from: str | None) -> SmtpConfig | None:
    """The SMTP set-up from explicit values (settings), overridden by the environment."""
    url = os.environ.get(ENV_SMTP_URL, "").strip() or (smtp_url or "").strip()
    sender = os.environ.get(ENV_MAIL_FROM, "").strip() or (mail_from or "").strip()
    if not url:
        return None
    return parse_smtp_url(url, sender, os.environ.get(ENV_SMTP_CA_FILE) or None)
