"""Metrics per head: precision, recall, F1 per label, macro-F1, confusion matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .taxonomy import HEADS


def head_metrics(y_true, y_pred, labels: list[str] | None = None) -> dict:
    """Macro-F1 over the labels present in truth or prediction, plus per-label detail."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    present = sorted(set(y_true) | set(y_pred))
    order = [l for l in (labels or present) if l in present]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=order, zero_division=0)
    return {
        "n": int(len(y_true)),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=order, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "per_label": {
            label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                    "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, label in enumerate(order)
        },
        "labels": order,
        "confusion": confusion_matrix(y_true, y_pred, labels=order).tolist(),
    }


def evaluate_frame(truth: pd.DataFrame, predicted: pd.DataFrame, taxonomy) -> dict:
    """Metrics of every head present in ``truth``; rows that could not be scored count as errors."""
    results = {}
    for head in HEADS:
        if head not in truth.columns:
            continue
        y_pred = predicted[head].fillna("(non prédit)").to_numpy()
        results[head] = head_metrics(truth[head].to_numpy(), y_pred, taxonomy.ids(head))
    return results


def format_metrics(results: dict) -> str:
    """A plain-text report: per head, per label table and confusion matrix."""
    lines = []
    for head, m in results.items():
        lines.append(f"== {head}: macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  (n={m['n']})")
        lines.append(f"{'label':<28}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        for label, d in m["per_label"].items():
            lines.append(f"{label:<28}{d['precision']:>10.3f}{d['recall']:>10.3f}{d['f1']:>10.3f}{d['support']:>9}")
        labels = m["labels"]
        short = [l[:6] for l in labels]
        lines.append("confusion (rows = truth, columns = predicted):")
        lines.append(" " * 28 + "".join(f"{s:>7}" for s in short))
        for label, row in zip(labels, m["confusion"]):
            lines.append(f"{label:<28}" + "".join(f"{v:>7}" for v in row))
        lines.append("")
    return "\n".join(lines)
