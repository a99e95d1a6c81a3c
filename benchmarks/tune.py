"""Choose the [model] / [preprocess] settings by 5-fold cross-validation on TRAIN only.

    .venv/bin/python -m benchmarks.tune --train ../shared/data/real/train.parquet \
        [--dev ../shared/data/real/dev.parquet] [--folds 5] [--jobs 2]

The dev split plays no part in any choice: it is read only after every choice is
frozen (``--dev``), to report the chosen settings and the code-change experiments.

How a fold is scored, faithfully to the shipped pipeline: ``build_pipeline`` builds
the features, except that its spaCy step is replaced by a lookup into strings that a
``FrenchPreprocessor`` fitted on the fold's training part produced (the preprocessor
is deterministic once fitted, so this only saves time). Heads are
``CalibratedLinearClassifier``; a head's label is the arg-max of the calibrated
probabilities and urgency rules raise urgency afterwards, exactly as
``ComplaintModel.predict_frame`` does. Metrics are computed on the pooled
out-of-fold predictions (macro-F1 per head via ``pipeline.evaluation.head_metrics``).

Search (coordinate-wise; the objective is the mean out-of-fold macro-F1 of the
three heads):
  A. preprocess mode x loss x C, default features, sigmoid calibration;
  B. features one at a time around the best of A: word n-grams, char range, min_df,
     max_char_features;
  C. calibration (sigmoid / isotonic), C again around the best.
Then D, experiments that need code changes in ``pipeline/`` (measured here on a local
copy of the logic, never by editing pipeline/): label by decision function instead of
calibrated probabilities, no class weights, a per-head C, a critique probability
threshold, char n-grams on the normalised text instead of the lemma string.

Writes ``benchmarks/results/tune.json`` and ``benchmarks/results/tune.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import StratifiedKFold

from pipeline.estimators import CalibratedLinearClassifier
from pipeline.evaluation import head_metrics
from pipeline.model import build_pipeline
from pipeline.preprocess import FrenchPreprocessor
from pipeline.rules import fired_rules
from pipeline.taxonomy import HEADS, URGENCY_ORDER, load_taxonomy

from .common import RESULTS, SEED, critique_recall, load_split, machine, settings_variant, write_json

MODEL_KEYS = ("word_ngram_max", "char_ngram_min", "char_ngram_max", "min_df", "max_char_features",
              "loss", "C", "calibration")


def merge_folds(fold_outs: list, name: str) -> dict:
    """Stack the out-of-fold probabilities and decisions of one variant, per head.

    Every fold sees every class when folds are stratified on root cause and classes have
    at least n_folds examples; a class missing from a fold is padded (0 / -inf)."""
    merged = {}
    for head in HEADS:
        classes = sorted(set().union(*[set(fo[name][head]["classes"]) for fo in fold_outs]))

        def pad(fo, key):
            arr = fo[name][head][key]
            full = np.full((arr.shape[0], len(classes)), -np.inf if key == "decision" else 0.0)
            for j, c in enumerate(fo[name][head]["classes"]):
                full[:, classes.index(c)] = arr[:, j]
            return full
        merged[head] = {"classes": np.asarray(classes, dtype=object),
                        "proba": np.vstack([pad(fo, "proba") for fo in fold_outs]),
                        "decision": np.vstack([pad(fo, "decision") for fo in fold_outs])}
    return merged


class CachedPreprocessor(TransformerMixin, BaseEstimator):
    """Stands in for FrenchPreprocessor: text -> the string a fitted preprocessor gave."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray([self.table[t] for t in X], dtype=object)


# -- folds and caches -------------------------------------------------------------------------
class Folds:
    def __init__(self, data: pd.DataFrame, n_folds: int):
        self.data = data
        self.texts = data["text"].tolist()
        strata = data["root_cause"].to_numpy()
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=SEED)
        self.splits = list(splitter.split(np.zeros(len(data)), strata))
        self.tables: dict[tuple[str, int], dict[str, str]] = {}

    def table(self, mode: str, fold: int, preprocess: dict) -> dict[str, str]:
        key = (mode, fold)
        if key not in self.tables:
            train_idx, val_idx = self.splits[fold]
            pre = FrenchPreprocessor(mode=mode, batch_size=preprocess["batch_size"], n_process=1,
                                     max_chars=preprocess["max_chars"])
            train_texts = [self.texts[i] for i in train_idx]
            pre.fit(train_texts)
            everything = list(dict.fromkeys(self.texts))
            self.tables[key] = dict(zip(everything, pre.transform(everything)))
        return self.tables[key]


