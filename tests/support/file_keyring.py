"""A keyring backend for a child process that a test starts (``kill -9`` tests): the
secrets in a JSON file named by ``AGENT_DESK_TEST_KEYRING_FILE``.

Chosen with ``PYTHON_KEYRING_BACKEND=tests.support.file_keyring.FileKeyring``, the way
keyring itself lets a user choose a backend; the code under test reads it through the
real ``keyring`` API as it would read the system's keyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["AGENT_DESK_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\x00{username}", None)
        self._path().write_text(json.dumps(data))
