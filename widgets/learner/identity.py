"""Who the learner is, which cohort they belong to, and their local settings.

The learner is ``JUPYTERHUB_USER`` on a hub; elsewhere a random id made once and kept in the data
folder. No display name is ever stored with responses.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from widgets.errors import DualroleError
from widgets.paths import home, private_folder, write_private

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
    private_folder(path.parent)
    new = "local-" + secrets.token_hex(8)
    # Write-then-rename so two kernels starting at once never leave a half-written id behind.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write_private(tmp, (new + "\n").encode("utf-8"))
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
    write_private(settings_path(), json.dumps(data, indent=2).encode("utf-8"))
    return data


OWN_WORDS_SETTING = "own_words_first"


def own_words_first() -> bool:
    """Whether this learner asked to write their own answer before a practice case shows its options."""
    return settings().get(OWN_WORDS_SETTING) is True


def research_consent() -> bool:
    """Whether this learner has opted in to research use (off unless chosen)."""
    return settings().get("research_consent") is True


def outside_hub_login() -> bool:
    """True in a kernel that a standalone Voila server renders on a hub's host.

    On a hub (``JUPYTERHUB_USER`` is set) an instructor's screen must be served through the user's
    own server, ``/user/<name>/voila/render/...`` or JupyterLab, where the Hub's login stands in
    front of it. A Voila server started from a terminal has no login at all: anyone who can reach
    its port gets a kernel running as the instructor. Voila tells its kernels the base URL it
    serves under (``VOILA_BASE_URL``); only under the user's own server is that the server's prefix
    (``JUPYTERHUB_SERVICE_PREFIX``). A kernel Voila did not start (JupyterLab, nbval) is not refused.
    """
    if not os.environ.get("JUPYTERHUB_USER", "").strip():
        return False
    base = os.environ.get("VOILA_BASE_URL")
    if base is None:
        return False
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    return not prefix or base.rstrip("/") != prefix.rstrip("/")


NOT_BEHIND_LOGIN = ("This instructor's screen shows no class data here: it is served by a Voila server "
                    "outside the Hub's login, which anyone on this host can open. Open it through your own "
                    "Hub server instead, at https://<your hub>/user/<your name>/voila/render/notebooks/<notebook>, "
                    "and stop the standalone server.")


def require_hub_login() -> None:
    """Refuse (raise :class:`~widgets.errors.DualroleError`) in a kernel :func:`outside_hub_login`.

    The instructor's notebooks call it first, so no cell after it shows a name or an answer.
    """
    if outside_hub_login():
        raise DualroleError(NOT_BEHIND_LOGIN)
