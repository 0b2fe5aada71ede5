"""The change origin of one desk session: "<agent id>:<random token>" (migration 0010).

Made as the desk's window is built, before the database libraries are loaded (so it
lives here, not in ``services.changelog``, which re-exports it).
"""

from __future__ import annotations

import secrets


def new_origin(agent_id: int | None) -> str:
    """A fresh desk-session origin: "<agent id>:<random token>"."""
    return f"{agent_id if agent_id is not None else 0}:{secrets.token_hex(8)}"
