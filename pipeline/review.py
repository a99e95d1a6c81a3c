"""The review loop: export uncertain predictions for a person, import their corrections.

The export is a CSV a person opens in a spreadsheet (``;`` separator and a UTF-8
BOM, which French Excel expects). Each row shows the masked text, the model's
labels, and three ``*_corrige`` columns pre-filled with those labels: the reviewer
only changes what is wrong. Rows come most informative first (the model hesitates most
between two labels: :func:`review_priority`), so a team that labels only the top of the
sheet, or sets a budget, spends its time where the next retraining learns most;
complaints already labelled are never exported again. Importing validates every label against the taxonomy
and stores the corrections in ``data/raw/labels/`` with who reviewed them and when;
the retrain flow trains on them.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Settings
from .errors import InputError
from .io import atomic_path, decode, read_table
from .store import read_complaints, read_predictions
from .taxonomy import HEADS, Taxonomy

CORRECTED = {head: f"{head}_corrige" for head in HEADS}
# channel and rating travel with the text: corrected rows become training rows, and the
# model uses both as features.
EXPORT_COLUMNS = ["complaint_id", "priorite", "text", "channel", "rating", *[c for h in HEADS for c in (h, f"{h}_proba")],
                  "review_reasons", *CORRECTED.values(), "commentaire"]


def review_priority(predictions: pd.DataFrame) -> np.ndarray:
    """How much a person's label for each prediction would teach the model: one minus the
    margin between the two most probable labels, averaged over the heads (margin
    sampling). Near 1: the model hesitates between two labels on every head.

    Where an urgency rule set the urgency, the model's urgency probabilities say nothing
    about that label (the rule's floor may be the model's third choice): that head is
    left out of the mean."""
    margins = np.column_stack([
        np.clip((predictions[f"{head}_proba"] - predictions[f"{head}_alt_proba"]).fillna(0.0).to_numpy(float), 0, 1)
        for head in HEADS])
    if "urgency_rule" in predictions.columns:
        ruled = predictions["urgency_rule"].fillna("").astype(str).str.len().to_numpy() > 0
        margins[ruled, HEADS.index("urgency")] = np.nan
    return 1.0 - np.nanmean(margins, axis=1)


def labelled_ids(settings: Settings) -> set[str]:
    """Ids that already have labels in ``data/raw/labels/`` (imported corrections and
    labelled files, every format training reads): a person is never asked to label the
    same complaint twice."""
    from .training import labelled_files

    folder = settings.paths.labels
    ids: set[str] = set()
    for path in labelled_files(folder) if folder.is_dir() else []:
        frame = read_table(path)
        errors = frame["_parse_error"].dropna() if "_parse_error" in frame.columns else ()
        if len(errors):
            raise InputError(f"{path}: unreadable label file ({errors.iloc[0]})")
        if "id" in frame.columns:
            ids.update(frame["id"].dropna().astype(str))
    return ids


def build_review_sheet(settings: Settings, model_version: str, confident_sample: int = 20,
                       seed: int = 0, limit: int | None = None) -> pd.DataFrame:
    """Flagged predictions not labelled yet, the most informative first (``priorite``:
    :func:`review_priority`), at most ``limit`` of them, then a random sample of confident
    ones to catch silent errors. Ordered as a person should work through them: if the
    sheet is only half done, the labels that teach the model most are in."""
    predictions = read_predictions(settings, model_version)
    if predictions.empty:
        return pd.DataFrame(columns=EXPORT_COLUMNS)
    texts = read_complaints(settings, ["complaint_id", "text", "channel", "rating"])
    data = predictions.merge(texts, on="complaint_id", how="inner")
    data = data[data["sector"].notna() & ~data["complaint_id"].astype(str).isin(labelled_ids(settings))]
    data = data.assign(priorite=np.round(review_priority(data), 3))
    flagged = data[data["needs_review"]].sort_values(["priorite", "complaint_id"], ascending=[False, True])
    if limit is not None:
        flagged = flagged.head(max(int(limit), 0))
    confident = data[~data["needs_review"]]
    sample = confident.sample(min(confident_sample, len(confident)), random_state=seed).sort_values("complaint_id")
    sheet = pd.concat([flagged, sample.assign(review_reasons="échantillon_confiant")], ignore_index=True)
    for head in HEADS:
        sheet[CORRECTED[head]] = sheet[head]
    sheet["commentaire"] = ""
    return sheet[EXPORT_COLUMNS].reset_index(drop=True)


def write_review_sheet(sheet: pd.DataFrame, destination: Path) -> Path:
    with atomic_path(destination) as tmp:
        sheet.to_csv(tmp, sep=";", index=False, encoding="utf-8-sig")
    return Path(destination)


def read_corrections(path: Path, taxonomy: Taxonomy, reviewer: str | None = None) -> pd.DataFrame:
    """The corrected sheet as labelled rows; a bad label fails naming the row and label."""
    raw = decode(Path(path).read_bytes(), str(path))
    try:
        sheet = pd.read_csv(io.StringIO(raw), sep=None, engine="python", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: unreadable review sheet ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("complaint_id", "text", *CORRECTED.values()) if c not in sheet.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; export a sheet with the review flow")
    rows = [f"{Path(path).name} line {i + 2} (id={cid})" for i, cid in enumerate(sheet["complaint_id"])]
    labels = pd.DataFrame({"id": sheet["complaint_id"], "text": sheet["text"]})
    for column in ("channel", "rating"):
        if column in sheet.columns:
            labels[column] = sheet[column].replace("", None)
    for head, column in CORRECTED.items():
        labels[head] = sheet[column].str.strip()
        taxonomy.validate_labels(head, labels[head], row_ids=rows)
    labels["changed"] = [any(sheet.at[i, CORRECTED[h]].strip() != sheet.at[i, h] for h in HEADS) for i in sheet.index]
    labels["reviewer"] = reviewer or (sheet["reviewer"] if "reviewer" in sheet.columns else "inconnu")
    labels["reviewed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    labels["comment"] = sheet.get("commentaire", "")
    return labels


def store_corrections(labels: pd.DataFrame, settings: Settings, source_name: str) -> Path:
    """Append-only: one JSONL file per import, never rewritten."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    destination = settings.paths.labels / f"review-{stamp}-{Path(source_name).stem}.jsonl"
    with atomic_path(destination) as tmp:
        labels.to_json(tmp, orient="records", lines=True, force_ascii=False)
    return destination
