"""Precision and recall of the relevance screen on hand-labelled records; threshold search.

Usage: ``python benchmarks/screening_eval.py [--no-retrieval-check]``

Reads ``tests/fixtures/relevance_labels.jsonl`` (one JSON object per line: ``question``
slug, ``record_id``, ``title``, ``relevant``, ``off_topic``, ``reason``, ``sample``) and
the ``../shared`` corpora, builds for each example question a snapshot of its labelled records (in fixture
order, which is retrieval order followed by the extra records), and prints:

1. P/R/F1 per question and pooled (micro) of the earlier rule (include when at least two
   facets have all their terms in title or abstract), of the module's current rule, and of
   the current rule on the retrieved records alone, each with the number of off-topic
   records it includes;
2. leave-one-question-out: lone-word credit and thresholds chosen on two questions (grid
   search, F-beta with beta = 1.5), measured on the third;
3. the values chosen on all three questions, which must equal the constants in
   :mod:`generator.screening` (checked: the script exits 1 when they differ or when
   ``screen()`` disagrees with the evaluation here).

With the retrieval check (default) it also loads the corpus into the ``library`` provider
and checks that the build still retrieves exactly the fixture's ``retrieved`` records, so a
change in retrieval cannot silently make the labels stale.

Samples in the fixture: ``retrieved`` (every record ``Library.search`` returns for the
question, includes resolved), ``random`` (20 corpus records per question drawn with
``random.Random("labels-<slug>")`` from those not retrieved: negatives by chance, checked
one by one — one turned out relevant) and ``seed-corpus`` (the seed-topic CSL items not
already retrieved, so the seed question's Qwen3 case is labelled).

Labelling guideline (applied by reading title and abstract, before running the screen; a
record is ``relevant`` when it gives evidence bearing on at least one substantive facet in
the question's context). ``off_topic`` marks the not-relevant records on another subject
altogether (every random record, "tax" homonyms, papers from other fields, the general
model reports and seed-topic items foreign to the question), as opposed to near misses on
the question's own subject (a DPO paper reporting only win rates). It was added after the
relevance pass, from the reasons written then, to count what the screen must not let in.
Per question:

``alignment-tax`` — "Does RLHF or DPO alignment reduce performance on knowledge and
reasoning benchmarks, and can the loss be mitigated?" Relevant: (1) measures how preference
or safety alignment (RLHF, DPO and variants, preference-trained RL) changes capabilities
(knowledge, reasoning, general benchmarks, calibration, forgetting), naming such benchmarks
or tasks; (2) identifies a performance degradation caused by RLHF/DPO themselves (e.g.
over-penalised reasoning, reinforced hallucination) and remedies it; (3) proposes or
evaluates an alignment method stating that it avoids or mitigates the alignment tax or
preserves general capabilities / utility. Not relevant: "tax" in other senses (tax law,
tokenizer, format, translation, conversation taxes), DPO/RLHF papers reporting only
alignment targets (win rates, safety, hallucination, style) without a capability effect,
RL for reasoning (RLVR) or fine-tuning for other goals, "alignment" in other senses.

``multimodal-llama2-self-invoking-code`` — the seed question (alignment of multimodal
Llama-2 models vs self-invoking code generation on HumanEval Pro / MBPP Pro, as an
efficiency / quality trade-off). Relevant: (S1) self-invoking code generation or
HumanEval Pro / MBPP Pro; (S2) effects of alignment, read broadly as post-training
(instruction tuning, SFT on code solutions, preference optimisation, RL or self-training),
on code generation, with code-generation results; (S3) Llama 2 itself or multimodal models
of the LLaMA family (LLaVA, including LLaVA-1.5 on Llama-2-based Vicuna); (S4) inference
efficiency versus solution quality *measured on code generation* (decoding speed-ups, token
or compute cost, model size vs pass@k, efficiency of generated code). Not relevant: code
papers on other aspects (robustness, security, retrieval, prompting, benchmarks in other
languages), alignment or efficiency work with no code-generation result, multimodal models
outside the LLaMA family, and general model reports that only list code among benchmarks
(the Qwen3 and Gemini 2.5 reports).

``reasoning-modes-cost`` — "Do reasoning (thinking) modes improve accuracy, what do they
cost in tokens and latency, and can the reasoning budget be controlled without losing the
gain?" Relevant: measures accuracy of thinking / reasoning modes or long chain-of-thought
against not thinking; measures their cost (tokens, latency, compute); controls, compresses
or adapts reasoning length or budget (efficient reasoning, early exit, latent or implicit
reasoning to cut cost); studies over- or underthinking; model reports with switchable
thinking modes. Not relevant: reasoning work without a mode, cost or budget angle, and
unrelated topics.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import screening  # noqa: E402
from generator.models import Question, Record, Snapshot  # noqa: E402
from generator.providers.library_readers import read_corpus  # noqa: E402
from generator.questions import load_question  # noqa: E402
from generator.records import identity_keys  # noqa: E402

SHARED = ROOT.parent / "shared"
CORPORA = (SHARED / "corpus" / "arxiv-cscl-2025-2026.jsonl.gz", SHARED / "corpus" / "seed-topic.csl.json")
LABELS = ROOT / "tests" / "fixtures" / "relevance_labels.jsonl"
QUESTIONS = ROOT / "content" / "questions"

BETA = 1.5
"""F-beta weight of recall in the threshold search (recall preferred: excluded records stay listed)."""
FACET_GRID = tuple(i / 8 for i in range(1, 17))
LONE_WORD_GRID = (0.0, 0.25, 0.5, 1.0)
COVERAGE_GRID = tuple(i / 40 for i in range(0, 13))


def load_labels(path: Path = LABELS) -> list[dict]:
    """The label lines of ``path`` as dicts, in file order."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_records(ids: set[str], corpora=CORPORA) -> dict[str, Record]:
    """Records of ``corpora`` whose ``id`` is in ``ids`` (first occurrence wins)."""
    found: dict[str, Record] = {}
    for path in corpora:
        for rec in read_corpus(Path(path)):
            if rec.id in ids and rec.id not in found:
                found[rec.id] = rec
    return found


