"""Text and identifier normalisation (generator.normalise): API-01, API-02, API-04 and the
real OpenAlex inverted indexes / Crossref JATS / Europe PMC HTML in ../shared/api."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from conftest import shared_path
from generator import normalise as n
from generator.models import Identifiers

ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)


def case(case_id: str) -> dict:
    cases = yaml.safe_load(shared_path("cases", "acceptance.yaml").read_text(encoding="utf-8"))
    return next(c for c in cases if c["id"].startswith(case_id))


# -- entities -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("R&amp;D", "R&D"),
    ("Interactive &Amp; Data-Driven", "Interactive & Data-Driven"),
    ("&AMP; &NBSP;", "& \xa0"),
    ("&amp;lt;75 nm", "&lt;75 nm"),          # exactly one layer
    ("&lt;5%", "<5%"),
    ("caf&#233; &#xE9;", "café é"),
    ("&bogus; and R&D and AT&T", "&bogus; and R&D and AT&T"),
    ("&Delta;G", "ΔG"),                      # exact (case-sensitive) name wins
])
def test_decode_entities_one_layer_case_insensitive(raw, expected):
    assert n.decode_entities(raw) == expected


def test_decoding_twice_is_not_what_one_call_does():
    once = n.decode_entities("&amp;amp;")
    assert once == "&amp;"
    assert n.decode_entities(once) == "&"


# -- markup -----------------------------------------------------------------------------------

def test_api04_crossref_jats_abstract_and_title():
    c = case("API-04")
    message = c["input"]["message"]
    assert n.clean_abstract(message["abstract"]) == c["expected"]["abstract_plain"]
    assert n.clean_title(message["title"][0]) == c["expected"]["title_plain"]


def test_api02_entities_in_inverted_index_and_title():
    c = case("API-02")
    rebuilt = n.rebuild_inverted_index(c["input"]["work"]["abstract_inverted_index"])
    assert n.clean_abstract(rebuilt) == c["expected"]["abstract"]
    assert n.clean_title(c["input"]["title"]) == c["expected"]["title"]


@pytest.mark.parametrize("raw, expected", [
    ("p < 0.05 and <0.5 mV", "p < 0.05 and <0.5 mV"),                     # not tags
    ("a<b and c>d", "a<b and c>d"),
    ("H<sub>2</sub>S and <i>n</i> = 10", "H2S and n = 10"),
    ("<b>Keywords:</b> MRI", "Keywords: MRI"),
    ("<h4>Background</h4>Text one.<h4>Methods</h4>Text two.", "Background\n\nText one.\n\nMethods\n\nText two."),
    ("<jats:title>ABSTRACT</jats:title><jats:p>One.</jats:p>", "One."),
    ("<title>Summary</title><p>One.</p><p>Two.</p>", "One.\n\nTwo."),
    ("<jats:title>Significance</jats:title><jats:p>One.</jats:p>", "Significance\n\nOne."),
    ("C. &lt;i&gt;elegans&lt;/i&gt; vulva", "C. elegans vulva"),           # escaped markup (Europe PMC)
    ("x &lt;0.5 y", "x <0.5 y"),
    ("$\\alpha < \\beta$ holds", "$\\alpha < \\beta$ holds"),              # LaTeX kept
    ("<jats:p>   </jats:p>", None),
    ("", None),
])
def test_markup_to_text(raw, expected):
    assert n.clean_abstract(raw) == expected


def test_jats_pretty_printing_is_not_a_paragraph_break():
    raw = ("<jats:p>\n  (Bj\u00f8rnstad &amp; Grenfell\n\n  <jats:ext-link xmlns:xlink=\"http://www.w3.org/1999/xlink\""
           " xlink:href=\"#b6\"/>\n  ). More text.\n</jats:p>")
    assert n.clean_abstract(raw) == "(Bj\u00f8rnstad & Grenfell ). More text."


def test_title_is_one_line():
    assert n.clean_title("The role of\n   <scp>AI</scp>\n   in ecology") == "The role of AI in ecology"
    assert n.clean_title(None) is None


def test_real_crossref_jats_abstracts_become_plain_paragraphs():
    path = shared_path("api", "crossref", "habanero__works_query_ecology_author_boettiger__i0.json")
    items = json.loads(path.read_text(encoding="utf-8"))["message"]["items"]
    raw = [i["abstract"] for i in items if i.get("abstract")]
    assert len(raw) == 15
    for abstract in map(n.clean_abstract, raw):
        assert abstract and "<jats:" not in abstract and "<" not in abstract
        assert not ENTITY.search(abstract)
        assert not abstract.startswith(("Abstract", "ABSTRACT", "Summary"))
        assert "\n\n\n" not in abstract and all(p == p.strip() for p in abstract.split("\n\n"))
    structured = n.clean_abstract(next(a for a in raw if "<jats:sec>" in a))
    assert structured.split("\n\n")[:4] == ["Aim", structured.split("\n\n")[1], "Location",
                                            "Global, with a North American focus."]


def test_real_europepmc_html_abstracts():
    path = shared_path("api", "europepmc", "pyEuropePMC__search_cancer_core.json")
    results = json.loads(path.read_text(encoding="utf-8"))["resultList"]["result"]
    texts = [n.clean_abstract(r["abstractText"]) for r in results if r.get("abstractText")]
    assert len(texts) == 21
    for text in texts:
        assert not re.search(r"</?(h4|sub|i|b)>", text)
    joined = "\n".join(texts)
    assert "median overall survival of <1 year." in joined     # a raw '<' that is not a tag
    assert "Hydrogen sulfide (H2S)" in joined


# -- inverted index --------------------------------------------------------------------------

def test_api01_inverted_index_repeats_and_null():
    c = case("API-01")
    works = {w["id"].rsplit("/", 1)[-1]: w for w in c["input"]["works"]}
    text = n.rebuild_inverted_index(works["W0000000001"]["abstract_inverted_index"])
    assert text == c["expected"]["abstract[W0000000001]"]
    assert len(text.split()) == c["expected"]["word_count[W0000000001]"]
    assert n.rebuild_inverted_index(works["W0000000002"]["abstract_inverted_index"]) is None
    assert n.rebuild_inverted_index({}) is None


def test_inverted_index_orders_by_position_not_key_order():
    assert n.rebuild_inverted_index({"b": [1], "a": [0, 2], "c.$": [3]}) == "a b a c.$"


def _openalex_works():
    out = []
    for name in ("findpapers__works_search_nlp_50.json", "openalex-python__W2741809807.json",
                 "paper-qa__title_search_chemcrow__i3.json", "paper-qa__title_search_copper__i3.json",
                 "paper-qa__title_search_paperqa__i2.json", "paper-qa__doi_pnas1414271111__i2.json",
                 "paper-qa__doi_addr2015__i2.json", "paper-qa__doi_a1007154515475__i2.json"):
        data = json.loads(shared_path("api", "openalex", name).read_text(encoding="utf-8"))
        out.extend(data.get("results", [data]))
    return out


def test_real_inverted_indexes_rebuild_to_the_encoded_word_sequence():
    checked = 0
    for work in _openalex_works():
        index = work.get("abstract_inverted_index")
        text = n.rebuild_inverted_index(index)
        if not index:
            assert text is None
            continue
        words = text.split(" ")
        assert len(words) == sum(len(p) for p in index.values())
        first = min(p for ps in index.values() for p in ps)
        for word, positions in index.items():
            for pos in positions:
                assert words[pos - first] == word
        checked += 1
    assert checked == 56  # 49 of the 50 search results + 7 single works


def test_real_openalex_abstracts_keep_no_markup_and_decode_one_layer():
    plain_equal = 0
    for work in _openalex_works():
        raw = n.rebuild_inverted_index(work.get("abstract_inverted_index"))
        if raw is None:
            continue
        clean = n.clean_abstract(raw)
        assert not re.search(r"</?(p|span|i)>", clean)
        leftover = ENTITY.findall(clean)
        # The one entity left anywhere is where the source escaped twice (&amp;lt;).
        assert len(leftover) == len(re.findall(r"&amp;(?:#\w+|\w+);", raw))
        if not re.search(r"[&<>]|\s", "".join(work["abstract_inverted_index"])):
            assert clean == raw
            plain_equal += 1
    assert plain_equal >= 50


# -- identifiers, dates, ids --------------------------------------------------------------------

def test_identifiers_normalise_every_form():
    ids = n.identifiers(doi="https://doi.org/10.1128/MCB.01478-14", openalex="https://openalex.org/w123",
                        pmid="https://pubmed.ncbi.nlm.nih.gov/29456894", pmcid="https://www.ncbi.nlm.nih.gov/pmc/articles/5815332",
                        arxiv="http://arxiv.org/abs/hep-th/9901001v2", s2="abc")
    assert ids == Identifiers(doi="10.1128/mcb.01478-14", arxiv="hep-th/9901001", arxiv_version="v2",
                              openalex="W123", pmid="29456894", pmcid="PMC5815332", s2="abc")


def test_datacite_arxiv_doi_becomes_the_arxiv_id():
    ids = n.identifiers(doi="https://doi.org/10.48550/arXiv.2304.05376")
    assert (ids.doi, ids.arxiv) == (None, "2304.05376")
    assert n.primary_id(ids, "openalex:W1") == "arxiv:2304.05376"
    assert n.primary_id(Identifiers(), "openalex:W1") == "openalex:W1"


@pytest.mark.parametrize("key, target", [
    ("doi:10.1128/MCB.01478-14", ("doi", "10.1128/mcb.01478-14")),
    ("doi:10.48550/arXiv.2203.02155", ("arxiv", "2203.02155")),
    ("arxiv:2412.21199v2", ("arxiv", "2412.21199")),
    ("arxiv:hep-th/9901001", ("arxiv", "hep-th/9901001")),
    ("openalex:w42", ("openalex", "W42")),
    ("pmid:123", ("pmid", "123")),
    ("pmcid:pmc77", ("pmcid", "PMC77")),
    ("arxiv:abc", None),
    ("doi:nonsense", None),
    ("isbn:123", None),
])
def test_lookup_target(key, target):
    assert n.lookup_target(key) == target


@pytest.mark.parametrize("value, expected", [
    ("2022-12-31", (2022, 12)), ("2022", (2022, None)), (2022, (2022, None)),
    ({"date-parts": [[2012, 3]]}, (2012, 3)), ({"date-parts": [[None]]}, (None, None)),
    (None, (None, None)), ("n.d.", (None, None)), (True, (None, None)),
])
def test_year_month(value, expected):
    assert n.year_month(value) == expected


def test_iso_utc_is_z_suffixed_utc():
    moment = datetime(2026, 1, 2, 4, 4, 5, 999, tzinfo=timezone(timedelta(hours=1)))
    assert n.iso_utc(moment) == "2026-01-02T03:04:05Z"


def test_build_record_skips_entries_without_title_or_identifier(caplog):
    assert n.build_record(provider="x", title=None, ids=Identifiers(doi="10.1/a"), fallback_id=None) is None
    assert n.build_record(provider="x", title="T", ids=Identifiers(), fallback_id=None) is None
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 2
    rec = n.build_record(provider="x", title="T", ids=Identifiers(), fallback_id="s2:p", abstract="")
    assert rec.id == "s2:p" and rec.abstract is None and not rec.text_available


@pytest.mark.parametrize("title, expected", [
    ("GPT-4o vs. GPT-4: A  Study", "gpt 4o vs gpt 4 a study"),
    ("Éclair: Façade-Tuning für Übersetzung", "eclair facade tuning fur ubersetzung"),
    ("ﬁne-tuning at 2× speed", "fine tuning at 2 speed"),   # compatibility forms decomposed
    ("", ""),
])
def test_version_matching_titles_are_lower_case_ascii_words(title, expected):
    from generator.records import normalise_title

    assert normalise_title(title) == expected
