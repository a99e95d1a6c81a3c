"""The review sheet: most informative first, a budget, never the same complaint twice."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_settings
from pipeline.errors import InputError
from pipeline.review import build_review_sheet, read_corrections, review_priority, write_review_sheet
from pipeline.schema import complaint_arrow_schema
from pipeline.store import write_predictions
from pipeline.taxonomy import HEADS, load_taxonomy

VERSION = "v-test"


def prediction(cid: str, margin: float, flagged: bool) -> dict:
    """A stored prediction whose two best labels are ``margin`` apart on every head."""
    row = {"id": cid, "sector": "telecom", "root_cause": "facturation_prix", "urgency": "normale",
           "sector_alt": "energie_eau", "root_cause_alt": "panne_service", "urgency_alt": "haute",
           "needs_review": flagged, "review_reasons": "root_cause:close_call" if flagged else ""}
    for head in HEADS:
        row[f"{head}_proba"] = 0.5 + margin / 2
        row[f"{head}_alt_proba"] = 0.5 - margin / 2
    return row


@pytest.fixture
def home(tmp_path):
    """A store with 8 complaints: C1-C5 flagged (C3 the most hesitant), C6-C8 confident."""
    settings = load_settings(tmp_path)
    margins = {"C1": 0.30, "C2": 0.20, "C3": 0.02, "C4": 0.25, "C5": 0.10, "C6": 0.8, "C7": 0.9, "C8": 0.7}
    ids = list(margins)
    schema = complaint_arrow_schema()
    columns = {name: [None] * len(ids) for name in schema.names}
    columns.update(complaint_id=ids, text=[f"Réclamation {i} : ma facture est fausse." for i in ids],
                   channel=["email"] * len(ids), rating=[None] * len(ids))
    part = settings.paths.complaints / "ingest_date=2026-11-20" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(pa.table(columns, schema=schema), part)
    write_predictions(settings, VERSION, pd.DataFrame([prediction(i, m, i <= "C5") for i, m in margins.items()]))
    return tmp_path


def test_priority_ranks_hesitation_above_confidence():
    frame = pd.DataFrame([prediction("a", 0.05, True), prediction("b", 0.6, False), prediction("c", 0.3, True)])
    priority = review_priority(frame)
    assert list(np.argsort(-priority)) == [0, 2, 1]
    assert priority[0] == pytest.approx(0.95) and ((priority >= 0) & (priority <= 1)).all()
    # A head the model is sure of lowers the priority of a row hesitant on the others.
    sure_sector = frame.iloc[[0]].copy()
    sure_sector[["sector_proba", "sector_alt_proba"]] = [0.99, 0.01]
    assert review_priority(sure_sector)[0] < priority[0]


def test_a_head_decided_by_an_urgency_rule_does_not_count_as_hesitation():
    """A rule raised urgency to its floor: the stored urgency probability is the floor's,
    often below the model's own choice (found by a second reader: priority 0.94 for a
    prediction hesitant on nothing but a ruled urgency)."""
    ruled = prediction("r", 0.6, True)
    ruled.update(urgency_proba=0.02, urgency_alt_proba=0.11, urgency_rule="no_resources")
    plain = prediction("p", 0.6, True)
    priority = review_priority(pd.DataFrame([ruled, plain]))
    assert priority[0] == pytest.approx(0.4) and priority[1] == pytest.approx(0.4)
    # Without the rule the same negative margin counts as no margin (not as more than none).
    ruled["urgency_rule"] = ""
    assert review_priority(pd.DataFrame([ruled]))[0] == pytest.approx(1 - (0.6 + 0.6 + 0.0) / 3)


def test_sheet_is_ordered_by_priority_and_capped_by_the_budget(home):
    settings = load_settings(home)
    sheet = build_review_sheet(settings, VERSION, confident_sample=2)
    flagged = sheet[sheet["review_reasons"] != "échantillon_confiant"]
    assert flagged["complaint_id"].tolist() == ["C3", "C5", "C2", "C4", "C1"]
    assert flagged["priorite"].is_monotonic_decreasing
    assert len(sheet) == 7 and set(sheet["complaint_id"][5:]) <= {"C6", "C7", "C8"}

    capped = build_review_sheet(settings, VERSION, confident_sample=2, limit=2)
    assert capped["complaint_id"].tolist()[:2] == ["C3", "C5"]
    assert (capped["review_reasons"][2:] == "échantillon_confiant").all() and len(capped) == 4


def test_labelled_complaints_are_not_exported_again(home, tmp_path):
    settings = load_settings(home)
    sheet = build_review_sheet(settings, VERSION, confident_sample=3)
    write_review_sheet(sheet.iloc[:2], tmp_path / "fait.csv")
    labels = read_corrections(tmp_path / "fait.csv", load_taxonomy(), reviewer="a.martin")
    settings.paths.labels.mkdir(parents=True)
    labels.to_json(settings.paths.labels / "review-1.jsonl", orient="records", lines=True, force_ascii=False)
    # Labelled files of the company's own, in any format training reads, count too.
    (settings.paths.labels / "maison.jsonl").write_text(
        json.dumps({"id": "C7", "text": "x", "sector": "energie_eau", "root_cause": "autre", "urgency": "basse"}) + "\n",
        encoding="utf-8")
    pd.DataFrame({"id": ["C4"], "text": ["y"], "sector": ["telecom"], "root_cause": ["autre"],
                  "urgency": ["basse"]}).to_csv(settings.paths.labels / "export.csv", sep=";", index=False)

    again = build_review_sheet(settings, VERSION, confident_sample=3)
    assert set(again["complaint_id"]) == {"C2", "C1", "C6", "C8"}
    assert again["complaint_id"].tolist()[:2] == ["C2", "C1"]


def test_an_unreadable_label_file_is_a_clear_error(home):
    settings = load_settings(home)
    settings.paths.labels.mkdir(parents=True)
    (settings.paths.labels / "casse.jsonl").write_text("{pas du json\n", encoding="utf-8")
    with pytest.raises(InputError, match="casse.jsonl: unreadable label file"):
        build_review_sheet(settings, VERSION)
