"""One bibliography, in APA style, generated from the case library, and the check on lessons' citations.

``python -m tools.references`` reads every case's ``sources`` and the professional codes the cases
cite, formats each reference in APA style, removes duplicates and writes the list into
``notebooks/references.ipynb`` (with its navigation cells); ``--check`` fails when that notebook is
stale. :func:`missing_citations` lists every author-year citation in a lesson (``Woody (1998)``,
``Lazarus and Zur (2002)``, ``(Schank and Skovholt 1997, 2006)``) that the bibliography lacks.

A source written as an APA reference (``Author, A. A., & Author, B. B. (Year). Title. Container,
volume(issue), pages.``) is parsed and formatted. A few sources are notes rather than references
(a law, a regulation, a blog post, a set of surveys cited only by author and year); ``NOTES`` renders
each of those by hand from what the note itself says. Nothing is added that the case files do not
give: a missing volume or page range stays missing. A source that is neither stops the generator with
the case file and the source's position, so a new case cannot slip an unformatted entry in.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools import curriculum
from tools.generated import regenerate
from widgets.cases import validate_paths
from widgets.cases.library import Case
from widgets.paths import data_dir

NOTEBOOK = curriculum.NOTEBOOKS / "references.ipynb"
STEM = "references"

_APA = re.compile(r"^(?P<authors>.+?)\s\((?P<year>\d{4}[a-z]?|n\.d\.)\)\.\s(?P<rest>.+)$")
_SURNAME = re.compile(r"([A-Z][A-Za-z'\-]+(?: [A-Z][A-Za-z'\-]+)*),\s(?:[A-Z]\.\s?(?:-[A-Z]\.\s?)?)+")
_CONTAINER = re.compile(
    r"^(?P<title>.+?[.?!])\s(?P<container>[^.?!]+?)"
    r"(?:,\s(?P<volume>\d+)(?:\((?P<issue>[^)]+)\))?(?:,\s(?P<pages>\d+)\s*[-–]\s*(?P<end>\d+))?)?\.$"
)


@dataclass(frozen=True)
class Reference:
    """One bibliography entry: who, when, and the APA-formatted Markdown."""

    names: tuple[str, ...]
    year: str
    markdown: str
    et_al: bool = False
    aliases: tuple[str, ...] = ()  # short names a lesson may cite it by (``ACA`` for the ACA code)
    sort_key: str = field(default="", compare=False)

    def cited_by(self, names: tuple[str, ...], year: str, et_al: bool) -> bool:
        """True when an author-year citation names this entry."""
        if year != self.year.rstrip("abcdefghij"):
            return False
        wanted = tuple(n.lower() for n in names)
        own = tuple(n.lower() for n in self.names)
        if wanted == own or (len(wanted) == 1 and wanted[0] in (a.lower() for a in self.aliases)):
            return True
        return et_al and bool(own) and wanted[0] == own[0] and (self.et_al or len(own) >= 3)


# Sources that are notes rather than references: the note's exact text -> its entries, written by hand
# from what the note says. The HIPAA notes are handled by ``_hipaa`` (they differ only in sections).
_SURVEY_NOTE = ("Surveys of therapists' views of post-therapy friendship: Borys & Pope (1989); "
                "Salisbury & Kinnier (1996); Nigro & Uhlemann (2004).")
NOTES: dict[str, list[Reference]] = {
    "Sonne, J. L. Nonsexual multiple relationships: A practical decision-making model for clinicians. "
    "The Independent Practitioner (APA Division 42 award, 2007).": [
        Reference(("Sonne",), "n.d.", "Sonne, J. L. (n.d.). Nonsexual multiple relationships: A practical "
                  "decision-making model for clinicians. *The Independent Practitioner*. "
                  "https://kspope.com/site/multiple-relationships.php (The article received APA Division 42's "
                  "2007 award for the best CE article in the journal; its issue and year of publication are "
                  "not yet verified, so it is dated n.d.)"),
    ],
    "Restoring Balance (2015, updated 2021). Why your therapist won't have coffee with you. Blog post, "
    "restoringbalance.health (the scenario this case adapts).": [
        Reference(("Restoring Balance",), "2021", "Restoring Balance. (2021). *Why your therapist won't have "
                  "coffee with you* [Blog post]. restoringbalance.health (Original work published 2015)"),
    ],
    "Child Abuse Prevention and Treatment Act (CAPTA), federal law requiring every state to have "
    "child-abuse reporting laws.": [
        Reference(("Child Abuse Prevention and Treatment Act",), "n.d.",
                  "*Child Abuse Prevention and Treatment Act* (CAPTA) [United States federal law requiring "
                  "every state to have child-abuse reporting laws]."),
    ],
    "Child Welfare Information Gateway. (2023). Mandatory reporters of child abuse and neglect (state statutes "
    "series, current through May 2023). Children's Bureau, U.S. Department of Health and Human Services.": [
        Reference(("Child Welfare Information Gateway",), "2023",
                  "Child Welfare Information Gateway. (2023). *Mandatory reporters of child abuse and neglect* "
                  "[State statutes series, current through May 2023]. U.S. Department of Health and Human "
                  "Services, Administration for Children and Families, Children's Bureau."),
    ],
    "Department of Defense Instruction 6490.08 (command notification requirements to dispel stigma in providing "
    "mental health care to service members; reissued 2023) and 6490.04 (mental health evaluations of members of "
    "the military services).": [
        Reference(("U.S. Department of Defense",), "2023", "U.S. Department of Defense. (2023). *Command "
                  "notification requirements to dispel stigma in providing mental health care to service members* "
                  "(DoD Instruction 6490.08; reissued 6 September 2023)."),
        Reference(("U.S. Department of Defense",), "n.d.", "U.S. Department of Defense. (n.d.). *Mental health "
                  "evaluations of members of the military services* (DoD Instruction 6490.04; the edition in "
                  "force is not yet verified, so it is dated n.d.)."),
    ],
    "National Conference of State Legislatures (2013), tally of state duty-to-warn and duty-to-protect "
    "laws (mandatory, permissive or none; other tallies differ).": [
        Reference(("National Conference of State Legislatures",), "2013",
                  "National Conference of State Legislatures. (2013, January). *Mental health professionals' "
                  "duty to warn* [State-by-state table: mandatory, permissive or none]. "
                  "https://www.ncsl.org/health/mental-health-professionals-duty-to-warn (Other tallies differ.)"),
    ],
    "American Psychological Association. (2022). Guidelines for child custody evaluations in family law "
    "proceedings. American Psychological Association.": [
        Reference(("American Psychological Association",), "2022",
                  "American Psychological Association. (2022). *Guidelines for child custody evaluations in family "
                  "law proceedings*. American Psychological Association.", aliases=("APA",)),
    ],
    "American Psychological Association. (2013). Specialty guidelines for forensic psychology. American "
    "Psychologist, 68(1), 7-19.": [
        Reference(("American Psychological Association",), "2013",
                  "American Psychological Association. (2013). Specialty guidelines for forensic psychology. "
                  "*American Psychologist, 68*(1), 7-19.", aliases=("APA",)),
    ],
    "Tarasoff v. Regents of the University of California, 17 Cal. 3d 425 (1976).": [
        Reference(("Tarasoff",), "1976", "*Tarasoff v. Regents of the University of California*, "
                  "17 Cal. 3d 425 (1976).", sort_key="tarasoff v. regents"),
    ],
    _SURVEY_NOTE: [
        Reference(("Borys", "Pope"), "1989", "Borys, D. S., & Pope, K. S. (1989). Dual relationships between "
                  "therapist and client: A national study of psychologists, psychiatrists, and social workers. "
                  "*Professional Psychology: Research and Practice, 20*(5), 283-293."),
        Reference(("Salisbury", "Kinnier"), "1996", "Salisbury, W. A., & Kinnier, R. T. (1996). Posttermination "
                  "friendship between counselors and clients. *Journal of Counseling & Development, 74*(5), "
                  "495-500."),
        Reference(("Nigro", "Uhlemann"), "2004", "Nigro, T., & Uhlemann, M. R. (2004). Dual relationships in "
                  "counselling: A survey of British Columbian counsellors. *Canadian Journal of Counselling, "
                  "38*(1), 36ff. (A Canadian sample; the article's last page is not yet verified.)"),
    ],
}

# Works the lessons themselves cite (not a case's source): the teaching method the cards follow.
LESSON_WORKS: tuple[Reference, ...] = (
    Reference(("Mazur",), "1997", "Mazur, E. (1997). *Peer instruction: A user's manual*. Prentice Hall."),
    Reference(("Crouch", "Mazur"), "2001", "Crouch, C. H., & Mazur, E. (2001). Peer instruction: Ten years of "
              "experience and results. *American Journal of Physics, 69*(9), 970-977."),
)

# The four codes the cases cite by section, with the editions data/codes.yaml registers.
CODES: dict[str, Reference] = {
    "APA": Reference(("American Psychological Association",), "2017",
                     "American Psychological Association. (2017). *Ethical principles of psychologists and "
                     "code of conduct* (2002, amended 2010 and 2016).", aliases=("APA",)),
    "ACA": Reference(("American Counseling Association",), "2014",
                     "American Counseling Association. (2014). *ACA code of ethics*.", aliases=("ACA",)),
    "AAMFT": Reference(("American Association for Marriage and Family Therapy",), "2015",
                       "American Association for Marriage and Family Therapy. (2015). *AAMFT code of ethics*.",
                       aliases=("AAMFT",)),
    "NASW": Reference(("National Association of Social Workers",), "2021",
                      "National Association of Social Workers. (2021). *Code of ethics of the National "
                      "Association of Social Workers* (1996, revised 1999, 2008, 2017 and 2021).",
                      aliases=("NASW",)),
}

_HIPAA = re.compile(r"^HIPAA Privacy Rule, 45 CFR (?P<sections>.+?)(?:; (?P<ocr>HHS Office for Civil Rights.*))?$")
_OCR = [
    Reference(("U.S. Department of Health and Human Services, Office for Civil Rights",), "2019",
              "U.S. Department of Health and Human Services, Office for Civil Rights. (2019). [Settlement with "
              "Elite Dental Associates over replies to patients' online reviews]."),
    Reference(("U.S. Department of Health and Human Services, Office for Civil Rights",), "2022",
              "U.S. Department of Health and Human Services, Office for Civil Rights. (2022). [Settlement with "
              "New Vision Dental over replies to patients' online reviews]."),
]


class SourceError(ValueError):
    """A case's source is neither an APA reference nor a note this module knows how to render."""


