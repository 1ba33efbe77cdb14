"""The case library: load cases by id, list them, validate folders of them.

Imports no ipywidgets, so scripts and the analysis layer can use it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from widgets.cases.casefile import read_case_file, registries, registry_folders
from widgets.errors import CaseError, CaseProblem, UnknownCase
from widgets.paths import case_dirs
from widgets.vocab import MODULES, SCORE_ACCEPTABLE, SCORE_OTHER, SCORE_PREFERRED


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Option:
    """One answer a learner can choose."""

    id: str
    label: str
    stance: str
    rationale: str
    pinned: bool = False


@dataclass(frozen=True)
class Say:
    """What the learner is asked to say (or write) after the first answer, and the model the reveal shows.

    ``kind`` is ``script`` (words spoken to ``to``: client, caller, colleague...) or ``chart_note``
    (a note for the record, ``to == "record"``). The learner ticks ``checklist`` against their own words.
    """

    kind: str
    to: str
    prompt: str
    checklist: tuple[str, ...]
    model: str

    @property
    def heading(self) -> str:
        """The reveal's heading for the model."""
        return "A model chart note" if self.kind == "chart_note" else "A model script"


@dataclass(frozen=True)
class Case:
    """A validated case: front matter fields plus the body sections."""

    id: str
    title: str
    module: str
    version: int
    options: tuple[Option, ...]
    preferred: tuple[str, ...]
    acceptable: tuple[str, ...]
    contested: bool
    context_dependent: bool
    positions: tuple[dict, ...]
    codes: tuple[dict, ...]
    kitchener: dict
    gottlieb: dict | None
    discussion: tuple[str, ...]
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    setting: str | None
    second_role: bool
    use: str
    vignette: str
    rationale: str
    path: Path
    file_digest: str = field(repr=False)
    request: str | None = None  # the kind of request the case puts (schema: request)
    law: tuple[str, ...] = ()  # registered law notes the case turns on (schema: law), shown in the reveal
    stance_reason: str | None = None  # why its preferred stance differs from same-kind cases, shown in the reveal
    content_note: str | None = None  # what a loaded case contains, shown before its vignette (schema: content_note)
    say: Say | None = None  # the "what would you say" step (schema: say); a lesson case has one

    @functools.cached_property  # a frozen case: hashed once, not for every line collect checks
    def case_version(self) -> str:
        """A short hash of what the learner saw and of how the answer is scored, recorded with every response.

        It covers the front matter's ``version``, the vignette, each option's id and label, and
        the key: the preferred and acceptable options, the contested and context-dependent flags,
        and the positions ethicists take. Rows of one version were answered to the same wording
        and scored by the same key, so a dataset that names its versions can be re-scored exactly.
        A corrected rationale, source or code leaves it unchanged.
        """
        key = {"preferred": list(self.preferred), "acceptable": list(self.acceptable),
               "contested": self.contested, "context_dependent": self.context_dependent,
               "positions": list(self.positions)}
        return _digest({**self._seen, "key": key})

    @functools.cached_property
    def _seen(self) -> dict:
        return {"version": self.version, "vignette": " ".join(self.vignette.split()),
                "options": [[o.id, o.label] for o in self.options]}

    @functools.cached_property
    def current_versions(self) -> frozenset[str]:
        """Versions that name the case as it is now: :attr:`case_version`, and what earlier releases
        recorded instead (the hash of the whole file, then a hash of the wording alone), so their
        stores and bundles stay current."""
        return frozenset({self.case_version, _digest(self._seen), self.file_digest})

    @functools.cached_property  # asked up to three times for each line collect checks
    def option_ids(self) -> tuple[str, ...]:
        """The options' ids, in file order."""
        return tuple(o.id for o in self.options)

    def order_for(self, learner: str) -> tuple[str, ...]:
        """The option ids in the order ``learner`` sees them: shuffled, the same on every reload.

        The shuffle is seeded from the learner and the case, so the file's order (and the position
        of the preferred option in it) tells a learner nothing. A ``pinned`` option keeps its place.

        >>> case = load_case("cosmetics")
        >>> case.order_for("ana") == case.order_for("ana")
        True
        >>> sorted(case.order_for("ana")) == sorted(case.option_ids)
        True
        """
        seed = int.from_bytes(hashlib.sha256(f"{learner}\x00{self.id}".encode("utf-8")).digest()[:8], "big")
        free = [o.id for o in self.options if not o.pinned]
        random.Random(seed).shuffle(free)
        shuffled = iter(free)
        return tuple(o.id if o.pinned else next(shuffled) for o in self.options)

    def option(self, option_id: str) -> Option:
        """The option with this id."""
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(f"case '{self.id}' has no option '{option_id}'")

    def score(self, option_id: str) -> float:
        """1 for a preferred option, 0.5 for an acceptable one, 0 otherwise."""
        if option_id in self.preferred:
            return SCORE_PREFERRED
        if option_id in self.acceptable:
            return SCORE_ACCEPTABLE
        return SCORE_OTHER

    @property
    def reference_stances(self) -> tuple[str, ...]:
        """Stances of the preferred options, in option order."""
        return tuple(o.stance for o in self.options if o.id in self.preferred)

    @property
    def module_number(self) -> int:
        return MODULES[self.module][0]


