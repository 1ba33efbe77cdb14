"""Helpers for instructors writing their own cases: start from a template, then check the folder.

Imports no ipywidgets; results display in a notebook through ``_repr_html_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from widgets.cases.library import Case, load_library, validate_paths
from widgets.errors import CaseProblem, DualroleError
from widgets.paths import data_dir, own_cases_dir
from widgets.render import text
from widgets.vocab import MODULES

TEMPLATE = "cosmetics"
_SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")


def new_case(case_id: str, module: str = "business", folder: Path | str | None = None) -> Path:
    """Start a new case file from the shipped template; return its path.

    Example::

        path = new_case("tip_jar", module="gifts")   # then edit the file and run check_cases()
    """
    if not _SLUG.match(case_id):
        raise DualroleError(f"'{case_id}' is not a valid id: use lower-case letters, digits, '-' or '_'")
    if module not in MODULES:
        raise DualroleError(f"no module '{module}'; modules are: {', '.join(MODULES)}")
    if case_id in load_library():
        raise DualroleError(f"a case with id '{case_id}' already exists; choose another id")
    folder = Path(folder) if folder else own_cases_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case_id}.md"
    if path.exists():
        raise DualroleError(f"{path} already exists; edit it, or choose another id")
    template = (data_dir() / "cases" / f"{TEMPLATE}.md").read_text(encoding="utf-8")
    template = template.replace(f"id: {TEMPLATE}", f"id: {case_id}", 1)
    template = re.sub(r"^module: \w+", f"module: {module}", template, count=1, flags=re.M)
    template = re.sub(r"^title: .*$", f"title: Draft of {case_id} (replace this title)", template, count=1, flags=re.M)
    if not re.search(r"^say:", template, flags=re.M):
        template = _with_say(template)
    path.write_text(template, encoding="utf-8")
    return path


# What a new case starts with when the template case has no say block of its own: every lesson case
# asks the learner what they would say, so the author sees the block to fill in.
SAY_PLACEHOLDER = """say:
  kind: script            # script (words said to someone) or chart_note (a note for the record, to: record)
  to: client              # client, caller, colleague, supervisor, supervisee, employer, commander, parent,
                          # student, court, family or public; record for a chart note
  prompt: >-
    Replace this: one or two sentences, in the second person, naming the person and the moment.
  checklist:              # 3 to 5 short clauses, each under 90 characters, no final full stop
    - Replace this with what a good answer acknowledges
    - Replace this with the boundary it sets
    - Replace this with the alternative it offers
  model: >-
    "Replace this with the model answer in quotation marks: two to four sentences, in your own words."
"""


def _with_say(template: str) -> str:
    """The template with the placeholder say block added at the end of its front matter."""
    head, sep, body = template.partition("\n---\n")
    return head + "\n" + SAY_PLACEHOLDER.rstrip("\n") + sep + body


@dataclass
class CaseCheck:
    """The result of checking a folder: the valid cases and every problem, shown as a table."""

    folder: Path
    cases: list[Case]
    problems: list[CaseProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"All {len(self.cases)} case(s) in {self.folder} are valid."
        return "\n".join(str(p) for p in self.problems)

    def _repr_html_(self) -> str:
        if self.ok:
            items = "".join(f"<li><code>{text(c.id)}</code>: {text(c.title)}</li>" for c in self.cases)
            return (f"<p>All {len(self.cases)} case(s) in <code>{text(self.folder)}</code> are valid:</p>"
                    f"<ul>{items}</ul>")
        rows = "".join(
            f"<tr><td>{text(Path(p.path).name)}</td><td>{p.line or ''}</td><td>{text(p.field or '')}</td>"
            f"<td>{text(p.message)}</td></tr>" for p in self.problems
        )
        return ('<table><caption>Problems to fix</caption><thead><tr><th scope="col">File</th>'
                '<th scope="col">Line</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>'
                f"<tbody>{rows}</tbody></table>")


def check_cases(folder: Path | str | None = None) -> CaseCheck:
    """Validate every case in a folder (default: your own case folder) against the schema and registry."""
    folder = Path(folder) if folder else own_cases_dir()
    if not folder.is_dir():
        raise DualroleError(f"{folder} is not a folder; create it, or start a case with new_case()")
    shipped = {c.id for c in load_library() if c.path.parent == data_dir() / "cases"}
    cases, problems = validate_paths([folder])
    for case in list(cases):
        if case.id in shipped:
            problems.append(CaseProblem(case.path, 2, "id", f"'{case.id}' is a shipped case's id; choose another"))
            cases.remove(case)
    return CaseCheck(folder, cases, problems)
