"""Claim extraction: the finding-bearing sentences of an abstract become :class:`Claim`s.

Pure and deterministic. A claim is always one whole sentence of the abstract as
:func:`generator.text.sentence_spans` finds it — never cut, never rewritten except that
runs of whitespace become one space — so LaTeX, numbers, negations and hedges survive.

Decisions (cue lists are this project's own, written for ML/NLP and biomedical
abstracts):

* A sentence is a *finding* when its cue score (:func:`cue_score`) is positive: result
  verbs (show, find, demonstrate, reveal, outperform, improve, achieve, reduce, …) that are
  not purpose infinitives ("to improve"), "results show/indicate", "we observe",
  significance adverbs, reported negative results ("did not …"), comparatives and
  numbers with units.
* Background sentences (``Recent…``, ``have shown``, ``has become``, ``has significantly
  enhanced``, ``remains a challenge``, ``LLMs have achieved …``) are never claims: they report others' findings or
  motivation, even when they contain a result verb.
* Method/aim sentences (``we propose``, ``this paper``, ``our approach``, ``we
  release``) are claims only when they *also* carry a real finding cue of at least
  :data:`METHOD_MIN_SCORE` — "We propose X, which improves Y by 5%" is a claim (the
  finding cue wins), "We propose X to improve Y" is not. Code/URL sentences never are.
* A comparative or a count alone is description; a finding needs a result verb, a
  strong cue, an "X-er than Y" comparison or a measured number (%, x, ms, …).
* A sentence whose subject is a bare pronoun ("Moreover, it outperforms …", "They lack
  …", "This significantly reduces …", "However, its costs …", "On RAGTruth++, it reaches
  …", "While it improves …") or unnamed results ("These results improve the
  understanding of …") is not a claim: shown alone, or checked against another source,
  nothing says what "it" is (in 6,000 arXiv cs.CL abstracts of ``../shared``: 221 of
  10,133 extracted sentences, 2.2 %, then 61 of the remaining 9,902 for the possessive,
  fronted-phrase and unnamed-results forms). "This suggests that …", "These results
  show …" and "It was found that …" stay: what follows is self-contained.
* In the first third of an abstract (3+ sentences) a sentence needs a first-person result
  ("we find …") or a strong cue ("results show …", "significantly"), because that is
  where motivation and others' results live. The opening sentence needs a first-person
  or "results show" report: a significance adverb alone marks the field's received view
  there ("Long CoT significantly enhances LLMs' reasoning."; 67 of 9,841 claims of the
  6,000 arXiv abstracts, all of them such background on reading).
"""

from __future__ import annotations

import functools
import hashlib
import re

from generator import text as T
from generator.caseless import Caseless
from generator.models import Claim, Record

__all__ = ["extract_claims", "curated_claim", "cue_score", "has_finding_cue", "is_background", "claim_id", "is_complete_sentence",
           "MIN_WORDS", "MAX_WORDS", "METHOD_MIN_SCORE"]

MIN_WORDS = 6
MAX_WORDS = 80
# A method sentence needs a result verb (2) plus one more cue, or two result verbs.
METHOD_MIN_SCORE = 3.0

_RESULT_VERB = Caseless(
    # \b before the look-behinds: the same matches, found 16% faster (our measurement).
    r"\b(?<!\bto )(?<!\bto be )(?:"
    r"show(?:s|ed|n)?|find(?:s)?|found|demonstrat(?:e|es|ed)|reveal(?:s|ed)?|"
    r"outperform(?:s|ed)?|underperform(?:s|ed)?|improv(?:e|es|ed)|achiev(?:e|es|ed)|"
    r"reduc(?:e|es|ed)|increas(?:e|es|ed)|decreas(?:e|es|ed)|surpass(?:es|ed)?|"
    r"yield(?:s|ed)?|lead(?:s)? to|led to|result(?:s|ed)? in|indicat(?:e|es|ed)|"
    r"confirm(?:s|ed)?|exceed(?:s|ed)?|boost(?:s|ed)?|cut(?:s)?|lower(?:s|ed)|rais(?:es|ed)|"
    r"degrad(?:e|es|ed)|hurt(?:s)?|harm(?:s|ed)|impair(?:s|ed)|enhanc(?:e|es|ed)|"
    r"correlat(?:e|es|ed)|associated with|match(?:es|ed)|attain(?:s|ed)|reach(?:es|ed)|"
    r"fail(?:s|ed)? to|doubl(?:e|es|ed)|prefer(?:s|red)|halv(?:e|es|ed)|narrow(?:s|ed)|clos(?:e|es|ed) the gap|"
    r"remain(?:s|ed)? (?:robust|competitive|stable)|generaliz(?:e|es)|generalis(?:e|es)"
    r")\b")