def format_apa(source: str) -> Reference | None:
    """An APA-shaped source formatted with its container (or a book's title) in italics; None if not APA."""
    match = _APA.match(source.strip())
    if not match:
        return None
    authors, year, rest = match["authors"], match["year"], match["rest"]
    names = tuple(_SURNAME.findall(authors))
    if not names:
        return None
    et_al = "et al." in authors
    part = _CONTAINER.match(rest)
    if part and (part["volume"] or _is_journal(part["container"])):
        body = f"{part['title']} *{part['container']}*"
        if part["volume"]:
            body += f", *{part['volume']}*" + (f"({part['issue']})" if part["issue"] else "")
        if part["pages"]:
            body += f", {part['pages']}–{part['end']}"
        body += "."
    elif part:  # a book: the title in italics, then the publisher
        title = part["title"]
        body = f"*{title[:-1]}*{title[-1]} {part['container']}."
    else:
        body = rest
    return Reference(names, year, f"{authors} ({year}). {body}", et_al=et_al)


_JOURNALS: set[str] = set()
# A container without a volume is still a journal when its name says so; a publisher's name does not.
_JOURNAL_WORDS = re.compile(r"\b(?:Journal|Medicine|Psychiatry|Psychology|Psychotherapy|Review|Practice)\b")


