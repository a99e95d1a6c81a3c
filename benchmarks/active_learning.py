"""Which complaints should a team label first? Simulated review rounds on real labels.

    .venv/bin/python -m benchmarks.active_learning --pool ../shared/data/real/train.parquet \
        --eval ../shared/data/real/dev.parquet [--budgets 100,250,500,1000] [--seeds 2]
    .venv/bin/python -m benchmarks.active_learning --pool ../shared/data/real/train.parquet \
        --holdout 0.2 [...]      # choose on train: eval = a stratified 20 % of the pool

A company starts from the default model (bundled corpus only), scores its complaints,
and sends some to review; the retrain flow then trains on the corpus plus every label
collected so far, the new model scores what is left, and so on. Here the pool's
reference labels play the reviewers. Each strategy picks the complaints to label at
each round, up to the cumulative budgets:

* ``random``: any unlabelled complaint (what a plain sample gives);
* ``flagged``: complaints the model flags ``needs_review``, in random order (the review
  export before it had priorities), then the others;
* ``priority``: highest ``pipeline.review.review_priority`` first (the margin between
  the two best labels, averaged over the heads: what the review export now orders by);
* ``priority_root``: the same margin, root-cause head only;
* ``priority_spread``: the same priority, taken in turn from each predicted root cause
  (the most uncertain complaint of each cause, then the next…), so that rare causes
  are not crowded out by the frequent ones.

Each seed draws 90 % of the pool (the same draw for every strategy, so strategies are
compared on the same complaints) and, for the randomised strategies, their order.

After each round the model is scored on the eval split: macro-F1 per head and critique
recall. Writes ``benchmarks/results/active_learning{,_holdout}.{json,md,png}``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split

from pipeline.review import review_priority
from pipeline.taxonomy import HEADS
from pipeline.training import context_of

from .common import REPO, RESULTS, load_split, machine, plus_corpus, score, write_json
from .peers import PipelineSystem

STRATEGIES = ("random", "flagged", "priority", "priority_root", "priority_spread")
POOL_SHARE = 0.9


def pick(strategy: str, predictions: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions (in ``predictions``) of the ``n`` complaints to label next."""
    if n <= 0:
        return np.array([], dtype=int)
    shuffled = rng.permutation(len(predictions))
    if strategy == "random":
        return shuffled[:n]
    if strategy == "flagged":
        flagged = predictions["needs_review"].to_numpy(bool)[shuffled]
        return np.concatenate([shuffled[flagged], shuffled[~flagged]])[:n]
    if strategy == "priority_spread":
        priority = review_priority(predictions)[shuffled]
        cause = predictions["root_cause"].to_numpy(object)[shuffled]
        # Rank of each complaint within its predicted cause, most uncertain first; then
        # take every cause's first, every cause's second, and so on.
        order = np.lexsort((-priority, cause))
        rank = np.empty(len(order), dtype=int)
        for c in np.unique(cause):
            members = order[cause[order] == c]
            rank[members] = np.arange(len(members))
        return shuffled[np.lexsort((-priority, rank))][:n]
    if strategy == "priority":
        priority = review_priority(predictions)
    elif strategy == "priority_root":
        priority = 1.0 - (predictions["root_cause_proba"] - predictions["root_cause_alt_proba"]).to_numpy(float)
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    # Ties (rare) are broken at random, not by file order.
    return shuffled[np.argsort(-priority[shuffled], kind="stable")][:n]


def _fit(corpus: pd.DataFrame, labelled: pd.DataFrame) -> PipelineSystem:
    """What the retrain flow trains: the bundled corpus plus every label so far."""
    data = plus_corpus(corpus, labelled)
    return PipelineSystem().fit(data["text"].tolist(), data)


def _evaluate(system: PipelineSystem, evaluation: pd.DataFrame) -> dict:
    m = score(evaluation, system.predict(evaluation["text"].tolist(), context_of(evaluation)), per_source=False)
    return {**{h: m["heads"][h]["macro_f1"] for h in HEADS}, "critique_recall": m["critique_recall"] or 0.0}


