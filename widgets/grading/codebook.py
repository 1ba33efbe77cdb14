"""A researcher's codebook for learners' written reasoning, as YAML and as a REFI-QDA codebook (``.qdc``).

The YAML file is checked like a rubric: against ``data/schema/codebook.schema.json``, with every
problem named by file, line and field. The same codebook goes to and comes from the qualitative
analysis tools (QualCoder, NVivo, ATLAS.ti, MAXQDA) as a ``.qdc`` file of the REFI-QDA standard,
checked against the standard's published ``Codebook.xsd`` (``data/schema/refi_qda/``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

from widgets.cases.casefile import line_in_yaml, read_yaml_file
from widgets.errors import CaseProblem, DualroleError, InvalidFile
from widgets.paths import data_dir, read_schema

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
# Every GUID dualrole writes is a name-based UUID under this namespace: the same codebook, code or
# answer gets the same GUID in every export, so a researcher's tool recognises it when it comes back.
GUID_NAMESPACE = uuid.UUID("5b0e4d3c-7a51-4f52-9d1e-64756172c001")
# The keys of the coding screen, in code order; codes after the tenth are applied with their checkbox.
CODE_KEYS = "1234567890"
_FIELDS = ("Example", "Counter-example", "Code id")


@dataclass(frozen=True)
class Code:
    """One code: what it means, one sentence that is an instance and one that is not."""

    id: str
    name: str
    definition: str
    example: str
    counter_example: str
    group: str = ""
    color: str = ""

    @property
    def guid(self) -> str:
        """The code's REFI-QDA GUID (the same in every export)."""
        return guid("code", self.id)


@dataclass(frozen=True)
class Codebook:
    """A codebook: codes in order, with an id, a title and the author's version number.

    ``version`` is a short hash of everything that gives a code its meaning, so a coding records
    exactly which codebook it was made under.
    """

    id: str
    title: str
    codes: tuple[Code, ...]
    description: str = ""
    number: int = 1

    @property
    def version(self) -> str:
        content = {"id": self.id, "version": self.number,
                   "codes": [[c.id, c.name, c.definition] for c in self.codes]}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:16]

    def code(self, code_id: str) -> Code:
        """The code with this id; ``KeyError`` if there is none."""
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    @property
    def ids(self) -> list[str]:
        """The code ids, in order."""
        return [c.id for c in self.codes]

    def key_of(self, code_id: str) -> str:
        """The coding screen's key for a code ('' past the tenth)."""
        index = self.ids.index(code_id)
        return CODE_KEYS[index] if index < len(CODE_KEYS) else ""


def guid(kind: str, name: str) -> str:
    """A stable REFI-QDA GUID for one thing of a kind (``code``, ``source``, ``case``...)."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}/{name}")).upper()


def default_codebook_path() -> Path:
    """The shipped codebook's file."""
    return data_dir() / "codebooks" / "ethical_reasoning_codes.yaml"


def default_codebook() -> Codebook:
    """The shipped codebook: five principles and five moves of the reasoning."""
    return load_codebook(default_codebook_path())


def load_codebook(path: Path | str) -> Codebook:
    """Read and check a codebook, YAML or ``.qdc``; raise :class:`~widgets.errors.InvalidFile` listing every problem.

    Example::

        >>> load_codebook("my_codebook.yaml").codes[0].name      # doctest: +SKIP
        'Principle: autonomy'
    """
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        return read_qdc(path)
    import jsonschema

    data, problems = read_yaml_file(path, jsonschema.Draft202012Validator(read_schema("codebook")))
    if data is not None and not problems:
        seen: dict[str, set] = {"id": set(), "name": set()}
        for i, c in enumerate(data["codes"]):
            for field in ("id", "name"):
                if c[field] in seen[field]:
                    problems.append(CaseProblem(path, line_in_yaml(path, ["codes", i, field]), f"codes[{i}].{field}",
                                                f"duplicate code {field} '{c[field]}'"))
                seen[field].add(c[field])
            if c.get("group") and c["group"] in {x["id"] for x in data["codes"]}:
                problems.append(CaseProblem(path, line_in_yaml(path, ["codes", i, "group"]), f"codes[{i}].group",
                                            f"group '{c['group']}' is also a code id; give the group another name"))
    if problems or data is None:
        raise InvalidFile(problems)
    return Codebook(
        id=data["id"], title=data["title"], number=data["version"], description=data.get("description", "").strip(),
        codes=tuple(Code(c["id"], c["name"], c["definition"].strip(), c["example"].strip(),
                         c["counter_example"].strip(), c.get("group", ""), c.get("color", ""))
                    for c in data["codes"]),
    )


# -- REFI-QDA ------------------------------------------------------------------------------------


def code_description(code: Code) -> str:
    """A code's REFI-QDA ``Description``: the definition, then the example, counter-example and id, labelled."""
    return (f"{code.definition}\n\nExample: {code.example}\n\nCounter-example: {code.counter_example}"
            f"\n\nCode id: {code.id}")


def code_elements(codebook: Codebook, parent: ET.Element, ns: str) -> None:
    """The codebook as REFI-QDA ``Code`` elements under ``parent``: each group a code that is not codable."""
    groups: dict[str, ET.Element] = {}
    for code in codebook.codes:
        holder = parent
        if code.group:
            if code.group not in groups:
                groups[code.group] = ET.SubElement(parent, f"{{{ns}}}Code", guid=guid("group", code.group),
                                                   name=code.group, isCodable="false")
            holder = groups[code.group]
        attrs = {"guid": code.guid, "name": code.name, "isCodable": "true"}
        if code.color:
            attrs["color"] = code.color
        element = ET.SubElement(holder, f"{{{ns}}}Code", attrs)
        ET.SubElement(element, f"{{{ns}}}Description").text = code_description(code)


