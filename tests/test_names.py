"""Author names from CSL-JSON and BibTeX keep the family-name boundary through to every output.

A multi-word family name ("García Márquez") used to be split at its last space because the
readers stored "Given Family" strings; an organisation ("OpenAI Research Team") became
"Team, OpenAI Research". These tests read real files in both formats and check the short
citation on the page, the author line, the BibTeX (parsed back with bibtexparser) and the
CSL-JSON item.
"""

from __future__ import annotations

import json

import bibtexparser
import pytest
from bibtexparser import middlewares

from generator import bibliography as bib
from generator import render
from generator.display import person_name
from generator.providers.library_readers import read_bibtex, read_csl_json

CSL_ITEMS = [
    {"id": "gm", "type": "article-journal", "title": "Reasoning under uncertainty in large language models",
     "issued": {"date-parts": [[2024, 3]]}, "container-title": "Journal of Machine Learning Research",
     "author": [{"family": "García Márquez", "given": "Gabriel"}, {"literal": "OpenAI Research Team"},
                {"family": "Cruz", "non-dropping-particle": "de la", "given": "María"}]},
    {"id": "two", "type": "article-journal", "title": "Alignment and capability in two languages",
     "issued": {"date-parts": [[2024]]}, "container-title": "Transactions of the ACL",
     "author": [{"family": "García Márquez", "given": "Gabriel"}, {"literal": "OpenAI Research Team"}]},
    {"id": "king", "type": "article-journal", "title": "Speech corpora for dialogue",
     "issued": {"date-parts": [[2023]]}, "container-title": "Speech Communication",
     "author": [{"family": "King", "given": "Martin Luther", "suffix": "Jr."}]},
]

BIBTEX = r"""@article{garcia2024,
  title = {Reasoning under uncertainty in large language models},
  author = {Garc{\'i}a M{\'a}rquez, Gabriel and {OpenAI Research Team}},
  journal = {Journal of Machine Learning Research},
  year = {2024},
}

@article{cruz2023,
  title = {Speech corpora for dialogue},
  author = {De La Cruz, Mar{\'i}a and van der Berg, Jr, Jan and Plato},
  journal = {Speech Communication},
  year = {2023},
}
"""


@pytest.fixture()
def csl_records(tmp_path):
    path = tmp_path / "library.csl.json"
    path.write_text(json.dumps(CSL_ITEMS, ensure_ascii=False), encoding="utf-8")
    return {r.id.removeprefix("lib:"): r.to_dict() for r in read_csl_json(path)}


@pytest.fixture()
def bib_records(tmp_path):
    path = tmp_path / "library.bib"
    path.write_text(BIBTEX, encoding="utf-8")
    return {r.id.removeprefix("lib:"): r.to_dict() for r in read_bibtex(path)}


def test_csl_names_keep_family_boundary_and_organisations(csl_records):
    rec = csl_records["gm"]
    assert rec["authors"] == ["García Márquez, Gabriel", "{OpenAI Research Team}", "de la Cruz, María"]
    assert render.short_cite(rec) == "García Márquez et al. 2024"
    assert render.short_cite(csl_records["two"]) == "García Márquez and OpenAI Research Team 2024"
    assert render.short_cite({**rec, "authors": rec["authors"][:1]}) == "García Márquez 2024"
    assert render.short_cite({**rec, "authors": rec["authors"][1:2]}) == "OpenAI Research Team 2024"
    assert render.authors_short(csl_records["two"]["authors"]) == "Gabriel García Márquez and OpenAI Research Team"
    assert render.short_cite(csl_records["king"]) == "King 2023"
    assert render.authors_short(csl_records["king"]["authors"]) == "Martin Luther King Jr."


def test_csl_export_has_family_given_and_literal(csl_records):
    items = {i["title"]: i for i in bib.to_csl_json(list(csl_records.values()))}
    assert items[CSL_ITEMS[0]["title"]]["author"] == [
        {"family": "García Márquez", "given": "Gabriel"},
        {"literal": "OpenAI Research Team"},
        {"family": "Cruz", "non-dropping-particle": "de la", "given": "María"},
    ]
    assert items[CSL_ITEMS[2]["title"]]["author"] == [{"family": "King", "given": "Martin Luther", "suffix": "Jr."}]
    assert bib.citation_keys([csl_records["gm"]]) == {"lib:gm": "garciamarquez2024reasoning"}


