"""Checks one response line of a bundle: the JSON Schema, then the case library.

Used by :mod:`widgets.collect`; every reason names the field and says what was expected.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from .bundle import response_schema
from .cases import Library
from .store import COLUMNS


class LineChecker:
    """Checks one response line against the schema and the case library; makes the store row."""

    def __init__(self, library: Library, allow_stale_cases: bool = False):
        import jsonschema  # imported on first use: it is slow to import

        self.library = library
        self.allow_stale_cases = allow_stale_cases
        self.validator = jsonschema.Draft202012Validator(response_schema())

    def check(self, data: dict, learner: str | None) -> tuple[str | None, dict | None]:
        """``(None, row)`` for a good line, ``(reason, None)`` for a bad one."""
        errors = list(self.validator.iter_errors(data))
        if errors:
            return _schema_reason(errors), None
        if data["learner"] != learner:
            return (f"learner '{data['learner']}' is not the bundle's learner '{learner}' (line 1): "
                    "a bundle holds one learner's answers"), None
        reason = self._case_reason(data)
        if reason:
            return reason, None
        row = {k: data[k] for k in COLUMNS}
        for name in ("started_at", "submitted_at"):
            if row[name] is not None:
                try:
                    row[name] = datetime.fromisoformat(row[name])
                except ValueError:
                    return f"field '{name}': {row[name]!r} is not a real date and time", None
        return None, row

    def _case_reason(self, data: dict) -> str | None:
        case_id = data["case_id"]
        if case_id not in self.library:
            broken = any(Path(p.path).stem == case_id for p in self.library.problems)
            hint = ("its case file has errors (run 'dualrole validate')" if broken else
                    "is the instructor's case folder in DUALROLE_CASES?")
            return f"unknown case_id '{case_id}': no such case in the case library ({hint})"
        case = self.library[case_id]
        if data["case_version"] != case.case_version:
            if self.allow_stale_cases:
                return None  # imported with its own case_version; options may since have changed
            return (f"case_version '{data['case_version']}' does not match case '{case_id}' as it is now "
                    f"('{case.case_version}'): the case file was edited after this answer; collect with "
                    "--allow-stale-cases to import such answers")
        options = {o.id: o for o in case.options}
        if data["option_id"] not in options:
            return (f"option_id '{data['option_id']}' is not an option of case '{case_id}' "
                    f"(options: {', '.join(options)})")
        if options[data["option_id"]].stance != data["stance"]:
            return (f"stance '{data['stance']}' does not match option '{data['option_id']}' of case "
                    f"'{case_id}' (its stance is '{options[data['option_id']].stance}')")
        return None


def _schema_reason(errors) -> str:
    parts = []
    for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        if e.validator == "required":
            missing = [p for p in e.validator_value if p not in e.instance]
            parts.append("missing field(s) " + ", ".join(f"'{m}'" for m in missing))
        elif e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            parts.append("unknown field(s) " + ", ".join(f"'{x}'" for x in extra)
                         + " (from a newer dualrole? upgrade with: pip install -U dualrole)")
        elif e.validator == "type" and not e.absolute_path:
            parts.append("not a response: a JSON object {...} was expected")
        else:
            name = ".".join(str(p) for p in e.absolute_path)
            if e.validator == "pattern" and "description" in e.schema:
                message = f"{e.instance!r} is not {e.schema['description']}"
            elif e.validator == "enum":
                message = f"{json.dumps(e.instance)} is not one of: " + ", ".join(
                    v if isinstance(v, str) else json.dumps(v) for v in e.validator_value)
            else:
                message = e.message
            parts.append(f"field '{name}': {message}")
    more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
    return "; ".join(parts[:3]) + more
