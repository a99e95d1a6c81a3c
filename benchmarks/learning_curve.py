"""Learning curve: this pipeline's macro-F1 per head against the number of training labels.

    .venv/bin/python -m benchmarks.learning_curve --train ../shared/data/real/train.parquet \
        --eval ../shared/data/real/dev.parquet [--sizes 100,250,500,1000,all] [--seeds 3] \
        [--settings shipped|tuned] [--with-corpus [PATH]]

Each size is a subsample of the training split stratified on root cause
(``train_test_split(train_size=n, stratify=root_cause)``), drawn with seeds 0..seeds-1;
the full split is the same for every seed (its spread is 0). Prints a markdown table
(mean ± sd over seeds) and writes ``learning_curve.png`` and ``learning_curve.json``.

``--with-corpus``: every subsample is trained together with the bundled corpus, as the
retrain flow does (corpus + the company's labels); size 0 is then the default model.
Writes ``learning_curve_corpus.*`` unless ``--out`` says otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.taxonomy import HEADS

from .common import REPO, RESULTS, load_split, machine, plus_corpus, score, settings_variant, write_json
from .peers import PipelineSystem


def subsample(train, n: int, seed: int):
    if n == 0:
        return train.iloc[0:0]
    if n >= len(train):
        return train
    counts = train["root_cause"].value_counts()
    strata = train["root_cause"] if counts.min() >= 2 and n >= len(counts) else None
    part, _ = train_test_split(train, train_size=n, random_state=seed, stratify=strata)
    return part.reset_index(drop=True)


def plot(rows: list[dict], path: Path, title: str,
         xlabel: str = "training labels (stratified subsample of train)") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for head, marker in zip(HEADS, "osD"):
        xs = [r["n"] for r in rows]
        mean = np.array([r[head]["mean"] for r in rows])
        sd = np.array([r[head]["sd"] for r in rows])
        ax.errorbar(xs, mean, yerr=sd, marker=marker, capsize=3, label=head)
    crit = [r["critique_recall"]["mean"] for r in rows]
    ax.plot([r["n"] for r in rows], crit, linestyle=":", color="grey", marker="x", label="critique recall")
    ax.axhline(0.70, color="red", linewidth=0.8, linestyle="--", label="goal 0.70")
    if min(r["n"] for r in rows) == 0:
        ax.set_xscale("symlog", linthresh=100)
    else:
        ax.set_xscale("log")
    ax.set_xticks([r["n"] for r in rows])
    ax.set_xticklabels([str(r["n"]) for r in rows])
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("macro-F1 on eval (critique: recall), mean ± sd")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--eval", required=True)
    parser.add_argument("--sizes", default="100,250,500,1000,all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--settings", choices=["shipped", "tuned"], default="shipped",
                        help="tuned: the settings chosen in benchmarks/results/tune.json")
    parser.add_argument("--with-corpus", nargs="?", const=str(REPO / "data" / "raw" / "corpus"), default=None,
                        help="train each subsample together with this bundled corpus (the retrain flow's data)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    args.out = args.out or str(RESULTS / ("learning_curve_corpus.json" if args.with_corpus else "learning_curve.json"))
    corpus = load_split(args.with_corpus) if args.with_corpus else None

    train = load_split(args.train)
    evaluation = load_split(args.eval)
    settings, label = settings_variant(), "settings.toml as shipped"
    if args.settings == "tuned":
        chosen = json.loads((RESULTS / "tune.json").read_text(encoding="utf-8"))["search"]["chosen"]
        settings, label = settings_variant(chosen["model"], chosen["preprocess"]), "tuned " + json.dumps(chosen)
    sizes = [len(train) if s.strip() == "all" else int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        runs = []
        seeds = range(args.seeds) if 0 < n < len(train) else [0]   # 0 and all: one draw
        for seed in seeds:
            part = subsample(train, n, seed)
            if corpus is not None:
                part = plus_corpus(corpus, part)
            start = time.perf_counter()
            system = PipelineSystem(settings).fit(part["text"].tolist(), part)
            fit_s = time.perf_counter() - start
            m = score(evaluation, system.predict(evaluation["text"].tolist(), evaluation[["channel", "rating"]]), per_source=False)
            runs.append({**{h: m["heads"][h]["macro_f1"] for h in HEADS},
                         "critique_recall": m["critique_recall"] or 0.0, "train_s": fit_s})
            print(f"n={n} seed={seed}: " + " ".join(f"{h} {runs[-1][h]:.3f}" for h in HEADS) +
                  f" ({fit_s:.0f}s)", file=sys.stderr, flush=True)
        row = {"n": n, "seeds": len(runs)}
        for key in (*HEADS, "critique_recall"):
            values = np.array([r[key] for r in runs])
            row[key] = {"mean": round(float(values.mean()), 4), "sd": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4),
                        "runs": [round(float(v), 4) for v in values]}
        rows.append(row)
    png = Path(args.out).with_suffix(".png")
    png.parent.mkdir(parents=True, exist_ok=True)
    with_corpus = f" + the bundled corpus ({len(corpus):,} rows)" if corpus is not None else ""
    plot(rows, png, f"Learning curve ({label.split(' {')[0]}){' + corpus' if with_corpus else ''}",
         "real training labels (stratified subsample of train)" + with_corpus)
    lines = [f"Settings: {label}" + (f"; each run also trains on the bundled corpus ({len(corpus):,} rows)"
                                     if corpus is not None else ""), "",
             "| training labels | seeds | sector F1 | root cause F1 | urgency F1 | critique recall |",
             "|---:|---:|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['seeds']} | " + " | ".join(
            f"{r[k]['mean']:.3f} ± {r[k]['sd']:.3f}" for k in (*HEADS, "critique_recall")) + " |")
    print("\n".join(lines))
    meta = machine()
    Path(args.out).with_suffix(".md").write_text(
        "# Learning curve\n\n" + f"Command: `python -m benchmarks.learning_curve {' '.join(argv or sys.argv[1:])}` · "
        f"{meta['date']} · pipeline code {meta['pipeline_sha256']}\n\n" + "\n".join(lines) +
        f"\n\n![learning curve]({png.name})\n", encoding="utf-8")
    write_json(args.out, {"command": "python -m benchmarks.learning_curve " + " ".join(argv or sys.argv[1:]),
                          "machine": machine(), "settings": label, "rows": rows, "table": "\n".join(lines)})
    print(f"wrote {png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