def _parsed_names(text: str) -> dict[str, list]:
    library = bibtexparser.parse_string(text, append_middleware=[middlewares.SeparateCoAuthors(),
                                                                 middlewares.SplitNameParts()])
    assert not library.failed_blocks
    return {e.fields_dict["title"].value: e.fields_dict["author"].value for e in library.entries}


def test_bibtex_export_parses_back_to_the_same_names(csl_records):
    names = _parsed_names(bib.to_bibtex(list(csl_records.values())))
    gm, org, cruz = names[CSL_ITEMS[0]["title"]]
    assert (gm.last, gm.first) == (["García", "Márquez"], ["Gabriel"])
    assert (org.last, org.first) == (["{OpenAI Research Team}"], [])
    assert (cruz.von, cruz.last, cruz.first) == (["de", "la"], ["Cruz"], ["María"])
    (king,) = names["Speech corpora for dialogue"]
    assert (king.last, king.jr, king.first) == (["King"], ["Jr."], ["Martin", "Luther"])


def test_bibtex_reader_keeps_family_boundary_and_braced_organisations(bib_records):
    rec = bib_records["garcia2024"]
    assert rec["authors"] == ["García Márquez, Gabriel", "{OpenAI Research Team}"]
    assert render.short_cite(rec) == "García Márquez and OpenAI Research Team 2024"
    other = bib_records["cruz2023"]
    assert other["authors"] == ["De La Cruz, María", "van der Berg, Jr, Jan", "Plato"]
    assert render.short_cite(other) == "De La Cruz et al. 2023"
    assert [bib.split_name(a) for a in other["authors"]] == [
        {"family": "De La Cruz", "given": "María"},
        {"family": "Berg", "non-dropping-particle": "van der", "suffix": "Jr", "given": "Jan"},
        {"literal": "Plato"},
    ]
    # Through the export and back: the same name parts.
    names = _parsed_names(bib.to_bibtex([rec, other]))
    gm, org = names[rec["title"]]
    assert (gm.last, gm.first, org.last) == (["García", "Márquez"], ["Gabriel"], ["{OpenAI Research Team}"])
    cruz, berg, plato = names[other["title"]]
    assert (cruz.last, cruz.first) == (["De", "La", "Cruz"], ["María"])
    assert (berg.von, berg.last, berg.jr, berg.first) == (["van", "der"], ["Berg"], ["Jr"], ["Jan"])
    assert (plato.last, plato.first) == (["{Plato}"], [])


def test_arxiv_given_family_names_keep_the_heuristic():
    assert bib.split_name("Jan van der Berg") == {"family": "Berg", "non-dropping-particle": "van der", "given": "Jan"}
    assert bib.split_name("Gabriel García") == {"family": "García", "given": "Gabriel"}
    assert render.short_cite({"authors": ["Jan van der Berg"], "year": 2021}) == "van der Berg 2021"
    assert person_name("Jan van der Berg") == "Jan van der Berg"


@pytest.mark.parametrize("stored, shown, parts", [
    ("García Márquez, Gabriel", "Gabriel García Márquez", {"family": "García Márquez", "given": "Gabriel"}),
    ("De La Cruz, María", "María De La Cruz", {"family": "De La Cruz", "given": "María"}),
    ("{OpenAI Research Team}", "OpenAI Research Team", {"literal": "OpenAI Research Team"}),
    ("{Barnes, Noble and Co.}", "Barnes, Noble and Co.", {"literal": "Barnes, Noble and Co."}),
    ("King, Jr., Martin Luther", "Martin Luther King Jr.", {"family": "King", "suffix": "Jr.", "given": "Martin Luther"}),
    ("{\\'E}mile Zola", "{\\'E}mile Zola", {"family": "Zola", "given": "{\\'E}mile"}),
])
def test_name_forms(stored, shown, parts):
    assert person_name(stored) == shown
    assert bib.split_name(stored) == parts


def test_split_name_gives_a_fresh_dict_each_time():
    # split_name is cached: a caller that changes what it got must not change the next answer.
    first = bib.split_name("Gabriel García Márquez")
    first["family"] = "changed"
    assert bib.split_name("Gabriel García Márquez") == {"family": "Márquez", "given": "Gabriel García"}