def _is_journal(container: str) -> bool:
    return container in _JOURNALS or bool(_JOURNAL_WORDS.search(container))


def _hipaa(sources: list[str]) -> list[Reference]:
    """The HIPAA notes collapse into one entry for the Privacy Rule (every section any case names)
    and one per Office for Civil Rights settlement."""
    sections: list[str] = []
    ocr = False
    for source in sources:
        match = _HIPAA.match(source)
        sections += re.findall(r"164\.\d+(?:\([a-z0-9]+\))?", match["sections"])
        ocr = ocr or bool(match["ocr"])
    ordered = sorted(set(sections), key=lambda s: [int(n) if n.isdigit() else n for n in re.findall(r"\d+|\D+", s)])
    rule = Reference(("HIPAA Privacy Rule",), "n.d.",
                     "*HIPAA Privacy Rule*, 45 C.F.R. §§ " + ", ".join(ordered) + ".", sort_key="hipaa privacy rule")
    return [rule, *(_OCR if ocr else [])]


def _shipped_cases() -> list[Case]:
    """The shipped case library (an instructor's own folders have their own sources)."""
    cases, problems = validate_paths([data_dir() / "cases"])
    if problems:
        raise SourceError("\n".join(str(p) for p in problems))
    return cases


def bibliography(cases: list[Case] | None = None) -> list[Reference]:
    """Every reference the case library draws on, deduplicated and in APA order."""
    cases = _shipped_cases() if cases is None else cases
    sources = [(case.path, i, source) for case in cases for i, source in enumerate(case.sources)]
    # A container seen with a volume anywhere is a journal, so an entry that omits the volume is still
    # formatted as an article, not a book.
    _JOURNALS.clear()
    for _, _, source in sources:
        match = _APA.match(source)
        part = _CONTAINER.match(match["rest"]) if match else None
        if part and part["volume"]:
            _JOURNALS.add(part["container"])
    entries: list[Reference] = []
    hipaa: list[str] = []
    for path, i, source in sources:
        if source in NOTES:
            entries += NOTES[source]
        elif _HIPAA.match(source):
            hipaa.append(source)
        elif (ref := format_apa(source)) is not None:
            entries.append(ref)
        else:
            raise SourceError(f"{path}: sources[{i}]: not an APA reference and not a known note: {source!r} "
                              "(write it as Author, A. A. (Year). Title. Container, volume(issue), pages.)")
    entries += _hipaa(hipaa) if hipaa else []
    entries += [CODES[code] for code in sorted({ref["code"] for case in cases for ref in case.codes})]
    entries += LESSON_WORKS
    return _deduplicated(entries)


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", re.sub(r"[*_]", "", text).lower()).strip()