def _replace_preprocessors(features, table: dict) -> int:
    """Swap the FrenchPreprocessor of each branch of the features for a cached lookup."""
    from sklearn.pipeline import Pipeline

    replaced = 0
    for _, branch, _ in features.transformers:
        if isinstance(branch, Pipeline):
            for i, (name, step) in enumerate(branch.steps):
                if isinstance(step, FrenchPreprocessor):
                    branch.steps[i] = (name, CachedPreprocessor(table))
                    replaced += 1
    return replaced


def _features(model_cfg: dict, preprocess: dict, table: dict, char_on_normalised: bool = False):
    """``build_pipeline``'s text features (no channel or rating: ``experiments.py`` adds
    those itself), taking a list of texts, with the spaCy step looked up from ``table``.

    ``char_on_normalised`` is kept for the recorded experiments: the character branch
    has read the normalised text since commit 0b1535e, so it changes nothing now.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from pipeline.context import model_input

    features = build_pipeline({**model_cfg, "context_features": False}, preprocess).named_steps["features"]
    if _replace_preprocessors(features, table) == 0:
        raise RuntimeError("no FrenchPreprocessor found in build_pipeline's features")
    return Pipeline([("input", FunctionTransformer(model_input)), ("features", features)])


def _fold_features(folds: Folds, fold: int, model_cfg: dict, preprocess: dict, char_on_normalised=False):
    train_idx, val_idx = folds.splits[fold]
    table = folds.table(preprocess["mode"], fold, preprocess)
    feats = _features(model_cfg, preprocess, table, char_on_normalised)
    X_train = feats.fit_transform([folds.texts[i] for i in train_idx])
    X_val = feats.transform([folds.texts[i] for i in val_idx])
    return X_train, X_val


def _fit_predict_fold(X_train, X_val, y_train: dict, val_texts: list[str], clf_cfg: dict, variant: dict):
    """Probabilities and labels of each head on the validation part (rules applied)."""
    out = {}
    for head in HEADS:
        cw = variant.get("class_weight", "balanced")
        C = variant.get("C_per_head", {}).get(head, clf_cfg["C"])
        clf = CalibratedLinearClassifier(loss=clf_cfg["loss"], C=C, class_weight=cw,
            method=clf_cfg["calibration"], random_state=clf_cfg["seed"])
        clf.fit(X_train, y_train[head])
        proba = clf.predict_proba(X_val)
        decision = clf.estimator_.decision_function(X_val)
        if decision.ndim == 1:
            decision = np.column_stack([-decision, decision])
        out[head] = {"classes": clf.classes_, "proba": proba, "decision": decision}
    return out


def apply_urgency_floors(texts: list[str], labels: np.ndarray, classes) -> np.ndarray:
    """What ``ComplaintModel`` does after the urgency head: raise the label to the floor
    of every fired rule (``pipeline.rules.fired_rules``), never lower it. Written here
    against the public rule API so that it survives changes of the model's internals."""
    rank = {level: i for i, level in enumerate(URGENCY_ORDER)}
    known = set(classes)
    labels = labels.copy()
    for k, text in enumerate(texts):
        for rule in fired_rules(text):
            if rule.floor in known and rank[rule.floor] < rank[labels[k]]:
                labels[k] = rule.floor
    return labels


def shipped_critique_tau() -> float | None:
    """``[urgency] critique_min_proba`` when the settings have it (ComplaintModel applies it)."""
    from pipeline.config import load_settings

    value = load_settings().values.get("urgency", {}).get("critique_min_proba")
    return None if value is None or value >= 1.0 else float(value)