# "Results show …": the study reports what it found (claim sentences have single spaces).
_RESULTS_REPORT = (r"(?:results|experiments|analyses|analysis|evaluations?|findings) "
                   r"(?:show|indicate|demonstrate|reveal|suggest|confirm|highlight)s?")
_STRONG = Caseless(
    r"\b(?:significantly|consistently|substantially|markedly|dramatically|considerably|"
    r"statistically significant|new state of the art|on par with|"
    r"did not|didn't|no significant|not significantly|"
    rf"we (?:observe|observed|find|found|show|demonstrate)|{_RESULTS_REPORT})\b")
_COMPARATIVE = Caseless(
    r"\b(?:better|worse|higher|lower|faster|slower|fewer|more \w+ than|less \w+ than|"
    r"greater|smaller|larger|superior|inferior|compared (?:to|with)|relative to|than)\b")
_THAN = Caseless(r"\b(?:\w+er|more \w+|less \w+|fewer \w+) than\b")
_FIRST_PERSON = Caseless(r"\b(?:we|our|us)\b")
# "…, a phenomenon we term Hallucination on Hallucination": naming a thing reports nothing.
_NAMING = re.compile(r"\b(?:which |that )?we (?:term|call|dub|name|coin|refer to|denote)\b", re.I)
_REPORTED_RESULT = Caseless(rf"\b{_RESULTS_REPORT}\b")
_MEASURE_UNITS = {"%", "x", "pp", "ms", "s", "min", "h", "d", "gb", "mb", "tb", "$"}
_METHOD = Caseless(
    r"\b(?:we (?:propose|introduce|present|design|develop|release|describe|build|construct|"
    r"create|curate|collect|formulate|investigate|explore|study|examine|analy[sz]e|aim|"
    r"focus|address|tackle|define|extend|adapt|leverage|employ|use|apply|train|fine-tune|"
    r"conduct|evaluate|benchmark|open-source|provide|offer)|this (?:paper|work|study|article|"
    r"report|survey)|in this (?:paper|work|study|article)|our (?:approach|method|framework|"
    r"model|system|pipeline|goal|aim)|to this end|the goal of|we aim|aims? to)\b")
_NEVER = Caseless(
    r"https?://|www\.|github\.com|huggingface\.co|\b(?:code|data|dataset|models?|weights|"
    r"resources|benchmark)\b[^.]{0,40}\b(?:is|are|will be|has been|have been) (?:publicly )?"
    r"(?:available|released|open-sourced)|\bavailable at\b|\bwe (?:will )?(?:release|open-source)\b")
_BACKGROUND = Caseless(
    r"^(?:recent(?:ly)?\b|in recent years\b|over the past\b|existing\b|traditional\b|prior\b|"
    r"previous\b|current(?:ly)?\b|conventional\b)"
    r"|\b(?<!\bwe )(?:have|has) (?:been )?(?:\w+ly )?(?:shown|demonstrated|achieved|gained|"
    r"attracted|become|emerged|revolutioni[sz]ed|transformed|made|seen|enabled|advanced|"
    r"improved|driven|reshaped|exhibited|displayed|enhanced|boosted|accelerated|spurred|fuel?led)\b"
    r"|\bremains? (?:a |an )?(?:\w+ )?(?:challenge|challenging|open|unclear|limited|difficult|"
    r"underexplored|unexplored|elusive|poorly understood|largely unknown)"
    r"|^however,.*\bremains?\b"
    r"|\bplays? (?:an? )?(?:important|crucial|key|vital|central|critical) role\b"
    r"|^(?:\w+ ){0,6}(?:is|are) (?:increasingly|widely)\b"
    # A call, not a finding: "These findings highlight the (urgent) need for X". After a
    # finding ("X fails on Y, highlighting the need for Z") the sentence stays a claim.
    r"|^(?:these|our|the|this|such)\s+(?:[\w-]+\s+){0,2}?(?:findings?|results?|work|study|analys[ie]s|"
    r"observations?|evaluations?|experiments?|insights?)\s+(?:\w+ly\s+|also\s+|further\s+)?"
    r"(?:highlight|underscore|emphasi[sz]e|stress|point\s+to|indicate|suggest|call\s+for|demonstrate|"
    r"reveal|show|motivate|confirm)s?\s+(?:the\s+|a\s+)?(?:[\w-]+\s+)?(?:need|necessity)\b")
