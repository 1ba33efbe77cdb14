"""Turn a submitted JSON body into a :class:`~widgets.store.Response`, or name every bad field.

The learner is never taken from the body: the service passes in the user the Hub authenticated.
The stance is looked up from the case, not trusted from the client.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from ..cases import load_case
from ..errors import DualroleError
from ..store import Response, utcnow
from ..vocab import CLIENTS, PHASES, RISK_LEVELS

# Fields a client may send; ``learner`` and ``stance`` are accepted and ignored (the service sets them).
KNOWN = {"response_id", "case_id", "case_version", "option_id", "confidence", "justification", "attempt",
         "phase", "cohort", "kitchener_expectations", "kitchener_obligations", "kitchener_power",
         "started_at", "submitted_at", "client", "consent", "learner", "stance"}
MAX_JUSTIFICATION = 20_000
# A clock a little ahead is tolerated; a timestamp further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


class InvalidResponse(DualroleError):
    """A submitted response with one or more bad fields (``fields`` maps each to its problem)."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


def parse_response(body: object, *, learner: str, cohort: str | None = None) -> Response:
    """A validated response recorded for ``learner`` (and ``cohort``, when the service fixes one)."""
    if not isinstance(body, dict):
        raise InvalidResponse({"(body)": "expected a JSON object with the response's fields"})
    errors: dict[str, str] = {}
    for name in sorted(set(body) - KNOWN):
        errors[name] = "unknown field"

    def text(name: str, limit: int, *, required: bool = True, default: str | None = None) -> str | None:
        value = body.get(name, default)
        if value is None:
            if required:
                errors[name] = "required"
            return None
        if not isinstance(value, str) or not value.strip():
            errors[name] = "expected a non-empty string"
            return None
        if len(value) > limit:
            errors[name] = f"longer than {limit} characters"
            return None
        return value.strip()

    response_id = text("response_id", 36)
    if response_id is not None:
        try:
            uuid.UUID(response_id)
        except ValueError:
            errors["response_id"] = "expected a UUID"
    case = None
    case_id = text("case_id", 60)
    if case_id is not None:
        try:
            case = load_case(case_id)
        except DualroleError:
            errors["case_id"] = f"no case '{case_id}' in the library"
    case_version = text("case_version", 64)
    option_id = text("option_id", 60)
    if case is not None and option_id is not None and option_id not in {o.id for o in case.options}:
        errors["option_id"] = f"not an option of case '{case_id}' ({', '.join(o.id for o in case.options)})"
    confidence = body.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int) or not 0 <= confidence <= 100:
        errors["confidence"] = "expected a whole number from 0 to 100"
    justification = text("justification", MAX_JUSTIFICATION)
    attempt = body.get("attempt", 1)
    if attempt not in (1, 2) or isinstance(attempt, bool):
        errors["attempt"] = "expected 1 (first answer) or 2 (revote)"
    phase = _choice(body, "phase", PHASES, "practice", errors)
    client = _choice(body, "client", CLIENTS, "service", errors)
    kitchener = {f: _choice(body, f"kitchener_{f}", RISK_LEVELS, None, errors)
                 for f in ("expectations", "obligations", "power")}
    given_cohort = text("cohort", 200, required=False, default="self-study")
    started_at = _timestamp(body, "started_at", errors)
    submitted_at = _timestamp(body, "submitted_at", errors) or utcnow()
    if submitted_at > utcnow() + CLOCK_SKEW:
        errors["submitted_at"] = "is in the future: check the computer's clock"
    consent = body.get("consent", False)
    if not isinstance(consent, bool):
        errors["consent"] = "expected true or false"
    if errors:
        raise InvalidResponse(errors)
    return Response(
        learner=learner, cohort=cohort or given_cohort, case_id=case_id, case_version=case_version,
        option_id=option_id, stance=case.option(option_id).stance, confidence=confidence,
        justification=justification, attempt=attempt, phase=phase,
        kitchener_expectations=kitchener["expectations"], kitchener_obligations=kitchener["obligations"],
        kitchener_power=kitchener["power"], started_at=started_at, submitted_at=submitted_at,
        client=client, consent=consent, response_id=response_id,
    )


def _choice(body: dict, name: str, allowed: tuple[str, ...], default, errors: dict) -> str | None:
    value = body.get(name, default)
    if value is None or value in allowed:
        return value
    errors[name] = f"expected one of: {', '.join(allowed)}"
    return None


def _timestamp(body: dict, name: str, errors: dict) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = "expected an ISO 8601 timestamp, e.g. 2025-03-01T10:15:00+00:00"
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
