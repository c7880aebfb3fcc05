"""Text features for claim extraction and verification: sentences, tokens, numbers,
negation, hedges and direction words.

Everything here is pure and deterministic. Offsets always refer to the string the caller
passed in, so ``text[start:end]`` is verbatim source text.

Word lists (stopwords, research boilerplate words, generic acronyms, negation cues,
hedge cues, direction/antonym pairs, self-reference phrases, number words) are this
project's own lists, written for NLP/ML and biomedical abstracts; they are not copied
from NLTK, spaCy or any other package. Stemming is the Snowball English stemmer via
PyStemmer; sentence splitting is sentencex (Wikimedia's rule-based segmenter) plus the
merge rules in :func:`sentence_spans`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import sentencex
import Stemmer

from generator.caseless import Caseless, fold

__all__ = [
    "Quantity",
    "sentence_spans",
    "sentences",
    "math_spans",
    "balanced_math",
    "tokens",
    "content_tokens",
    "stem",
    "stems",
    "stem_set",
    "quantities",
    "Token",
    "analyse",
    "negated_positions",
    "negation_scope",
    "has_negation",
    "direction_units",
    "is_hedged",
    "direction",
    "entity_tokens",
    "STOPWORDS",
    "DISCOURSE_STEMS",
    "DIRECTION_STEMS",
    "GENERIC_ACRONYMS",
    "names",
    "self_reference",
]

# --------------------------------------------------------------------------- sentences

# sentencex (Wikimedia, MIT, Rust core) replaced pysbd in 2026-12: on 3,000 abstracts of the
# ../shared corpus it splits in 0.8 s where pysbd took 19 s (pysbd was 38% of a 50-question
# build), and after our merge rules the two agree on 2,948 of them; where they differ,
# sentencex is right more often (``''`` quotes, URLs with "?", "sentence.Next").
# Its segments concatenate back to the input exactly, so offsets come from their lengths.
#
# sentencex reads "word)" as a list marker ("1)", "GPT-4)", "0.5)") and stops splitting
# until the next one, so whole paragraphs came back as one sentence. Its segmenter sees
# round brackets masked as "_" (same length, so offsets hold); the merge rules below do
# what its bracket handling did.
_PARENS = str.maketrans("()", "__")
# "… results. 2. Multi-level …": sentencex glues a numbered item's "2." to the sentence
# before it; the boundary belongs before the marker.
_TRAILING_MARKER = re.compile(r"(?<=[.!?:;]) (?:\d{1,2}\.|\(\d{1,2}\))$")


_QUOTE_MASK = str.maketrans('()"', "___")
LONG_SEGMENT = 400
"""Characters beyond which a segment with a double quote is checked for a stray quote: 467
of 74,782 sentences of 10,000 arXiv abstracts are longer (0.6%). In the 25,065 abstracts of
the shared corpus the four segments held together by a stray quote were 741–913 characters
long, while quoted passages of several sentences ('"Talk short. Drop grammar." …', kept
whole) were at most 343 (our measurement)."""


def _unquoted_segments(masked: str) -> list[str]:
    """sentencex's segments of ``masked`` (brackets already masked), with a segment that a
    stray double quote held together split again.

    sentencex does not split inside a quotation, so a closing quote whose opening one the
    source lost ('hallucination on hallucination," where …' in arXiv 2603.27253) held the
    next seven sentences together, up to the next quote. Such a segment (longer than
    :data:`LONG_SEGMENT`, and whose re-segmentation with ``"`` masked gives a part with an
    odd number of quotes) is split as if there were no quotes, each boundary moved past the
    closing quotes and blanks that follow it, so 'He said "It works." Then …' still ends
    after its quote.
    """
    out: list[str] = []
    for seg in sentencex.segment("en", masked):
        if len(seg) <= LONG_SEGMENT or '"' not in seg:
            out.append(seg)
            continue
        parts = list(sentencex.segment("en", seg.translate(_QUOTE_MASK)))
        starts = itertools.accumulate([0] + [len(p) for p in parts])
        if len(parts) < 2 or not any(seg[a:a + len(p)].count('"') % 2 for a, p in zip(starts, parts)):
            out.append(seg)
            continue
        cuts, at = [], 0
        for part in parts[:-1]:
            at += len(part)
            end = at
            if not seg[end - 1].isspace():  # a quote right after the full stop closes this sentence
                while end < len(seg) and seg[end] == '"':
                    end += 1
            while end < len(seg) and seg[end].isspace():
                end += 1
            if not cuts or end > cuts[-1]:
                cuts.append(end)
        bounds = [0] + [c for c in cuts if 0 < c < len(seg)] + [len(seg)]
        out.extend(seg[a:b] for a, b in zip(bounds, bounds[1:]) if b > a)
    return out


def _segment_spans(norm: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for seg in _unquoted_segments(norm.translate(_PARENS)):
        start, cursor = cursor, cursor + len(seg)
        s, e = start, cursor
        while s < e and norm[s].isspace():
            s += 1
        while e > s and norm[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    if cursor != len(norm):  # never seen: sentencex returned text that is not the input
        return [(0, len(norm))]
    # Move a numbered-list marker at the end of a sentence to the start of the next one.
    out: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(spans):
        m = _TRAILING_MARKER.search(norm, max(s, e - 6), e)  # it matches at most 5 characters
        if m and i + 1 < len(spans) and m.end() == e:
            out.append((s, m.start()))
            spans[i + 1] = (m.start() + 1, spans[i + 1][1])
        else:
            out.append((s, e))
    return out


_ABBREV_END = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|resp|approx|Fig|Figs|Eq|Eqs|Sec|No|Tab)\.|\b[A-Z]\.|\d\)\.|"
    r"\b(?:i|ii|iii|iv|v|vi)\.)$"
)
_WS = re.compile(r"\s+")


def _normalise_with_map(text: str) -> tuple[str, Callable[[int], int]]:
    """Collapse whitespace runs to one space; returns the new text and ``where(i)``, the
    original offset of its character ``i`` (for a joining space: of the last blank
    before the next word). Offsets are kept per word, not per character: within a word
    they shift by a constant."""
    norm = " ".join(text.split())
    if len(norm) == len(text):  # nothing collapsed (no leading, trailing or repeated blanks)
        return norm, _identity
    starts: list[int] = []  # per word: offset in the original text
    ends: list[int] = []
    for m in _NON_SPACE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    norm_starts: list[int] = []
    pos = 0
    for a, b in zip(starts, ends):
        norm_starts.append(pos)
        pos += b - a + 1

    def where(i: int) -> int:
        k = bisect.bisect_right(norm_starts, i) - 1
        inside = i - norm_starts[k]
        if inside < ends[k] - starts[k]:
            return starts[k] + inside
        return starts[k + 1] - 1  # the joining space after word k

    return norm, where


def _identity(i: int) -> int:
    return i


_NON_SPACE = re.compile(r"\S+")


_CURRENCY = re.compile(
    r"\d[\d,]*(?:\.\d+)?\s?(?:[KMBkmb]\b|million|billion|trillion|thousand)?"
    r"(?=\s+[A-Za-z(]|[.,;:)]\s|[.,;:)]?$)"
)


def _scan_dollars(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    if "$" not in text:  # nearly every sentence: skip the character loop
        return [], []
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    open_at: int | None = None
    open_len = 1
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch != "$":
            i += 1
            continue
        width = 2 if text.startswith("$$", i) else 1
        if open_at is None:
            if width == 1 and _CURRENCY.match(text, i + 1):
                i += 1
                continue
            open_at, open_len = i, width
            i += width
            continue
        close_w = min(width, open_len)
        spans.append((open_at, i + close_w))
        open_at = None
        i += close_w
    return spans, ([] if open_at is None else [open_at])


def math_spans(text: str) -> list[tuple[int, int]]:
    """Inline/display LaTeX math regions ``$…$`` / ``$$…$$`` as ``(start, end)`` offsets.

    ``\\$`` is a literal dollar. A ``$`` directly followed by an amount and then a word or
    punctuation (``$4 per test``, ``$55.``) is a currency sign, not math. An opening ``$``
    with no partner is ignored (it is a typo or a currency sign we did not recognise).
    """
    return _scan_dollars(text)[0]


def balanced_math(text: str) -> bool:
    """True when every math ``$`` in ``text`` is paired (currency and ``\\$`` ignored)."""
    return not _scan_dollars(text)[1]


_WORD_CHAR = re.compile(r"\w")
_LIST_MARKER = re.compile(r"\(?(?:\d{1,2}|[ivxIVX]{1,4}|[a-hA-H])[.)]")
_INITIAL_END = re.compile(r"\b[A-Z]\.$")
_INITIAL_START = re.compile(r"[A-Z]\.(?![A-Za-z])")
_FIRST_WORD = re.compile(r"\S+")
_UPPER_OR_DIGIT = re.compile(r"[A-Z0-9]")
_CLOSERS = "\"'”’)]"
_CONTINUING_GROUP = re.compile(r"[(\[][^()\[\]]{4,}[)\]]\s*(?:[,;:]|[a-z])")
# The end-anchored patterns are searched from a few characters before the end only:
# none matches more than 7 characters, and \b and look-behinds still see the characters
# before the start position (the whole left part was scanned before: 0.57 s of 1.03 s
# splitting 4,410 abstracts, our measurement).


def _should_merge(norm: str, a: tuple[int, int], b: tuple[int, int], math: list[tuple[int, int]]) -> bool:
    left = norm[a[0]:a[1]]
    right = norm[b[0]:b[1]]
    # A boundary inside a math region always is a false split.
    if any(s < a[1] and b[0] < e for s, e in math):
        return True
    # No letter or digit at all (a stray "."), the rest of a list marker such as "i.) …",
    # or of a name such as "DR.~GRPO".
    lead = _WORD_CHAR.search(right)
    if not lead or right[:1] in ")]}~,;:":
        return True
    # A left part that is only a list marker ("1.", "(2)") opens the sentence after it.
    if len(left) <= 6 and _LIST_MARKER.fullmatch(left):
        return True
    # An initialism cut after one of its letters: "Pro-U." + "S. stances".
    if _INITIAL_END.search(left, max(0, len(left) - 2)) and _INITIAL_START.match(right):
        return True
    # List items "(i) …, (ii) …" and clauses after a colon are not sentences.
    if not left.rstrip(_CLOSERS).endswith((".", "!", "?")):
        return True
    # A bracket the left part opens and the right part closes: "(avg." + "6.9x ratio) and …".
    if _unclosed(left, "(", ")") and _closes_first(right, "(", ")"):
        return True
    if _unclosed(left, "[", "]") and _closes_first(right, "[", "]"):
        return True
    # 'In "Compress or Route?" (Johnson, 2026), we found …': a bracketed citation followed by
    # a comma or a lower-case word continues the sentence the split cut.
    if _CONTINUING_GROUP.match(right):
        return True
    # "… Pro. (ii) On self-invoking …": a list marker opening a capitalised sentence starts it.
    marker = _LIST_MARKER.match(right)
    if marker and right[marker.end():marker.end() + 1] == " " and right[marker.end() + 1:marker.end() + 2].isupper():
        return False
    # The first letter or digit decides: "</think>) and …" continues a sentence.
    first = right[lead.start()]
    if first.islower():
        # "mBART …", "iPhone …": a mixed-case name can start a sentence.
        word = _FIRST_WORD.match(right)
        return not (word and _UPPER_OR_DIGIT.search(word.group(0), 1))
    if _ABBREV_END.search(left, max(0, len(left) - 7)) and not first.isupper():
        return True  # "Luo et al. [2] …", "(e.g. 7B)"
    return False


def _unclosed(text: str, open_: str, close: str) -> bool:
    return open_ in text and text.count(open_) > text.count(close)


def _closes_first(text: str, open_: str, close: str) -> bool:
    """True when ``text`` has a ``close`` bracket before any ``open_`` one."""
    end = text.find(close)
    return end >= 0 and open_ not in text[:end]


@functools.lru_cache(maxsize=4096)
def _sentence_spans_cached(text: str) -> tuple[tuple[int, int], ...]:
    norm, where = _normalise_with_map(text)
    if not norm:
        return ()
    spans = _segment_spans(norm)
    math = math_spans(norm)
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and _should_merge(norm, merged[-1], span, math):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return tuple((where(s), where(e - 1) + 1) for s, e in merged)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries of ``text`` as ``[(start, end), …]`` character offsets.

    ``text[start:end]`` is each sentence verbatim, without surrounding whitespace. Uses
    sentencex (rule-based, Wikimedia) on a whitespace-normalised copy — hard line breaks
    in arXiv abstracts are layout, not boundaries — with list markers masked, and maps
    offsets back to ``text``. Then it merges false splits: a boundary inside ``$…$``
    math, a left part without terminal punctuation (list items, colons) or made only of
    a list marker (``1.``), a right part whose first letter is lower case or made only
    of punctuation, an initialism cut in two (``U.`` + ``S.``), and ``et al.`` /
    ``e.g.`` followed by a citation or bracket. Decimals (``3.3%``), versions
    (``LLaVA-1.5``, ``Qwen2.5``) and ``e.g.``/``i.e.`` are kept whole by sentencex
    itself. Empty or blank text gives ``[]``. Never raises.
    """
    if not text:
        return []
    return list(_sentence_spans_cached(text))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` verbatim (see :func:`sentence_spans`)."""
    return [text[s:e] for s, e in sentence_spans(text)]


# --------------------------------------------------------------------------- tokens

# Own list: English function words, auxiliaries, pronouns, and a few abstract fillers.
# Negation and direction words are deliberately absent: they carry meaning here.
STOPWORDS = frozenset(
    """
    a an the and or but if then than that this these those there here of in on at to for
    from by with as into onto over under about above below between through during before
    after since until while within across along among upon via per
    is are was were be been being am do does did doing done has have had having
    can could may might must shall should will would
    i we you he she it they me us him her them my our your his its their ours yours
    theirs itself themselves ourselves what which who whom whose when where why how
    all any both each either few many most other some such own same so too very just
    also only even still yet again further once thus hence therefore however moreover
    furthermore although though whether because due
    one two three four five six seven eight nine ten
    s t using use used based show shows shown showed study studies paper work
    """.split()
)

# Own list: the boilerplate of research abstracts. These words say that something was
# found, not what: two sentences sharing only them are not about the same thing, so
# verification leaves them out of its overlap score (they stay in the tokens).
DISCOURSE_WORDS = frozenset(
    """
    result results finding findings demonstrate demonstrates demonstrated demonstrating
    reveal reveals revealed indicate indicates indicated suggest suggests suggested
    effective effectiveness efficacy method methods approach approaches propose proposed
    novel framework frameworks experiment experiments experimental extensive extensively
    evaluation evaluations evaluate evaluated performance perform performs significant
    significantly substantially substantial consistently consistent achieve achieves
    achieved state art baseline baselines existing various multiple different several
    new key overall empirical empirically analysis analyses task tasks observe observed
    """.split()
)

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%|[^\W_]+(?:[.,]\d+)*", re.UNICODE)
_NUMERIC = re.compile(r"^\d+(?:[.,]\d+)*%?$")
_STEMMER = Stemmer.Stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; numbers keep decimals and percent (``3.3``, ``45%``).

    Hyphens and other punctuation split tokens (``top-1`` → ``top``, ``1``); a digit run
    stays inside its word (``qwen2.5``, ``gpt``, ``4o``). ``\\%`` counts as ``%``.
    """
    return [t.lower() for t in _TOKEN.findall(text.replace("\\%", "%"))]


# British spellings mapped to American before stemming, so that "summarisation" and
# "summarization", "judgement" and "judgment", "modelling" and "modeling" share a stem
# (Snowball keeps them apart: "summaris" / "summar"). Own rules; a word spelled alike in both
# is mapped alike on both sides, so an over-eager rule ("precise" → "precize") costs nothing.
_BRITISH = re.compile(
    r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)$"   # normalise, summarisation, tokeniser
    r"|(?<=[a-z])ys(e|es|ed|ing)$"                         # analyse, catalysed
    r"|(?<=[a-z]{3}e)l(l)(ed|ing|er|ers)$"                 # modelling, labelled, travelled
)
_BRITISH_OUR = re.compile(r"^(behavi|col|fav|lab|neighb|hon|hum|tum|rum|flav|endeav|harb|arm|sav|vap|vig)our")
_BRITISH_WORDS = {
    "judgement": "judgment", "judgements": "judgments", "acknowledgement": "acknowledgment",
    "centre": "center", "centres": "centers", "centred": "centered", "fibre": "fiber",
    "fibres": "fibers", "metre": "meter", "metres": "meters", "litre": "liter", "litres": "liters",
    "programme": "program", "programmes": "programs", "catalogue": "catalog", "catalogues": "catalogs",
    "dialogue": "dialog", "dialogues": "dialogs", "analogue": "analog", "analogues": "analogs",
    "defence": "defense", "licence": "license", "offence": "offense", "ageing": "aging",
    "grey": "gray", "artefact": "artifact", "artefacts": "artifacts",
}


def _american(word: str) -> str:
    word = _BRITISH_WORDS.get(word, word)

    def repl(m: re.Match) -> str:
        if m.group(1) is not None:
            return "iz" + m.group(1)
        if m.group(2) is not None:
            return "yz" + m.group(2)
        return "l" + m.group(4)  # "lled" → "led"

    return _BRITISH_OUR.sub(r"\1or", _BRITISH.sub(repl, word, count=1), count=1)


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball English stem of a lower-case word, after mapping British spellings to
    American ones (``summarisation`` and ``summarization`` share a stem); numbers pass
    through unchanged."""
    if _NUMERIC.match(word):
        return word
    return _STEMMER.stemWord(_american(word))


DISCOURSE_STEMS = frozenset(_STEMMER.stemWord(w) for w in DISCOURSE_WORDS)


def content_tokens(text: str) -> list[str]:
    """Tokens without stopwords and without pure numbers (numbers are :func:`quantities`).

    A capital single letter inside a sentence (``Method A``, ``Institute B``) is a name,
    not the article, and is kept as ``a``/``b``.
    """
    out = []
    for i, raw in enumerate(_TOKEN.findall(text.replace("\\%", "%"))):
        if raw[0].isdecimal() and _NUMERIC.match(raw):  # \d is the Nd category, as isdecimal
            continue
        low = raw.lower()
        if low in STOPWORDS and not (i > 0 and len(raw) == 1 and raw.isupper() and raw != "I"):
            continue
        out.append(low)
    return out


def stems(text: str) -> list[str]:
    """Stems of :func:`content_tokens`, in order (duplicates kept)."""
    return list(_stems_cached(text))


# Verification stems every included abstract twice per question (IDF table, BM25 index),
# and a record often belongs to several questions.
@functools.lru_cache(maxsize=8192)
def _stems_cached(text: str) -> tuple[str, ...]:
    return tuple(map(stem, content_tokens(text)))


_ENTITY = re.compile(r"[^\W_]*(?:[A-Z][^\W_]*[A-Z0-9]|[0-9][^\W_]*[A-Za-z])[^\W_]*|(?<![\w.])[A-Z](?![\w])")


def entity_tokens(text: str) -> list[tuple[int, str]]:
    """Name-like tokens with their token position: ``[(position, lower_form), …]``.

    Name-like = an acronym or mixed-case/alphanumeric identifier (``ImageNet``, ``GPT4``,
    ``BERT``, ``7B``) anywhere, or a capitalised word / single capital letter that is not
    the first token of the sentence (``Institute C``, ``Method A``). Positions index the
    :func:`tokens` list of the same text.
    """
    out = []
    for i, m in enumerate(_TOKEN.finditer(text.replace("\\%", "%"))):
        raw = m.group(0)
        if _NUMERIC.match(raw):
            continue
        name_like = bool(_ENTITY.fullmatch(raw)) or (i > 0 and raw[:1].isupper())
        if name_like and raw != "I":
            out.append((i, raw.lower()))
    return out


# Own list: acronyms so common in NLP/ML and biomedical abstracts that they name a field,
# not a particular thing.
GENERIC_ACRONYMS = frozenset(
    """
    llm lm vlm mllm lmm lvlm slm nlp nlu nlg ai ml dl rl rlhf sota api gpu cpu tpu qa vqa
    cot rag kg nn cnn rnn dnn gnn mlp moe dna rna mrna ci or hr rr sd iqr ii iii iv us uk
    eu usa
    """.split()
)


_NAME_TOKEN = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*")
_SIZE = re.compile(r"\d+(?:\.\d+)?[A-Za-z]{1,2}")


def names(text: str) -> list[str]:
    """Specific names in ``text``, lower-cased, in order, without duplicates.

    A name is a token (hyphen and dot compounds kept whole: ``ME-DLM``, ``Qwen2.5-VL``,
    ``GPT-4o``) that has an upper-case letter after its first character or mixes
    digits and letters (``CoCoS``, ``HumanEval``, ``FOXO3``, ``Ross3D``). Not names:
    :data:`GENERIC_ACRONYMS` (``LLMs`` → plural ``s`` dropped → ``llm``), sizes and
    dimensions (``7B``, ``3D``), single letters.
    """
    out: list[str] = []
    for m in _NAME_TOKEN.finditer(text):
        token = m.group(0)
        if token.isalpha() and token.islower():
            continue  # no upper-case letter and no digit: nothing in it can be a name
        # "(ADEs)", "(BIR)": an abbreviation the author defines here; the source may only
        # use the words it abbreviates.
        if text[m.start() - 1:m.start()] == "(" and text[m.end():m.end() + 1] == ")":
            continue
        # Keep the name-like parts of a compound: "Sf1-expressing" → "sf1",
        # "ME-DLM" → "me-dlm".
        parts = [p for p in token.rstrip(".").split("-") if p]
        kept = [p for p in parts
                if _ENTITY.fullmatch(p.replace(".", "")) or (len(parts) > 1 and p.isupper())]
        raw = "-".join(kept)
        if len(raw) < 2 or _NUMERIC.match(raw) or not kept:
            continue
        if _SIZE.fullmatch(raw):
            continue  # a size or dimension ("7B", "3D", "8K"), not a name
        if raw.endswith("s") and raw[:-1].isupper():
            raw = raw[:-1]
        low = raw.lower()
        if low not in GENERIC_ACRONYMS and low not in out:
            out.append(low)
    return out


_SELF_REFERENCE = re.compile(
    r"(?i:\b(?:our|the proposed|this|the present)\s+(?:[\w-]+\s+){0,2}?(?:approach|method|"
    r"model|framework|system|work|technique|algorithm|pipeline|solution|architecture|"
    r"strategy|benchmark|dataset|tool|agent|paper|study)\b)"
    r"|^(?:It|This|They|Such)\s+(?!is\s+(?:known|well)\b)"
    # "The model fails to …": a definite generic head with no name before it.
    r"|^(?:[A-Z][a-z]+,\s+)?(?i:the)\s+(?:[a-z][\w-]*\s+){0,2}?(?:approach|method|model|framework|system|"
    r"technique|algorithm|pipeline|architecture|agent)\s+(?:(?:\w+ly|still|also|then|further|thus|therefore)\s+)?"
    r"(?!(?:is|was|are|were|has|have|had)\s+(?:been\s+)?(?:trained|used|applied|evaluated|tested|built|based)\b)"
    r"(?:[a-z]+(?:s|ed)|can|could|may|might|will|would|should|must|do|does|did)\b"
    # "Extensive experiments … demonstrate consistent improvements over …": whose improvements?
    r"|^(?:[A-Z][a-z]+,\s+)?(?:[A-Za-z][\w-]*\s+){0,2}?(?i:experiments|evaluations|results|analyses|tests)\b"
    r"[^.;:]{0,100}?\b(?:demonstrate|show|indicate|reveal|confirm|verify|validate)s?\s+(?:that\s+)?"
    r"(?:[a-z][\w-]*\s+){0,2}?(?:improvements?|gains?)\b(?!\s+(?:of|for|from|by)\s+(?:the\s+)?[A-Z])",
)


def self_reference(text: str) -> bool:
    """True when ``text`` speaks of its own paper's unnamed contribution ("our method",
    "the proposed framework", "this work", a sentence opening with "It"/"This"/"They",
    or with "The model/method/framework … <verb>" without a name, and results whose owner
    is unsaid: "Extensive experiments … demonstrate consistent improvements over …").

    Another paper cannot confirm or refute a statement about a thing it cannot name;
    verification uses this to keep such sentences out of corroboration.
    """
    return bool(_SELF_REFERENCE.search(text))


_AIM = re.compile(
    r"""
      ^\W*(?-i:OBJECTIVES?|AIMS?|PURPOSE|DESIGN|METHODS?|SETTING|PARTICIPANTS|MATERIALS?)\b  # headings: capitals only
    | ^\W*(?:To|In\ order\ to)\ (?:assess|determine|evaluate|examine|investigate|test|compare|explore
          |study|characteri[sz]e|identify|analy[sz]e|measure|quantify|estimate|review|describe|address
          |understand|clarify|elucidate)\b
    | \b(?:we|this\ (?:study|review|paper|work|trial|analysis)|the\ (?:present|current)\ study)
          \ (?:aim(?:s|ed)?\ to|sought\ to|set\ out\ to|(?:was|were|is)\ (?:designed|conducted|undertaken)\ to)\b
    | \b(?:the|our)\ (?:main\ |primary\ )?(?:aims?|objectives?|purposes?|goals?)\ (?:of|was|is|were)\b
    | \b(?:we|here\ we|this\ study|this\ paper)\ (?:examined|examine|investigated|investigate|assessed|assess
          |evaluated|evaluate|explored|explore|studied|study|tested|test|reviewed|review|asked|ask|determined
          |determine)\ (?:whether|if|how|the\ (?:effects?|association|role|relationship|impact|hypothesis))\b
    | \bwe\ hypothesi[sz]ed?\ that\b
    | \b(?:evaluates|examines|investigates|explores|studies|analy[sz]es)\ (?:how|whether)\b
    """,
    re.X | re.I,
)
_REPORTED = re.compile(r"\b(?:found|showed|shown|demonstrated|revealed|observed|confirmed)\b", re.I)


def states_aim(sentence: str) -> bool:
    """True when ``sentence`` states what a study set out to do, not what it found: an
    OBJECTIVE/AIMS/PURPOSE/DESIGN/METHODS/SETTING/PARTICIPANTS/MATERIALS heading, "To
    assess whether …", "This study aimed to …", "The aim of … was", "We examined whether
    / the effect of …", "We hypothesised that …", "X evaluates how / examines whether …"
    — unless it also reports a result ("… and found that …", "showed", "observed", …).

    Such a sentence repeats the question in the claim's own words, so verification does
    not take it as evidence. Our own patterns; on SciFact train (rules alone) they
    raised abstract label+rationale F1 from 0.502 to 0.510 (oracle) and 0.375 to 0.381
    (open); label-only F1 moved 0.574 → 0.571 (oracle) and 0.420 → 0.421 (open). Headings
    count in capitals only ("Method A …" is a name). The third-person "X evaluates how …"
    (a benchmark's or paper's scope) left SciFact train unchanged; "we studied how" and
    past tenses were left out: in biomedical abstracts they often lead into results.
    """
    return bool(_AIM.search(sentence)) and not _REPORTED.search(sentence)


# --------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Quantity:
    """A number found in text.

    ``value`` is the (low) value as a float with thousands separators removed and
    multipliers applied (``10M`` → 1e7, ``2k`` → 2000, ``1.5 billion`` → 1.5e9);
    ``high`` is the upper end of a range (``40-66``, ``between 80% and 90%``) or ``None``.
    ``unit`` is a symbol (``%``, ``x``, ``ms``, ``s``, ``h``, ``gb``, ``$``, …), else the
    stem of the counted noun that follows (``patients`` → ``patient``,
    ``tokens`` → ``token``), else ``''``. ``precision`` is the rounding step of the
    written number (``45`` → 1, ``89.4`` → 0.1, ``1.5B`` → 1e8), used when comparing.
    ``start``/``end`` are offsets in the analysed text. ``spelled`` marks a number
    written as a word (``two`` … ``twelve``, ``twenty`` … ``ninety``, ``hundred``);
    "one" is left out — it is mostly a pronoun ("one of the").
    """

    value: float
    unit: str
    start: int
    end: int
    text: str
    high: float | None = None
    precision: float = 1.0
    spelled: bool = False

    @property
    def is_range(self) -> bool:
        return self.high is not None


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_MULT = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mn": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12,
}
_SYMBOL_UNITS = {
    "%": "%", "\\%": "%", "percent": "%", "per cent": "%", "pp": "pp", "points": "pp",
    "x": "x", "×": "x", "\\times": "x", "$\\times$": "x", "times": "x", "fold": "x",
    "ms": "ms", "s": "s", "sec": "s", "seconds": "s", "min": "min", "minutes": "min",
    "h": "h", "hours": "h", "hrs": "h", "days": "d", "d": "d", "weeks": "wk", "months": "mo",
    "years": "y", "yrs": "y", "gb": "gb", "mb": "mb", "tb": "tb", "kb": "kb",
    "mg": "mg", "kg": "kg", "g": "g", "ml": "ml", "mm": "mm", "cm": "cm", "km": "km",
}
_SYMBOL_ALT = "|".join(
    sorted((re.escape(k) for k in _SYMBOL_UNITS), key=len, reverse=True)
)
# A one-letter multiplier must touch the number: "2 B cells" is not two billion.
_MULT_ALT = r"(?:[kKmMbBtT](?![a-zA-Z])|\s?(?:thousand|million|billion|trillion|mn|bn)\b)"
_ONE = (
    rf"(?P<@num>{_NUM})(?P<@mult>{_MULT_ALT})?"
    rf"(?:\s?(?P<@sym>(?:{_SYMBOL_ALT})(?![a-zA-Z])))?"
)
_QTY = re.compile(
    r"(?:\bbetween\s+(?P<between>" + _ONE.replace("@", "a") + r")\s+and\s+" + _ONE.replace("@", "b") + r")"
    r"|(?P<single>" + _ONE.replace("@", "c") + r")(?:\s?(?:-|–|—|to)\s?(?P<range>" + _ONE.replace("@", "d") + r"))?",
)
_CONFIDENCE_LEVEL = re.compile(r"\s*(?:CI\b|confidence\b|credible\b|Cr?I\b)", re.I)
_NOUN_AFTER = re.compile(r"\s+([A-Za-z][a-z]{2,})\b")
_NOT_UNITS = STOPWORDS | {"and", "or", "vs", "versus", "compared", "times"}


_NUMBER_WORDS = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()) if i != 1
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
     "eighty": 80, "ninety": 90, "hundred": 100}
_NUMBER_WORD = Caseless(r"(?<![\w-])(?:" + "|".join(_NUMBER_WORDS) + r")(?![\w-])")
# Every match of _QTY holds a digit: a sentence without one is not scanned (most are not).
_DIGIT = re.compile(r"\d")


def _num_value(num: str, mult: str | None) -> tuple[float, float]:
    plain = num.replace(",", "")
    value = float(plain)
    decimals = len(plain.split(".", 1)[1]) if "." in plain else 0
    precision = 10.0 ** (-decimals)
    factor = _MULT.get((mult or "").strip().lower(), 1.0)
    return value * factor, precision * factor


def _unit_of(sym: str | None, after: str) -> str:
    if sym:
        return _SYMBOL_UNITS.get(sym.lower(), sym.lower())
    m = _NOUN_AFTER.match(after)
    if m:
        word = m.group(1).lower()
        if word not in _NOT_UNITS:
            return stem(word)
    return ""


def _identifier_digit(text: str, start: int) -> bool:
    """True when the number at ``start`` belongs to a name (``GPT-4``, ``Qwen2.5``, ``top-1``)."""
    if start == 0:
        return False
    prev = text[start - 1]
    if prev.isalpha() or prev in "_.":
        return True
    if prev in "-‐" and start >= 2 and text[start - 2].isalnum():
        return True
    return False


@functools.lru_cache(maxsize=65536)
def _quantities_cached(text: str) -> tuple[Quantity, ...]:
    out: list[Quantity] = []
    for m in _QTY.finditer(text) if _DIGIT.search(text) else ():
        if _identifier_digit(text, m.start()) or text[m.end():m.end() + 1].isalnum():
            continue  # "GPT-4", "Qwen2.5", "3D", "4o", "7th": names and ordinals
        if _CONFIDENCE_LEVEL.match(text, m.end()):
            continue  # "95% CI": the level of an interval, not a finding
        g = m.groupdict()
        if g["between"]:
            lo, lo_p = _num_value(g["anum"], g["amult"])
            hi, hi_p = _num_value(g["bnum"], g["bmult"])
            sym = g["bsym"] or g["asym"]
            unit = _unit_of(sym, text[m.end():])
            out.append(Quantity(lo, unit, m.start(), m.end(), m.group(0), hi, min(lo_p, hi_p)))
            continue
        lo, lo_p = _num_value(g["cnum"], g["cmult"])
        if g["range"] and g["dnum"]:
            hi, hi_p = _num_value(g["dnum"], g["dmult"] or g["cmult"])
            if g["cmult"] is None and g["dmult"]:
                lo, lo_p = _num_value(g["cnum"], g["dmult"])
            sym = g["dsym"] or g["csym"]
            if hi >= lo:
                unit = _unit_of(sym, text[m.end():])
                out.append(Quantity(lo, unit, m.start(), m.end(), m.group(0), hi, min(lo_p, hi_p)))
                continue
            # "2019-12" or a descending pair: two separate numbers.
            unit = _unit_of(g["csym"], text[m.end("single"):])
            out.append(Quantity(lo, unit, m.start(), m.end("single"), m.group("single"), None, lo_p))
            unit = _unit_of(g["dsym"], text[m.end():])
            out.append(Quantity(hi, unit, m.start("range"), m.end(), m.group("range"), None, hi_p))
            continue
        unit = _unit_of(g["csym"], text[m.end():])
        if not g["csym"] and text[max(0, m.start() - 1):m.start()] == "$":
            unit = "$" if not any(s <= m.start() < e for s, e in math_spans(text)) else unit
        out.append(Quantity(lo, unit, m.start(), m.end("single"), m.group("single"), None, lo_p))
    for start, end in _NUMBER_WORD.spans(text):
        unit = _unit_of(None, text[end:])
        value = float(_NUMBER_WORDS[fold(text[start:end])])
        out.append(Quantity(value, unit, start, end, text[start:end], None, 1.0, True))
    return tuple(sorted(out, key=lambda q: q.start))


def quantities(text: str) -> list[Quantity]:
    """Numbers in ``text`` with value, unit, range and span (see :class:`Quantity`).

    Digits inside names are skipped (``GPT-4``, ``LLaVA-1.5``, ``Qwen2.5``, ``top-1``).
    ``4,523,000`` and ``4523000`` give the same value; ``10M``/``1.5B``/``2k``/``3 million``
    are scaled; ``40-66``, ``0.5B to 32B`` and ``between 80% and 90%`` are ranges. The
    level of an interval (``95% CI``) is not a quantity.
    """
    return list(_quantities_cached(text))


# --------------------------------------------------------------------------- token analysis


class Token(NamedTuple):
    """One word token: ``low`` lower-cased, ``stem`` (``None`` for stopwords and pure
    numbers), character span, and ``boundary`` — a clause break (``, ; : . ! ? ( )``)
    lies between the previous token and this one. (A named tuple rather than a frozen
    dataclass: verification makes one for each word of every sentence it scores, and
    analysing the 2,260 sentences it scores at 50 questions took 0.12 instead of 0.10 s
    with the dataclass, fastest of 7; our measurement.)"""

    low: str
    stem: str | None
    start: int
    end: int
    boundary: bool


@functools.lru_cache(maxsize=65536)
def _analyse_cached(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    prev_end = 0
    for i, m in enumerate(_TOKEN.finditer(text)):
        raw = m.group(0)
        low = raw.lower().replace("\\%", "%")
        content = not _NUMERIC.match(raw) and (
            low not in STOPWORDS or (i > 0 and len(raw) == 1 and raw.isupper() and raw != "I")
        )
        gap = text[prev_end:m.start()]
        out.append(Token(low, stem(low) if content else None, m.start(), m.end(),
                         bool(_CLAUSE_PUNCT.search(gap)) if out else False))
        prev_end = m.end()
    return tuple(out)


_CLAUSE_PUNCT = re.compile(r"[,;:.!?()\[\]]")


@functools.lru_cache(maxsize=65536)
def stem_set(text: str) -> frozenset[str]:
    """The stems of the content tokens of ``text``: ``{t.stem for t in analyse(text) if
    t.stem}``, without building the tokens (3x faster; verification gathers it for every
    sentence of every candidate record, and needs :func:`analyse` for few of them)."""
    lows = []
    for i, raw in enumerate(_TOKEN.findall(text)):
        if raw[0].isdecimal() and _NUMERIC.match(raw):
            continue
        low = raw.lower()
        if low not in STOPWORDS or (i > 0 and len(raw) == 1 and raw.isupper() and raw != "I"):
            lows.append(low)
    return frozenset(map(stem, lows))


def analyse(text: str) -> tuple[Token, ...]:
    """The :func:`tokens` of ``text`` with stems, spans and clause boundaries."""
    return _analyse_cached(text)


# --------------------------------------------------------------------------- negation

# Own list of negation cues. Predicate negations deny what follows; "condition"
# negations (lack, without, absence of, absent) describe a setup ("mice lacking X") and
# are reported separately because they often belong to the subject, not the finding.
_NEG_WORDS = frozenset("not never neither nor none cannot".split())
# Adjectives that deny a relation only as a predicate ("X is unrelated to Y"); before a
# noun ("on unrelated tasks") they describe the noun, common in computer-science abstracts.
_NEG_PREDICATIVE = {"unrelated": ("to", "with"), "uncorrelated": ("with", "to"), "incapable": ("of",)}
_NEG_CONDITION = frozenset("without lack lacks lacked lacking absent absence unable".split())
_NT_STEMS = frozenset(
    "didn doesn don isn wasn aren weren can couldn shouldn won wouldn hasn haven hadn mustn".split()
)
_SCOPE_STOP = frozenset("but whereas while although though which that than whether if how why".split())
_AUXILIARY = frozenset("is are was were be been being am do does did has have had can could will would "
                       "shall should may might must also still".split())
SCOPE_TOKENS = 5
# "mice lacking Sirt1 in …": a condition names its object, the rest is the finding.
CONDITION_SCOPE_TOKENS = 2


def _cue_kind(toks: tuple[Token, ...], i: int, text: str) -> str | None:
    low = toks[i].low
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    prev = toks[i - 1].low if i > 0 else ""
    if low == "not":
        if nxt == "only":
            return None
        # "LLMs not specifically trained for reasoning exhibit …": a reduced relative clause
        # describes the subject (a setup, like "mice lacking X"); the finding follows.
        participle = toks[i + 2].low if nxt.endswith("ly") and i + 2 < len(toks) else nxt
        if (i > 0 and toks[i - 1].stem is not None and prev not in _AUXILIARY
                and not toks[i].boundary and participle.endswith("ed")):
            return "condition"
        return "predicate"
    if low == "no":
        return None if nxt in ("more", "less", "fewer", "longer") else "predicate"
    if low in _NEG_WORDS:
        return "predicate"
    if low in _NEG_PREDICATIVE:
        return "predicate" if nxt in _NEG_PREDICATIVE[low] else None
    if low == "t" and prev in _NT_STEMS and text[toks[i - 1].end:toks[i].start] in ("'", "’"):
        return "predicate"
    if low in ("fail", "fails", "failed", "failing") and nxt == "to":
        return "predicate"
    if low in _NEG_CONDITION:
        if low == "without" and prev == "or":
            return None  # "with or without X" states no polarity
        return "condition"
    return None


@functools.lru_cache(maxsize=65536)
def _negated_cached(text: str) -> tuple[frozenset[int], frozenset[int]]:
    toks = analyse(text)
    scopes: dict[str, set[int]] = {"predicate": set(), "condition": set()}
    for i in range(len(toks)):
        kind = _cue_kind(toks, i, text)
        if kind is None:
            continue
        taken = 0
        limit = SCOPE_TOKENS if kind == "predicate" else CONDITION_SCOPE_TOKENS
        for j in range(i + 1, len(toks)):
            if toks[j].boundary or toks[j].low in _SCOPE_STOP or taken >= limit:
                break
            # "did not reduce Y and increased Z": a second predicate starts a new scope.
            if toks[j].low in ("and", "or") and j + 1 < len(toks) and \
                    stem(toks[j + 1].low) in DIRECTION_STEMS:
                break
            if toks[j].stem is not None:
                scopes[kind].add(j)
                taken += 1
    return frozenset(scopes["predicate"]), frozenset(scopes["condition"])


def negated_positions(text: str, *, conditions: bool = True) -> frozenset[int]:
    """Indices into :func:`analyse` of content tokens under a negation cue.

    Scope: up to :data:`SCOPE_TOKENS` (5) content words after a predicate cue, 2 after a
    condition cue, stopping at a clause break (punctuation, but, whereas, which, that,
    than) or at "and/or" before a second direction verb. Predicate cues (own list): not,
    n't, no, never, neither, nor, none, cannot, fail(s) to. Condition cues: without, lack,
    absent, absence, unable — included unless ``conditions=False``. ``not only``,
    ``no more/less/fewer/longer`` and ``with or without`` are not negations.
    """
    pred, cond = _negated_cached(text)
    return pred | cond if conditions else pred


def negation_scope(text: str, *, conditions: bool = True) -> frozenset[str]:
    """Stems of the negated content words (see :func:`negated_positions`).

    "Drug X did not improve survival" → ``{"improv", "surviv"}``.
    """
    toks = analyse(text)
    return frozenset(toks[i].stem for i in negated_positions(text, conditions=conditions))


def has_negation(text: str) -> bool:
    """True when ``text`` contains any negation cue (predicate or condition)."""
    toks = analyse(text)
    return any(_cue_kind(toks, i, text) for i in range(len(toks)))


# --------------------------------------------------------------------------- hedges

# Own list of hedge cues (epistemic modals and tentative reporting verbs).
_HEDGE = Caseless(
    r"\b(?:may|might|could|suggests?|suggested|suggesting|appears?\s+to|appeared\s+to|"
    r"seems?\s+to|potentially|possibly|perhaps|likely|unlikely|preliminary|putative|"
    r"we\s+hypothesi[sz]e|hypothesi[sz]ed|tentative(?:ly)?|presumabl[ey]|speculate)\b",
)


def is_hedged(text: str) -> bool:
    """True when ``text`` states its content tentatively (may, might, could, suggest(s),
    appear(s) to, seem(s) to, potentially, possibly, perhaps, likely, preliminary,
    we hypothesise, …; own list)."""
    return _HEDGE.search(text)


# --------------------------------------------------------------------------- direction

# Own antonym lexicon: axis → (positive words, negative words). Words are stemmed at
# import, so inflections match ("reduces", "reduced", "reducing").
_DIRECTION_WORDS: dict[str, tuple[str, str]] = {
    "amount": (
        "increase increases increased increasing increment higher more greater larger "
        "rise rises rose risen raise raises raised elevate elevated elevation gain gains "
        "gained grow grows grew boost boosts boosted upregulate upregulated "
        "upregulation exceed exceeds exceeded accumulate accumulation expand expands "
        "expanded expansion abundant abundance",
        "decrease decreases decreased decreasing lower less fewer smaller reduce reduces "
        "reduced reducing reduction fall falls fell decline declines declined drop drops "
        "dropped diminish diminishes diminished loss losses lose loses lost shrink "
        "downregulate downregulated downregulation attenuate attenuates attenuated cut cuts "
        "depletion deplete depleted scarce scarcity",
    ),
    "quality": (
        "improve improves improved improving improvement better best enhance enhances "
        "enhanced enhancement benefit benefits beneficial strengthen strengthens superior "
        "outperform outperforms outperformed",
        "degrade degrades degraded degradation worsen worsens worsened worse worst hurt "
        "hurts harm harms harmful impair impairs impaired impairment weaken weakens "
        "inferior underperform underperforms underperformed deteriorate deteriorates "
        "deterioration",
    ),
    "speed": ("faster quicker accelerate accelerates accelerated", "slower decelerate delays delayed slows"),
    "efficiency": ("efficient efficiency", "inefficient inefficiency"),
    "effectiveness": ("effective effectiveness", "ineffective ineffectiveness"),
    "accuracy": ("accurate", "inaccurate"),
    "stability": ("stable stability", "unstable instability"),
    "sign": ("positive positively", "negative negatively"),
    "regulation": (
        "activate activates activated activation induce induces induced induction promote "
        "promotes promoted stimulate stimulates stimulated facilitate facilitates encourage "
        "encourages encouraged",
        "inhibit inhibits inhibited inhibition suppress suppresses suppressed suppression "
        "block blocks blocked repress represses repressed prevent prevents prevented "
        "deactivate deactivates deactivated impede impedes impeded hinder hinders hindered "
        "abolish abolishes abolished",
    ),
    "importance": (
        "essential crucial necessary required indispensable",
        "trivial dispensable unnecessary unimportant negligible",
    ),
    "susceptibility": (
        "susceptible susceptibility vulnerable vulnerability prone",
        "resistant resistance tolerant",
    ),
    "estimate": ("overestimate overestimates overestimated", "underestimate underestimates underestimated"),
    "safety": ("safe", "unsafe"),
    "dependence": ("dependent dependence", "independent independence"),
}
_DIRECTION: dict[str, tuple[str, int]] = {}
for _axis, (_pos, _neg) in _DIRECTION_WORDS.items():
    for _w in _pos.split():
        _DIRECTION.setdefault(stem(_w), (_axis, 1))
    for _w in _neg.split():
        _DIRECTION.setdefault(stem(_w), (_axis, -1))
DIRECTION_STEMS = frozenset(_DIRECTION)

NOT_DIRECTION_WORDS = frozenset(
    "activity activities active actively activator activators activations effect effects "
    "promoter promoters enhancer enhancers position positions positional positioning "
    "essentially inductive negation negations require requires requiring requirement requirements".split()
)
"""Words that share a Snowball stem with a direction word but name no direction: "enzyme
activity" is not "activates", "side effects" not "effective", a gene's "promoter" or
"enhancer" not "promotes"/"enhances", "positional encoding" not "positive". Our own list:
the most frequent such collisions among the SciFact corpus abstracts and 8,000 arXiv cs.CL
abstracts of ``../shared/corpus`` (e.g. "activity" 1,353 times, "effects" 1,082 in
SciFact), keeping true inflections ("inhibiting", "preventing", "lowering"). "Requires" is
left out too: "X requires Y" states a dependency, not that X is "required" (important);
SciFact train scores are unchanged by it."""


@functools.lru_cache(maxsize=65536)
def _direction_cached(text: str) -> tuple[tuple[str, int, str, int], ...]:
    toks = analyse(text)
    negated = negated_positions(text)
    out = []
    for i, tok in enumerate(toks):
        hit = None if tok.low in NOT_DIRECTION_WORDS else _DIRECTION.get(stem(tok.low))
        if hit and i not in negated:
            out.append((hit[0], hit[1], stem(tok.low), i))
    return tuple(out)


def direction(text: str) -> list[tuple[str, int, str]]:
    """Direction words in ``text`` as ``[(axis, sign, stem), …]`` in order.

    ``sign`` is +1 (increase, improve, higher, more, better, faster, efficient, positive,
    activate, …) or -1 (decrease, reduce, degrade, lower, less, worse, slower,
    inefficient, negative, inhibit, …); pairs on one axis are antonyms. Words under a
    negation cue are left out — the negation check covers them.
    """
    return [(a, s, st) for a, s, st, _ in _direction_cached(text)]


@functools.lru_cache(maxsize=65536)
def _units_cached(text: str) -> tuple[tuple[int, int, int, str], ...]:
    toks = analyse(text)
    units: list[list] = []  # [sign, lo, hi, head axis]
    for axis, sign, _, i in _direction_cached(text):
        last = units[-1] if units else None
        if last and i - last[2] <= 2 and not any(toks[k].boundary for k in range(last[2] + 1, i + 1)):
            last[0] *= sign
            last[2] = i
            last[3] = axis
        else:
            units.append([sign, i, i, axis])
    return tuple((u[0], u[1], u[2], u[3]) for u in units)


CONTRAST_MARKERS = frozenset("but whereas while although though unlike yet".split())
"""Words that open a contrasting clause. A direction word after one of them speaks of what
the clause is about ("A improves X, whereas B reduces it"), so the direction check takes a
phrase's anchor words from its own segment only. Our own list."""


@functools.lru_cache(maxsize=65536)
def contrast_segments(text: str) -> tuple[int, ...]:
    """Segment number of each :func:`analyse` token of ``text``: a new segment starts at a
    :data:`CONTRAST_MARKERS` word and after a semicolon. ``"A improves X, while B reduces
    Y"`` → ``(0, 0, 0, 1, 1, 1, 1)``."""
    out, seg, prev_end = [], 0, 0
    for tok in analyse(text):
        if out and (tok.low in CONTRAST_MARKERS or ";" in text[prev_end:tok.start]):
            seg += 1
        out.append(seg)
        prev_end = tok.end
    return tuple(out)


PROPERTY_AXES = frozenset({"speed", "efficiency", "effectiveness", "accuracy", "stability"})
"""Axes of words that name a property ("more efficient", "less stable")."""


def comparable_axes(a: str, b: str) -> bool:
    """Whether two direction phrases with head axes ``a`` and ``b`` can contradict.

    Everything is comparable except an amount word against a property word: "reduces the
    alignment tax" and "a more efficient reward-tax Pareto front" do not point in
    opposite directions on one axis, although "reduce" is negative and "more efficient"
    positive. Our own rule; on SciFact train it moved abstract label-only F1 by less than
    0.01 (oracle and open), and it removes that false contradiction.
    """
    return a == b or not ({a, b} & {"amount"} and {a, b} & PROPERTY_AXES)


def direction_phrases(text: str) -> list[tuple[int, int, int, str]]:
    """Like :func:`direction_units`, with the axis of each phrase's last (head) word:
    ``[(sign, first_index, last_index, head_axis), …]``."""
    return list(_units_cached(text))


def direction_units(text: str) -> list[tuple[int, int, int]]:
    """Composed direction phrases: ``[(sign, first_index, last_index), …]``.

    Direction words at most two tokens apart in one clause combine by multiplying their
    signs, so "less efficient" (−·+) = −, "more efficient" = +, "inhibits growth"
    (−·+) = −, "reduced proliferation" = −. Indices refer to :func:`analyse`.
    """
    return [u[:3] for u in _units_cached(text)]
