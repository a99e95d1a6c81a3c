"""Shared helpers: data splits, settings variants, metrics, machine description.

Only numbers leave these helpers: no function here prints or stores a text.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import random
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Settings, load_settings
from pipeline.evaluation import head_metrics
from pipeline.taxonomy import HEADS, load_taxonomy

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
REAL = (REPO.parent / "shared" / "data" / "real") if (REPO.parent / "shared").is_dir() else Path("/work/shared/data/real")
SEED = 13
CRITIQUE = "critique"
# The only source whose sector varies (see the data README): sector is informative there.
SECTOR_SOURCE = "signalconso_landing_fr"
# The channel each real source would arrive through (the bundled corpus names its own).
SOURCE_CHANNELS = {"insurance_reviews_fr": "avis", "absa_restaurants_fr": "avis", "free_tweets_fr": "tweet",
                   "engie_tweets_fr": "tweet", "signalconso_landing_fr": "signalement"}


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


def load_split(path: str | Path) -> pd.DataFrame:
    """A labelled Parquet/CSV/JSONL split as plain Python strings (id, source, text, heads)."""
    path = Path(path)
    if path.is_dir():
        from pipeline.training import load_labelled

        frame = load_labelled(path, load_taxonomy())
        frame["source"] = "bundled_corpus"
    elif path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        frame = pd.read_json(path, lines=True)
    if "source" not in frame.columns:
        frame["source"] = "unknown"
    keep = ["id", "source", "text", *[h for h in HEADS if h in frame.columns]]
    out = frame[keep].copy()
    for column in keep:
        out[column] = out[column].astype(object).where(out[column].notna(), "").map(str)
    # The context the model can use: the channel each source stands for, a review's stars.
    out["channel"] = (frame["channel"].to_numpy() if "channel" in frame.columns
                      else out["source"].map(SOURCE_CHANNELS).to_numpy())
    out["rating"] = pd.to_numeric(frame["rating"], errors="coerce").to_numpy() if "rating" in frame.columns else np.nan
    return out.reset_index(drop=True)


def plus_corpus(corpus: pd.DataFrame, labelled: pd.DataFrame) -> pd.DataFrame:
    """The bundled corpus followed by labelled rows: what the retrain flow trains on."""
    columns = ["text", *HEADS, "channel", "rating"]
    return pd.concat([corpus[columns], labelled[columns]], ignore_index=True)


def settings_variant(model: dict | None = None, preprocess: dict | None = None,
                     base: Settings | None = None) -> Settings:
    """The project's settings with some [model] / [preprocess] entries replaced (in memory)."""
    base = base or load_settings()
    values = copy.deepcopy(base.values)
    values["model"].update(model or {})
    values["preprocess"].update(preprocess or {})
    return Settings(base.home, values)


# -- metrics -----------------------------------------------------------------------------
def critique_recall(truth, predicted) -> float | None:
    truth = np.asarray(truth, dtype=object)
    predicted = np.asarray(predicted, dtype=object)
    mask = truth == CRITIQUE
    if not mask.any():
        return None
    return round(float((predicted[mask] == CRITIQUE).mean()), 4)


def score(truth: pd.DataFrame, predicted: dict[str, np.ndarray], per_source: bool = True) -> dict:
    """Macro-F1 and accuracy per head (overall and per source) and critique recall.

    Macro-F1 is ``pipeline.evaluation.head_metrics``: averaged over the labels present
    in the truth or the predictions of the rows scored.
    """
    taxonomy = load_taxonomy()
    result: dict = {"n": int(len(truth)), "heads": {}, "per_source": {}}
    for head in HEADS:
        y_pred = np.asarray(["(non prédit)" if p is None else p for p in predicted[head]], dtype=object)
        m = head_metrics(truth[head].to_numpy(), y_pred, taxonomy.ids(head))
        result["heads"][head] = {"macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
                                 "per_label_f1": {k: v["f1"] for k, v in m["per_label"].items()}}
    result["critique_recall"] = critique_recall(truth["urgency"], predicted["urgency"])
    result["critique_support"] = int((truth["urgency"] == CRITIQUE).sum())
    result["critique_predicted"] = int((np.asarray(predicted["urgency"], dtype=object) == CRITIQUE).sum())
    if per_source:
        for source in sorted(truth["source"].unique()):
            mask = (truth["source"] == source).to_numpy()
            sub = {}
            for head in HEADS:
                m = head_metrics(truth[head].to_numpy()[mask], np.asarray(predicted[head], dtype=object)[mask],
                                 taxonomy.ids(head))
                sub[head] = {"macro_f1": m["macro_f1"], "accuracy": m["accuracy"]}
            sub["n"] = int(mask.sum())
            result["per_source"][source] = sub
    return result


