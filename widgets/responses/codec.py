"""One codec between a response row and JSON: timestamps as ISO 8601 text on the way out, and
timezone-aware datetimes on the way back. Bundles, the class service, its client and the exports
all use it, so a row looks the same wherever it travels.
"""

from __future__ import annotations

from datetime import datetime, timezone

TIMESTAMPS = ("started_at", "submitted_at", "saved_at", "created_at")


def to_json(row: dict) -> dict:
    """A row with JSON-ready values.

    >>> to_json({"case_id": "cosmetics", "submitted_at": datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)})
    {'case_id': 'cosmetics', 'submitted_at': '2025-03-01T09:30:00+00:00'}
    """
    return jsonable(row)


def jsonable(value):
    """Any value made of dicts, lists and scalars, with every datetime as ISO 8601 text."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return timestamp_text(value)
    return value


def from_json(data: dict) -> dict:
    """A row from JSON with its timestamps as UTC datetimes again, as the store returns them.

    >>> from_json({"submitted_at": "2025-03-01T09:30:00Z"})["submitted_at"].isoformat()
    '2025-03-01T09:30:00+00:00'
    """
    out = dict(data)
    for name in TIMESTAMPS:
        if isinstance(out.get(name), str):
            out[name] = parse_timestamp(out[name])
    return out


def timestamp_text(value: datetime | None) -> str | None:
    """ISO 8601 text of a timestamp (naive values are taken to be UTC), or None."""
    if value is None:
        return None
    return as_utc(value).isoformat()


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; a naive one is taken to be UTC.

    Raises ``ValueError`` for text that is not a real date and time.
    """
    return as_utc(datetime.fromisoformat(text))


def as_utc(value: datetime | None) -> datetime | None:
    """The same instant, timezone-aware in UTC (a naive value is taken to be UTC already)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
