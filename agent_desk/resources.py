"""The one way to reach files in ``resources/``.

In a wheel the folder is shipped as ``agent_desk/_resources``; in a source checkout
(editable install) it is the top-level ``resources/`` beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    shipped = _PACKAGE_DIR / "_resources"
    if shipped.is_dir():
        return shipped
    return _PACKAGE_DIR.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("policy", "arrangements.toml")``."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"Agent Desk resource is missing: {'/'.join(parts)}")
    return path


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")
