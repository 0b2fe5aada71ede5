"""The desk's remembered settings, declared in one place (Picard's options pattern).

Stored in an ini file under ``config.config_dir()`` (which honours
``AGENT_DESK_DATA_DIR``) so tests and portable installs never touch the real user's
registry or ``~/.config``. Never a password here: secrets live in the keyring.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from agent_desk.config import config_dir
from agent_desk.i18n import LANGUAGES
from agent_desk.private_files import private_dir, private_file


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