def _deduplicated(entries: list[Reference]) -> list[Reference]:
    """One entry per reference, whatever its spelling in each case; same author and year with
    different works get APA's a, b suffixes."""
    unique: dict[str, Reference] = {}
    for ref in entries:
        unique.setdefault(_normal(ref.markdown), ref)
    by_key: dict[tuple, list[Reference]] = {}
    for ref in unique.values():
        by_key.setdefault((tuple(n.lower() for n in ref.names), ref.year), []).append(ref)
    out = []
    for (_, year), group in by_key.items():
        if len(group) > 1 and year.isdigit():
            group = sorted(group, key=lambda r: _normal(r.markdown))
            group = [Reference(r.names, f"{year}{chr(97 + k)}",
                               r.markdown.replace(f"({year})", f"({year}{chr(97 + k)})", 1),
                               r.et_al, r.aliases, r.sort_key) for k, r in enumerate(group)]
        out += group
    return sorted(out, key=lambda r: (r.sort_key or _normal(r.markdown)))


# -- citations in lessons ----------------------------------------------------------------------

_NAME = r"[A-Z][A-Za-z'’\-]+"
_YEARS = r"(?:1[89]|20)\d\d[a-z]?(?:,\s(?:1[89]|20)\d\d[a-z]?)*"
CITATION = re.compile(
    rf"(?P<names>(?P<org>APA|ACA|AAMFT|NASW)(?:\sCode)?|{_NAME}(?:(?:\s(?:and|&)\s|,\s){_NAME})*(?P<etal>\set\sal\.)?)"
    rf"(?:['’]s)?(?:,?\s\((?P<narrative>{_YEARS})\)|,?\s(?P<parenthetical>{_YEARS})(?=[;),]))"
)


@dataclass(frozen=True)
class Citation:
    """One author-year citation found in a lesson."""

    text: str
    names: tuple[str, ...]
    years: tuple[str, ...]
    et_al: bool


