"""Where a kernel's answers go: the class service when there is one, else a store on this machine.

This is the one place that chooses. The service is named by ``DUALROLE_SERVICE_URL``, or found in
the Hub's list of services; one client per service is shared by the kernel's cards.
"""

from __future__ import annotations

import os

import httpx

from widgets.learner.client import SERVICE_NAME, ServiceClient
from widgets.paths import home
from widgets.store import open_store
from widgets.store.protocol import ResponseStore

_detected: dict[tuple[str, str], str | None] = {}


def response_store(url: str | None = None) -> ResponseStore:
    """The store a learner's cards use: ``url`` when given, else the class service if this kernel
    has one (see :func:`service_from_env`), else the local store (:func:`widgets.store.open_store`)."""
    if url is None:
        service = service_from_env()
        if service is not None:
            return service
    return open_store(url)


def reaches_class(store: ResponseStore) -> bool:
    """Whether a card on ``store`` can ever see its class's answers: a class service or a shared
    class store can; the learner's own file on this machine never holds anyone else's, so a card
    on it must not promise a class view."""
    from widgets.store.sql import Store

    return not (isinstance(store, Store) and store.url == f"sqlite:///{home() / 'responses.sqlite'}")


def service_from_env() -> ServiceClient | None:
    """The class service this kernel should use, or None for a local store.

    ``DUALROLE_SERVICE_URL`` names it. Otherwise, on a hub (``JUPYTERHUB_API_URL`` and
    ``JUPYTERHUB_API_TOKEN`` set) and unless ``DUALROLE_STORE`` names a store, the Hub is asked
    once for a service called ``dualrole`` (``DUALROLE_SERVICE_NAME``), which works when the
    server's token may read it (scope ``read:services!service=dualrole``).
    """
    url = os.environ.get("DUALROLE_SERVICE_URL", "").strip()
    if url:
        return _client_for(url)
    api_url = os.environ.get("JUPYTERHUB_API_URL", "").strip()
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not api_url or not token or os.environ.get("DUALROLE_STORE", "").strip():
        return None
    name = os.environ.get("DUALROLE_SERVICE_NAME", SERVICE_NAME).strip()
    key = (api_url, name)
    if key not in _detected:
        _detected[key] = detect_service(api_url, token, name)
    return _client_for(_detected[key]) if _detected[key] else None


_clients: dict[tuple, ServiceClient] = {}


def _client_for(url: str) -> ServiceClient:
    """One client per service, token and data folder in this process: the cards of a kernel share it."""
    key = (url.rstrip("/"), os.environ.get("JUPYTERHUB_API_TOKEN", ""), str(home()))
    if key not in _clients:
        _clients[key] = ServiceClient(url)
    return _clients[key]


def detect_service(api_url: str, token: str, name: str = SERVICE_NAME, timeout: float = 3.0) -> str | None:
    """The URL of the Hub's service ``name``, if the Hub lists it for this token; else None."""
    try:
        reply = httpx.get(f"{api_url.rstrip('/')}/services/{name}", timeout=timeout,
                          headers={"Authorization": f"token {token}"})
    except httpx.HTTPError:
        return None
    if reply.status_code != 200:
        return None
    model = reply.json()
    if not model.get("url") or not model.get("prefix"):
        return None
    return model["url"].rstrip("/") + "/" + model["prefix"].strip("/") + "/"
