"""Champion / challenger: retrain, compare on the same held-out rows, promote or refuse.

The held-out rows are chosen by a hash of their id (20 % by default), so they are
the same from one run to the next. The challenger never trains on them. A champion
made by ``complaints train`` (the default model, for one) was refit on every row of its
training path: those rows leave the comparison, which is made on held-out rows neither
model saw (``comparison_rows``); with too few of them it falls back to all held-out
rows and the report says the comparison favours the champion.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .config import Settings
from .context import CONTEXT_COLUMNS
from .registry import current_version, load_model, new_version, read_card, save_model, set_current
from .taxonomy import HEADS, Taxonomy
from .training import data_fingerprint, evaluate_model, fit_model, load_labelled


def holdout_mask(ids: pd.Series, share: float = 0.2) -> pd.Series:
    def bucket(identifier: str) -> float:
        return int(hashlib.sha256(str(identifier).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    return ids.map(bucket) < share


def gather_training_data(settings: Settings, taxonomy: Taxonomy, extra: list[Path] = ()) -> pd.DataFrame:
    """Bundled corpus + imported corrections + any labelled files given. Later sources win.

    ``origin`` says which source each row came from (resolved path)."""
    sources = [settings.paths.corpus]
    if settings.paths.labels.is_dir() and any(settings.paths.labels.glob("*.jsonl")):
        sources.append(settings.paths.labels)
    sources += [Path(p) for p in extra]
    # The channel and rating travel with the labels: without them the challenger would
    # be trained blind to the context the champion reads.
    frames = [load_labelled(s, taxonomy)[["id", "text", *CONTEXT_COLUMNS, *HEADS]].assign(origin=str(Path(s).resolve()))
              for s in sources]
    data = pd.concat(frames, ignore_index=True)
    # A corrected label replaces the model's earlier training label for the same id.
    return data.drop_duplicates("id", keep="last").reset_index(drop=True)


CRITIQUE_ROW = "urgency: rappel critique"


@dataclass
class GateDecision:
    promote: bool
    max_drop: float
    rows: list[dict]   # one per head (macro-F1), plus critique recall: champion, challenger, delta, ok
    max_critique_drop: float | None = None

    def markdown(self, champion: str | None, challenger: str) -> str:
        verdict = "**promu**" if self.promote else "**refusé** (gardé pour inspection, non promu)"
        tolerated = f"baisse tolérée par tête : {self.max_drop:.3f} macro-F1"
        if self.max_critique_drop is not None:
            tolerated += f", {self.max_critique_drop:.3f} de rappel sur les cas critiques"
        lines = [f"# Réentraînement : challenger {challenger} {verdict}", "",
                 f"Champion : `{champion or 'aucun'}` · {tolerated}", "",
                 "| tête | champion | challenger | écart | verdict |", "|---|---|---|---|---|"]
        for r in self.rows:
            champ = "—" if r["champion"] is None else f"{r['champion']:.3f}"
            lines.append(f"| {r['head']} | {champ} | {r['challenger']:.3f} | {r['delta']:+.3f} | {'ok' if r['ok'] else 'trop bas'} |")
        return "\n".join(lines)


def _critique_recall(metrics: dict | None) -> float | None:
    label = (metrics or {}).get("urgency", {}).get("per_label", {}).get("critique")
    return label["recall"] if label and label["support"] else None


def gate(champion: dict | None, challenger: dict, max_drop: float,
         max_critique_drop: float | None = None) -> GateDecision:
    """Promote only if no head's macro-F1 drops by more than ``max_drop`` and, when
    ``max_critique_drop`` is set, critique recall does not drop by more than that.

    Critique recall gets its own check because macro-F1 hides it: a model retrained on
    real labels learns how rare critique is, and its recall fell from 0.86 to 0.43 on
    the real dev split while every macro-F1 rose (benchmarks/BENCHMARKS.md)."""
    rows = []
    for head in HEADS:
        new = challenger[head]["macro_f1"]
        old = champion[head]["macro_f1"] if champion else None
        # Rounded before the comparison: 0.85 - 0.90 must count as a drop of 0.05.
        delta = round(new - old, 4) if old is not None else 0.0
        rows.append({"head": head, "champion": old, "challenger": new, "delta": delta,
                     "ok": old is None or delta >= -max_drop})
    new, old = _critique_recall(challenger), _critique_recall(champion)
    if max_critique_drop is not None and new is not None:
        delta = round(new - old, 4) if old is not None else 0.0
        rows.append({"head": CRITIQUE_ROW, "champion": old, "challenger": new, "delta": delta,
                     "ok": old is None or delta >= -max_critique_drop})
    return GateDecision(promote=all(r["ok"] for r in rows), max_drop=max_drop, rows=rows,
                        max_critique_drop=max_critique_drop)


# Fewer rows than this left after removing what the champion saw: compare on all held-out
# rows instead, and say so (a few dozen rows would make the verdict a coin toss).
MIN_COMPARISON_ROWS = 50


def comparison_rows(data: pd.DataFrame, held: pd.Series, champion_card: dict | None) -> tuple[pd.Series, str]:
    """Held-out rows that neither model trained on, and a sentence saying which they are.

    The challenger never trains on the held-out bucket. A champion made by this gate
    did not either. But a champion made by ``complaints train`` (the default model, for
    one) was refit on every row of its training path. Its held-out rows there are ones
    it has seen, and they made the gate refuse a first retraining on real labels on
    every head (benchmarks/BENCHMARKS.md). So those rows leave the comparison."""
    seen_path = ((champion_card or {}).get("training_data") or {}).get("path")
    if not seen_path:
        return held, "lignes tenues à l'écart (hash de l'id)"
    seen = data["origin"] == str(Path(seen_path).resolve())
    fair = held & ~seen
    if int(fair.sum()) < MIN_COMPARISON_ROWS:
        return held, (f"lignes tenues à l'écart, dont {int((held & seen).sum())} vues par le champion "
                      f"à l'entraînement (moins de {MIN_COMPARISON_ROWS} lignes sinon) : la comparaison le favorise")
    return fair, (f"lignes tenues à l'écart que ni le champion ni le challenger n'ont vues "
                  f"({int((held & seen).sum())} lignes de {seen_path} écartées : le champion s'y est entraîné)")


def retrain(settings: Settings, taxonomy: Taxonomy, extra: list[Path] = (), max_drop: float | None = None,
            version: str | None = None, max_critique_drop: float | None = None) -> tuple[GateDecision, Path, str]:
    """Train a challenger, evaluate both on the same held-out rows, promote or keep aside."""
    max_drop = settings["retrain"]["max_f1_drop"] if max_drop is None else max_drop
    if max_critique_drop is None:
        max_critique_drop = settings["retrain"]["max_critique_recall_drop"]
    data = gather_training_data(settings, taxonomy, extra)
    held = holdout_mask(data["id"])
    champion_version = current_version(settings.paths.models)
    champion_card = read_card(settings.paths.models / champion_version) if champion_version else None
    compared, compared_note = comparison_rows(data, held, champion_card)
    train_rows, test_rows = data[~held], data[compared].reset_index(drop=True)
    fingerprint = data_fingerprint(train_rows)
    version = version or new_version(fingerprint)
    challenger = fit_model(train_rows, settings, version, taxonomy)
    challenger_metrics = evaluate_model(challenger, test_rows, taxonomy)
    champion_metrics = None
    if champion_version:
        champion_metrics = evaluate_model(load_model(settings.paths.models / champion_version), test_rows, taxonomy)
    decision = gate(champion_metrics, challenger_metrics, max_drop, max_critique_drop)
    report = decision.markdown(champion_version, version) + f"\n\nComparé sur {len(test_rows)} {compared_note}."
    card = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": {"sha256": fingerprint, "rows": int(len(train_rows)),
                          "sources": [str(settings.paths.corpus), str(settings.paths.labels), *map(str, extra)]},
        "metrics": {"holdout": "sha256(id) bucket < 0.2", "n_holdout": int(held.sum()),
                    "n_compared": int(len(test_rows)), "compared": compared_note,
                    "heads": challenger_metrics},
        "promotion": {"decision": "promoted" if decision.promote else "refused", "champion": champion_version,
                      "champion_metrics": {h: m["macro_f1"] for h, m in (champion_metrics or {}).items()},
                      "max_f1_drop": max_drop, "max_critique_recall_drop": decision.max_critique_drop,
                      "comparison": decision.rows, "report_markdown": report},
    }
    out = save_model(challenger, settings.paths.models / version, card)
    if decision.promote:
        set_current(settings.paths.models, version)
    return decision, out, report