def _labels(fold_out: dict, val_texts: list[str], by: str = "proba", critique_tau: float | None = "shipped",
            rules: bool = True) -> dict[str, np.ndarray]:
    if critique_tau == "shipped":
        critique_tau = shipped_critique_tau()
    labels = {}
    for head in HEADS:
        classes, proba = fold_out[head]["classes"], fold_out[head]["proba"]
        score = proba if by == "proba" else fold_out[head]["decision"]
        best = np.argmax(score, axis=1)
        lab = classes[best].astype(object)
        if head == "urgency":
            if critique_tau is not None and "critique" in classes:
                col = int(np.flatnonzero(classes == "critique")[0])
                lab = np.where(proba[:, col] >= critique_tau, "critique", lab).astype(object)
            if rules:
                lab = apply_urgency_floors(val_texts, lab, classes)
        labels[head] = lab
    return labels


def _metrics(truth: pd.DataFrame, pred: dict) -> dict:
    taxonomy = load_taxonomy()
    result = {}
    for head in HEADS:
        m = head_metrics(truth[head].to_numpy(), pred[head], taxonomy.ids(head))
        result[head] = m["macro_f1"]
        result[head + "_acc"] = m["accuracy"]
    result["critique_recall"] = critique_recall(truth["urgency"], pred["urgency"])
    result["objective"] = round(float(np.mean([result[h] for h in HEADS])), 4)
    return result


# -- one configuration, all folds ---------------------------------------------------------------
def run_config(folds: Folds, model_cfg: dict, preprocess: dict, variants: dict[str, dict] | None = None,
               char_on_normalised=False, jobs: int = 2, keep_outputs: bool = False):
    """Out-of-fold metrics of one feature config for several classifier configs / variants.

    ``variants``: name -> {"clf": {...model overrides...}, "by": "proba"|"decision",
    "class_weight": ..., "C_per_head": {...}}.
    """
    variants = variants or {"base": {}}
    data = folds.data

    def one_fold(fold):
        train_idx, val_idx = folds.splits[fold]
        X_train, X_val = _fold_features(folds, fold, model_cfg, preprocess, char_on_normalised)
        y_train = {h: data[h].to_numpy()[train_idx] for h in HEADS}
        val_texts = [folds.texts[i] for i in val_idx]
        outs = {}
        for name, variant in variants.items():
            clf_cfg = {**model_cfg, **variant.get("clf", {})}
            outs[name] = _fit_predict_fold(X_train, X_val, y_train, val_texts, clf_cfg, variant)
        return outs

    # spaCy preprocessing is cached in the parent first (forked workers would redo it).
    for fold in range(len(folds.splits)):
        folds.table(preprocess["mode"], fold, preprocess)
    fold_outs = Parallel(n_jobs=jobs, backend="loky" if jobs > 1 else "sequential")(
        delayed(one_fold)(f) for f in range(len(folds.splits)))
    order = np.concatenate([val for _, val in folds.splits])
    truth = data.iloc[order].reset_index(drop=True)
    texts = truth["text"].tolist()
    results = {}
    for name, variant in variants.items():
        merged = merge_folds(fold_outs, name)
        preds = _labels(merged, texts, by=variant.get("by", "proba"), critique_tau=variant.get("critique_tau", "shipped"))
        results[name] = _metrics(truth, preds)
        if keep_outputs:
            results[name]["_merged"] = merged
    if keep_outputs:
        results["_truth"] = truth
    return results


# -- the search -------------------------------------------------------------------------------
def log(*args):
    print(*args, flush=True)
    sys.stdout.flush()


