"""The desk's remembered settings, declared in one place (Picard's options pattern).

Stored in an ini file under ``config.config_dir()`` (which honours
``AGENT_DESK_DATA_DIR``) so tests and portable installs never touch the real user's
registry or ``~/.config``. Never a password here: secrets live in the keyring.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from agent_desk.config import config_dir
from agent_desk.i18n import LANGUAGES
from agent_desk.private_files import private_dir, private_file

if TYPE_CHECKING:
    from agent_desk.domain.actor import Actor


class DeskSettings:
    def __init__(self) -> None:
        path = private_dir(config_dir()) / "desk.ini"
        private_file(path)  # QSettings keeps the mode of the file it rewrites
        self._store = QSettings(str(path), QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self._store.fileName()

    def language(self) -> str | None:
        value = self._store.value("ui/language", "")
        return value if isinstance(value, str) and value in LANGUAGES else None

    def set_language(self, lang: str) -> None:
        self._store.setValue("ui/language", lang)

    def last_agent(self) -> str:
        value = self._store.value("ui/last_agent", "")
        return value if isinstance(value, str) else ""

    def set_last_agent(self, login: str) -> None:
        self._store.setValue("ui/last_agent", login)

    # -- the agent seen last on a SQLite database (the desk's window comes first) ----

    @staticmethod
    def _agent_key(url: str, login: str) -> str:
        digest = hashlib.sha256(f"{url.strip()}\0{login}".encode()).hexdigest()[:24]
        return f"agents/{digest}"

    def remembered_actor(self, url: str, login: str) -> Actor | None:
        """Who ``login`` was on this database at the last start (None: not seen here)."""
        from agent_desk.domain.actor import Actor
        from agent_desk.domain.codes import Role

        value = self._store.value(self._agent_key(url, login), "")
        if not isinstance(value, str) or value.count("\n") != 2:
            return None
        agent_id, role, name = value.split("\n")
        if not agent_id.isdigit() or role not in {r.value for r in Role} or not name:
            return None
        return Actor(int(agent_id), login, name, Role(role))

    def remember_actor(self, url: str, actor: Actor) -> None:
        """Written to disk at once (a benchmark's start may end with ``os._exit``)."""
        if actor.agent_id is None or "\n" in actor.display_name:
            return
        if self.remembered_actor(url, actor.login) == actor:
            return
        value = f"{actor.agent_id}\n{actor.role.value}\n{actor.display_name}"
        self._store.setValue(self._agent_key(url, actor.login), value)
        self._store.sync()

    def forget_actor(self, url: str, login: str) -> None:
        self._store.remove(self._agent_key(url, login))

    #: How a number goes to the softphone: ``{number}`` is the number without spaces.
    #: ``tel:{number}`` suits most softphones; ``sip:{number}@pbx.example.nl`` a SIP one.
    DEFAULT_CALL_URL = "tel:{number}"

    def call_url(self) -> str:
        value = self._store.value("call/url_template", self.DEFAULT_CALL_URL)
        return value if isinstance(value, str) and "{number}" in value else self.DEFAULT_CALL_URL

    def set_call_url(self, template: str) -> None:
        if "{number}" not in template:
            raise ValueError("the call URL template needs {number}")
        self._store.setValue("call/url_template", template)

    def colour_scheme(self) -> str:
        value = self._store.value("ui/colour_scheme", "system")
        return value if value in ("system", "light", "dark", "contrast") else "system"

    def set_colour_scheme(self, scheme: str) -> None:
        self._store.setValue("ui/colour_scheme", scheme)

    def blob(self, key: str) -> QByteArray | None:
        value = self._store.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        self._store.setValue(f"layout/{key}", value)

    def sync(self) -> None:
        self._store.sync()