def run(strategy: str, seed: int, pool: pd.DataFrame, evaluation: pd.DataFrame, corpus: pd.DataFrame,
        budgets: list[int], start=None) -> dict:
    """One simulated sequence of review rounds; ``start`` is the already-fitted round-0 model."""
    rng = np.random.default_rng(seed)
    keep = np.sort(np.random.default_rng(1000 + seed).permutation(len(pool))[: int(POOL_SHARE * len(pool))])
    pool = pool.iloc[keep].reset_index(drop=True)
    system = start if start is not None else _fit(corpus, pool.iloc[0:0])
    labelled = np.zeros(len(pool), dtype=bool)
    rounds = [{"labels": 0, **_evaluate(system, evaluation)}]
    for budget in budgets:
        rest = np.flatnonzero(~labelled)
        predictions = system.model.predict_frame(pool["text"].iloc[rest].tolist(), context=context_of(pool.iloc[rest]))
        chosen = rest[pick(strategy, predictions, budget - int(labelled.sum()), rng)]
        labelled[chosen] = True
        started = time.perf_counter()
        system = _fit(corpus, pool[labelled])
        row = {"labels": int(labelled.sum()), **_evaluate(system, evaluation),
               "fit_s": round(time.perf_counter() - started, 1),
               "critique_labelled": int((pool["urgency"].to_numpy()[labelled] == "critique").sum())}
        rounds.append(row)
        print(f"{strategy} seed={seed} n={row['labels']}: " + " ".join(f"{h} {row[h]:.3f}" for h in HEADS) +
              f" crit {row['critique_recall']:.2f}", file=sys.stderr, flush=True)
    return {"strategy": strategy, "seed": seed, "rounds": rounds}


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and spread per strategy and budget, over seeds."""
    rows = []
    for strategy in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == strategy]
        for k, first in enumerate(mine[0]["rounds"]):
            values = {key: np.array([r["rounds"][k][key] for r in mine]) for key in (*HEADS, "critique_recall")}
            rows.append({"strategy": strategy, "labels": first["labels"], "seeds": len(mine),
                         **{key: {"mean": round(float(v.mean()), 4), "sd": round(float(v.std()), 4)}
                            for key, v in values.items()},
                         "critique_labelled": float(np.mean([r["rounds"][k].get("critique_labelled", 0) for r in mine]))})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| strategy | labels | seeds | sector | root cause | urgency | critique recall | critique cases labelled |",
             "|---|---:|---:|---|---|---|---|---:|"]
    for r in rows:
        cells = [f"{r[k]['mean']:.3f}" + (f" ± {r[k]['sd']:.3f}" if r["seeds"] > 1 else "")
                 for k in (*HEADS, "critique_recall")]
        lines.append(f"| {r['strategy']} | {r['labels']} | {r['seeds']} | " + " | ".join(cells) +
                     f" | {r['critique_labelled']:.1f} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), dpi=110, sharex=True)
    for ax, head in zip(axes, HEADS):
        for strategy in dict.fromkeys(r["strategy"] for r in rows):
            mine = [r for r in rows if r["strategy"] == strategy]
            ax.errorbar([r["labels"] for r in mine], [r[head]["mean"] for r in mine],
                        yerr=[r[head]["sd"] for r in mine], marker="o", capsize=2, label=strategy)
        ax.set_xscale("symlog", linthresh=100)
        ax.set_title(head)
        ax.set_xlabel("labels collected")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1 on eval")
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", required=True, help="labelled complaints the strategies pick from")
    parser.add_argument("--eval", help="labelled split to score each round on")
    parser.add_argument("--holdout", type=float, help="instead of --eval: score on this stratified share of the pool")
    parser.add_argument("--corpus", default=str(REPO / "data" / "raw" / "corpus"))
    parser.add_argument("--budgets", default="100,250,500,1000")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=3, help="draws of 90 %% of the pool (and of random orders)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if bool(args.eval) == bool(args.holdout):
        parser.error("give exactly one of --eval and --holdout")
    pool = load_split(args.pool)
    if args.holdout:
        pool, evaluation = train_test_split(pool, test_size=args.holdout, random_state=13, stratify=pool["root_cause"])
        pool, evaluation = pool.reset_index(drop=True), evaluation.reset_index(drop=True)
    else:
        evaluation = load_split(args.eval)
    corpus = load_split(args.corpus)
    budgets = [int(b) for b in args.budgets.split(",")]
    out = Path(args.out or RESULTS / ("active_learning_holdout.json" if args.holdout else "active_learning.json"))
    # Round 0 (the default model) is the same for every strategy: fit it once.
    start = _fit(corpus, pool.iloc[0:0])
    jobs = [(s, seed) for seed in range(args.seeds) for s in args.strategies.split(",")]
    started = time.perf_counter()
    runs = Parallel(n_jobs=args.jobs)(delayed(run)(s, seed, pool, evaluation, corpus, budgets, start)
                                      for s, seed in jobs)
    rows = summarise(runs)
    text = table(rows)
    print(text)
    command = "python -m benchmarks.active_learning " + " ".join(argv or sys.argv[1:])
    evaluated_on = f"a stratified {args.holdout:.0%} of the pool ({len(evaluation)} rows)" if args.holdout else args.eval
    header = (f"Command: `{command}` · {machine()['date']} · pipeline code {machine()['pipeline_sha256']} · "
              f"pool {len(pool):,} labelled complaints, eval {evaluated_on}, corpus {len(corpus):,} rows · "
              f"{time.perf_counter() - started:.0f} s\n\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, out.with_suffix(".png"), f"Review rounds from the default model (eval: {evaluated_on})")
    out.with_suffix(".md").write_text("# Which complaints to label first\n\n" + header + text +
                                      f"\n\n![curves]({out.with_suffix('.png').name})\n", encoding="utf-8")
    write_json(out, {"command": command, "machine": machine(), "evaluated_on": evaluated_on,
                     "budgets": budgets, "runs": runs, "rows": rows, "table": text})
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
