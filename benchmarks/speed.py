"""Speed: end-to-end batch scoring against peers, CLI cold start, memory at 1M rows, spaCy cost.

    .venv/bin/python -m benchmarks.speed [--n 20000] [--repeats 5] \
        [--parts batch,coldstart,preprocess,memory] [--memory-rows 1000000] [--memory-format csv]

All texts come from ``pool.parquet`` (real, unlabeled; only numbers are printed).

* batch: N pool texts are written to a temporary Parquet file; each system then runs
  read Parquet -> (preprocess) -> three heads -> write Parquet, end to end. This
  pipeline goes through the CLI's own function, ``scoring.score_file`` (a first pass
  over the file for its ids, then read, scored and written in chunks of ``[scoring]
  chunk_size``); peers read with pandas, predict the three labels, write with pandas. Every model is
  trained (on the labelled train split) before any timing; a warm-up run on 500 texts
  precedes the timed runs; systems take turns inside each repeat, so that load from
  other processes hits all of them alike. docs/s is the median over repeats; each
  system's speed is reported as a ratio to TF-IDF + LogisticRegression of the SAME run.
  The spaCy textcat ensemble scores N/10 texts (it is slow); its docs/s is per text.
* coldstart: ``complaints predict "..." --model DIR`` in a subprocess, wall time, one
  untimed run then the median of 5; DIR is a model trained by ``complaints train``
  into a temporary folder.
* preprocess: ``FrenchPreprocessor.transform`` docs/s in "lookup" and "model" modes
  and the raw ``spacy.blank("fr")`` tokenizer, on the same pool texts (model mode on
  N/10 texts).
* memory: peak RSS (``/usr/bin/time -v``, else psutil polling) of the product's own
  ``complaints predict --input big.parquet --output scored.parquet`` on a file of
  ``--memory-rows`` rows (pool texts repeated, unique ids; Parquet, or CSV / JSONL with
  ``--memory-format``), which the CLI streams in chunks of ``[scoring] chunk_size``.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from .common import REAL, REPO, RESULTS, SEED, SOURCE_CHANNELS, load_split, machine, write_json, write_md

VENV_BIN = Path(sys.executable).parent
MEMORY_FORMATS = ("parquet", "csv", "jsonl")
COLD_TEXT = ("Bonjour, ma box internet ne fonctionne plus depuis trois jours et personne ne répond "
             "au service client malgré mes appels. Je demande un geste commercial.")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def pool_texts(n: int, seed: int = SEED) -> pd.DataFrame:
    pool = pd.read_parquet(REAL / "pool.parquet", columns=["id", "text", "source", "rating"])
    pool = pool[pool["text"].notna()]
    if n < len(pool):
        pool = pool.sample(n=n, random_state=seed)
    # channel and rating as a real input carries them: the pipeline reads them, peers do not.
    return pd.DataFrame({"id": pool["id"].astype(str).to_numpy(), "text": pool["text"].astype(str).to_numpy(),
                         "channel": pool["source"].map(SOURCE_CHANNELS).to_numpy(),
                         "rating": pool["rating"].astype(float).to_numpy()})


# -- batch scoring: end-to-end runners -------------------------------------------------------
def run_pipeline_file(model, settings, src: Path, dst: Path) -> int:
    from pipeline.scoring import score_file

    rows, _ = score_file(model, str(src), str(dst), settings["scoring"]["chunk_size"])
    return rows


def run_peer_file(system, src: Path, dst: Path) -> int:
    frame = pd.read_parquet(src, columns=["id", "text"])
    texts = ["" if t is None else str(t) for t in frame["text"].tolist()]
    predicted = system.predict(texts)
    out = pd.DataFrame({"id": frame["id"].to_numpy(), **{h: predicted[h] for h in predicted}})
    out.to_parquet(dst, index=False)
    return len(out)


def train_systems(train: pd.DataFrame) -> dict:
    from pipeline.config import load_settings
    from pipeline.taxonomy import load_taxonomy
    from pipeline.training import fit_model

    from .peers import FastTextSystem, SpacyTextcat, TfidfLR

    settings = load_settings()
    systems = {}
    timings = {}
    start = time.perf_counter()
    model = fit_model(train, settings, "bench", load_taxonomy())
    timings["pipeline"] = time.perf_counter() - start
    systems["pipeline"] = ("pipeline", (model, settings))
    # Inference cost does not depend on the number of epochs: the textcat models are
    # trained for 2 epochs here (accuracy.py trains them fully).
    for name, system in (("tfidf_lr", TfidfLR()), ("fasttext", FastTextSystem()),
                         ("spacy_textcat_bow", SpacyTextcat("bow", epochs=2)),
                         ("spacy_textcat_ensemble", SpacyTextcat("ensemble", epochs=2))):
        start = time.perf_counter()
        system.fit(train["text"].tolist(), train)
        timings[name] = time.perf_counter() - start
        systems[name] = ("peer", system)
        log(f"trained {name} in {timings[name]:.0f}s")
    return systems


def batch(n: int, repeats: int, tmp: Path) -> dict:
    train = load_split(REAL / "train.parquet")
    systems = train_systems(train)
    texts = pool_texts(n)
    files = {"full": tmp / "batch_full.parquet", "small": tmp / "batch_small.parquet",
             "warm": tmp / "batch_warm.parquet"}
    texts.to_parquet(files["full"], index=False)
    texts.iloc[: max(1, n // 10)].to_parquet(files["small"], index=False)
    texts.iloc[:500].to_parquet(files["warm"], index=False)
    inputs = {name: files["small"] if name == "spacy_textcat_ensemble" else files["full"] for name in systems}
    sizes = {name: (max(1, n // 10) if name == "spacy_textcat_ensemble" else n) for name in systems}

    def run(name, src, dst):
        kind, obj = systems[name]
        if kind == "pipeline":
            return run_pipeline_file(obj[0], obj[1], src, dst)
        return run_peer_file(obj, src, dst)

    for name in systems:  # warm-up: caches, lazy spaCy objects, page cache
        run(name, files["warm"], tmp / f"warm_{name}.parquet")
    seconds = {name: [] for name in systems}
    for r in range(repeats):
        for name in systems:
            dst = tmp / f"out_{name}.parquet"
            if systems[name][0] == "pipeline":
                # A fresh copy, as a new scoring process would have: the character n-gram
                # word cache (not pickled) must not carry over from the previous repeat.
                model, settings = systems[name][1]
                systems[name] = ("pipeline", (pickle.loads(pickle.dumps(model)), settings))
            start = time.perf_counter()
            rows = run(name, inputs[name], dst)
            seconds[name].append(time.perf_counter() - start)
            assert rows == sizes[name], (name, rows)
            dst.unlink()
        log(f"repeat {r + 1}/{repeats}: " + ", ".join(f"{k} {sizes[k] / v[-1]:.0f} docs/s" for k, v in seconds.items()))
    docs_s = {name: sizes[name] / statistics.median(s) for name, s in seconds.items()}
    base = docs_s["tfidf_lr"]
    results = {name: {"docs": sizes[name], "median_s": round(statistics.median(seconds[name]), 3),
                      "runs_s": [round(x, 3) for x in seconds[name]], "docs_per_s": round(docs_s[name], 1),
                      "ratio_vs_tfidf_lr": round(docs_s[name] / base, 3),
                      # the same ratio taken inside each repeat, then the median: steadier under load
                      "ratio_vs_tfidf_lr_paired_median": round(statistics.median(
                          (sizes[name] / s) / (sizes["tfidf_lr"] / t) for s, t in zip(seconds[name], seconds["tfidf_lr"])), 3),
                      "pipeline_vs_this": round(docs_s["pipeline"] / docs_s[name], 3)}
               for name in systems}
    return {"n": n, "repeats": repeats, "systems": results}


# -- preprocessing alone ------------------------------------------------------------------------
def preprocess(n: int, repeats: int) -> dict:
    import spacy

    from pipeline.preprocess import FrenchPreprocessor

    train = load_split(REAL / "train.parquet")["text"].tolist()
    texts = pool_texts(n)["text"].tolist()
    small = texts[: max(1, n // 10)]
    fitted = {"lookup": pickle.dumps(FrenchPreprocessor(mode="lookup").fit(train)),
              "model": pickle.dumps(FrenchPreprocessor(mode="model").fit(train))}

    def fresh(kind):
        """A new object each repeat, built outside the timing: no cache (spaCy's
        tokenizer cache, the lookup mode's chunk cache) carries over between repeats."""
        if kind == "blank":
            return spacy.blank("fr").tokenizer
        prep = pickle.loads(fitted[kind])
        prep.transform(["préchauffage"])   # builds the spaCy objects, as a warm process has
        return prep

    jobs = {
        "spacy.blank('fr') tokenizer only (tokenizer.pipe)":
            ("blank", lambda tok: list(tok.pipe(texts, batch_size=256)), len(texts)),
        "FrenchPreprocessor lookup (normalise + tokenizer + lookup lemmas + filter)":
            ("lookup", lambda prep: prep.transform(texts), len(texts)),
        "FrenchPreprocessor model (fr_core_news_sm, no parser/NER)":
            ("model", lambda prep: prep.transform(small), len(small)),
    }
    seconds = {k: [] for k in jobs}
    for _ in range(repeats):
        for name, (kind, fn, _) in jobs.items():
            obj = fresh(kind)
            start = time.perf_counter()
            fn(obj)
            seconds[name].append(time.perf_counter() - start)
    out = {name: {"docs": size, "median_s": round(statistics.median(seconds[name]), 3),
                  "docs_per_s": round(size / statistics.median(seconds[name]), 1)} for name, (_, _, size) in jobs.items()}
    base = out["spacy.blank('fr') tokenizer only (tokenizer.pipe)"]["docs_per_s"]
    for v in out.values():
        v["ratio_vs_blank_tokenizer"] = round(v["docs_per_s"] / base, 3)
    return {"repeats": repeats, "modes": out}


# -- CLI cold start -------------------------------------------------------------------------------
def train_cli_model(tmp: Path) -> Path:
    out = tmp / "cli_model"
    env = {**os.environ, "COMPLAINTS_HOME": str(tmp / "home")}
    (tmp / "home").mkdir(exist_ok=True)
    subprocess.run([str(VENV_BIN / "complaints"), "train", "--data", str(REAL / "train.parquet"),
                    "--out", str(out), "--no-promote"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def coldstart(tmp: Path, model_dir: Path, runs: int = 5) -> dict:
    cmd = [str(VENV_BIN / "complaints"), "predict", COLD_TEXT, "--model", str(model_dir)]
    env = {**os.environ, "COMPLAINTS_HOME": str(tmp / "home")}
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"complaints predict failed: {proc.stderr[-500:]}")
        times.append(elapsed)
    # the bare interpreter start, for reference
    bare = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    return {"command": "complaints predict \"<one synthetic complaint>\" --model DIR",
            "first_run_s": round(times[0], 3), "runs_s": [round(t, 3) for t in times[1:]],
            "median_s": round(statistics.median(times[1:]), 3),
            "python_startup_median_s": round(statistics.median(bare), 3),
            "model_file_mb": round(sum(p.stat().st_size for p in model_dir.iterdir()) / 1e6, 1)}


# -- peak memory, streamed 1M rows ---------------------------------------------------------------
def build_big_file(rows: int, path: Path, fmt: str = "parquet") -> None:
    """``rows`` pool texts (repeated, unique ids) as Parquet, CSV or JSONL, in blocks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pool = pd.read_parquet(REAL / "pool.parquet", columns=["text"])["text"].dropna().astype(str).tolist()
    writer = None
    block = 50_000
    try:
        for start in range(0, rows, block):
            size = min(block, rows - start)
            texts = [pool[(start + i) % len(pool)] for i in range(size)]
            ids = [f"r{start + i}" for i in range(size)]
            if fmt == "parquet":
                table = pa.table({"id": ids, "text": texts})
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table, row_group_size=block)
                continue
            frame = pd.DataFrame({"id": ids, "text": texts})
            with open(path, "a" if start else "w", encoding="utf-8", newline="") as handle:
                if fmt == "csv":
                    frame.to_csv(handle, index=False, header=start == 0, sep=";")
                else:
                    frame.to_json(handle, orient="records", lines=True, force_ascii=False)
    finally:
        if writer is not None:
            writer.close()


def memory(tmp: Path, model_dir: Path, rows: int, chunk: int, fmt: str = "parquet") -> dict:
    src, dst = tmp / f"big.{fmt}", tmp / "big_scored.parquet"
    start = time.perf_counter()
    build_big_file(rows, src, fmt)
    log(f"built {rows} rows in {time.perf_counter() - start:.0f}s ({src.stat().st_size / 1e6:.0f} MB)")
    home = tmp / "memory_home"
    home.mkdir(exist_ok=True)
    (home / "complaints.toml").write_text(f"[scoring]\nchunk_size = {chunk}\n", encoding="utf-8")
    cmd = [str(VENV_BIN / "complaints"), "predict", "--input", str(src), "--output", str(dst),
           "--model", str(model_dir), "--quiet"]
    env = {**os.environ, "COMPLAINTS_HOME": str(home)}
    use_time = Path("/usr/bin/time").exists()
    start = time.perf_counter()
    if use_time:
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=REPO, env=env)
        peak_kb = next(int(l.split(":")[1]) for l in proc.stderr.splitlines() if "Maximum resident set size" in l)
        method = "/usr/bin/time -v (Maximum resident set size)"
    else:
        import psutil

        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        ps, peak_kb = psutil.Process(child.pid), 0
        while child.poll() is None:
            try:
                peak_kb = max(peak_kb, ps.memory_info().rss // 1024)
            except psutil.Error:
                break
            time.sleep(0.2)
        stdout, stderr = child.communicate()
        proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        method = "psutil RSS polled every 0.2 s"
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"complaints predict failed: {proc.stderr[-800:]}")
    import pyarrow.parquet as pq

    scored = pq.ParquetFile(str(dst)).metadata.num_rows
    return {"rows": scored, "chunk": chunk, "peak_rss_mb": round(peak_kb / 1024, 1), "method": method,
            "format": fmt, "command": f"complaints predict --input big.{fmt} --output scored.parquet",
            "wall_s": round(wall, 1), "docs_per_s": round(scored / wall, 1),
            "input_mb": round(src.stat().st_size / 1e6, 1), "output_mb": round(dst.stat().st_size / 1e6, 1)}


# -- report -----------------------------------------------------------------------------------------
def _memory_runs(payload: dict) -> list[tuple[str, dict]]:
    """The memory measurements, one per input format (key ``memory`` is Parquet)."""
    return [(k, payload[k]) for k in ("memory", *(f"memory_{f}" for f in MEMORY_FORMATS if f != "parquet"))
            if k in payload]


def goals(payload: dict) -> list[dict]:
    out = []
    b = payload.get("batch", {}).get("systems")
    if b:
        r = b["pipeline"]["ratio_vs_tfidf_lr"]
        out.append({"goal": "batch scoring >= 0.5x TF-IDF+LR", "measured": f"{r:.2f}x", "pass": r >= 0.5})
        if "spacy_textcat_ensemble" in b:
            r = b["spacy_textcat_ensemble"]["pipeline_vs_this"]
            out.append({"goal": ">= 20x spaCy textcat ensemble", "measured": f"{r:.1f}x", "pass": r >= 20})
    c = payload.get("coldstart")
    if c:
        out.append({"goal": "cold start <= 2 s", "measured": f"{c['median_s']:.2f} s", "pass": c["median_s"] <= 2.0})
    for key, m in _memory_runs(payload):
        out.append({"goal": f"peak memory <= 1.5 GB for {m['rows']:,} rows ({m.get('format', 'parquet')} input)",
                    "measured": f"{m['peak_rss_mb']:.0f} MB ({m['wall_s']:.0f} s wall)",
                    "pass": m["peak_rss_mb"] <= 1536})
    return out


def markdown(payload: dict) -> str:
    mach = payload["machine"]
    lines = [f"{mach['date']} · {mach['nproc']} cores · {mach['cpu']} · load average at start "
             f"{mach['load_avg_at_start']}", ""]
    if "batch" in payload:
        b = payload["batch"]
        lines += [f"### End-to-end batch scoring ({b['n']:,} pool texts, median of {b['repeats']})", "",
                  "| system | docs | median s | docs/s | × TF-IDF+LR (same run) | × TF-IDF+LR, paired per repeat | this pipeline ÷ system |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in b["systems"].items():
            lines.append(f"| {name} | {r['docs']:,} | {r['median_s']:.2f} | {r['docs_per_s']:,.0f} | "
                         f"{r['ratio_vs_tfidf_lr']:.2f} | {r.get('ratio_vs_tfidf_lr_paired_median', float('nan')):.2f} | "
                         f"{r['pipeline_vs_this']:.2f} |")
        lines.append("")
    if "preprocess" in payload:
        p = payload["preprocess"]
        lines += [f"### spaCy preprocessing alone (median of {p['repeats']})", "",
                  "| step | docs | median s | docs/s | × blank tokenizer |", "|---|---:|---:|---:|---:|"]
        for name, r in p["modes"].items():
            lines.append(f"| {name} | {r['docs']:,} | {r['median_s']:.2f} | {r['docs_per_s']:,.0f} | "
                         f"{r['ratio_vs_blank_tokenizer']:.2f} |")
        lines.append("")
    if "coldstart" in payload:
        c = payload["coldstart"]
        lines += ["### CLI cold start", "",
                  f"`{c['command']}`: median {c['median_s']:.2f} s over {len(c['runs_s'])} runs "
                  f"({', '.join(f'{x:.2f}' for x in c['runs_s'])}; first, untimed run {c['first_run_s']:.2f} s). "
                  f"Bare `python -c pass`: {c['python_startup_median_s']:.2f} s. Model folder: {c['model_file_mb']} MB.", ""]
    runs = _memory_runs(payload)
    if runs:
        lines += ["### Peak memory, streamed scoring", ""]
        for _, m in runs:
            lines += [f"`{m.get('command', 'stream worker')}`, {m['rows']:,} rows ({m['input_mb']} MB "
                      f"{m.get('format', 'parquet')}, pool texts repeated), chunks of {m['chunk']}: peak RSS "
                      f"**{m['peak_rss_mb']:.0f} MB** ({m['method']}), wall {m['wall_s']:.0f} s "
                      f"({m['docs_per_s']:,.0f} docs/s end to end), output {m['output_mb']} MB.", ""]
    if payload.get("goals"):
        lines += ["### Goals", "", "| goal | measured | pass |", "|---|---|---|"]
        lines += [f"| {g['goal']} | {g['measured']} | {'PASS' if g['pass'] else 'FAIL'} |" for g in payload["goals"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="pool texts for batch scoring")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", default="batch,coldstart,preprocess",
                        help="comma-separated: batch, coldstart, preprocess, memory")
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-format", choices=MEMORY_FORMATS, default="parquet",
                        help="input file format of the memory part")
    parser.add_argument("--out", default=str(RESULTS / "speed.json"))
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}

    out_path = Path(args.out)
    # parts measured in separate runs are merged into one JSON
    payload = json.loads(out_path.read_text(encoding="utf-8")) if out_path.is_file() else {}
    payload["machine"] = machine()
    payload.setdefault("commands", {})
    command = "python -m benchmarks.speed " + " ".join(argv)
    tmp = Path(tempfile.mkdtemp(prefix="complaints-speed-"))
    payload.setdefault("measured", {})
    for part in parts:  # when and on which code each part was measured (the header shows the last run)
        m = machine()
        key = f"memory_{args.memory_format}" if part == "memory" and args.memory_format != "parquet" else part
        payload["measured"][key] = {k: m[k] for k in ("date", "load_avg_at_start", "pipeline_sha256")}
    try:
        if "batch" in parts:
            payload["batch"] = batch(args.n, args.repeats, tmp)
            payload["commands"]["batch"] = command
        if "preprocess" in parts:
            payload["preprocess"] = preprocess(args.n, max(3, args.repeats // 2 + 1))
            payload["commands"]["preprocess"] = command
        if parts & {"coldstart", "memory"}:
            model_dir = train_cli_model(tmp)
            if "coldstart" in parts:
                payload["coldstart"] = coldstart(tmp, model_dir)
                payload["commands"]["coldstart"] = command
            if "memory" in parts:
                from pipeline.config import load_settings

                key = "memory" if args.memory_format == "parquet" else f"memory_{args.memory_format}"
                payload[key] = memory(tmp, model_dir, args.memory_rows, load_settings()["scoring"]["chunk_size"],
                                      args.memory_format)
                payload["commands"][key] = command
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    payload["goals"] = goals(payload)
    body = markdown(payload)
    print(body)
    write_json(out_path, payload)
    cmds = "`, `".join(dict.fromkeys(payload["commands"].values()))
    write_md(out_path.with_suffix(".md"), body, cmds, "Speed benchmark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
