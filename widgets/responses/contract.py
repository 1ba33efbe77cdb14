"""The response contract: what makes a response valid, stated once.

A response arrives as a dict: from a learner's kernel when they commit, as the JSON body a card
sends to the class service, or as a line of a bundle that ``collect`` reads. All three call
:func:`check_response`, which checks it against ``data/schema/response.schema.json`` (where every
limit lives) and then against the case library, and returns a typed :class:`Response` or a map
naming every bad field. The same body gets the same verdict wherever it arrives.

Who the learner is comes from the caller, never from the body: the kernel knows its learner, the
service the user the Hub authenticated, ``collect`` the learner of the bundle. The stance comes from
the case; a body may repeat it, but not contradict it.
"""

from __future__ import annotations

# collections.abc, not typing: typing.Mapping is several times slower in isinstance, done for every line.
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from unicodedata import category, normalize
from uuid import uuid4

from widgets.cases.library import Library, load_library
from widgets.errors import DualroleError
from widgets.paths import read_schema, schema_valid_fast
from widgets.responses.codec import parse_timestamp, to_json

# A clock a little ahead is tolerated; a submission further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=5)

# Fields a body may leave out, and what they then mean. Everything else the schema requires.
DEFAULTS: dict[str, object] = {
    "kitchener_expectations": None,
    "kitchener_obligations": None,
    "kitchener_power": None,
    "started_at": None,
    "consent": False,
    "client": "script",
    "option_order": None,
    "reference_seen": None,
    "distribution_seen": None,
    "stage": None,
}


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


@dataclass
class Response:
    """One committed answer: the row the store keeps, and what bundles and the service carry."""

    learner: str
    cohort: str
    case_id: str
    case_version: str
    option_id: str
    stance: str
    confidence: int
    justification: str
    attempt: int = 1
    phase: str = "practice"
    kitchener_expectations: str | None = None
    kitchener_obligations: str | None = None
    kitchener_power: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime = field(default_factory=utcnow)
    client: str = "lab"
    consent: bool = False
    response_id: str = field(default_factory=lambda: str(uuid4()))
    option_order: str | None = None
    reference_seen: bool | None = None
    distribution_seen: bool | None = None
    stage: str | None = None

    def row(self) -> dict:
        """The response as a store row: field name to value."""
        # Every value is immutable (text, numbers, datetimes), so a shallow dict equals asdict()'s
        # deep copy, without its cost on each of a class's lines.
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self) -> dict:
        """The response as a JSON object (timestamps in ISO 8601)."""
        return to_json(self.row())


FIELDS: tuple[str, ...] = tuple(Response.__dataclass_fields__)

# What makes two answers the same attempt: a learner answers each case once per cohort, phase and
# attempt (the store's unique constraint, collect's and the service's checks all use this one key).
ATTEMPT_KEY: tuple[str, ...] = ("learner", "cohort", "case_id", "phase", "attempt")


@dataclass(frozen=True)
class Clash:
    """Why an answer cannot be kept beside the answers already kept: the field at fault, a stable
    ``code`` (the class service's refusal code) and words for people."""

    field: str
    code: str
    message: str


def attempt_clash(answer: Mapping, kept: Iterable[Mapping]) -> Clash | None:
    """The rules across rows, one verdict for the learner's session, the class service and collect.

    ``answer`` is a checked response row (:meth:`Response.row`); ``kept`` holds rows already kept or
    arriving with it (each with ``response_id`` and the :data:`ATTEMPT_KEY` fields; rows of other
    learners, cases or phases are ignored, and a row with the answer's own ``response_id`` is the
    answer itself, sent again). In order:

    * a ``response_id`` names one answer: kept with another learner, cohort, case, phase or
      attempt, it is a conflict;
    * each attempt is answered once: a second answer to a kept attempt is refused;
    * a revote (attempt 2) follows a first answer: without one, it is refused.

    Examples
    --------
    >>> first = {"response_id": "a", "learner": "ana", "cohort": "c", "case_id": "x", "phase": "pre", "attempt": 1}
    >>> attempt_clash({**first, "response_id": "b", "attempt": 2}, [first]) is None
    True
    >>> attempt_clash({**first, "response_id": "b", "attempt": 2}, []).code
    'no_first_answer'
    """
    key = tuple(answer[k] for k in ATTEMPT_KEY)
    same_case = key[:-1]
    attempts = set()
    for row in kept:
        row_key = tuple(row[k] for k in ATTEMPT_KEY)
        if row["response_id"] == answer["response_id"]:
            if row_key != key:
                return Clash("response_id", "conflict", f"response_id {answer['response_id']} belongs to a "
                             "different answer (another learner, case, phase or attempt)")
            continue
        if row_key[:-1] == same_case:
            attempts.add(row_key[-1])
    if key[-1] in attempts:
        return Clash("attempt", "already_answered", f"attempt {key[-1]} at case '{answer['case_id']}' "
                     f"({answer['phase']}) is already recorded for this learner")
    if key[-1] == 2 and 1 not in attempts:
        return Clash("attempt", "no_first_answer", "a revote (attempt 2) needs a first answer to this case")
    return None


