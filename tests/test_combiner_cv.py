"""The stacking experiment's own pieces (training/combiner_cv.py) on small made-up data."""

import numpy as np

from training import combiner_cv as C


def _row(cid, doc, rank, p_support, p_contradict, lex, y, cited=False):
    return {"cid": cid, "doc": doc, "fold": 0, "cited": cited, "rank": rank, "ratio": 1.0 / (rank + 1),
            "lex": lex, "lex_conf": 0.6 if lex != 2 else 0.0, "sentences": [0], "pS": p_support,
            "pC": p_contradict, "maxS": p_support, "maxC": p_contradict, "n_evidence": 1, "y": y}


def test_fit_learns_which_signal_names_the_label():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        y = int(rng.integers(0, 3))
        p = {0: (0.8, 0.1), 1: (0.1, 0.8), 2: (0.1, 0.1)}[y]
        noisy = np.clip(np.array(p) + rng.normal(0, 0.05, 2), 0.01, 0.99)
        rows.append(_row(i, i, 0, noisy[0], noisy[1], 2, y))
    x, y = np.array([C.features(r) for r in rows]), np.array([r["y"] for r in rows])
    probs = C.probabilities(C.fit(x, y), x)
    assert probs.shape == (300, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert (probs.argmax(axis=1) == y).mean() > 0.95


def test_predictions_respect_threshold_depth_and_keep():
    claims = [{"id": 1}]
    rows = [_row(1, 10, 0, 0.7, 0.1, 0, 0), _row(1, 11, 1, 0.1, 0.6, 1, 1), _row(1, 12, 4, 0.9, 0.0, 0, 2, cited=True)]
    probs = np.array([[0.7, 0.1, 0.2], [0.1, 0.6, 0.3], [0.9, 0.0, 0.1]])
    (open_,) = C.predictions(claims, rows, probs, 0.5, (3, 0.0, 1))
    assert open_ == {"id": 1, "evidence": {"10": {"label": "SUPPORT", "sentences": [0]}}}
    (two,) = C.predictions(claims, rows, probs, 0.5, (3, 0.0, 2))
    assert set(two["evidence"]) == {"10", "11"} and two["evidence"]["11"]["label"] == "CONTRADICT"
    (oracle,) = C.predictions(claims, rows, probs, 0.95, None)
    assert oracle["evidence"] == {}  # only the cited abstract, and below the threshold
