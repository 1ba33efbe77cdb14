"""Who the learner is, which cohort they belong to, and their local settings.

The learner is ``JUPYTERHUB_USER`` on a hub; elsewhere a random id made once and kept in the data
folder. No display name is ever stored with responses.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from widgets.paths import home

DEFAULT_COHORT = "self-study"


def learner_id() -> str:
    """The current learner's id (made and saved on first use when not on a hub)."""
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub_user:
        return hub_user
    path = home() / "learner_id"
    try:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    new = "local-" + secrets.token_hex(8)
    # Write-then-rename so two kernels starting at once never leave a half-written id behind.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(new + "\n", encoding="utf-8")
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        new = path.read_text(encoding="utf-8").strip()
    except OSError:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return new


def cohort() -> str:
    """The cohort: ``DUALROLE_COHORT``, else the one saved in settings, else 'self-study'."""
    return os.environ.get("DUALROLE_COHORT", "").strip() or settings().get("cohort") or DEFAULT_COHORT


def settings_path() -> Path:
    return home() / "settings.json"


def settings() -> dict:
    """Local settings (consent, cohort); an unreadable file counts as empty, never as consent."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def save_settings(**changes) -> dict:
    data = settings() | changes
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return data


def research_consent() -> bool:
    """Whether this learner has opted in to research use (off unless chosen)."""
    return settings().get("research_consent") is True