# A lead-in of up to three words and a comma: "However,", "More importantly,", "On the other hand,".
_CONNECTIVE = r"(?:[a-z]+(?: [a-z]+){0,2},\s+)?"
_PREDICATE = (r"(?:is|are|was|were|can|could|may|might|will|would|should|must|has|have|had|does|do|did|"
              r"also|not|further|thereby|therefore|leads?|led|yields?|allows?|enables?|makes?|helps?|"
              r"results? in|resulted in|provides?|offers?|achieves?|outperforms?|improves?|reduces?|"
              r"increases?|remains?|requires?|suffers?|fails?|adds?|lacks?)")
_ANAPHORIC = Caseless(
    rf"^{_CONNECTIVE}(?:(?:it|they)\b(?!\s+(?:is|was|were|are)\s+(?:\w+\s+)?(?:shown|found|observed|"
    rf"demonstrated|noted|known|revealed|confirmed|established)\s+that\b)"
    rf"|(?:its|their)\s"
    rf"|(?:this|these|those|that|such)\s+(?:\w+ly\b|{_PREDICATE}\b)"
    # "This approach reduces …", "This phenomenon leads to …", "These datasets encompass …":
    # what "this" names is in another sentence. "This paper/study shows" names its source.
    rf"|(?:this|these)\s+(?!(?:paper|work|study|article|survey|review|research|thesis|report|chapter|"
    rf"position|results?|findings?|experiments?|analys[ie]s|observations?|evaluations?|insights?)\b)"
    rf"[a-z][\w-]*\s+(?:\w+ly\s+)?(?:[a-z]+(?:s|ed)|can|could|may|might|will|would|should|must)\b"
    # "These results improve the understanding of …": a verdict on unnamed results. "These
    # results show/suggest … X" stays: what follows stands alone.
    rf"|(?:this|these|such)\s+(?:results?|findings?|observations?|insights?|analys[ie]s|experiments?)\s+"
    rf"(?!(?:(?:\w+ly|also|further|all|together|thus|therefore)\s+)?(?:show|suggest|indicate|demonstrate|"
    rf"reveal|confirm|imply|establish|highlight|underscore|point|illustrate|provide\s+(?:\w+\s+)?evidence)\w*\b))"
    # A fronted prepositional phrase ("For the 1.5B model, it …", "On RAGTruth++, it …") or a
    # clause opener ("While it improves …, it …") before the pronoun subject. Not after a
    # clause that names the referent ("While LLMs offer …, their performance …"), and not
    # "they" after a phrase ("Despite the rise of LLMs, they …" names them).
    rf"|^(?:(?:for|on|in|with|across|compared\s+(?:to|with)|by|using|under|at|after|without|unlike|"
    rf"despite|among|through|via|beyond|relative\s+to)\b[^,]{{0,60}},\s+it\b"
    rf"|(?:while|although|though|whereas|because|since|when|if)\s+(?:it|they|its|their)\b"
    # "By comparison, we find that the latter achieves …": the two things are in another sentence.
    rf"|(?:[^,;]{{0,60}},\s+)?(?:[\w-]+\s+){{0,6}}?the\s+(?:former|latter)\b"
    # "Experiments show that this approach reduces …", "We find that these biases …": the
    # finding's subject is named in another sentence. "We show that this paper's …" is not.
    rf"|(?:[^.;:]{{0,120}}?\s)?(?:(?:show|demonstrate|indicate|reveal|confirm|suggest|find|observe)(?:s|ed)?|found)\s+"
    rf"that\s+(?:this|these|such)\s+(?!(?:paper|work|study|article|survey|review|research|thesis|"
    rf"report|chapter)\b)[a-z$\\][\w$\\{{}}-]*)"
    rf"(?!\s+(?:is|was|were|are)\s+(?:\w+\s+)?(?:shown|found|observed|demonstrated|noted|known|revealed|"
    rf"confirmed|established|assumed|believed|thought|argued|expected|accepted|reported)\b)")
_START_OK = re.compile(r"^[A-Z0-9$\"'“‘(\[]")
_END_OK = re.compile(r"[.!?][\"'”’)\]]*$")
_WORD = re.compile(r"\S+")


def claim_id(scope: str, text: str) -> str:
    """Stable claim id: ``"c-" + sha256(f"{scope}|{normalised}")[:12]``.

    ``scope`` is the record id for extracted claims and ``"curated"`` for curated ones;
    ``normalised`` is the text with whitespace runs collapsed and case folded.
    """
    normalised = " ".join(text.split()).casefold()
    return "c-" + hashlib.sha256(f"{scope}|{normalised}".encode()).hexdigest()[:12]