def search(folds: Folds, base_model: dict, base_pre: dict, jobs: int, quick: bool = False,
           checkpoint=None) -> dict:
    trail = []

    def record(stage, cfg, pre, name, metrics, seconds):
        row = {"stage": stage, "mode": pre["mode"], **{k: cfg[k] for k in MODEL_KEYS}, **metrics,
               "seconds": round(seconds, 1)}
        if name != "base":
            row["variant"] = name
        trail.append(row)
        if checkpoint:
            checkpoint({"trail": trail})
        log(f"[{stage}] mode={pre['mode']} " + " ".join(f"{k}={cfg[k]}" for k in MODEL_KEYS) +
            f" | sector {metrics['sector']:.3f} root {metrics['root_cause']:.3f} urg {metrics['urgency']:.3f}"
            f" crit {metrics['critique_recall']} obj {metrics['objective']:.4f} ({seconds:.0f}s)")
        return row

    def grid(stage, cfg, pre, overrides: list[dict]) -> list[tuple[dict, dict]]:
        """(row, config) per override of the classifier settings, all on one feature build."""
        variants = {str(i): {"clf": o} for i, o in enumerate(overrides)}
        start = time.time()
        results = run_config(folds, cfg, pre, variants, jobs=jobs)
        seconds = (time.time() - start) / len(variants)
        out = []
        for i, o in enumerate(overrides):
            variant_cfg = {**cfg, **o}
            out.append((record(stage, variant_cfg, pre, "base", results[str(i)], seconds), variant_cfg))
        return out

    # A: mode x loss x C
    c_grid = {"hinge": [0.1, 0.25, 0.5, 1.0, 2.0], "logistic": [4.0, 20.0]}
    if quick:
        c_grid = {"hinge": [0.5], "logistic": [8.0]}
    best = None
    for mode in ("lookup", "model"):
        pre = {**base_pre, "mode": mode}
        overrides = [{"loss": loss, "C": C} for loss, cs in c_grid.items() for C in cs]
        for row, _ in grid("A", base_model, pre, overrides):
            if best is None or row["objective"] > best["objective"]:
                best = row
    best_model = {**base_model, **{k: best[k] for k in MODEL_KEYS}}
    best_pre = {**base_pre, "mode": best["mode"]}
    log("best after A:", {k: best[k] for k in ("mode", "loss", "C", "objective")})

    # B: features, one at a time around the current best
    feature_moves = [
        {"word_ngram_max": 1}, {"word_ngram_max": 3},
        {"char_ngram_min": 1, "char_ngram_max": 4}, {"char_ngram_min": 3, "char_ngram_max": 5},
        {"char_ngram_min": 2, "char_ngram_max": 6}, {"char_ngram_min": 3, "char_ngram_max": 6},
        {"min_df": 2},
        {"max_char_features": 50000}, {"max_char_features": 100000}, {"max_char_features": 400000},
    ]
    if quick:
        feature_moves = feature_moves[:1]
    for move in feature_moves:
        cfg = {**best_model, **move}
        if all(best_model[k] == v for k, v in move.items()):
            continue
        start = time.time()
        metrics = run_config(folds, cfg, best_pre, jobs=jobs)["base"]
        row = record("B", cfg, best_pre, "base", metrics, time.time() - start)
        if row["objective"] > best["objective"]:
            best, best_model = row, cfg
    log("best after B:", {k: best[k] for k in (*MODEL_KEYS, "objective")})

    # C: calibration, and C again around the best (features may have moved it)
    overrides = [{"calibration": method, "C": best_model["C"] * factor}
                 for method in ("sigmoid", "isotonic") for factor in (0.5, 1.0, 2.0)]
    for row, cfg in grid("C", best_model, best_pre, overrides):
        if row["objective"] > best["objective"]:
            best, best_model = row, cfg
    log("chosen:", {k: best[k] for k in ("mode", *MODEL_KEYS, "objective")})
    return {"trail": trail, "chosen": {"preprocess": {"mode": best_pre["mode"]},
        "model": {k: best_model[k] for k in MODEL_KEYS}},
            "chosen_cv": {k: best[k] for k in (*HEADS, "critique_recall", "objective")}}


def code_experiments(folds: Folds, model_cfg: dict, pre: dict, trail: list[dict], jobs: int) -> dict:
    """D: changes that need code in pipeline/, measured out-of-fold on the chosen settings."""
    out = {}
    # per-head C: the best C of each head among stage-A/C rows with the chosen features and loss
    same = [r for r in trail if r["mode"] == pre["mode"] and r["loss"] == model_cfg["loss"]
            and all(r[k] == model_cfg[k] for k in MODEL_KEYS if k not in ("C",)) and "variant" not in r]
    c_per_head = {}
    for head in HEADS:
        if same:
            c_per_head[head] = max(same, key=lambda r: r[head])["C"]
    variants = {
        "chosen (as shipped logic)": {},
        "label = argmax of decision function": {"by": "decision"},
        "class_weight=None": {"class_weight": None},
        f"C per head {c_per_head}": {"C_per_head": c_per_head},
    }
    results = run_config(folds, model_cfg, pre, variants, jobs=jobs, keep_outputs=True)
    truth = results.pop("_truth")
    texts = truth["text"].tolist()
    for name, metrics in results.items():
        merged = metrics.pop("_merged")
        out[name] = metrics
        log(f"[D] {name}: " + json.dumps(metrics))
    # critique threshold on the chosen model's out-of-fold probabilities
    merged = run_config(folds, model_cfg, pre, {"base": {}}, jobs=jobs, keep_outputs=True)
    truth = merged.pop("_truth")
    base = merged["base"].pop("_merged")
    taus = {}
    for tau in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        preds = _labels(base, texts, critique_tau=tau)
        m = _metrics(truth, preds)
        m["critique_predicted"] = int((preds["urgency"] == "critique").sum())
        taus[tau] = m
        log(f"[D] critique threshold {tau}: urg {m['urgency']:.3f} crit {m['critique_recall']} "
            f"(predicted critique {m['critique_predicted']})")
    out["critique_threshold"] = {str(k): v for k, v in taus.items()}
    # char n-grams on normalised text
    start = time.time()
    m = run_config(folds, model_cfg, pre, char_on_normalised=True, jobs=jobs)["base"]
    out["char n-grams on normalised text (words stay on lemmas)"] = m
    log(f"[D] char on normalised text: {json.dumps(m)} ({time.time() - start:.0f}s)")
    return out


