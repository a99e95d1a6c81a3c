"""Accuracy of this pipeline and its peers, trained on one split, scored on another.

    .venv/bin/python -m benchmarks.accuracy --train ../shared/data/real/train.parquet \
        --eval ../shared/data/real/dev.parquet [--out benchmarks/results/accuracy.json]

Systems (same training rows for all, except ``pipeline_corpus``):
  pipeline          this pipeline as shipped (fit_model, settings.toml), retrained on --train
  pipeline_tuned    the same with the settings chosen by benchmarks/tune.py (read from
                    --tuned, default benchmarks/results/tune.json; skipped when absent)
  pipeline_corpus   the default model out of the box: trained on the bundled corpus only
  tfidf_lr          plain scikit-learn TF-IDF + LogisticRegression per head, no spaCy
  tfidf_lr_balanced the same with class_weight="balanced" (as this pipeline's heads): a
                    fairer peer for macro-F1
  fasttext          fastText supervised, one model per head
  spacy_textcat_bow / spacy_textcat_ensemble   spaCy textcat, one component per head

Prints a markdown table (macro-F1 and accuracy per head, critique recall, training
seconds) and per-source macro-F1; writes JSON, and the tables into the generated block
of ``accuracy.md`` beside the JSON (text outside that block is kept).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.taxonomy import HEADS, load_taxonomy

from .common import (RESULTS, REPO, fmt, interval, load_split, machine, macro_f1_resampled, plus_corpus, resamples, score,
                     seed_everything, settings_variant, wilson, write_json, write_md)
from .peers import FastTextSystem, PipelineSystem, SpacyTextcat, TfidfLR

ALL = ("pipeline", "pipeline_text_only", "pipeline_plus_corpus", "pipeline_tuned", "pipeline_corpus", "tfidf_lr",
       "tfidf_lr_balanced", "fasttext", "spacy_textcat_bow", "spacy_textcat_ensemble")
# pipeline_tuned only on request: its settings file dates from an older feature layout.
DEFAULT = tuple(n for n in ALL if n != "pipeline_tuned")
# The peers named in the benchmark's brief; other non-pipeline rows are extra baselines.
BRIEF_PEERS = ("tfidf_lr", "fasttext", "spacy_textcat_bow", "spacy_textcat_ensemble")


def tuned_settings(path: Path):
    if not path.is_file():
        return None
    chosen = json.loads(path.read_text(encoding="utf-8"))["search"]["chosen"]
    return settings_variant(chosen["model"], chosen["preprocess"]), chosen


def build_systems(names, tuned_path: Path):
    systems = {}
    for name in names:
        if name == "pipeline":
            systems[name] = PipelineSystem(name=name)
        elif name == "pipeline_text_only":
            text_only = settings_variant({"context_features": False})
            description = "this pipeline, text only (no channel, no rating)"
            systems[name] = PipelineSystem(text_only, name=name, description=description)
        elif name == "pipeline_corpus":
            systems[name] = PipelineSystem(name=name, description="this pipeline, shipped settings, trained on "
                "the bundled corpus data/raw/corpus only")
        elif name == "pipeline_plus_corpus":
            systems[name] = PipelineSystem(name=name, description="this pipeline, shipped settings, trained on "
                "the bundled corpus + the train split (what the retrain flow does "
                    "with --data TRAIN)")
        elif name == "pipeline_tuned":
            tuned = tuned_settings(tuned_path)
            if tuned is None:
                print(f"skipping pipeline_tuned: no {tuned_path}", file=sys.stderr)
                continue
            settings, chosen = tuned
            systems[name] = PipelineSystem(settings, name=name, description="this pipeline, settings chosen by "
                f"5-fold CV on train: {json.dumps(chosen)}")
        elif name == "tfidf_lr":
            systems[name] = TfidfLR()
        elif name == "tfidf_lr_balanced":
            systems[name] = TfidfLR(class_weight="balanced", name=name)
        elif name == "fasttext":
            systems[name] = FastTextSystem()
        elif name == "spacy_textcat_bow":
            systems[name] = SpacyTextcat("bow")
        elif name == "spacy_textcat_ensemble":
            systems[name] = SpacyTextcat("ensemble")
        else:
            raise SystemExit(f"unknown system {name!r}; choose from {', '.join(ALL)}")
    return systems


def markdown(payload: dict) -> str:
    rows = payload["systems"]
    lines = [f"Train: `{payload['train']}` ({payload['n_train']} rows) · eval: `{payload['eval']}` "
             f"({payload['n_eval']} rows) · {payload['machine']['date']} · {payload['machine']['nproc']} cores "
             f"{payload['machine']['cpu']}", "",
             "| system | train s | sector F1 | sector acc | root cause F1 | root cause acc | urgency F1 | "
             "urgency acc | critique recall |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        h = r["metrics"]["heads"]
        lines.append(
            f"| {name} | {r['train_seconds']:.1f} | {fmt(h['sector']['macro_f1'])} | {fmt(h['sector']['accuracy'])} | "
            f"{fmt(h['root_cause']['macro_f1'])} | {fmt(h['root_cause']['accuracy'])} | "
            f"{fmt(h['urgency']['macro_f1'])} | {fmt(h['urgency']['accuracy'])} | "
            f"{fmt(r['metrics']['critique_recall'])} ({r['metrics']['critique_support']} in eval, "
            f"{r['metrics']['critique_predicted']} predicted) |")
    sources = sorted({s for r in rows.values() for s in r["metrics"]["per_source"]})
    lines += ["", "Per source, macro-F1 (sector is informative only on `signalconso_landing_fr`):", "",
              "| system | source | n | sector F1 | root cause F1 | urgency F1 | root cause acc | urgency acc |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        for source in sources:
            s = r["metrics"]["per_source"].get(source)
            if not s:
                continue
            lines.append(f"| {name} | {source} | {s['n']} | {fmt(s['sector']['macro_f1'])} | "
                         f"{fmt(s['root_cause']['macro_f1'])} | {fmt(s['urgency']['macro_f1'])} | "
                         f"{fmt(s['root_cause']['accuracy'])} | {fmt(s['urgency']['accuracy'])} |")
    lines += uncertainty_markdown(payload.get("uncertainty"))
    lines += ["", "Systems:", ""]
    lines += [f"- `{name}`: {r['description']}" for name, r in rows.items()]
    if payload.get("goals"):
        lines += ["", "Goals:", "", "| goal | measured | target | pass |", "|---|---|---|---|"]
        for g in payload["goals"]:
            lines.append(f"| {g['goal']} | {g['measured']} | {g['target']} | {'PASS' if g['pass'] else 'FAIL'} |")
    return "\n".join(lines)


def labels_only(predicted: dict) -> dict[str, list]:
    return {h: [None if p is None else str(p) for p in predicted[h]] for h in HEADS}


def uncertainty(payload: dict, evaluation: pd.DataFrame) -> dict:
    """95 % bootstrap intervals of each system's macro-F1 per head, Wilson intervals of
    critique recall, and paired differences of each pipeline row against each peer.

    Every system is resampled with the same eval rows, so a difference's interval is
    that of the difference itself (not two overlapping intervals)."""
    taxonomy = load_taxonomy()
    samples = resamples(len(evaluation))
    per_system, draws = {}, {}
    for name, row in payload["systems"].items():
        predicted = row.get("predictions")
        if not predicted or len(predicted[HEADS[0]]) != len(evaluation):
            continue
        draws[name] = {h: macro_f1_resampled(evaluation[h].tolist(), predicted[h], taxonomy.ids(h), samples)
                       for h in HEADS}
        critique = (evaluation["urgency"] == "critique").to_numpy()
        caught = int(sum(p == "critique" for p, c in zip(predicted["urgency"], critique) if c))
        per_system[name] = {**{h: interval(draws[name][h]) for h in HEADS},
                            "critique_recall": wilson(caught, int(critique.sum()))}
    peers = [n for n in draws if not n.startswith("pipeline")]
    paired = []
    for name in (n for n in ("pipeline", "pipeline_text_only") if n in draws):
        for head in HEADS:
            for peer in peers:
                diff = draws[name][head] - draws[peer][head]
                paired.append({"system": name, "peer": peer, "head": head,
                               "difference": round(float(np.mean(diff)), 3), "interval": interval(diff),
                               "share_ahead": round(float((diff > 0).mean()), 4)})
    return {"samples": int(len(samples)), "level": 0.95, "intervals": per_system, "paired": paired}


def _span(pair: list[float], signed: bool = False) -> str:
    f = "{:+.3f}" if signed else "{:.3f}"
    return "[" + ", ".join(f.format(v) for v in pair) + "]"


def uncertainty_markdown(u: dict | None) -> list[str]:
    if not u:
        return []
    lines = ["", f"95 % intervals: macro-F1 by bootstrap over the eval rows ({u['samples']:,} resamples, "
             "the same for every system); critique recall by Wilson's interval:", "",
             "| system | sector F1 | root cause F1 | urgency F1 | critique recall |", "|---|---|---|---|---|"]
    for name, r in u["intervals"].items():
        critique = _span(r["critique_recall"]) if r["critique_recall"] else "—"
        lines.append(f"| {name} | {_span(r['sector'])} | {_span(r['root_cause'])} | {_span(r['urgency'])} | {critique} |")
    if u["paired"]:
        lines += ["", "Paired differences, pipeline minus peer (mean over resamples [95 % interval]; "
                  "share of resamples where the pipeline is ahead):", "",
                  "| system | peer | sector | root cause | urgency |", "|---|---|---|---|---|"]
        cells: dict = {}
        for d in u["paired"]:
            cells.setdefault((d["system"], d["peer"]), {})[d["head"]] = (
                f"{d['difference']:+.3f} {_span(d['interval'], signed=True)}; {d['share_ahead']:.1%}")
        for (system, peer), c in cells.items():
            lines.append(f"| {system} | {peer} | {c['sector']} | {c['root_cause']} | {c['urgency']} |")
    return lines


def goals(rows: dict, u: dict | None = None) -> list[dict]:
    out = []
    brief_peers = [n for n in rows if n in BRIEF_PEERS]
    extra_peers = [n for n in rows if not n.startswith("pipeline") and n not in BRIEF_PEERS]
    for candidate in ("pipeline", "pipeline_tuned"):
        if candidate not in rows:
            continue
        h = rows[candidate]["metrics"]["heads"]
        for peers, which in ((brief_peers, "every peer"), (extra_peers, "the extra baseline(s)")):
            for head in HEADS:
                best_peer = max(peers, key=lambda p: rows[p]["metrics"]["heads"][head]["macro_f1"], default=None)
                if best_peer is None:
                    continue
                peer_f1 = rows[best_peer]["metrics"]["heads"][head]["macro_f1"]
                paired = next((d for d in (u or {}).get("paired", [])
                               if (d["system"], d["peer"], d["head"]) == (candidate, best_peer, head)), None)
                detail = (f" (difference {_span(paired['interval'], signed=True)}, ahead in "
                          f"{paired['share_ahead']:.1%} of resamples)" if paired else "")
                out.append({"goal": f"{candidate} beats {which} on {head} macro-F1",
                            "measured": f"{h[head]['macro_f1']:.3f} vs {best_peer} {peer_f1:.3f}{detail}",
                            "target": "> best", "pass": h[head]["macro_f1"] > peer_f1})
        spans = (u or {}).get("intervals", {}).get(candidate, {})
        for head in ("root_cause", "urgency"):
            span = f" {_span(spans[head])}" if head in spans else ""
            out.append({"goal": f"{candidate} {head} macro-F1", "measured": f"{h[head]['macro_f1']:.3f}{span}",
                        "target": ">= 0.70", "pass": h[head]["macro_f1"] >= 0.70})
        cr = rows[candidate]["metrics"]["critique_recall"]
        span = f" {_span(spans['critique_recall'])}" if spans.get("critique_recall") else ""
        out.append({"goal": f"{candidate} critique recall", "measured": fmt(cr) + span, "target": ">= 0.90",
                    "pass": cr is not None and cr >= 0.90})
    if "pipeline_corpus" in rows:
        f1 = rows["pipeline_corpus"]["metrics"]["heads"]["root_cause"]["macro_f1"]
        spans = (u or {}).get("intervals", {}).get("pipeline_corpus", {})
        span = f" {_span(spans['root_cause'])}" if "root_cause" in spans else ""
        out.append({"goal": "default model out of the box (bundled corpus) root cause macro-F1",
                    "measured": f"{f1:.3f}{span}", "target": ">= 0.50", "pass": f1 >= 0.50})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--eval", required=True)
    parser.add_argument("--corpus", default=str(REPO / "data" / "raw" / "corpus"),
                        help="bundled corpus for pipeline_corpus")
    parser.add_argument("--systems", default=",".join(DEFAULT), help="comma-separated subset of: " + ", ".join(ALL))
    parser.add_argument("--tuned", default=str(RESULTS / "tune.json"))
    parser.add_argument("--out", default=str(RESULTS / "accuracy.json"))
    parser.add_argument("--no-md", action="store_true", help="do not update accuracy.md")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render goals and accuracy.md from --out without training anything")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other systems already in --out (same train/eval) and replace these")
    args = parser.parse_args(argv)

    if args.render_only:
        payload = json.loads(Path(args.out).read_text(encoding="utf-8"))
        payload["goals"] = goals(payload["systems"], payload.get("uncertainty"))
        body = markdown(payload)
        print(body)
        write_json(args.out, payload)
        write_md(Path(args.out).with_suffix(".md"), body, payload["command"], "Accuracy benchmark")
        return 0
    seed_everything()
    train = load_split(args.train)
    evaluation = load_split(args.eval)
    corpus = None
    systems = build_systems([s.strip() for s in args.systems.split(",") if s.strip()], Path(args.tuned))
    payload = {"command": "python -m benchmarks.accuracy " + " ".join(argv if argv is not None else sys.argv[1:]),
               "machine": machine(), "train": args.train, "eval": args.eval,
               "n_train": int(len(train)), "n_eval": int(len(evaluation)), "systems": {}}
    if args.merge and Path(args.out).is_file():
        previous = json.loads(Path(args.out).read_text(encoding="utf-8"))
        if (previous.get("train"), previous.get("eval")) == (args.train, args.eval):
            payload["systems"] = {k: v for k, v in previous["systems"].items() if k not in systems}
            payload["command"] = previous["command"] + "` + `" + payload["command"]
    for name, system in systems.items():
        data = train
        if name in ("pipeline_corpus", "pipeline_plus_corpus"):
            corpus = corpus if corpus is not None else load_split(args.corpus)
            data = corpus if name == "pipeline_corpus" else plus_corpus(corpus, train)
        start = time.perf_counter()
        system.fit(data["text"].tolist(), data)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        predicted = system.predict(evaluation["text"].tolist(), evaluation[["channel", "rating"]])
        predict_s = time.perf_counter() - start
        metrics = score(evaluation, predicted)
        if getattr(system, "lr_used", None):
            system.description += f" (lr used per head: {system.lr_used})"
        payload["systems"][name] = {"description": system.description, "train_rows": int(len(data)),
                                    "train_seconds": round(train_s, 2), "predict_seconds": round(predict_s, 3),
                                    "metrics": metrics,
                                    # labels only (no text), for the paired intervals below
                                    "predictions": labels_only(predicted)}
        h = metrics["heads"]
        print(f"{name}: train {train_s:.1f}s | " + " | ".join(
            f"{head} F1 {h[head]['macro_f1']:.3f} acc {h[head]['accuracy']:.3f}" for head in HEADS) +
            f" | critique recall {fmt(metrics['critique_recall'])}", file=sys.stderr, flush=True)
    order = [n for n in ALL if n in payload["systems"]]
    payload["systems"] = {n: payload["systems"][n] for n in order}
    payload["eval_ids"] = evaluation["id"].tolist()
    payload["uncertainty"] = uncertainty(payload, evaluation)
    payload["goals"] = goals(payload["systems"], payload["uncertainty"])
    body = markdown(payload)
    print(body)
    write_json(args.out, payload)
    if not args.no_md:
        write_md(Path(args.out).with_suffix(".md"), body, payload["command"], "Accuracy benchmark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