def citations(text: str) -> list[Citation]:
    """Every author-year citation in Markdown text: narrative (``Woody (1998)``, ``Henretty and
    Levitt's (2010)``) and parenthetical (``(Borys and Pope, 1989)``, ``(Schank and Skovholt 1997, 2006;
    Lazarus and Zur 2002)``)."""
    found = []
    # Emphasis marks stay: an italic book title followed by a year (``*Ethical Practice in Small
    # Communities* (2006)``) is not an author-year citation.
    plain = text.replace("\n", " ")
    for match in CITATION.finditer(plain):
        years = tuple(re.findall(r"\d{4}[a-z]?", match["narrative"] or match["parenthetical"]))
        if match["org"]:
            names = (match["org"],)
        else:
            raw = match["names"].removesuffix(match["etal"] or "")
            names = tuple(re.sub(r"['’]s$", "", n) for n in re.split(r"\s(?:and|&)\s|,\s", raw) if n)
        found.append(Citation(match.group(0), names, years, bool(match["etal"])))
    return found


def lesson_text(path: Path) -> str:
    """The Markdown of a notebook, without the generated navigation cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n\n".join(
        src for cell in nb["cells"] if cell["cell_type"] == "markdown"
        for src in ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]]
        if not src.startswith(curriculum.NAV)
    )


def lessons() -> list[Path]:
    """The numbered lessons, 00 to 10."""
    return sorted(p for p in curriculum.NOTEBOOKS.glob("*.ipynb") if re.match(r"^\d\d_", p.name))


def missing_citations(paths: list[Path] | None = None, refs: list[Reference] | None = None) -> list[str]:
    """Each author-year citation in a lesson that no bibliography entry matches, as ``file: 'citation'``."""
    refs = bibliography() if refs is None else refs
    missing = []
    for path in lessons() if paths is None else paths:
        for cite in citations(lesson_text(path)):
            for year in cite.years:
                if not any(ref.cited_by(cite.names, year, cite.et_al) for ref in refs):
                    missing.append(f"{path.name}: {cite.text!r} ({' and '.join(cite.names)}, {year}) "
                                   "is not in the bibliography")
    return missing


# -- the notebook ------------------------------------------------------------------------------

INTRO = """\
Every work the cases and lessons draw on, in APA style (7th edition). The lessons cite these by author
and year; each case lists its own sources in its file, and the professional codes appear here in the
editions the cases cite by section number.

A few sources are not publications in the usual sense: a law, a regulation, a court decision, a blog
post. They are listed with a description in square brackets. Where a case file gives no volume, issue
or page range, none is added here, and three surveys the cases cite only by author and year are
marked as still to be completed.

*This list is generated from the case files by `python -m tools.references`; edit a case's `sources`,
not this notebook.*"""


def build_notebook(refs: list[Reference] | None = None) -> dict:
    """The references notebook, with its navigation cells."""
    refs = bibliography() if refs is None else refs
    listing = "\n\n".join(ref.markdown for ref in refs)
    cells = [
        {"cell_type": "markdown", "id": "references-title", "metadata": {}, "source": "# References"},
        {"cell_type": "markdown", "id": "references-intro", "metadata": {}, "source": INTRO},
        {"cell_type": "markdown", "id": "references-list", "metadata": {}, "source": listing},
    ]
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    # The navigation counts this notebook as existing even before its first write.
    listed = [entry for entry in curriculum.LESSONS if entry[0] == STEM or entry in curriculum.existing()]
    return curriculum.with_navigation(nb, STEM, listed)


def render(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def is_current() -> bool:
    """True when ``notebooks/references.ipynb`` is what the case files generate now."""
    return NOTEBOOK.exists() and NOTEBOOK.read_text(encoding="utf-8") == render(build_notebook())


def main(argv: list[str]) -> int | str:
    done = regenerate(argv, NOTEBOOK, lambda: render(build_notebook()), command="tools.references",
                      source_errors=(SourceError,))
    if done == 0 and "--check" not in argv:
        for line in missing_citations():
            print(f"warning: {line}", file=sys.stderr)
    return done


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