# -- uncertainty --------------------------------------------------------------------------
# Dev has 341 rows and 7 critique cases: a macro-F1 difference of a few hundredths, or one
# critique case, is within chance. Intervals come from resampling the eval rows; the same
# resamples serve every system, so differences between systems are paired.
BOOTSTRAP_SAMPLES = 2000


def _codes(truth, predicted, labels: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes over ``labels`` plus one extra code for anything else (not counted)."""
    index = {label: i for i, label in enumerate(labels)}
    other = len(labels)
    t = np.fromiter((index.get(v, other) for v in truth), dtype=np.int64, count=len(truth))
    p = np.fromiter((index.get(v, other) for v in predicted), dtype=np.int64, count=len(predicted))
    return t, p, other + 1


def macro_f1_resampled(truth, predicted, labels: list[str], samples: np.ndarray) -> np.ndarray:
    """Macro-F1 of each resample (rows of ``samples`` are row indices), with the
    definition of ``pipeline.evaluation.head_metrics``: averaged over the taxonomy
    labels present in the truth or the predictions of that resample."""
    t, p, k = _codes(truth, predicted, labels)
    n_labels = len(labels)
    ts, ps = t[samples], p[samples]
    rows = np.arange(len(samples))[:, None]
    support = np.zeros((len(samples), k))
    np.add.at(support, (rows, ts), 1)
    called = np.zeros((len(samples), k))
    np.add.at(called, (rows, ps), 1)
    hits = np.zeros((len(samples), k))
    np.add.at(hits, (rows, np.where(ts == ps, ts, k - 1)), (ts == ps).astype(float))
    support, called, hits = support[:, :n_labels], called[:, :n_labels], hits[:, :n_labels]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(support + called > 0, 2 * hits / (support + called), 0.0)
    present = (support + called) > 0
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def resamples(n_rows: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_rows, size=(samples, n_rows))


def interval(values: np.ndarray, level: float = 0.95) -> list[float]:
    tail = (1 - level) / 2 * 100
    return [round(float(np.percentile(values, tail)), 3), round(float(np.percentile(values, 100 - tail)), 3)]


def wilson(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """95 % Wilson interval of a proportion (for critique recall over a handful of cases)."""
    if n == 0:
        return None
    phat = successes / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(centre - half), 3), round(float(centre + half), 3)]


# -- environment --------------------------------------------------------------------------
def machine() -> dict:
    model_name = platform.processor() or ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name"):
                model_name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "spacy", "spacy-lookups-data", "numpy", "scipy", "pandas",
                 "fasttext", "pyarrow", "psutil", "matplotlib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "nproc": nproc,
            "pipeline_sha256": pipeline_fingerprint(),
            "cpu": model_name, "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in load] if load else None, "libraries": versions}


def pipeline_fingerprint() -> str:
    """SHA-256 (12 hex) of pipeline/*.py and settings.toml: which code a result measured.
    The package is edited by others while benchmarks run; compare this across results."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "pipeline").rglob("*")):
        if path.suffix in {".py", ".toml", ".yaml"} and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def write_json(path: str | Path, payload: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value))


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


GENERATED_START, GENERATED_END = "<!-- generated:start -->", "<!-- generated:end -->"


def write_md(path: Path, body: str, command: str, title: str) -> None:
    """Replace the generated block of a results page (hand-written notes around it stay)."""
    block = f"{GENERATED_START}\nCommand: `{command}`\n\n{body}\n{GENERATED_END}"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if GENERATED_START in text and GENERATED_END in text:
            text = text[: text.index(GENERATED_START)] + block + text[text.index(GENERATED_END) + len(GENERATED_END):]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    else:
        text = f"# {title}\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