def pick_tau(thresholds: dict, min_recall: float = 0.9) -> float | None:
    """Largest tau whose out-of-fold critique recall reaches ``min_recall`` while urgency macro-F1
    does not drop by more than 0.01 from the best tau; None if none reaches it."""
    best_f1 = max(v["urgency"] for v in thresholds.values())
    ok = [float(t) for t, v in thresholds.items()
          if (v["critique_recall"] or 0) >= min_recall and v["urgency"] >= best_f1 - 0.01]
    return max(ok) if ok else None


# -- dev report (after every choice is frozen) ------------------------------------------------------
def dev_report(train: pd.DataFrame, dev: pd.DataFrame, chosen: dict, experiments: dict) -> dict:
    from .common import score
    from .peers import PipelineSystem

    rows = {}
    systems = {
        "shipped settings": settings_variant(),
        "chosen settings": settings_variant(chosen["model"], chosen["preprocess"]),
    }
    for name, settings in systems.items():
        start = time.time()
        system = PipelineSystem(settings).fit(train["text"].tolist(), train)
        fit_s = time.time() - start
        pred = system.predict(dev["text"].tolist(), dev[["channel", "rating"]])
        r = score(dev, pred, per_source=False)
        rows[name] = {**{h: r["heads"][h]["macro_f1"] for h in HEADS},
                      "critique_recall": r["critique_recall"], "train_s": round(fit_s, 1)}
        log(f"[dev] {name}: {rows[name]}")
        if name == "chosen settings":
            chosen_system = system
    # code-change variants on dev, through the local logic with the chosen settings
    model = chosen_system.model
    from pipeline.context import model_input

    X = model.pipeline.named_steps["features"].transform(model_input(dev["text"], dev[["channel", "rating"]]))
    texts = dev["text"].tolist()
    fold_out = {}
    for head, clf in model.heads.items():
        decision = clf.estimator_.decision_function(X)
        if decision.ndim == 1:
            decision = np.column_stack([-decision, decision])
        fold_out[head] = {"classes": clf.classes_, "proba": clf.predict_proba(X), "decision": decision}
    for name, kwargs in (("chosen, label = argmax decision", {"by": "decision"}),
                         *[(f"chosen, critique threshold {t}", {"critique_tau": t})
                           for t in experiments.get("_taus_to_report", [])]):
        m = _metrics(dev, _labels(fold_out, texts, **kwargs))
        rows[name] = {**{h: m[h] for h in HEADS}, "critique_recall": m["critique_recall"]}
        log(f"[dev] {name}: {rows[name]}")
    return rows


