"""SMS through one gateway interface, with an adapter for MessageBird (Bird), a provider
that serves the Netherlands (Amsterdam; Dutch numbers, alphanumeric senders).

The adapter follows MessageBird's public SMS API reference
(https://developers.messagebird.com/api/sms-messaging/ — "Send outbound SMS",
"View an SMS", "Handle a status report") and its support note on status reports
(https://support.messagebird.com/hc/en-us/articles/360001869258):

* send: ``POST {base}/messages`` with ``Authorization: AccessKey <key>`` and a JSON
  body ``{"originator", "recipients": [msisdn], "body", "reference", "reportUrl",
  "datacoding"}``; ``201 Created`` answers the message object (``id``, ``recipients``
  ``{"items": [{"recipient", "status": "sent", "statusDatetime"}]}``);
* errors: a JSON ``{"errors": [{"code", "description", "parameter"}]}`` with 401
  (code 2, wrong access key), 402 (code 25, not enough balance), 422 (code 9, no
  correct recipients; code 10, a parameter is wrong), 5xx (try again);
* delivery: MessageBird calls the ``reportUrl`` with ``GET ?id=&reference=&recipient=
  &status=&statusDatetime=`` (``status``: scheduled, sent, buffered, delivered,
  expired, delivery_failed; with ``statusErrorCode`` on a failure), and ``GET
  {base}/messages/{id}`` shows the same per recipient (for a desk without a public
  web address, the sender polls).

Only the adapter knows MessageBird; the sender sees :class:`SmsGateway`.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from agent_desk.errors import ValidationError
from agent_desk.services import secrets

ENV_SMS_URL = "AGENT_DESK_SMS_URL"
ENV_SMS_KEY_NAME = "AGENT_DESK_SMS_KEY_NAME"
ENV_SMS_ORIGINATOR = "AGENT_DESK_SMS_ORIGINATOR"
ENV_SMS_REPORT_URL = "AGENT_DESK_SMS_REPORT_URL"
MESSAGEBIRD_URL = "https://rest.messagebird.com"
TIMEOUT_SECONDS = 30
# MessageBird's statusErrorCode values that mean the number itself does not work
# (unknown or inactive subscriber, absent for good): the contact point bounced.
MESSAGEBIRD_BOUNCE_CODES = frozenset({1, 5, 9, 11})


class SmsRejected(Exception):
    """The provider refused this message for good (e.g. an invalid number)."""

    def __init__(self, text: str, *, bounced: bool = False) -> None:
        super().__init__(text)
        self.bounced = bounced


class SmsTemporary(Exception):
    """Try again later (the provider was unreachable or answered 5xx / 429).

    ``safe``: the provider cannot have taken it (refused connection, an error reply);
    ``False`` when the answer was lost on the way (a timeout, a reset)."""

    def __init__(self, text: str, *, safe: bool = True) -> None:
        super().__init__(text)
        self.safe = safe


class SmsConfigError(Exception):
    """The account is wrong (key, balance): retrying will not help until it is fixed."""


@dataclass(frozen=True)
class SmsSent:
    provider_id: str
    status: str  # our status: "sent" or "delivered"


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    reference: str | None
    recipient: str | None
    status: str  # our MessageStatus value: sent | delivered | failed | bounced
    at: str | None


class SmsGateway(Protocol):
    def send(self, *, to: str, body: str, reference: str) -> SmsSent: ...

    def status(self, provider_id: str) -> DeliveryReport | None: ...


def _status_from_messagebird(status: str, error_code: Any) -> str:
    if status == "delivered":
        return "delivered"
    if status in ("delivery_failed", "expired"):
        try:
            code = int(error_code)
        except (TypeError, ValueError):
            code = -1
        return (
            "bounced"
            if status == "delivery_failed" and code in MESSAGEBIRD_BOUNCE_CODES
            else ("failed")
        )
    return "sent"  # scheduled, sent, buffered: on its way


def report_from_query(params: Mapping[str, str]) -> DeliveryReport:
    """A MessageBird status report (the query of its GET to our ``reportUrl``)."""
    provider_id = params.get("id", "").strip()
    status = params.get("status", "").strip()
    if not provider_id or not status:
        raise ValidationError("A status report needs an id and a status.", "id")
    return DeliveryReport(
        provider_id=provider_id,
        reference=params.get("reference") or None,
        recipient=params.get("recipient") or None,
        status=_status_from_messagebird(status, params.get("statusErrorCode")),
        at=params.get("statusDatetime") or None,
    )


def msisdn(e164: str) -> str:
    """``+31612345678`` → ``31612345678`` (MessageBird wants digits, no plus)."""
    digits = e164.strip().lstrip("+")
    if not digits.isdigit():
        raise ValidationError("'{number}' is not a phone number.", "to", number=e164)
    return digits


class MessageBirdGateway:
    def __init__(
        self,
        access_key: str,
        originator: str,
        *,
        base_url: str = MESSAGEBIRD_URL,
        report_url: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        ):
            raise ValidationError("The SMS provider's address must start with https://.", "sms_url")
        if not originator or len(originator) > 17:
            raise ValidationError(
                "The SMS sender name must be 1 to 11 letters or a phone number.", "originator"
            )
        self._key = access_key
        self.originator = originator
        self.base_url = base_url.rstrip("/")
        self.report_url = report_url

    def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"AccessKey {self._key}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise self._error(error) from None
        except urllib.error.URLError as error:
            # Not even connected (refused, unknown host): the provider has nothing.
            safe = isinstance(error.reason, (ConnectionRefusedError, socket.gaierror))
            raise SmsTemporary(
                f"cannot reach the SMS provider: {type(error.reason).__name__}", safe=safe
            ) from None
        except (OSError, ValueError) as error:
            raise SmsTemporary(
                f"the SMS provider's answer was lost: {type(error).__name__}", safe=False
            ) from None

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> Exception:
        try:
            body = json.loads(error.read() or b"{}")
            first = (body.get("errors") or [{}])[0]
        except (ValueError, AttributeError):
            first = {}
        code = first.get("code")
        text = f"HTTP {error.code}, code {code}: {first.get('description', '')}".strip()
        if error.code in (401, 402, 403) or code in (2, 25):
            return SmsConfigError(text)
        if error.code == 429 or error.code >= 500:
            return SmsTemporary(text)
        # 422 code 9: no correct recipients — the number does not work.
        return SmsRejected(text, bounced=code == 9)

    def send(self, *, to: str, body: str, reference: str) -> SmsSent:
        payload: dict[str, Any] = {
            "originator": self.originator,
            "recipients": [msisdn(to)],
            "body": body,
            "reference": reference[:128],
            "datacoding": "auto",
        }
        if self.report_url:
            payload["reportUrl"] = self.report_url
        answer = self._request("POST", "/messages", payload)
        provider_id = str(answer.get("id", ""))
        if not provider_id:
            raise SmsTemporary("the SMS provider answered without a message id")
        items = (answer.get("recipients") or {}).get("items") or [{}]
        status = _status_from_messagebird(str(items[0].get("status", "sent")), None)
        return SmsSent(provider_id, status if status == "delivered" else "sent")

    def status(self, provider_id: str) -> DeliveryReport | None:
        answer = self._request("GET", f"/messages/{provider_id}", None)
        items = (answer.get("recipients") or {}).get("items") or []
        if not items:
            return None
        item = items[0]
        return DeliveryReport(
            provider_id=provider_id,
            reference=answer.get("reference"),
            recipient=str(item.get("recipient", "")) or None,
            status=_status_from_messagebird(
                str(item.get("status", "")), item.get("statusErrorCode")
            ),
            at=item.get("statusDatetime"),
        )


@dataclass(frozen=True)
class SmsConfig:
    url: str
    key_name: str
    originator: str
    report_url: str | None = None


def config_from(settings: Mapping[str, str]) -> SmsConfig | None:
    """The SMS set-up: environment first, then the team settings (``messages.sms_*``)."""
    url = os.environ.get(ENV_SMS_URL, "").strip() or settings.get("messages.sms_url", "")
    key_name = os.environ.get(ENV_SMS_KEY_NAME, "").strip() or settings.get(
        "messages.sms_key_name", ""
    )
    originator = os.environ.get(ENV_SMS_ORIGINATOR, "").strip() or settings.get(
        "messages.sms_originator", ""
    )
    report = os.environ.get(ENV_SMS_REPORT_URL, "").strip() or settings.get(
        "messages.sms_report_url", ""
    )
    if not (url and key_name and originator):
        return None
    return SmsConfig(url, key_name, originator, report or None)


def gateway_from(config: SmsConfig) -> MessageBirdGateway:
    key = secrets.get_secret(secrets.sms_service(config.key_name), "api")
    if key is None:
        raise SmsConfigError(f"no SMS access key '{config.key_name}' in the keyring")
    return MessageBirdGateway(
        key, config.originator, base_url=config.url, report_url=config.report_url
    )
