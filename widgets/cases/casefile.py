"""Reading and validating one case file: YAML front matter plus a Markdown body.

Every problem is reported with the file, the line and the field, and all problems are collected
before anything is raised, so an author fixes a file in one pass rather than one error at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from widgets.errors import CaseProblem, DualroleError
from widgets.paths import case_dirs, data_dir, read_schema, schema_valid_fast

REQUIRED_SECTIONS = ("Vignette", "Reference rationale")
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")


@lru_cache(maxsize=1)
def _validator():
    # jsonschema pulls in heavy format checkers; import it when a case is first read, not with the package.
    import jsonschema

    return jsonschema.Draft202012Validator(read_schema("case"))


# libyaml's loader when PyYAML has it (about twenty times faster: the library is parsed in every kernel,
# service and command); the pure-Python one re-reads a file that fails, so a syntax error is worded
# and placed the same either way.
try:
    from yaml import CSafeLoader as _FAST_LOADER
except ImportError:  # a PyYAML built without libyaml
    _FAST_LOADER = yaml.SafeLoader


def _compose_and_load(text: str, *, construct: bool = True):
    """The YAML text's node tree (for the line of each field) and, if ``construct``, its data: one parse."""
    try:
        return _parse(text, _FAST_LOADER, construct)
    except yaml.YAMLError:
        return _parse(text, yaml.SafeLoader, construct)  # raises the error as the pure-Python parser words it


def _parse(text: str, loader, construct: bool):
    reader = loader(text)
    try:
        node = reader.get_single_node()
        return node, (reader.construct_document(node) if construct and node is not None else None)
    finally:
        reader.dispose()


LINKS = "links"  # the key in codes.yaml that holds where each code can be read, not a code of its own
LAW = "law"  # the key that holds the statutes and regulations cases name beside the codes, not a code either
REGISTRY_FILE = "codes.yaml"  # an instructor's own registry, in a folder of their cases (docs/code-registry.md)

# The limits of an instructor's registry: short names and paraphrases, never a code's text.
CODE_NAME = re.compile(r"^[A-Z][A-Z0-9-]{1,23}$")
SECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.()-]{0,19}$")
TITLE_LENGTH = (3, 120)
LAW_NAME_LENGTH = (3, 80)
LAW_NOTE_LENGTH = (10, 400)
LINK = re.compile(r"^https://[^\s<>\"']{4,300}$")
_HTML = re.compile(r"<\s*/?\s*[A-Za-z!]|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")


