"""Code-change experiments that ``pipeline/`` would need, measured by 5-fold CV on train.

    .venv/bin/python -m benchmarks.experiments --train ../shared/data/real/train.parquet \
        [--dev ../shared/data/real/dev.parquet] [--tuned benchmarks/results/tune.json]

Same protocol as ``benchmarks/tune.py`` (pooled out-of-fold predictions, shipped
prediction logic, urgency rules applied), on the settings it chose. Each experiment
adds columns to the feature matrix or changes the heads locally, never ``pipeline/``:

* ``+channel``: one-hot of the input's channel (here the ``source`` column:
  tweet / review / consumer-authority form); production inputs carry ``channel``.
* ``+rating``: one-hot of a review's star rating (1-5), all zero when absent.
* ``+channel+rating``.
* ``char n-grams on normalised text``: the char_wb branch reads ``text.normalise(text)``
  (stop words and inflections kept) instead of the lemma string; words stay on lemmas.
* ``urgency C=0.25``: a per-head C (the urgency head's best C in tune.py stage A).
* combinations of the above.
* ``tfidf fitted with unlabeled pool text``: the word/char vectorisers (vocabulary,
  idf, char feature selection) fitted on the fold's training texts plus the pool
  texts that are in neither train nor dev; heads trained on the labelled rows only.

With ``--dev``: the chosen settings plus each change, trained on all of train and
scored on dev (reported after the CV numbers; nothing is chosen on dev).
Writes ``benchmarks/results/experiments.json`` and ``.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed

from pipeline.taxonomy import HEADS

from .common import REAL, RESULTS, machine, write_json
from .tune import Folds, _features, _fit_predict_fold, _labels, _metrics, log, merge_folds

RATINGS = (1.0, 2.0, 3.0, 4.0, 5.0)


def load_with_meta(path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    out = pd.DataFrame({"id": frame["id"].astype(str), "source": frame["source"].astype(str),
                        "text": frame["text"].astype(str), "rating": frame["rating"].astype(float)})
    for head in HEADS:
        out[head] = frame[head].astype(str)
    return out.reset_index(drop=True)


def meta_matrix(frame: pd.DataFrame, sources: list[str], channel: bool, rating: bool):
    blocks = []
    if channel:
        blocks.append(np.column_stack([(frame["source"] == s).to_numpy(float) for s in sources]))
    if rating:
        blocks.append(np.column_stack([(frame["rating"] == r).to_numpy(float) for r in RATINGS]))
    return sp.csr_matrix(np.hstack(blocks)) if blocks else None


def fold_run(folds: Folds, fold: int, model_cfg: dict, pre: dict, experiments: dict, sources, pool_table=None,
             pool_texts=None):
    data = folds.data
    train_idx, val_idx = folds.splits[fold]
    table = folds.table(pre["mode"], fold, pre)
    feats = _features(model_cfg, pre, table)
    train_texts = [folds.texts[i] for i in train_idx]
    val_texts = [folds.texts[i] for i in val_idx]
    X_train = feats.fit_transform(train_texts)
    X_val = feats.transform(val_texts)
    y_train = {h: data[h].to_numpy()[train_idx] for h in HEADS}
    outs = {}
    cache = {}
    for name, exp in experiments.items():
        Xt, Xv = X_train, X_val
        if exp.get("char_norm"):
            if "char_norm" not in cache:
                f2 = _features(model_cfg, pre, table, char_on_normalised=True)
                cache["char_norm"] = (f2.fit_transform(train_texts), f2.transform(val_texts))
            Xt, Xv = cache["char_norm"]
        if exp.get("pool"):
            merged = {**table, **pool_table[fold]}
            feats_pool = _features(model_cfg, pre, merged)
            feats_pool.fit(train_texts + pool_texts)
            Xt, Xv = feats_pool.transform(train_texts), feats_pool.transform(val_texts)
        if exp.get("channel") or exp.get("rating"):
            mt = meta_matrix(data.iloc[train_idx], sources, exp.get("channel"), exp.get("rating"))
            mv = meta_matrix(data.iloc[val_idx], sources, exp.get("channel"), exp.get("rating"))
            Xt, Xv = sp.hstack([Xt, mt]).tocsr(), sp.hstack([Xv, mv]).tocsr()
        outs[name] = _fit_predict_fold(Xt, Xv, y_train, val_texts, model_cfg, exp.get("variant", {}))
    return outs


EXPERIMENTS = {
    "chosen settings": {},
    "+channel": {"channel": True},
    "+rating": {"rating": True},
    "+channel+rating": {"channel": True, "rating": True},
    "char n-grams on normalised text": {"char_norm": True},
    "urgency C=0.25 (per-head C)": {"variant": {"C_per_head": {"urgency": 0.25}}},
    "char on normalised text + urgency C=0.25": {"char_norm": True, "variant": {"C_per_head": {"urgency": 0.25}}},
    "char on normalised text + urgency C=0.25 +channel+rating": {
        "char_norm": True, "channel": True, "rating": True, "variant": {"C_per_head": {"urgency": 0.25}}},
}


def dev_run(train, dev, model_cfg, pre, experiments, sources) -> dict:
    """Train on all of train with each change, score dev (numbers only)."""
    from pipeline.preprocess import FrenchPreprocessor

    preproc = FrenchPreprocessor(mode=pre["mode"], batch_size=pre["batch_size"], max_chars=pre["max_chars"])
    preproc.fit(train["text"].tolist())
    everything = list(dict.fromkeys(train["text"].tolist() + dev["text"].tolist()))
    table = dict(zip(everything, preproc.transform(everything)))
    feats = _features(model_cfg, pre, table)
    Xt = feats.fit_transform(train["text"].tolist())
    Xv = feats.transform(dev["text"].tolist())
    y = {h: train[h].to_numpy() for h in HEADS}
    rows = {}
    f2 = _features(model_cfg, pre, table, char_on_normalised=True)
    Xt2 = f2.fit_transform(train["text"].tolist())
    Xv2 = f2.transform(dev["text"].tolist())
    for name, exp in experiments.items():
        if exp.get("pool"):
            continue
        At, Av = (Xt2, Xv2) if exp.get("char_norm") else (Xt, Xv)
        if exp.get("channel") or exp.get("rating"):
            At = sp.hstack([At, meta_matrix(train, sources, exp.get("channel"), exp.get("rating"))]).tocsr()
            Av = sp.hstack([Av, meta_matrix(dev, sources, exp.get("channel"), exp.get("rating"))]).tocsr()
        out = _fit_predict_fold(At, Av, y, dev["text"].tolist(), model_cfg, exp.get("variant", {}))
        m = _metrics(dev, _labels(out, dev["text"].tolist()))
        rows[name] = m
        log(f"[dev] {name}: " + json.dumps(m))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev")
    parser.add_argument("--tuned", default=str(RESULTS / "tune.json"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pool", action="store_true", help="also the unlabeled-pool TF-IDF experiment (slow)")
    parser.add_argument("--out", default=str(RESULTS / "experiments.json"))
    args = parser.parse_args(argv)

    from .common import settings_variant

    base = settings_variant()
    model_cfg, pre = dict(base["model"]), dict(base["preprocess"])
    tuned_from = "settings.toml as shipped"
    if Path(args.tuned).is_file():
        chosen = json.loads(Path(args.tuned).read_text(encoding="utf-8"))["search"]["chosen"]
        model_cfg.update(chosen["model"])
        pre.update(chosen["preprocess"])
        tuned_from = args.tuned
    train = load_with_meta(args.train)
    sources = sorted(train["source"].unique())
    folds = Folds(train, args.folds)
    for fold in range(args.folds):
        folds.table(pre["mode"], fold, pre)
    experiments = dict(EXPERIMENTS)
    pool_table = pool_texts = None
    if args.pool:
        from pipeline.preprocess import FrenchPreprocessor

        pool = pd.read_parquet(REAL / "pool.parquet", columns=["id", "text"])
        excluded = set(train["id"]) | (set(pd.read_parquet(args.dev, columns=["id"])["id"]) if args.dev else set())
        pool_texts = list(dict.fromkeys(pool.loc[~pool["id"].isin(excluded), "text"].dropna().astype(str)))
        pool_table = {}
        for fold in range(args.folds):
            pre_fold = FrenchPreprocessor(mode=pre["mode"], batch_size=pre["batch_size"], max_chars=pre["max_chars"])
            pre_fold.fit([folds.texts[i] for i in folds.splits[fold][0]])
            pool_table[fold] = dict(zip(pool_texts, pre_fold.transform(pool_texts)))
            log(f"pool preprocessed for fold {fold} ({len(pool_texts)} texts)")
        experiments["tfidf fitted with unlabeled pool text"] = {"pool": True}
    start = time.time()
    fold_outs = Parallel(n_jobs=args.jobs)(
        delayed(fold_run)(folds, f, model_cfg, pre, experiments, sources, pool_table, pool_texts)
        for f in range(args.folds))
    order = np.concatenate([val for _, val in folds.splits])
    truth = train.iloc[order].reset_index(drop=True)
    cv = {}
    for name in experiments:
        cv[name] = _metrics(truth, _labels(merge_folds(fold_outs, name), truth["text"].tolist()))
        log(f"[cv] {name}: " + json.dumps(cv[name]))
    payload = {"command": "python -m benchmarks.experiments " + " ".join(argv or sys.argv[1:]),
               "machine": machine(), "settings_from": tuned_from, "model": model_cfg, "preprocess": pre,
               "cv_seconds": round(time.time() - start, 1), "cv": cv}
    if args.dev:
        dev = load_with_meta(args.dev)
        payload["dev"] = dev_run(train, dev, model_cfg, pre, experiments, sources)
    write_json(args.out, payload)
    lines = ["# Code-change experiments", "", f"Command: `{payload['command']}` · {payload['machine']['date']}", "",
             f"Settings: {tuned_from} (`{json.dumps({k: model_cfg[k] for k in ('loss', 'C', 'word_ngram_max', 'char_ngram_min', 'char_ngram_max', 'min_df', 'max_char_features', 'calibration')})}`, mode {pre['mode']})", ""]
    for part in ("cv", "dev"):
        if part not in payload:
            continue
        lines += [f"## {'5-fold CV on train (pooled out-of-fold)' if part == 'cv' else 'Dev (trained on all of train)'}", "",
                  "| experiment | sector F1 | root cause F1 | urgency F1 | critique recall | mean |", "|---|---|---|---|---|---|"]
        for name, m in payload[part].items():
            lines.append(f"| {name} | {m['sector']:.3f} | {m['root_cause']:.3f} | {m['urgency']:.3f} | "
                         f"{m['critique_recall']} | {m['objective']:.4f} |")
        lines.append("")
    Path(args.out).with_suffix(".md").write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
