"""Training pairs for the neural verifier: ``(claim, sentence, label)`` with label index
0 = SUPPORTS, 1 = CONTRADICTS, 2 = NOT ENOUGH INFO (the order of
:data:`generator.neural.CLASSES`).

Stage 1 (entailment pre-training) reads the sets of ``../shared/nli`` (licences and
credits in each folder's ``SOURCES.md`` and in ``generator/model/MODEL_CARD.md``);
stage 2 reads SciFact train (``../shared/scifact/claims_train.jsonl`` only — never dev or
test). The hypothesis/claim is always the first segment, the premise/evidence the second.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

SUP, CON, NEI = 0, 1, 2
Pair = tuple[str, str, int]

_NLI = {"entailment": SUP, "contradiction": CON, "neutral": NEI, "not_entailment": NEI}
_PTB = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"'}
_CITATION = re.compile(r"\[?<\|(?:multi_)?cit\|>[^\]]*\]?")


def _detok(text: str) -> str:
    """Undo FEVER/PTB escapes (``-LRB-`` → ``(``) so they look like ordinary prose."""
    for k, v in _PTB.items():
        text = text.replace(k, v)
    return re.sub(r"\s+", " ", text).strip()


def _csv_pairs(path: Path) -> list[Pair]:
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label = _NLI.get((row.get("label") or "").strip())
            if label is not None and row["premise"].strip() and row["hypothesis"].strip():
                out.append((row["hypothesis"].strip(), " ".join(row["premise"].split()), label))
    return out


def mnli(shared: Path) -> list[Pair]:
    """MultiNLI dev matched + mismatched (19,647 pairs; 3 classes)."""
    return _csv_pairs(shared / "nli/mnli/mnli_dev_matched_mismatched.csv")


def scitail(shared: Path) -> list[Pair]:
    """SciTail test split (2,126 pairs; entailment vs not_entailment → NEI)."""
    return _csv_pairs(shared / "nli/scitail/scitail_test_felipessalvatore.csv")


def snli(shared: Path) -> list[Pair]:
    """SNLI dev + test via e-SNLI's tokenised files (19,666 pairs)."""
    root = shared / "nli/snli/esnli_tokenized"
    out = []
    for split in ("dev", "test"):
        s1 = (root / f"s1.{split}").read_text(encoding="utf-8").splitlines()
        s2 = (root / f"s2.{split}").read_text(encoding="utf-8").splitlines()
        labels = (root / f"labels.{split}").read_text(encoding="utf-8").splitlines()
        for p, h, lab in zip(s1, s2, labels):
            if lab.strip() in _NLI and p.strip() and h.strip():
                out.append((h.strip(), p.strip(), _NLI[lab.strip()]))
    return out


def fever(shared: Path) -> list[Pair]:
    """FEVER dev (RTE format, SUPPORTS/REFUTES only) plus FEVER-Symmetric, deduplicated
    by claim text + evidence (both are built from FEVER dev)."""
    root = shared / "nli/fever-rte-dev"
    ev = (root / "dev.raw.input0").read_text(encoding="utf-8").splitlines()
    cl = (root / "dev.raw.input1").read_text(encoding="utf-8").splitlines()
    lab = (root / "dev.label").read_text(encoding="utf-8").splitlines()
    seen: set[tuple[str, str]] = set()
    out: list[Pair] = []

    def add(claim: str, evidence: str, label: int) -> None:
        claim, evidence = _detok(claim), _detok(evidence)
        key = (claim.lower(), evidence.lower())
        if claim and evidence and key not in seen:
            seen.add(key)
            out.append((claim, evidence, label))

    for c, e, lab_ in zip(cl, ev, lab):
        add(c, e, SUP if lab_.strip() == "entailment" else CON)
    sym = shared / "nli/fever-symmetric"
    for name in ("fever_symmetric_dev.jsonl", "fever_symmetric_test.jsonl", "fever_symmetric_generated.jsonl"):
        for line in (sym / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            evidence = obj.get("evidence_sentence") or obj.get("evidence") or ""
            label = (obj.get("label") or obj.get("gold_label") or "").upper()
            if label in ("SUPPORTS", "REFUTES"):
                add(obj["claim"], evidence, SUP if label == "SUPPORTS" else CON)
    return out


def citation_integrity(shared: Path, rng: random.Random, nei_per_doc: int = 2) -> list[Pair]:
    """Citation-Integrity *train* split: SUPPORT rationale sentences → SUPPORTS, up to
    ``nei_per_doc`` other sentences of each cited article → NEI. REFUTE ("citation not
    accurate": unsubstantiated, oversimplified, contradicted...) is left out because it is
    broader than contradiction. Citation markers ``[<|cit|>]`` are removed."""
    root = shared / "nli/citation-integrity"
    corpus = {}
    for line in (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            corpus[int(d["doc_id"])] = d["abstract"]
    out: list[Pair] = []
    for line in (root / "claims_train.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        claim = re.sub(r"\s+", " ", _CITATION.sub("", c["claim"])).strip()
        evidence = c.get("evidence") or {}
        if any(s["label"] != "SUPPORT" for sets in evidence.values() for s in sets):
            continue
        for doc_id in c.get("cited_doc_ids", []):
            sents = corpus.get(int(doc_id))
            if not sents:
                continue
            rationale = {i for s in evidence.get(str(doc_id), []) for i in s["sentences"]}
            for i in sorted(rationale):
                if i < len(sents):
                    out.append((claim, sents[i], SUP))
            others = [i for i in range(len(sents)) if i not in rationale]
            for i in rng.sample(others, min(nei_per_doc, len(others))):
                out.append((claim, sents[i], NEI))
    return out


ALL: Mapping[str, int] = {}
"""``sizes`` for :func:`stage1_pairs` that caps nothing (about 60k pairs)."""


def stage1_pairs(shared: Path, seed: int = 0, sizes: Mapping[str, int] | None = None) -> list[Pair]:
    """The stage-1 mixture, shuffled with ``seed``. ``sizes`` caps each source (random
    subsample; a source not named is used whole); default caps keep one epoch near 30k pairs."""
    sizes = dict(sizes if sizes is not None else {"mnli": 12000, "snli": 5000, "scitail": 2126, "fever": 7000, "citint": 6000})
    rng = random.Random(seed)
    sources = {
        "mnli": mnli(shared),
        "snli": snli(shared),
        "scitail": scitail(shared),
        "fever": fever(shared),
        "citint": citation_integrity(shared, rng),
    }
    pairs: list[Pair] = []
    for name, items in sources.items():
        cap = sizes.get(name, len(items))
        pairs.extend(items if cap >= len(items) else rng.sample(items, cap))
    rng.shuffle(pairs)
    return pairs


# --------------------------------------------------------------------------- SciFact


def rationale_labels(claim: Mapping[str, Any]) -> dict[int, tuple[int, set[int]]]:
    """``{doc_id: (label_index, rationale_sentence_indices)}`` of a SciFact claim's gold evidence."""
    out = {}
    for doc_id, sets in (claim.get("evidence") or {}).items():
        label = SUP if sets[0]["label"] == "SUPPORT" else CON
        out[int(doc_id)] = (label, {i for s in sets for i in s["sentences"]})
    return out


def scifact_pairs(
    claims: Sequence[Mapping[str, Any]],
    corpus: Mapping[int, Mapping[str, Any]],
    retrieved: Mapping[int, Sequence[int]],
    rng: random.Random,
    *,
    hard_docs: int = 2,
    hard_sents: int = 3,
    nei_keep: float = 1.0,
) -> list[Pair]:
    """Sentence pairs of SciFact claims: gold rationale sentences carry the abstract's
    label; every other sentence of a cited abstract is NEI (kept with probability
    ``nei_keep``); plus, from the first ``hard_docs`` BM25-retrieved abstracts that are not
    cited (``retrieved[claim_id]``), the ``hard_sents`` sentences sharing most words with
    the claim, as NEI (hard negatives for the open setting)."""
    out: list[Pair] = []
    for c in claims:
        gold = rationale_labels(c)
        text = c["claim"]
        for doc_id in dict.fromkeys(c.get("cited_doc_ids", [])):
            sents = corpus[doc_id]["abstract"]
            label, rationale = gold.get(doc_id, (NEI, set()))
            for i, s in enumerate(sents):
                if i in rationale:
                    out.append((text, s, label))
                elif rng.random() < nei_keep:
                    out.append((text, s, NEI))
        words = set(re.findall(r"\w+", text.lower()))
        cited = set(c.get("cited_doc_ids", [])) | set(gold)
        extra = [d for d in retrieved.get(c["id"], []) if d not in cited][:hard_docs]
        for doc_id in extra:
            sents = corpus[doc_id]["abstract"]
            overlap = sorted(range(len(sents)), key=lambda i: -len(words & set(re.findall(r"\w+", sents[i].lower()))))
            for i in overlap[:hard_sents]:
                out.append((text, sents[i], NEI))
    return out


def claim_folds(claims: Sequence[Mapping[str, Any]], k: int = 5, seed: int = 0) -> dict[int, int]:
    """``{claim_id: fold}``. Claims that share a cited or evidence abstract are kept in one
    fold (SciFact's negated claims reuse their source's abstract; splitting them would leak
    the abstract across folds); groups are shuffled with ``seed`` and dealt greedily to
    the smallest fold."""
    parent: dict[Any, Any] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in claims:
        node = ("c", c["id"])
        find(node)
        for d in set(c.get("cited_doc_ids", [])) | {int(x) for x in (c.get("evidence") or {})}:
            parent[find(node)] = find(("d", d))
    groups: dict[Any, list[int]] = {}
    for c in claims:
        groups.setdefault(find(("c", c["id"])), []).append(c["id"])
    ordered = sorted(groups.values(), key=lambda g: min(g))
    random.Random(seed).shuffle(ordered)
    ordered.sort(key=len, reverse=True)  # stable: big groups first, shuffled among equals
    sizes = [0] * k
    folds = {}
    for g in ordered:
        f = min(range(k), key=lambda i: (sizes[i], i))
        sizes[f] += len(g)
        for cid in g:
            folds[cid] = f
    return folds