def qdc_bytes(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA codebook document (``.qdc``), checked against ``Codebook.xsd``."""
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", origin=f"dualrole codebook {codebook.id} v{codebook.number}")
    code_elements(codebook, ET.SubElement(root, f"{{{CODEBOOK_NS}}}Codes"), CODEBOOK_NS)
    ET.register_namespace("", CODEBOOK_NS)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    problems = schema_problems(data, "Codebook")
    if problems:
        raise DualroleError("internal: the codebook does not match the REFI-QDA schema: " + problems[0])
    return data


def write_qdc(codebook: Codebook, path: Path | str) -> Path:
    """Write the codebook as a ``.qdc`` file for QualCoder, NVivo, ATLAS.ti or MAXQDA."""
    path = Path(path)
    path.write_bytes(qdc_bytes(codebook))
    return path


def read_qdc(path: Path | str, *, codebook_id: str | None = None) -> Codebook:
    """Read a REFI-QDA codebook (``.qdc``), checked against ``Codebook.xsd``, into a :class:`Codebook`.

    Codable codes become codes, in document order; a code above them becomes their group. A
    description written by dualrole gives back the definition, example and counter-example; one
    written elsewhere becomes the definition, with the example and counter-example left to write.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidFile([CaseProblem(path, None, None, f"cannot be read: {exc.strerror}")]) from None
    problems = schema_problems(data, "Codebook")
    if problems:
        raise InvalidFile([CaseProblem(path, *_xml_where(p), p) for p in problems[:20]])
    root = ET.fromstring(data)
    codes = tuple(codes_from_xml(root.find(f"{{{CODEBOOK_NS}}}Codes"), CODEBOOK_NS))
    if not codes:
        raise InvalidFile([CaseProblem(path, None, "Codes", "holds no codable code")])
    stem = re.sub(r"[^a-z0-9_-]+", "_", path.stem.lower()).strip("_") or "codebook"
    return Codebook(id=codebook_id or stem, title=path.stem, codes=codes)


def codes_from_xml(parent: ET.Element | None, ns: str, group: str = ""):
    """The codable ``Code`` elements under ``parent`` (depth first) as codes, with their GUIDs."""
    if parent is None:
        return
    for element in parent.findall(f"{{{ns}}}Code"):
        if element.get("isCodable") in ("true", "1"):
            fields = _description_fields(element.findtext(f"{{{ns}}}Description") or "")
            name = element.get("name", "")
            code_id = fields.get("Code id") or re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "code"
            yield Code(code_id, name, fields["definition"] or name, fields.get("Example", ""),
                       fields.get("Counter-example", ""), group, element.get("color", ""))
        yield from codes_from_xml(element, ns, element.get("name", "") if element.get("isCodable") not in
                                  ("true", "1") else group)


def _description_fields(text: str) -> dict[str, str]:
    parts = re.split(r"\n\n(?=(?:%s): )" % "|".join(map(re.escape, _FIELDS)), text.strip())
    out = {"definition": parts[0] if parts and not any(parts[0].startswith(f + ": ") for f in _FIELDS) else ""}
    for part in parts:
        for field in _FIELDS:
            if part.startswith(field + ": "):
                out[field] = part[len(field) + 2:].strip()
    return out


@lru_cache(maxsize=None)
def _schema(name: str):
    import xmlschema  # slow to import: on first use

    return xmlschema.XMLSchema(str(data_dir() / "schema" / "refi_qda" / f"{name}.xsd"))


@lru_cache(maxsize=None)
def _fast_schema(name: str):
    """The same XML Schema compiled by libxml2 (lxml), when it is installed; None otherwise. It checks
    a project about ten times faster than xmlschema (every export is checked as it is written)."""
    try:
        from lxml import etree
    except ImportError:
        return None
    return etree.XMLSchema(etree.parse(str(data_dir() / "schema" / "refi_qda" / f"{name}.xsd")))


def _valid_fast(data: bytes, name: str) -> bool:
    """True only when libxml2 finds ``data`` valid; anything else goes to xmlschema, which words the problems."""
    schema = _fast_schema(name)
    if schema is None:
        return False
    from lxml import etree

    # Nothing outside the file is read: no entities resolved, no DTD loaded, no network.
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        return bool(schema.validate(etree.fromstring(data, parser)))
    except (etree.LxmlError, ValueError):
        return False


def schema_problems(data: bytes, name: str) -> list[str]:
    """Every way ``data`` breaks the REFI-QDA schema ``name`` (``Project`` or ``Codebook``); empty when valid."""
    if _valid_fast(data, name):
        return []
    import xmlschema

    try:
        return [f"{e.path or ''}: {e.reason}" for e in _schema(name).iter_errors(data.decode("utf-8"))]
    except (xmlschema.XMLSchemaException, ET.ParseError, UnicodeDecodeError, ValueError) as exc:
        return [f"not well-formed XML: {exc}"]


def _xml_where(problem: str) -> tuple[int | None, str | None]:
    line = re.search(r"line (\d+)", problem)
    return (int(line.group(1)) if line else None), None