def parse_case(path: Path | str) -> Case:
    """Read and validate one case file; raise :class:`CaseError` listing every problem.

    Example::

        >>> parse_case("data/cases/cosmetics.md").title   # doctest: +SKIP
        'The cosmetics catalogue'
    """
    path = Path(path)
    front, sections, problems = read_case_file(path)
    if problems:
        raise CaseError(problems)
    return _build(path, front, sections)


def _build(path: Path, front: dict, sections: dict[str, str]) -> Case:
    ref = front["reference"]
    return Case(
        id=front["id"],
        title=front["title"],
        module=front["module"],
        version=front["version"],
        options=tuple(Option(o["id"], o["label"], o["stance"], " ".join(o["rationale"].split()),
                             bool(o.get("pinned", False))) for o in front["options"]),
        preferred=tuple(ref["preferred"]),
        acceptable=tuple(ref.get("acceptable", ())),
        contested=bool(ref.get("contested", False)),
        context_dependent=bool(ref.get("context_dependent", False)),
        positions=tuple(ref.get("positions", ())),
        codes=tuple(front["codes"]),
        kitchener=front["kitchener"],
        gottlieb=front.get("gottlieb"),
        discussion=tuple(front["discussion"]),
        sources=tuple(front["sources"]),
        tags=tuple(front.get("tags", ())),
        setting=front.get("setting"),
        second_role=bool(front.get("second_role", True)),
        use=front.get("use", "lesson"),
        vignette=sections["Vignette"],
        rationale=sections["Reference rationale"],
        path=path,
        file_digest=hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        request=front.get("request"),
        law=tuple(front.get("law", ())),
        stance_reason=" ".join(ref["stance_reason"].split()) if ref.get("stance_reason") else None,
        content_note=" ".join(front["content_note"].split()) if front.get("content_note") else None,
        say=_say(front.get("say")),
    )


def _say(block: dict | None) -> Say | None:
    if not block:
        return None
    return Say(kind=block["kind"], to=block["to"], prompt=" ".join(block["prompt"].split()),
               checklist=tuple(" ".join(item.split()) for item in block["checklist"]),
               model=block["model"].strip())


def same_kind(a: Case, b: Case) -> bool:
    """Whether two cases put the same kind of request under the same codes: both name the same
    ``request``, and they share at least half of the code sections of the one that cites fewer."""
    if not a.request or a.request != b.request:
        return False
    codes_a = {(c["code"], str(c["section"])) for c in a.codes}
    codes_b = {(c["code"], str(c["section"])) for c in b.codes}
    return 2 * len(codes_a & codes_b) >= min(len(codes_a), len(codes_b))


def preferred_stances(case: Case) -> set[str]:
    """The stances of a case's preferred options."""
    return {o.stance for o in case.options if o.id in case.preferred}


def stance_conflicts(cases) -> list[tuple[Case, Case]]:
    """Pairs of same-kind cases (:func:`same_kind`) whose preferred stances share nothing and where
    neither case says why (``reference.stance_reason``). The keys should agree with each other, and
    with what the lessons teach, unless a case gives its one-line reason."""
    cases = list(cases)
    return [(a, b) for i, a in enumerate(cases) for b in cases[i + 1:]
            if same_kind(a, b) and not preferred_stances(a) & preferred_stances(b)
            and not (a.stance_reason or b.stance_reason)]