def is_complete_sentence(sentence: str) -> bool:
    """True when ``sentence`` can be shown as a claim on its own.

    Starts with an upper-case letter, digit, ``$``, quote or bracket; ends with ``.``,
    ``!`` or ``?`` (optionally followed by a closing quote/bracket); has
    :data:`MIN_WORDS`–:data:`MAX_WORDS` words; every LaTeX ``$`` is paired.
    """
    s = sentence.strip()
    if not s or not _START_OK.match(s) or not _END_OK.search(s):
        return False
    words = len(_WORD.findall(s))
    if words < MIN_WORDS or words > MAX_WORDS:
        return False
    return T.balanced_math(s) and _brackets_paired(s)


_LIST_MARKER_BEFORE = re.compile(r"(?:^|[\s:;,(])(?:\d{1,2}|[a-zA-Z]|[ivxIVX]{1,4})\.?$")


_BRACKETS = {"()": re.compile(r"[()]"), "[]": re.compile(r"[\[\]]")}


def _brackets_paired(s: str) -> bool:
    if "(" not in s and ")" not in s and "[" not in s and "]" not in s:
        return True
    for pair, pattern in _BRACKETS.items():
        depth = 0
        for m in pattern.finditer(s):  # the brackets only, not every character
            if m.group() == pair[0]:
                depth += 1
            elif depth == 0:
                if _LIST_MARKER_BEFORE.search(s, max(0, m.start() - 6), m.start()):
                    continue
                return False
            else:
                depth -= 1
        if depth:
            return False
    return True


def cue_score(sentence: str) -> float:
    """Finding-cue strength of one sentence (0 = no finding cue).

    result verb (not a purpose infinitive): 2 each, at most 2 counted; strong cue
    (significantly, consistently, "results show", "we find", …): 1, at most 2;
    comparative: 1; each number with a measurement unit (%, x, ms, …): 1, any other
    number with a unit word: 0.5, numbers counted at most 3. Own weights, chosen so that
    one result verb alone already makes a finding.
    """
    verbs, strong = _cue_counts(sentence)
    score = 2.0 * min(2, verbs) + min(2, strong)
    if _COMPARATIVE.search(sentence):
        score += 1.0
    num = 0.0
    for q in T.quantities(sentence):
        if q.unit in _MEASURE_UNITS:
            num += 1.0
        elif q.unit:
            num += 0.5
    return score + min(3.0, num)


def has_finding_cue(sentence: str) -> bool:
    """``cue_score(sentence) > 0``, stopping at the first cue found (every term of the
    score is non-negative, so any one cue makes it positive)."""
    return bool(
        any(_cue_counts(sentence))
        or _COMPARATIVE.search(sentence)
        or any(q.unit for q in T.quantities(sentence))
    )


# Extraction asks for a sentence's result verbs and strong cues up to three times and
# verification once more; one scan of each pattern per sentence serves them all.
@functools.lru_cache(maxsize=65536)
def _cue_counts(sentence: str) -> tuple[int, int]:
    """``(result verbs, strong cues)``: the numbers of matches of both patterns."""
    return _RESULT_VERB.count(sentence), _STRONG.count(sentence)


def _has_core_cue(sentence: str) -> bool:
    """A result verb, a strong cue, an "X-er than" comparison or a measured number."""
    return bool(
        any(_cue_counts(sentence))
        # Every match of _THAN holds " than": the test spares the pattern's backtracking.
        or (" than" in sentence.lower() and _THAN.search(sentence))
        or any(q.unit in _MEASURE_UNITS for q in T.quantities(sentence))
    )


# Every match of _NEVER contains one of these (lower-cased); checking for them first spares
# the regular expression, the slowest of extraction, on nearly every sentence.
_NEVER_HINTS = ("http", "www.", "github.com", "huggingface.co", "available", "release", "open-sourc")


def is_background(sentence: str) -> bool:
    """True when ``sentence`` states the field's background or motivation rather than a
    finding of its paper ("Recent work …", "X has emerged as …", "Y remains a challenge",
    "Existing methods …"), or only calls for something ("These findings highlight the need
    for …"): the background rule of this module's docstring. Verification does not take
    such a sentence as evidence either."""
    return bool(_BACKGROUND.search(sentence))


def _never(sentence: str) -> bool:
    low = sentence.lower()
    return any(h in low for h in _NEVER_HINTS) and bool(_NEVER.search(sentence))