class InvalidResponse(DualroleError):
    """A response with one or more bad fields; ``fields`` maps each field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in fields.items()))


def response_schema() -> dict:
    """The JSON Schema of one response (``data/schema/response.schema.json``)."""
    return read_schema("response")


@lru_cache(maxsize=1)
def _validator():
    import jsonschema  # slow to import: loaded with the first response checked

    return jsonschema.Draft202012Validator(response_schema())


def check_response(body: object, *, learner: str, cohort: str | None = None, library: Library | None = None,
                   allow_stale: bool = False, now: datetime | None = None) -> tuple[Response | None, dict[str, str]]:
    """Check one response; return ``(response, {})``, or ``(None, problems)`` naming every bad field.

    Parameters
    ----------
    body : dict
        The response's fields, timestamps as ISO 8601 text.
    learner : str
        Who answered, as the caller knows it; a body that names another learner is refused.
    cohort : str, optional
        A cohort fixed by the caller (a class service for one class); otherwise the body's.
    library : Library, optional
        The cases to check against (default: the current case library).
    allow_stale : bool
        Accept an answer to an earlier version of a case (``collect --allow-stale-cases``).
    now : datetime, optional
        The time to compare ``submitted_at`` with (default: now).

    Examples
    --------
    >>> from widgets.cases import load_case
    >>> case = load_case("cosmetics")
    >>> body = {"response_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "cohort": "psy501",
    ...         "case_id": "cosmetics", "case_version": case.case_version, "option_id": "decline_only",
    ...         "confidence": 70, "justification": "ok", "attempt": 3, "phase": "practice",
    ...         "submitted_at": "2025-03-01T09:30:00+00:00"}
    >>> response, problems = check_response(body, learner="ana")
    >>> sorted(problems)
    ['attempt', 'justification']
    """
    if not isinstance(body, Mapping):
        return None, {"(body)": "expected a JSON object with the response's fields"}
    data = {**DEFAULTS, **body, "learner": learner}  # the caller's learner: the body may only repeat it
    if cohort is not None:
        data["cohort"] = cohort
    if isinstance(data.get("justification"), str):
        data["justification"] = data["justification"].strip()
    library = library if library is not None else load_library()
    case = library.get(data.get("case_id")) if isinstance(data.get("case_id"), str) else None
    if "stance" not in data and case is not None and data.get("option_id") in case.option_ids:
        data["stance"] = case.option(data["option_id"]).stance

    problems = _schema_problems(data)
    if isinstance(data.get("justification"), str) and "justification" not in problems:
        if more := reasoning_shortfall(data["justification"]):
            problems["justification"] = (f"shorter than {min_reasoning()} characters ({more} more): expected "
                                         + response_schema()["properties"]["justification"]["description"])
    if "learner" in body and body["learner"] != learner:
        # Whose answer it is comes from who sends it (the kernel's learner, the Hub's user, the
        # bundle's manifest); a body naming someone else is refused, never relabelled.
        problems["learner"] = (f"{body['learner']!r} is not the learner sending it ({learner!r}): "
                               "an answer is only ever its own learner's")
    if "case_id" not in problems:
        for name, reason in _case_problems(data, library, allow_stale).items():
            problems.setdefault(name, reason)
    if "stance" not in body and "option_id" in problems:
        problems.pop("stance", None)  # it follows from the option: name the option, not the stance
    for name in ("started_at", "submitted_at"):
        if name not in problems and isinstance(data.get(name), str):
            try:
                data[name] = parse_timestamp(data[name])
            except ValueError:
                problems[name] = f"{data[name]!r} is not a real date and time"
    submitted = data.get("submitted_at")
    if "submitted_at" not in problems and isinstance(submitted, datetime):
        if submitted > (now or utcnow()) + CLOCK_SKEW:
            problems["submitted_at"] = "is in the future: check the computer's clock"
    if problems:
        return None, dict(sorted(problems.items()))
    return Response(**{name: data[name] for name in FIELDS}), {}


# -- the reasoning rule -------------------------------------------------------------------------
# One rule for "the reasoning is long enough": the card asks for it and shows what is missing, the
# contract refuses less, and grading counts an answer complete by it. Its minimum is the schema's
# ``justification.minLength``. Characters are counted as a reader sees them, in any script: a Japanese
# sentence counts every character (it has no spaces to split words on), a hyphenated word every
# letter, an emoji once. Marks that only change the character before them (combining accents, the
# emoji joiner, variation selectors, skin tones) add nothing, so "é" counts once however it was typed.

_SKIN_TONES = range(0x1F3FB, 0x1F400)


def reasoning_length(text: str, at_most: int | None = None) -> int:
    """The length of a reasoning by the rule: characters as a reader sees them, ends stripped.

    ``at_most``: stop counting there (the length, or ``at_most`` if it is longer). Whether a
    reasoning is long enough needs only its first few characters: collect checks every line of
    every bundle, and counting each reasoning to its end was most of collect's time.

    >>> reasoning_length("  Offer a sliding scale. ")
    22
    >>> reasoning_length("e\u0301") == reasoning_length("\u00e9") == 1
    True
    >>> reasoning_length("\U0001F469\u200d\U0001F4BB")   # one emoji: woman technologist
    1
    """
    count, joined = 0, False
    for char in normalize("NFC", text.strip()):
        if char == "\u200d":
            joined = True
            continue
        if category(char) in ("Mn", "Me", "Cf") or 0xFE00 <= ord(char) <= 0xFE0F or ord(char) in _SKIN_TONES:
            continue
        if not joined:
            count += 1
            if count == at_most:
                return count
        joined = False
    return count


def min_reasoning() -> int:
    """The fewest characters a reasoning may have (the schema's ``justification.minLength``)."""
    return response_schema()["properties"]["justification"]["minLength"]


def reasoning_shortfall(text: str) -> int:
    """How many more characters ``text`` needs to count (0 when it is long enough).

    >>> reasoning_shortfall("Offer a sliding scale.")
    0
    >>> reasoning_shortfall("Too short.")
    10
    """
    shortest = min_reasoning()
    return max(0, shortest - reasoning_length(text, at_most=shortest))


def parse_response(body: object, **kwargs) -> Response:
    """:func:`check_response`, raising :class:`InvalidResponse` when any field is bad."""
    response, problems = check_response(body, **kwargs)
    if problems:
        raise InvalidResponse(problems)
    return response


def _schema_problems(data: dict) -> dict[str, str]:
    if schema_valid_fast(data, "response"):
        return {}
    return _problems_by_field(_validator().iter_errors(data), lambda path: ".".join(str(p) for p in path))


def _problems_by_field(errors, field_of) -> dict[str, str]:
    """The schema's errors as one reason per field (the first found), in words a learner can act on;
    ``field_of`` names the field an error's path points to."""
    problems: dict[str, str] = {}
    for error in errors:
        if error.validator == "required":
            for name in error.validator_value:
                if name not in error.instance:
                    problems.setdefault(name, "required")
        elif error.validator == "additionalProperties":
            for name in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                problems.setdefault(name, "unknown field (from a newer dualrole? upgrade dualrole)")
        else:
            problems.setdefault(field_of(error.absolute_path) or "(body)", _reason(error))
    return problems


def _reason(error) -> str:
    """A schema error in a learner's or instructor's words, from the field's own description."""
    described = error.schema.get("description")
    if error.validator == "maxLength":
        return f"longer than {error.validator_value} characters"
    if error.validator == "minLength" and error.validator_value > 1:
        return f"shorter than {error.validator_value} characters: expected {described}"
    if error.validator == "minLength":
        return "must not be empty"
    if described:
        return f"expected {described}"
    if error.validator == "enum":
        return "expected one of: " + ", ".join("null" if v is None else str(v) for v in error.validator_value)
    return error.message


def _case_problems(data: dict, library: Library, allow_stale: bool) -> dict[str, str]:
    case_id = data["case_id"]
    if case_id not in library:
        hint = ("its case file has errors (run 'dualrole validate')" if library.is_broken(case_id)
                else "is the instructor's case folder in DUALROLE_CASES?")
        return {"case_id": f"no case '{case_id}' in the case library ({hint})"}
    case = library[case_id]
    problems = {}
    option_id = data.get("option_id")
    if isinstance(option_id, str) and option_id not in case.option_ids:
        problems["option_id"] = f"not an option of case '{case_id}' ({', '.join(case.option_ids)})"
    elif isinstance(option_id, str) and data.get("stance") != case.option(option_id).stance:
        problems["stance"] = (f"'{data.get('stance')}' does not match option '{option_id}' "
                              f"(its stance is '{case.option(option_id).stance}')")
    order = data.get("option_order")
    if isinstance(order, str) and sorted(order.split(",")) != sorted(case.option_ids):
        problems["option_order"] = f"expected the ids of case '{case_id}' in some order ({', '.join(case.option_ids)})"
    version = data.get("case_version")
    if isinstance(version, str) and version not in case.current_versions and not allow_stale:
        problems["case_version"] = (f"'{version}' is not case '{case_id}' as it is now ('{case.case_version}'): "
                                    "the vignette or options changed after this answer "
                                    "(collect --allow-stale-cases imports such answers)")
    return problems


# -- reflections ------------------------------------------------------------------------------

REFLECTION_KINDS = ("reflection", "decision_ratings", "case_analysis")

# A written case analysis is kept as a reflection of kind ``case_analysis`` on its case, under this
# lesson name: private like every reflection, handed in with the learner's bundle, and read by the
# grader beside the learner's committed answer to that case (scored on ``data/rubrics/case_analysis.yaml``).
ANALYSIS_LESSON = "case_analysis"
#: The parts of a written case analysis, in order: (key, heading, what to write).
ANALYSIS_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("facts", "Facts", "What happened, what you know, and what you do not know yet."),
    ("roles", "Roles and stakeholders", "Who is involved, in which roles, and who has a stake in your decision."),
    ("risks", "Risks", "What could go wrong for the client, for the therapy and for others, and how likely it is."),
    ("standards", "Standards", "The code sections, laws or models that apply, and what each asks of you here."),
    ("options", "Options", "At least two courses of action, with the strongest case for each."),
    ("decision", "Decision", "What you would do and why, what would change your mind, and whom you would consult."),
    ("say", "What I would say", "The words you would say to the person, and what you would write in the record."),
)


