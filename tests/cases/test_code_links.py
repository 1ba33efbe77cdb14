"""Where each professional code can be read: one link per code in data/codes.yaml, never taken for a section."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from widgets.cases.casefile import code_link, code_registry
from widgets.errors import DualroleError
from widgets.paths import data_dir, read_schema

PUBLISHERS = {"APA": "www.apa.org", "ACA": "www.counseling.org", "AAMFT": "www.aamft.org",
              "NASW": "www.socialworkers.org"}


def test_every_shipped_code_a_case_may_cite_links_to_its_publisher():
    from widgets.cases.casefile import shipped_codes

    assert shipped_codes() == set(PUBLISHERS)  # the codes come from the registry, not a list in the schema
    assert "enum" not in json.dumps(read_schema("case")["properties"]["codes"])
    for code, host in PUBLISHERS.items():
        url = urlparse(code_link(code))
        assert url.scheme == "https" and url.netloc == host, code_link(code)


def test_the_links_are_not_a_code_and_sections_still_resolve():
    registry = code_registry()
    assert set(registry) == set(PUBLISHERS)
    assert registry["NASW"]["1.06(c)"] == "Dual or multiple relationships with clients or former clients"
    assert all(not section.startswith("http") for sections in registry.values() for section in sections)


def test_a_case_citing_links_as_a_code_is_refused(tmp_path):
    from widgets.cases.casefile import read_case_file

    source = (data_dir() / "cases" / "cosmetics.md").read_text(encoding="utf-8")
    broken = source.replace("{code: APA,", "{code: links,", 1)
    assert broken != source
    path = tmp_path / "cosmetics.md"
    path.write_text(broken, encoding="utf-8")
    _, _, problems = read_case_file(path)
    assert any(p.field and p.field.startswith("codes[") and p.field.endswith("].code") for p in problems), problems


def test_an_unknown_code_names_the_file_and_the_codes_that_have_links():
    with pytest.raises(DualroleError, match=r"data/codes.yaml: links.BACP: .*AAMFT, ACA, APA, NASW"):
        code_link("BACP")


def test_supervision_sections_and_public_rules_are_registered_apart_from_the_codes():
    from widgets.cases.casefile import law_registry

    registry = code_registry()
    # A family therapist who supervises is bound by AAMFT 4.x; a counselor-supervisor by ACA F.3.b, not F.3.a.
    assert {"4.1", "4.3", "4.6"} <= set(registry["AAMFT"])
    assert "prohibited" in registry["ACA"]["F.3.b"] and "Extending" in registry["ACA"]["F.3.a"]
    assert {"1.03", "6.04"} <= set(registry["APA"])
    law = law_registry()
    assert "must notify" in law["DoDI 6490.08"] and "about 18 states and Puerto Rico" in law["Child abuse reporting"]
    assert set(law).isdisjoint(registry) and "law" not in registry