def label_snapshot(question: Question, labels: list[dict], records: dict[str, Record]) -> Snapshot:
    """A snapshot holding the labelled records of ``question`` in label order."""
    recs = tuple(records[row["record_id"]] for row in labels if row["question"] == question.slug)
    return Snapshot(slug=question.slug, queries=question.queries, providers=("library",),
                    since=question.since, max_records=question.max_records, records=recs,
                    provider_counts={"library": len(recs)})


@dataclass(frozen=True)
class Features:
    """What the decision depends on, for one labelled record (see :func:`features`)."""

    record_id: str
    relevant: bool
    off_topic: bool
    sample: str
    fixed: bool | None  # decision not depending on thresholds (duplicate, date, include:)
    facet_evidence: float
    coverage: float
    uses_coverage: bool
    facets_full: int


def features(question: Question, snapshot: Snapshot, labels: list[dict],
             lone_word_credit: float = screening.LONE_WORD_CREDIT) -> list[Features]:
    """Per labelled record of ``question``: label and the quantities the screen thresholds.

    A duplicate takes the decision of the record it was merged into.
    """
    result = screening.screen(question, snapshot)
    by_id = {d.record_id: d for d in result.decisions}
    kept = {r.id: r for r in result.records}
    idf = screening.idf_weights(list(result.records))
    out = []
    for row in labels:
        if row["question"] != question.slug:
            continue
        decision = by_id[row["record_id"]]
        rec = kept[decision.duplicate_of or row["record_id"]]
        d = by_id[rec.id]
        listed = bool(set(question.include) & set(identity_keys(rec)))
        dated = bool(d.reason and d.reason.startswith("outside date range"))
        terms = screening.record_terms(rec)
        out.append(Features(
            record_id=row["record_id"], relevant=bool(row["relevant"]),
            off_topic=bool(row.get("off_topic")), sample=row["sample"],
            fixed=True if listed else (False if dated else None),
            facet_evidence=sum(screening.facet_scores(question, rec, lone_word_credit)),
            coverage=screening.question_coverage(question, terms, idf),
            uses_coverage=rec.text_available or not question.facets,
            facets_full=len(screening.matched_facets(question.facets, terms))))
    return out


