"""The append-only response store: SQLite on the learner's machine, or a shared class database.

:mod:`~widgets.store.schema` declares the tables, :mod:`~widgets.store.engine` turns what a user
typed into a URL and an engine, and :mod:`~widgets.store.sql` reads and writes. This layer knows
nothing of the class service: :mod:`widgets.learner.connect` chooses between the two.
"""

from __future__ import annotations

from widgets.store.engine import default_url, describe_url, resolve_url
from widgets.store.sql import Store, open_class_store, open_store

__all__ = ["Store", "default_url", "describe_url", "open_class_store", "open_store", "resolve_url"]
