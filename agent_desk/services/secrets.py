"""Database passwords live in the OS keyring, keyed by server and user. Nowhere else.

When no keyring backend exists (a headless Linux without a secret service), lookups
return ``None`` and storing raises a plain error: the desk then asks each session.
"""

from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)

SERVICE_PREFIX = "agent-desk"


def service_name(host: str, port: int | None, database: str) -> str:
    return f"{SERVICE_PREFIX}:{host}:{port or 5432}/{database}"


def keyring_available() -> bool:
    import keyring  # loads its backends: only when a team database needs a password
    from keyring.backends import fail

    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring) and backend.priority > 0


def get_password(host: str, port: int | None, database: str, user: str) -> str | None:
    import keyring.errors

    if not keyring_available():
        return None
    try:
        value: str | None = keyring.get_password(service_name(host, port, database), user)
        return value
    except keyring.errors.KeyringError as error:
        log.warning("The keyring could not be read: %s", type(error).__name__)
        return None


def set_password(host: str, port: int | None, database: str, user: str, password: str) -> None:
    import keyring

    from agent_desk.errors import AgentDeskError

    if not keyring_available():
        raise AgentDeskError(
            "No keyring is available on this computer, so the password cannot be "
            "remembered; you will be asked for it each session."
        )
    keyring.set_password(service_name(host, port, database), user, password)


def delete_password(host: str, port: int | None, database: str, user: str) -> None:
    import keyring.errors

    if not keyring_available():
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(service_name(host, port, database), user)


# --- other accounts (issue 14): the mail server and the SMS provider


def smtp_service(host: str, port: int) -> str:
    return f"{SERVICE_PREFIX}-smtp:{host}:{port}"


def sms_service(key_name: str) -> str:
    return f"{SERVICE_PREFIX}-sms:{key_name}"


def get_secret(service: str, user: str) -> str | None:
    """A secret of another account (mail server, SMS provider), or ``None``."""
    if not keyring_available():
        return None
    import keyring
    import keyring.errors

    try:
        value: str | None = keyring.get_password(service, user)
        return value
    except keyring.errors.KeyringError as error:
        log.warning("The keyring could not be read: %s", type(error).__name__)
        return None


def set_secret(service: str, user: str, secret: str) -> None:
    from agent_desk.errors import AgentDeskError

    if not keyring_available():
        raise AgentDeskError(
            "No keyring is available on this computer, so the password cannot be "
            "remembered; you will be asked for it each session."
        )
    import keyring

    keyring.set_password(service, user, secret)