def decide(f: Features, min_facets: float, min_coverage: float, n_facets: int) -> bool:
    """The screen's include decision for ``f`` under the given thresholds."""
    if f.fixed is not None:
        return f.fixed
    ok = f.facet_evidence >= min_facets - 1e-9 if n_facets else True
    if f.uses_coverage:
        ok = ok and f.coverage >= min_coverage - 1e-9
    return ok


def decide_before(f: Features, n_facets: int) -> bool:
    """The earlier rule: at least ``min(2, facets)`` facets with all their terms present."""
    if f.fixed is not None:
        return f.fixed
    return f.facets_full >= min(2, n_facets)


def counts(pairs) -> tuple[int, int, int]:
    """``(tp, fp, fn)`` of ``(relevant, included)`` pairs."""
    tp = fp = fn = 0
    for relevant, included in pairs:
        tp += relevant and included
        fp += included and not relevant
        fn += relevant and not included
    return tp, fp, fn


def prf(tp: int, fp: int, fn: int, beta: float = 1.0) -> tuple[float, float, float]:
    """Precision, recall, F-beta (precision of an empty inclusion set is 1.0)."""
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = (1 + beta ** 2) * p * r / (beta ** 2 * p + r) if p + r else 0.0
    return p, r, f


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def choose(feats: dict[float, dict[str, list[Features]]], n_facets: dict[str, int], slugs
           ) -> tuple[float, float, float]:
    """``(lone_word_credit, min_facet_evidence, min_question_coverage)`` maximising pooled
    F-beta on ``slugs`` over the grids; ties go to the first in grid order (lower values)."""
    best = None
    for lw in LONE_WORD_GRID:
        for mf in FACET_GRID:
            for mc in COVERAGE_GRID:
                tot = (0, 0, 0)
                for s in slugs:
                    pairs = ((f.relevant, decide(f, mf, mc, n_facets[s])) for f in feats[lw][s])
                    tot = _add(tot, counts(pairs))
                score = prf(*tot, beta=BETA)[2]
                if best is None or score > best[0] + 1e-12:
                    best = (score, lw, mf, mc)
    return best[1], best[2], best[3]


def _row(name: str, c: tuple[int, int, int], off: int | None = None) -> str:
    p, r, f = prf(*c)
    tail = "" if off is None else f" off-topic in={off}"
    return f"{name:<48} {p:6.3f} {r:6.3f} {f:6.3f}   tp={c[0]:<3} fp={c[1]:<3} fn={c[2]:<3}{tail}"