def write_markdown(payload: dict, path: Path) -> None:
    lines = ["# Settings search: 5-fold cross-validation on the train split", "",
             f"Date: {payload['machine']['date']} · machine: {payload['machine']['nproc']} cores, "
             f"{payload['machine']['cpu']}", "",
             f"Command: `{payload['command']}`", "",
             "Objective: mean out-of-fold macro-F1 of the three heads (pooled predictions of the "
             f"{payload['folds']} folds). The dev split was not read for any choice.", "",
             "| stage | mode | loss | C | word n | char | min_df | max char feat. | calib. | sector | root cause | urgency | critique rec. | objective |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in payload["search"]["trail"]:
        lines.append(f"| {r['stage']} | {r['mode']} | {r['loss']} | {r['C']:g} | {r['word_ngram_max']} | "
                     f"{r['char_ngram_min']}-{r['char_ngram_max']} | {r['min_df']} | {r['max_char_features']} | "
                     f"{r['calibration']} | {r['sector']:.3f} | {r['root_cause']:.3f} | {r['urgency']:.3f} | "
                     f"{r['critique_recall']} | {r['objective']:.4f} |")
    lines += ["", "Chosen: `" + json.dumps(payload["search"]["chosen"]) + "`", "",
              "## Code-change experiments (out-of-fold, chosen settings)", "",
              "| experiment | sector | root cause | urgency | critique rec. | objective |", "|---|---|---|---|---|---|"]
    for name, m in payload["experiments"].items():
        if name.startswith("_"):
            continue
        if name == "critique_threshold":
            for tau, v in m.items():
                lines.append(f"| critique if p(critique) >= {tau} | {v['sector']:.3f} | {v['root_cause']:.3f} | "
                             f"{v['urgency']:.3f} | {v['critique_recall']} | {v['objective']:.4f} |")
            continue
        lines.append(f"| {name} | {m['sector']:.3f} | {m['root_cause']:.3f} | {m['urgency']:.3f} | "
                     f"{m['critique_recall']} | {m['objective']:.4f} |")
    if payload.get("dev"):
        lines += ["", "## Dev split (read only after the choices above were frozen)", "",
                  "| model | sector | root cause | urgency | critique rec. |", "|---|---|---|---|---|"]
        for name, m in payload["dev"].items():
            lines.append(f"| {name} | {m['sector']:.3f} | {m['root_cause']:.3f} | {m['urgency']:.3f} | "
                         f"{m['critique_recall']} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", help="report the frozen choices on this split at the end")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a tiny grid, to check the script runs")
    parser.add_argument("--out", default=str(RESULTS / "tune.json"))
    parser.add_argument("--resume", action="store_true",
                        help="reuse the search and experiments checkpointed in <out>.partial.json")
    args = parser.parse_args(argv)

    started = time.time()
    base = settings_variant()
    train = load_split(args.train)
    folds = Folds(train, args.folds)
    base_model, base_pre = dict(base["model"]), dict(base["preprocess"])
    partial = Path(args.out).with_suffix(".partial.json")
    saved = json.loads(partial.read_text(encoding="utf-8")) if args.resume and partial.is_file() else {}
    if "experiments" in saved:
        shipped, result, experiments = saved["shipped_cv"], saved["search"], saved["experiments"]
        log(f"resumed search and experiments from {partial}")
    else:
        shipped = run_config(folds, base_model, base_pre, jobs=args.jobs)["base"]
        log("shipped settings, out-of-fold:", json.dumps(shipped))

        def checkpoint(state):
            write_json(partial, {"shipped_cv": shipped, "machine": machine(), **state})

        result = search(folds, base_model, base_pre, args.jobs, quick=args.quick, checkpoint=checkpoint)
        checkpoint({"search": result})
        chosen_model = {**base_model, **result["chosen"]["model"]}
        chosen_pre = {**base_pre, **result["chosen"]["preprocess"]}
        experiments = code_experiments(folds, chosen_model, chosen_pre, result["trail"], args.jobs)
        checkpoint({"search": result, "experiments": experiments})
    tau = pick_tau(experiments["critique_threshold"])
    experiments["_chosen_critique_tau"] = tau
    experiments["_taus_to_report"] = [t for t in (tau,) if t is not None]
    payload = {"command": "python -m benchmarks.tune " + " ".join(argv or sys.argv[1:]),
               "machine": machine(), "search_machine": saved.get("machine"), "folds": args.folds, "n_train": int(len(train)),
               "shipped_cv": shipped, "search": result, "experiments": experiments}
    if args.dev:
        payload["dev"] = dev_report(train, load_split(args.dev), result["chosen"], experiments)
    payload["seconds"] = round(time.time() - started, 1)
    write_json(args.out, payload)
    write_markdown(payload, Path(args.out).with_suffix(".md"))
    partial.unlink(missing_ok=True)
    log(f"wrote {args.out} ({payload['seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