def case_files(paths: list[Path | str] | None = None) -> list[Path]:
    """Markdown files under the given files or folders (by default every case folder)."""
    out: list[Path] = []
    for p in map(Path, paths or case_dirs()):
        if p.is_dir():
            out += sorted(f for f in p.glob("*.md") if not f.name.startswith((".", "_")) and f.name != "README.md")
        else:
            out.append(p)  # a missing or unreadable file is reported by read_case_file
    return out


def validate_paths(paths: list[Path | str] | None = None) -> tuple[list[Case], list[CaseProblem]]:
    """Validate files or folders; return the good cases and every problem, including duplicate ids and
    those of the instructors' code registries (``codes.yaml`` in a case folder, or in a folder given)."""
    cases: list[Case] = []
    registry = registries(paths)
    # A registry's problems are reported with the folders being validated (every case folder by default).
    folders = {f.resolve() for f in registry_folders(paths)} if paths is None else {
        (Path(p) if Path(p).is_dir() else Path(p).parent).resolve() for p in paths}
    problems: list[CaseProblem] = [p for p in registry.problems if Path(p.path).parent.resolve() in folders]
    first_seen: dict[str, Path] = {}
    for path in case_files(paths):
        front, sections, found = read_case_file(path, registry)
        if found:
            problems += found
            continue
        case = _build(path, front, sections)
        if case.id in first_seen:
            problems.append(CaseProblem(
                path, 2, "id",
                f"duplicate case id '{case.id}': already defined in {first_seen[case.id]} "
                "(choose a new id; a shipped case is never overridden)",
            ))
            continue
        first_seen[case.id] = path
        cases.append(case)
    return cases, problems


class Library:
    """All cases from the shipped folder and any instructor folders, indexed by id."""

    def __init__(self, paths: list[Path | str] | None = None):
        cases, problems = validate_paths(paths)
        self.problems = problems
        self._by_id = {c.id: c for c in cases}

    def __getitem__(self, case_id: str) -> Case:
        try:
            return self._by_id[case_id]
        except KeyError:
            bad = [p for p in self.problems if Path(p.path).stem == case_id]
            if bad:
                raise CaseError(bad) from None
            raise UnknownCase(_unknown_message(case_id, list(self._by_id))) from None

    @classmethod
    def of(cls, cases: list[Case]) -> "Library":
        """A library holding just these cases (a card checks its answers against the case it shows)."""
        library = cls.__new__(cls)
        library.problems = []
        library._by_id = {c.id: c for c in cases}
        return library

    def get(self, case_id: str) -> Case | None:
        """The case with this id, or None."""
        return self._by_id.get(case_id)

    def is_broken(self, case_id: str) -> bool:
        """True when a file for this id exists but has errors."""
        return any(Path(p.path).stem == case_id for p in self.problems)

    def __contains__(self, case_id: str) -> bool:
        return case_id in self._by_id

    def __iter__(self):
        return iter(sorted(self._by_id.values(), key=lambda c: (c.module_number, c.id)))

    def __len__(self) -> int:
        return len(self._by_id)

    def module(self, module: str, use: str = "lesson") -> list[Case]:
        """The cases of one module used in lessons (or, with ``use="assessment"``, in the assessment bank)."""
        if module not in MODULES:
            raise UnknownCase(f"no module '{module}'; modules are: {', '.join(MODULES)}")
        return [c for c in self if c.module == module and c.use == use]


_cache: dict[tuple, Library] = {}


def load_library() -> Library:
    """Every case folder, parsed once and reparsed only when a file is added, removed or edited."""
    stamp = []
    for path in case_files():
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((str(path), None, None))
    key = tuple(stamp)
    if key not in _cache:
        _cache.clear()
        _cache[key] = Library()
    return _cache[key]


def load_case(case_id: str) -> Case:
    """Load one case by id from the shipped library or ``DUALROLE_CASES``."""
    return load_library()[case_id]


def _unknown_message(case_id: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(case_id, known, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"No case with id '{case_id}'.{hint} Run 'dualrole cases' to list them."