def check_retrieval(questions: list[Question], labels: list[dict]) -> list[str]:
    """Differences between the fixture's ``retrieved`` records and what the build retrieves."""
    from generator.providers.library import Library
    from generator.retrieval import retrieve

    library = Library.load([str(p) for p in CORPORA])
    problems = []
    for q in questions:
        snap = retrieve(q, [library], now="2026-11-30T00:00:00+00:00")
        want = [r["record_id"] for r in labels if r["question"] == q.slug and r["sample"] == "retrieved"]
        got = [r.id for r in snap.records]
        if want != got:
            problems.append(f"{q.slug}: retrieval changed ({len(set(got) - set(want))} new, "
                            f"{len(set(want) - set(got))} gone): relabel the new records")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Print the tables; return 1 when constants, ``screen()`` or retrieval disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-retrieval-check", action="store_true")
    args = parser.parse_args(argv)

    labels = load_labels()
    slugs = list(dict.fromkeys(r["question"] for r in labels))
    questions = [load_question(QUESTIONS / f"{s}.yaml") for s in slugs]
    records = load_records({r["record_id"] for r in labels})
    snaps = {q.slug: label_snapshot(q, labels, records) for q in questions}
    feats = {lw: {q.slug: features(q, snaps[q.slug], labels, lw) for q in questions} for lw in LONE_WORD_GRID}
    nf = {q.slug: len(q.facets) for q in questions}
    status = 0

    print(f"{len(labels)} labels: " + ", ".join(
        f"{s} {sum(1 for r in labels if r['question'] == s)} "
        f"({sum(1 for r in labels if r['question'] == s and r['relevant'])} relevant, "
        f"{sum(1 for r in labels if r['question'] == s and r.get('off_topic'))} off-topic)" for s in slugs))
    lw0, mf, mc = screening.LONE_WORD_CREDIT, screening.MIN_FACET_EVIDENCE, screening.MIN_QUESTION_COVERAGE
    now = feats[lw0]
    print(f"\n{'rule / question':<48} {'P':>6} {'R':>6} {'F1':>6}")
    for title, rule, subset in (
        ("before (>= 2 facets fully matched)", lambda f, s: decide_before(f, nf[s]), None),
        (f"now (lone {lw0}, facets >= {mf}, coverage >= {mc})", lambda f, s: decide(f, mf, mc, nf[s]), None),
        ("now, retrieved records only", lambda f, s: decide(f, mf, mc, nf[s]), "retrieved"),
    ):
        print(title)
        tot, off_tot = (0, 0, 0), 0
        for s in slugs:
            rows = [f for f in now[s] if subset in (None, f.sample)]
            c = counts((f.relevant, rule(f, s)) for f in rows)
            off = sum(1 for f in rows if f.off_topic and rule(f, s))
            tot, off_tot = _add(tot, c), off_tot + off
            print(_row("  " + s, c, off))
        print(_row("  pooled", tot, off_tot))

    print(f"\nleave-one-question-out (lone-word credit and thresholds chosen on the other two, "
          f"F-beta, beta={BETA})")
    tot, off_tot = (0, 0, 0), 0
    for s in slugs:
        lw, a, b = choose(feats, nf, [x for x in slugs if x != s])
        c = counts((f.relevant, decide(f, a, b, nf[s])) for f in feats[lw][s])
        off = sum(1 for f in feats[lw][s] if f.off_topic and decide(f, a, b, nf[s]))
        tot, off_tot = _add(tot, c), off_tot + off
        print(_row(f"  {s} @ ({lw}, {a}, {b})", c, off))
    print(_row("  pooled held-out", tot, off_tot))

    lw, a, b = choose(feats, nf, slugs)
    print(f"\nchosen on all three questions: LONE_WORD_CREDIT={lw}, MIN_FACET_EVIDENCE={a}, "
          f"MIN_QUESTION_COVERAGE={b}")
    if (lw, a, b) != (lw0, mf, mc):
        print(f"MISMATCH: generator/screening.py has ({lw0}, {mf}, {mc})")
        status = 1

    for q in questions:
        result = screening.screen(q, label_snapshot(q, labels, records))
        by_id = {d.record_id: d for d in result.decisions}
        for f in now[q.slug]:
            d = by_id[f.record_id]
            d = by_id[d.duplicate_of] if d.duplicate_of else d
            if d.included != decide(f, mf, mc, nf[q.slug]):
                print(f"MISMATCH: screen() and this evaluation disagree on {q.slug} {f.record_id}")
                status = 1

    if not args.no_retrieval_check:
        problems = check_retrieval(questions, labels)
        print("\nretrieval check: " + ("the build retrieves exactly the labelled records" if not problems
                                        else "; ".join(problems)))
        status = status or (1 if problems else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