_ONES = re.compile(r"\bones\b", re.I)
_WORDS_BEFORE = re.compile(r"[A-Za-z][\w-]*")
# Words ending in "s" that are not plural nouns a following "ones" could stand for.
_NOT_PLURAL = frozenset("this thus its was has is us as does less across process analysis basis bias "
                        "plus yes class loss access success address progress unless various previous "
                        "numerous serious vs".split())


def _unresolved_ones(sentence: str) -> bool:
    """True when "ones" has no plural noun before it to stand for: "training on the shorter
    ones leads to …" (what is shorter is in another sentence), not "larger models beat
    smaller ones". Of the 68 claims with "ones" in 6,000 arXiv abstracts, 2 have none, both
    of this kind (a fourth trial's only CORROBORATED claim was one)."""
    m = _ONES.search(sentence)
    if m is None:
        return False
    return not any((len(w) >= 4 and w[-1] in "sS" and w.lower() not in _NOT_PLURAL)
                   for w in _WORDS_BEFORE.findall(sentence, 0, m.start()))


def _finding_score(sentence: str, index: int, total: int) -> float:
    """Cue score after the background/method rules (0 = not a claim)."""
    # Each rule alone can make the score 0; the cue test goes first as two sentences in
    # three fail it, sparing them the background and anaphora patterns (extraction of 50
    # questions 1.10 -> 0.87 s, our measurement), and its counts are needed below anyway.
    if not _has_core_cue(sentence):
        return 0.0  # a comparative or a count alone describes, it does not report
    if _never(sentence) or is_background(sentence):
        return 0.0
    if _ANAPHORIC.search(sentence) or _unresolved_ones(sentence):
        return 0.0  # "Moreover, it outperforms …": out of its abstract, nothing says what "it" is
    score = cue_score(sentence)
    if total >= 3 and index < total / 3:
        # Motivation lives here: only "we find …" or "results show …" count as findings.
        verbs, strong = _cue_counts(sentence)
        first_person = _FIRST_PERSON.search(_NAMING.sub(" ", sentence))
        if not ((verbs and first_person) or strong):
            return 0.0
        # The opening sentence states the field's received view ("CoT reasoning
        # significantly improves LLMs, but …"): a significance adverb does not make it this
        # paper's finding; only a first-person or "results show" report does.
        if index == 0 and not first_person and not _REPORTED_RESULT.search(sentence):
            return 0.0
    if _METHOD.search(sentence) and score < METHOD_MIN_SCORE:
        return 0.0
    return score


def extract_claims(record: Record, *, max_claims: int = 8) -> list[Claim]:
    """The finding-bearing sentences of ``record.abstract`` as claims, in sentence order.

    Each claim's text is one complete sentence of the abstract (whitespace collapsed),
    ``origin="extracted"``, ``record_id=record.id``, ``sentence_index`` its index in
    :func:`generator.text.sentence_spans`, ``hedged`` from :func:`generator.text.is_hedged`.
    When more than ``max_claims`` sentences qualify, the highest cue scores are kept
    (ties: earlier first). A record without text gives ``[]``. Never raises.
    """
    if not record.text_available or max_claims <= 0:
        return []
    return list(_extract(record.id, record.abstract or "", max_claims))


# A record retrieved for several questions is extracted once.
@functools.lru_cache(maxsize=4096)
def _extract(record_id: str, abstract: str, max_claims: int) -> tuple[Claim, ...]:
    spans = T.sentence_spans(abstract)
    scored: list[tuple[float, int, str]] = []
    for i, (s, e) in enumerate(spans):
        sentence = " ".join(abstract[s:e].split())
        if not is_complete_sentence(sentence):
            continue
        score = _finding_score(sentence, i, len(spans))
        if score > 0:
            scored.append((score, i, sentence))
    kept = sorted(scored, key=lambda x: (-x[0], x[1]))[:max_claims]
    kept.sort(key=lambda x: x[1])
    return tuple(
        Claim(
            id=claim_id(record_id, sentence),
            text=sentence,
            origin="extracted",
            record_id=record_id,
            sentence_index=i,
            hedged=T.is_hedged(sentence),
        )
        for _, i, sentence in kept
    )


def curated_claim(text: str, cites: tuple[str, ...] = ()) -> Claim:
    """A researcher-written claim from a question file: ``origin="curated"``, id from
    ``curated|<normalised text>``, ``cites`` as given (identifier strings), text with
    whitespace collapsed, ``hedged`` detected."""
    clean = " ".join(text.split())
    return Claim(
        id=claim_id("curated", clean),
        text=clean,
        origin="curated",
        record_id=None,
        sentence_index=None,
        hedged=T.is_hedged(clean),
        cites=tuple(cites),
    )