def analysis_text(sections: Mapping[str, str]) -> str:
    """A case analysis as the text of its reflection row: JSON of its non-empty sections, in order
    ("" when every section is empty).

    >>> analysis_text({"facts": " A gift. ", "decision": "", "risks": "Hurt"})
    '{"facts": "A gift.", "risks": "Hurt"}'
    """
    import json

    keys = [key for key, _, _ in ANALYSIS_SECTIONS]
    unknown = set(sections) - set(keys)
    if unknown:
        raise DualroleError(f"not a part of a case analysis: {', '.join(sorted(unknown))} (parts: {', '.join(keys)})")
    written = {k: sections[k].strip() for k in keys if sections.get(k, "").strip()}
    return json.dumps(written, ensure_ascii=False) if written else ""


def analysis_sections(text: str) -> dict[str, str]:
    """The sections of a saved case analysis (``{}`` for text that is not one)."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return {}
    keys = [key for key, _, _ in ANALYSIS_SECTIONS]
    return {k: data[k] for k in keys if isinstance(data, dict) and isinstance(data.get(k), str)}


@dataclass
class Reflection:
    """A learner's saved reflection on a lesson, or their ratings in a decision model.

    Kept for the learner and their instructor only (the instructor audience of
    :mod:`widgets.responses.disclosure`): never in a public report or a research export.
    """

    learner: str
    cohort: str
    lesson: str
    text: str
    kind: str = "reflection"
    case_id: str | None = None
    saved_at: datetime = field(default_factory=utcnow)
    reflection_id: str = field(default_factory=lambda: str(uuid4()))

    def row(self) -> dict:
        """The reflection as a store row."""
        return asdict(self)


REFLECTION_FIELDS: tuple[str, ...] = tuple(Reflection.__dataclass_fields__)


@lru_cache(maxsize=1)
def _reflection_validator():
    import jsonschema

    schema = response_schema()
    return jsonschema.Draft202012Validator({**schema["$defs"]["reflection"], "$defs": schema["$defs"]})


def check_reflection(body: object, *, learner: str) -> tuple[Reflection | None, dict[str, str]]:
    """Check one reflection (from a kernel or a bundle line); ``(reflection, {})`` or ``(None, problems)``.

    The learner comes from the caller, as for responses.

    Examples
    --------
    >>> reflection, problems = check_reflection({"cohort": "psy501", "lesson": "01_confidentiality",
    ...     "kind": "reflection", "text": "", "saved_at": "2025-03-01T09:30:00+00:00",
    ...     "reflection_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}, learner="ana")
    >>> problems
    {'text': 'must not be empty'}
    """
    if not isinstance(body, Mapping):
        return None, {"(body)": "expected a JSON object with the reflection's fields"}
    data = {"kind": "reflection", "case_id": None, **{k: v for k, v in body.items() if k != "learner"},
            "learner": learner}
    if isinstance(data.get("text"), str):
        data["text"] = data["text"].strip()
    problems: dict[str, str] = {}
    for error in _reflection_validator().iter_errors(data):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in error.instance:
                    problems.setdefault(name, "required")
        elif error.validator == "additionalProperties":
            for name in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                problems.setdefault(name, "unknown field (from a newer dualrole? upgrade dualrole)")
        else:
            problems.setdefault(".".join(str(p) for p in error.absolute_path) or "(body)", _reason(error))
    if "saved_at" not in problems and isinstance(data.get("saved_at"), str):
        try:
            data["saved_at"] = parse_timestamp(data["saved_at"])
        except ValueError:
            problems["saved_at"] = f"{data['saved_at']!r} is not a real date and time"
    if problems:
        return None, dict(sorted(problems.items()))
    return Reflection(**{name: data[name] for name in REFLECTION_FIELDS}), {}


# -- scripts ----------------------------------------------------------------------------------
# What a learner would say (or write in the chart) on a lesson case, after their first answer: its own
# record, like a reflection, since the answer row is already kept and the store only ever adds. The
# one rule for a valid script, asked by the learner's session, the class service and collect alike.


@dataclass
class Script:
    """A learner's words for a case's ``say:`` step: the script (or chart note) and the checklist
    items they ticked against it (``checks``: positions in the case's checklist, from 0).

    Private like the reasoning: the learner's and the instructor's, and in research data only under
    the learner's consent. A later save is a new row; the latest counts.
    """

    learner: str
    cohort: str
    case_id: str
    case_version: str
    response_id: str
    kind: str
    text: str
    checks: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    script_id: str = field(default_factory=lambda: str(uuid4()))

    def row(self) -> dict:
        """The script as a store row."""
        return {name: getattr(self, name) for name in SCRIPT_FIELDS} | {"checks": list(self.checks)}

    def to_json(self) -> dict:
        """The script as a JSON object (timestamps in ISO 8601)."""
        return to_json(self.row())


SCRIPT_FIELDS: tuple[str, ...] = tuple(Script.__dataclass_fields__)


@lru_cache(maxsize=1)
def _script_validator():
    import jsonschema

    schema = response_schema()
    return jsonschema.Draft202012Validator({**schema["$defs"]["script"], "$defs": schema["$defs"]})


def check_script(body: object, *, learner: str, answer: Mapping | None, library: Library | None = None,
                 now: datetime | None = None) -> tuple[Script | None, dict[str, str]]:
    """Check one script; ``(script, {})``, or ``(None, problems)`` naming every bad field.

    Parameters
    ----------
    body : dict
        The script's fields, timestamps as ISO 8601 text. ``kind`` may be left out: it is the case's.
    learner : str
        Who wrote it, as the caller knows it; a body naming another learner is refused.
    answer : dict or None
        The kept answer the body's ``response_id`` names, as the caller found it (in the store, the
        service's database or the same bundle); None when there is none. A script follows the
        learner's first answer to the same case, in the same cohort.
    library : Library, optional
        The cases to check against (default: the current case library).
    now : datetime, optional
        The time to compare ``created_at`` with (default: now).

    Examples
    --------
    >>> script, problems = check_script({"script_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    ...     "response_id": "1f8fad5b-d9cb-469f-a165-70867728950e", "cohort": "psy501", "case_id": "cosmetics",
    ...     "case_version": "x", "text": "Too short.", "checks": [], "created_at": "2025-03-01T09:30:00+00:00"},
    ...     learner="ana", answer=None)
    >>> sorted(problems)
    ['response_id', 'text']
    """
    if not isinstance(body, Mapping):
        return None, {"(body)": "expected a JSON object with the script's fields"}
    library = library if library is not None else load_library()
    case = library.get(body.get("case_id")) if isinstance(body.get("case_id"), str) else None
    data = {**body, "learner": learner}
    if "kind" not in data and case is not None and case.say is not None:
        data["kind"] = case.say.kind
    if isinstance(data.get("text"), str):
        data["text"] = data["text"].strip()
    if isinstance(data.get("checks"), (list, tuple)):
        data["checks"] = list(data["checks"])
    problems = _problems_by_field(_script_validator().iter_errors(data), lambda path: str(path[0]) if path else "")
    if isinstance(data.get("text"), str) and (more := reasoning_shortfall(data["text"])):
        # Counted as the reasoning is, as a reader sees the characters, whatever the schema counted.
        problems["text"] = f"shorter than {min_reasoning()} characters ({more} more)"
    if "learner" in body and body["learner"] != learner:
        problems["learner"] = (f"{body['learner']!r} is not the learner sending it ({learner!r}): "
                               "a script is only ever its own learner's")
    if "case_id" not in problems:
        for name, reason in _script_case_problems(data, case, library).items():
            problems.setdefault(name, reason)
    if "response_id" not in problems and "case_id" not in problems:
        if answer is None or answer.get("response_id") != data["response_id"]:
            problems["response_id"] = "no answer of yours to this case is kept: a script follows your first answer"
        elif (answer.get("learner"), answer.get("case_id"), answer.get("cohort")) != (
                learner, data["case_id"], data.get("cohort")):
            problems["response_id"] = ("names another answer than yours to this case in this cohort: "
                                       "a script follows your own first answer")
    if "created_at" not in problems and isinstance(data.get("created_at"), str):
        try:
            data["created_at"] = parse_timestamp(data["created_at"])
        except ValueError:
            problems["created_at"] = f"{data['created_at']!r} is not a real date and time"
    created = data.get("created_at")
    if "created_at" not in problems and isinstance(created, datetime) and created > (now or utcnow()) + CLOCK_SKEW:
        problems["created_at"] = "is in the future: check the computer's clock"
    if problems:
        return None, dict(sorted(problems.items()))
    return Script(**{name: data[name] for name in SCRIPT_FIELDS}), {}


def _script_case_problems(data: dict, case, library: Library) -> dict[str, str]:
    case_id = data["case_id"]
    if case is None:
        hint = ("its case file has errors (run 'dualrole validate')" if library.is_broken(case_id)
                else "is the instructor's case folder in DUALROLE_CASES?")
        return {"case_id": f"no case '{case_id}' in the case library ({hint})"}
    if case.say is None:
        return {"case_id": f"case '{case_id}' asks for no script (its file has no say: block)"}
    problems = {}
    if data.get("kind") != case.say.kind:
        problems["kind"] = f"case '{case_id}' asks for a {case.say.kind.replace('_', ' ')}"
    checks = data.get("checks")
    if isinstance(checks, list) and any(isinstance(i, int) and i >= len(case.say.checklist) for i in checks):
        problems["checks"] = f"case '{case_id}' has {len(case.say.checklist)} checklist items (0 to " \
                             f"{len(case.say.checklist) - 1})"
    return problems