@lru_cache(maxsize=1)
def _codes_file() -> dict:
    with open(data_dir() / "codes.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def shipped_codes() -> frozenset[str]:
    """The codes the curriculum ships (APA, ACA, AAMFT, NASW): an instructor's registry may not redefine them."""
    return frozenset(code for code in _codes_file() if code not in (LINKS, LAW))


def registry_folders(paths: list[Path | str] | None = None) -> list[Path]:
    """The instructor folders whose ``codes.yaml`` is merged: every case folder searched after the shipped
    one, then the folders of ``paths`` (files or folders being validated), each once."""
    shipped = (data_dir() / "cases").resolve()
    folders: list[Path] = []
    for folder in [*case_dirs()[1:], *(Path(p) if Path(p).is_dir() else Path(p).parent for p in paths or ())]:
        if folder.resolve() != shipped and folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    return folders


def _stamp(paths: tuple[Path, ...]) -> tuple:
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


@dataclass(frozen=True)
class Registries:
    """The shipped registry merged with every valid instructor registry, and the problems of the others."""

    codes: dict[str, dict[str, str]]
    links: dict[str, str]
    law: dict[str, str]
    problems: tuple[CaseProblem, ...]
    origin: dict[str, Path]  # where each instructor code or law note was registered


def registries(paths: list[Path | str] | None = None) -> Registries:
    """The merged registries (:func:`registry_folders` of ``paths``), reread only when an instructor's
    ``codes.yaml`` is added, removed or edited.

    A registry file with any problem adds nothing (its cases then name the code they cannot cite), and
    its problems are reported by ``dualrole validate`` with file, line and field.
    """
    files = tuple(folder / REGISTRY_FILE for folder in registry_folders(paths)
                  if (folder / REGISTRY_FILE).is_file())
    return _merged(_stamp(files))


@lru_cache(maxsize=4)
def _merged(stamp: tuple) -> Registries:
    shipped = _codes_file()
    codes = {code: {str(k): " ".join(str(v).split()) for k, v in sections.items()}
             for code, sections in shipped.items() if code not in (LINKS, LAW)}
    links = {str(k): str(v) for k, v in (shipped.get(LINKS) or {}).items()}
    law = {str(k): " ".join(str(v).split()) for k, v in (shipped.get(LAW) or {}).items()}
    problems: list[CaseProblem] = []
    origin: dict[str, Path] = {}
    for path_text, _mtime, _size in stamp:
        path = Path(path_text)
        found, own = read_registry_file(path, codes=set(codes), law=set(law), origin=origin)
        problems += own
        if found is None or own:
            continue
        for code, sections in found["codes"].items():
            codes[code] = sections
            origin[code] = path
        links.update(found["links"])
        for name, note in found["law"].items():
            law[name] = note
            origin[name] = path
    return Registries(codes, links, law, tuple(problems), origin)


def read_registry_file(path: Path, *, codes: set[str] | frozenset[str] = frozenset(),
                       law: set[str] | frozenset[str] = frozenset(),
                       origin: dict[str, Path] | None = None) -> tuple[dict | None, list[CaseProblem]]:
    """Read and check an instructor's code registry; every problem names the file, the line and the field.

    ``codes`` and ``law`` are the names already registered (the shipped ones, and those of registries read
    before this one); ``origin`` says where an instructor's earlier name came from. Returns
    ``{"codes": ..., "links": ..., "law": ...}`` (None when the file cannot be parsed) and the problems.
    """
    origin = origin or {}
    text, unreadable = _read_text(path)
    if unreadable:
        return None, unreadable
    try:
        root, _ = _compose_and_load(text, construct=False)
    except yaml.YAMLError as exc:
        mark, problem = _where(exc)
        return None, [CaseProblem(path, mark.line + 1 if mark is not None else None, None,
                                  f"YAML syntax error: {problem or exc}")]
    problems: list[CaseProblem] = []

    def problem(node, field: str | None, message: str) -> None:
        problems.append(CaseProblem(path, node.start_mark.line + 1 if node is not None else 1, field, message))

    out: dict = {"codes": {}, "links": {}, "law": {}}
    if root is None:
        problem(None, None, "is empty: register at least one code (see docs/code-registry.md)")
        return None, problems
    if not isinstance(root, yaml.MappingNode):
        problem(root, None, "must be a mapping: code names, then optionally links: and law:")
        return None, problems

    def plain(node, field: str, limits: tuple[int, int], what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            problem(node, field, f"expected {what} as text")
            return None
        value = " ".join(str(node.value).split())
        if _HTML.search(value):
            problem(node, field, "holds HTML: write plain text (the reveal and the handouts format it)")
        if not limits[0] <= len(value) <= limits[1]:
            problem(node, field, f"is {len(value)} characters long: write {limits[0]} to {limits[1]} "
                                 f"characters in your own words (a short paraphrase, never the code's text)")
        return value

    def mapping(node, field: str, what: str) -> list[tuple]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            problem(node, field, f"expected {what}")
            return []
        return node.value

    linked = []  # the code names under links:, checked once every code of the file is known
    named: set[str] = set()
    for key, value in root.value:
        name = str(key.value)
        if name == LINKS:
            for code_key, url in mapping(value, LINKS, "a mapping of code names to https:// links"):
                linked.append(code_key)
                field = f"{LINKS}.{code_key.value}"
                link = plain(url, field, (12, 300), "a link")
                if link and not LINK.match(link):
                    problem(url, field, f"{link!r} is not an https:// link")
                out["links"][str(code_key.value)] = link
            continue
        if name == LAW:
            for law_key, note in mapping(value, LAW, "a mapping of law names to short notes"):
                law_name = " ".join(str(law_key.value).split())
                field = f"{LAW}.{law_name}"
                if law_name in law:
                    where = f"in {origin[law_name]}" if law_name in origin else "by the curriculum"
                    problem(law_key, field, f"{law_name!r} is already registered {where}: choose another name")
                elif _HTML.search(law_name):
                    problem(law_key, field, "holds HTML: write plain text")
                elif not LAW_NAME_LENGTH[0] <= len(law_name) <= LAW_NAME_LENGTH[1]:
                    problem(law_key, field, f"a law's name is {LAW_NAME_LENGTH[0]} to {LAW_NAME_LENGTH[1]} characters")
                out["law"][law_name] = plain(note, field, LAW_NOTE_LENGTH, "a note")
            continue
        named.add(name)
        if name in codes:
            where = f"in {origin[name]}" if name in origin else "with the curriculum, and cannot be redefined"
            problem(key, name, f"the code {name!r} is already registered {where}: choose another name "
                               "(for example your body's abbreviation with the edition year)")
            continue
        if not CODE_NAME.match(name):
            problem(key, name, f"{name!r} is not a code name: capital letters, digits and '-', 2 to 24 "
                               "characters, starting with a letter (for example EXAMPLE-BODY)")
            continue
        sections = {}
        for section_key, title in mapping(value, name, "a mapping of section numbers to short paraphrases"):
            section = str(section_key.value)
            field = f"{name}.{section}"
            if not SECTION.match(section):
                problem(section_key, field, f"{section!r} is not a section number: up to 20 letters, digits, "
                                            "'.', '(', ')' or '-' (quote it: \"1.2\")")
            if section in sections:
                problem(section_key, field, f"section {section!r} is registered twice")
            sections[section] = plain(title, field, TITLE_LENGTH, "a short paraphrase")
        out["codes"][name] = sections
    for code_key in linked:
        if str(code_key.value) not in named:
            problem(code_key, f"{LINKS}.{code_key.value}", f"{code_key.value!r} is not a code this file registers")
    if not out["codes"] and not out["law"] and not problems:
        problem(root, None, "registers nothing: add a code with its sections, or a law: note")
    return out, problems


def code_registry() -> dict[str, dict[str, str]]:
    """Registered sections: ``{"APA": {"3.05": "Multiple relationships", ...}, ...}``, the shipped codes
    and any an instructor registers in a ``codes.yaml`` beside their cases.

    Only the codes: the ``links`` mapping beside them is read by :func:`code_link`.

    >>> code_registry()["APA"]["3.05"]
    'Multiple relationships'
    >>> "links" in code_registry() or "law" in code_registry()
    False
    """
    return registries().codes


def law_registry() -> dict[str, str]:
    """The statutes, regulations and local-law notes a case may name, each with what it requires in our
    (or the instructor's) own words.

    >>> "must notify" in law_registry()["DoDI 6490.08"]
    True
    """
    return registries().law


def code_link(code: str) -> str | None:
    """The page where ``code`` can be read in full: the publisher's, for the shipped codes; None for an
    instructor's code registered without a link.

    >>> code_link("APA")
    'https://www.apa.org/ethics/code'
    """
    merged = registries()
    if code in merged.links:
        return merged.links[code]
    if code in merged.codes and code not in shipped_codes():
        return None
    known = ", ".join(sorted(merged.links)) or "none"
    raise DualroleError(f"data/codes.yaml: links.{code}: no link for code {code!r} (codes with links: {known})")


def read_case_file(path: Path, registry: Registries | None = None) -> tuple[dict | None, dict[str, str],
                                                                          list[CaseProblem]]:
    """Parse and check one file.

    Returns the front matter (or None when it cannot be parsed), the body sections by heading,
    and every problem found. Cross-file checks (duplicate ids) belong to the library loader. Codes and
    law notes are checked against ``registry`` (by default the merged :func:`registries`).
    """
    problems: list[CaseProblem] = []
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, {}, [CaseProblem(path, None, None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]
    except OSError as exc:
        return None, {}, [CaseProblem(path, None, None, f"cannot be read: {exc.strerror}")]

    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, {}, [CaseProblem(path, 1, None, "must start with a '---' line that opens the YAML front matter")]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return None, {}, [CaseProblem(path, 1, None, "front matter is never closed: add a '---' line after it")]

    front_text = "\n".join(lines[1:end])
    try:
        node, front = _compose_and_load(front_text)
    except yaml.YAMLError as exc:
        mark, problem = _where(exc)
        line = mark.line + 2 if mark is not None else None
        what = problem or str(exc)
        return None, {}, [CaseProblem(path, line, None, f"YAML syntax error: {what}")]
    if not isinstance(front, dict):
        return None, {}, [CaseProblem(path, 2, None, "front matter must be a mapping of fields (key: value)")]

    def line_of(field_path: list) -> int:
        return _line_for(node, field_path) + 2  # +1 for 1-based, +1 for the opening '---'

    errors = [] if schema_valid_fast(front, "case") else sorted(_validator().iter_errors(front), key=_error_order)
    for error in errors:
        field_path = list(error.absolute_path)
        problems.append(CaseProblem(path, line_of(field_path), _field_name(field_path) or None, _message(error)))

    problems += _check_semantics(path, front, line_of, registry or registries())

    body_start = end + 2  # 1-based number of the first body line
    sections = _sections(lines[end + 1 :])
    for name in REQUIRED_SECTIONS:
        if not sections.get(name, "").strip():
            problems.append(CaseProblem(
                path, body_start, "body",
                f"missing section '## {name}' (the body needs: "
                + ", ".join(f"'## {s}'" for s in REQUIRED_SECTIONS) + ")",
            ))
    return front, sections, problems



def _read_text(path: Path) -> tuple[str, list[CaseProblem]]:
    """A YAML file's text, or the one problem that stops it being read (not UTF-8, or unreadable)."""
    try:
        return path.read_bytes().decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return "", [CaseProblem(path, None, None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]
    except OSError as exc:
        return "", [CaseProblem(path, None, None, f"cannot be read: {exc.strerror}")]

def read_yaml_file(path: Path, validator) -> tuple[Any, list[CaseProblem]]:
    """Read a whole YAML file (a rubric, a grading policy) and check it against a JSON Schema validator.

    Returns the data (None when it cannot be parsed) and every problem, each with the file, the line
    of the field and the field, worded as for case files.
    """
    text, unreadable = _read_text(path)
    if unreadable:
        return None, unreadable
    try:
        node, data = _compose_and_load(text)
    except yaml.YAMLError as exc:
        mark, problem = _where(exc)
        line = mark.line + 1 if mark is not None else None
        return None, [CaseProblem(path, line, None, f"YAML syntax error: {problem or exc}")]
    problems = [
        CaseProblem(path, _line_for(node, list(error.absolute_path)) + 1,
                    _field_name(list(error.absolute_path)) or None, _message(error))
        for error in sorted(validator.iter_errors(data), key=_error_order)
    ]
    return data, problems


def problem_at(path: Path, field_path: list, message: str) -> CaseProblem:
    """A problem found after the schema check, at the field ``field_path`` (``["units", 0, "weeks"]``)
    of a YAML file: with its line, and the field named as the schema's problems name theirs."""
    return CaseProblem(path, line_in_yaml(path, field_path), _field_name(field_path) or None, message)


def line_in_yaml(path: Path, field_path: list) -> int | None:
    """The 1-based line of a field in a YAML file, for problems found after the schema check."""
    try:
        node, _ = _compose_and_load(path.read_text(encoding="utf-8"), construct=False)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return _line_for(node, field_path) + 1


def _check_semantics(path: Path, front: dict, line_of, merged: Registries) -> list[CaseProblem]:
    """Checks JSON Schema cannot express: ids that must agree with each other and with the registry."""
    problems = []
    case_id = front.get("id")
    if isinstance(case_id, str) and case_id != path.stem:
        problems.append(CaseProblem(path, line_of(["id"]), "id",
                                    f"'{case_id}' must match the file name '{path.stem}.md'"))

    options = front.get("options") if isinstance(front.get("options"), list) else []
    option_ids = [o.get("id") for o in options if isinstance(o, dict)]
    seen = set()
    for i, oid in enumerate(option_ids):
        if oid in seen:
            problems.append(CaseProblem(path, line_of(["options", i, "id"]), f"options[{i}].id",
                                        f"duplicate option id '{oid}'"))
        seen.add(oid)

    reference = front.get("reference") if isinstance(front.get("reference"), dict) else {}
    for key in ("preferred", "acceptable"):
        ids = reference.get(key) if isinstance(reference.get(key), list) else []
        for i, oid in enumerate(ids):
            if oid not in seen:
                known = ", ".join(str(o) for o in option_ids) or "none"
                problems.append(CaseProblem(
                    path, line_of(["reference", key, i]), f"reference.{key}[{i}]",
                    f"'{oid}' is not an option id (options are: {known})",
                ))
    overlap = set(reference.get("preferred") or []) & set(reference.get("acceptable") or [])
    if overlap:
        problems.append(CaseProblem(
            path, line_of(["reference", "acceptable"]), "reference.acceptable",
            f"{', '.join(sorted(map(str, overlap)))} cannot be both preferred and acceptable",
        ))

    # One rule for contested cases: an option that a named position defends is never scored as wrong,
    # so each defended option must be preferred or acceptable.
    scored = set(reference.get("preferred") or []) | set(reference.get("acceptable") or [])
    positions = reference.get("positions") if isinstance(reference.get("positions"), list) else []
    for i, pos in enumerate(positions):
        defends = pos.get("defends") if isinstance(pos, dict) and isinstance(pos.get("defends"), list) else []
        for j, oid in enumerate(defends):
            where = ["reference", "positions", i, "defends", j]
            name = f"reference.positions[{i}].defends[{j}]"
            if oid not in seen:
                known = ", ".join(str(o) for o in option_ids) or "none"
                problems.append(CaseProblem(path, line_of(where), name,
                                            f"'{oid}' is not an option id (options are: {known})"))
            elif oid not in scored:
                problems.append(CaseProblem(
                    path, line_of(where), name,
                    f"'{oid}' is defended by a named position, so it must be listed in reference.preferred "
                    "or reference.acceptable",
                ))

    reason = reference.get("stance_reason")
    if isinstance(reason, str) and "\n" in reason.strip():
        problems.append(CaseProblem(path, line_of(["reference", "stance_reason"]), "reference.stance_reason",
                                    "must be one line: say in a sentence why this case's preferred stance "
                                    "differs from cases of the same kind"))

    problems += _check_content_note(path, front.get("content_note"), line_of)
    problems += _check_say(path, front.get("say"), line_of)

    registry = merged.codes
    codes = front.get("codes") if isinstance(front.get("codes"), list) else []
    for i, ref in enumerate(codes):
        if not isinstance(ref, dict) or not isinstance(ref.get("code"), str):
            continue
        if ref["code"] not in registry:
            broken = sorted({str(p.path) for p in merged.problems})
            hint = (f"; fix the problems in {', '.join(broken)} first" if broken else
                    f"; an instructor registers their own in a {REGISTRY_FILE} beside their cases "
                    "(docs/code-registry.md)")
            problems.append(CaseProblem(
                path, line_of(["codes", i, "code"]), f"codes[{i}].code",
                f"{ref['code']!r} is not a registered code (registered: {', '.join(registry)}){hint}"))
            continue
        section = str(ref.get("section"))
        if section not in registry[ref["code"]]:
            near = [s for s in registry[ref["code"]] if s.split("(")[0] == section.split("(")[0]]
            hint = (f" (registered: {', '.join(near)})" if near
                    else " (add it to data/codes.yaml only if it is verified)" if ref["code"] in shipped_codes()
                    else f" (add it to {merged.origin.get(ref['code'], REGISTRY_FILE)})")
            problems.append(CaseProblem(
                path, line_of(["codes", i, "section"]), f"codes[{i}].section",
                f"{ref['code']} {section} is not in the code registry{hint}",
            ))
    law = front.get("law") if isinstance(front.get("law"), list) else []
    for i, name in enumerate(law):
        if isinstance(name, str) and name not in merged.law:
            problems.append(CaseProblem(
                path, line_of(["law", i]), f"law[{i}]",
                f"{name!r} is not a registered law note (registered: {', '.join(merged.law)})"))
    return problems


# A content note is read before the vignette, on a card and on a printed page alike: plain words only.
_MARKUP = re.compile(r"[<>*_`\[\]#]")


def _check_content_note(path: Path, note, line_of) -> list[CaseProblem]:
    """A content note is one line of plain text (the schema checks its type and length)."""
    if not isinstance(note, str):
        return []
    where = (path, line_of(["content_note"]), "content_note")
    if "\n" in note.strip():
        return [CaseProblem(*where, "must be one line: name in a few plain words what the case contains")]
    found = _MARKUP.search(note)
    if found:
        return [CaseProblem(*where, f"must be plain text, without markup such as {found.group()!r}: it is shown "
                                    "as written on the card and in the handouts")]
    return []


# A tag-like run: '<' then a letter, '/', '!' or '?'. Case text is shown as text, so markup in a say
# block would reach the learner as literal angle brackets; refusing it tells the author at once.
_TAG = re.compile(r"<\s*[A-Za-z/!?]")


def _check_say(path: Path, say: Any, line_of) -> list[CaseProblem]:
    """The ``say:`` block's checks beyond the schema: whom a chart note addresses, plain text, checklist clauses."""
    if not isinstance(say, dict):
        return []
    problems = []
    kind, to = say.get("kind"), say.get("to")
    if kind == "chart_note" and to not in (None, "record"):
        problems.append(CaseProblem(path, line_of(["say", "to"]), "say.to",
                                    f"'{to}' cannot be addressed by a chart note: use 'to: record'"))
    elif kind == "script" and to == "record":
        problems.append(CaseProblem(path, line_of(["say", "to"]), "say.to",
                                    "'record' is for a chart note: a script names whom it is said to "
                                    "(client, caller, colleague...)"))
    fields = [(["say", key], f"say.{key}", say.get(key)) for key in ("prompt", "model")]
    items = say.get("checklist") if isinstance(say.get("checklist"), list) else []
    fields += [(["say", "checklist", i], f"say.checklist[{i}]", item) for i, item in enumerate(items)]
    for where, name, value in fields:
        if isinstance(value, str) and _TAG.search(value):
            problems.append(CaseProblem(path, line_of(where), name,
                                        "must be plain text: HTML tags are not allowed (the card shows it as text)"))
    for i, item in enumerate(items):
        if isinstance(item, str) and item.rstrip().endswith("."):
            problems.append(CaseProblem(path, line_of(["say", "checklist", i]), f"say.checklist[{i}]",
                                        "is a short clause the learner ticks: drop the final full stop"))
    return problems


def _sections(body_lines: list[str]) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in body_lines:
        m = _HEADING.match(line)
        if m:
            current = m.group(1).strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(text).strip() for name, text in sections.items()}


def _line_for(node: Any, field_path: list) -> int:
    """The 0-based line of the deepest YAML node that ``field_path`` reaches."""
    line = node.start_mark.line if node is not None else 0
    for part in field_path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line
    return line


def _field_name(field_path: list) -> str:
    out = ""
    for part in field_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error_order(error) -> tuple:
    return tuple(str(p) for p in error.absolute_path)


def _message(error) -> str:
    """Phrase a schema error as an author would want it: what was found and what is expected."""
    v = error.validator
    if v == "enum":
        return f"{error.instance!r} is not one of " + ", ".join(map(str, error.validator_value))
    if v == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        return f"missing required field '{name}'"
    if v == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s) not allowed")
    if v == "type":
        return f"{error.instance!r} should be of type {error.validator_value}"
    if v == "minItems":
        return f"needs at least {error.validator_value} item(s), found {len(error.instance)}"
    if v == "maxItems":
        return f"allows at most {error.validator_value} item(s), found {len(error.instance)}"
    if v == "maxLength":
        return f"is too long (at most {error.validator_value} characters, found {len(error.instance)})"
    if v == "uniqueItems":
        return "has the same item twice"
    if v == "minLength":
        return f"is too short (at least {error.validator_value} characters)"
    if v == "pattern":
        return f"{error.instance!r} must be a slug: lower-case letters, digits, '-' or '_'"
    return error.message


def _where(exc: yaml.YAMLError):
    """The mark (line) and the problem a YAML error names; a scanner or parser error has both, others neither."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return exc.problem_mark, exc.problem
    return None, None
