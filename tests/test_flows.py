"""Flows end to end with Prefect's test harness (a temporary local server and database)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_settings
from pipeline.store import read_complaints, read_predictions
from tests.conftest import REPO
from tests.flow_fixtures import write_inbox


@pytest.fixture(scope="module")
def harness():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def make_home(tmp_path: Path, trained_model_dir: Path, corpus: Path | None = None) -> Path:
    home = tmp_path / "home"
    models = home / "models"
    models.mkdir(parents=True)
    (models / trained_model_dir.name).symlink_to(trained_model_dir, target_is_directory=True)
    (models / "CURRENT").write_text(trained_model_dir.name + "\n")
    if corpus is not None:
        (home / "complaints.toml").write_text(f'[paths]\ncorpus = "{corpus.as_posix()}"\n')
    return home


def run_flow_process(module: str, home: Path, api_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen([sys.executable, "-m", module, "--home", str(home), *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ingest_conserves_rows_exactly_and_archives_files(harness, tmp_path, trained_model_dir):
    from flows.ingest import ingest

    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    expected = write_inbox(settings.paths.inbox)
    summary = ingest(home=str(home), names="rules")
    for key, value in expected.items():
        assert summary[key] == value, key
    assert summary["conserved"] and summary["rows_read"] == summary["rows_stored"] + summary["duplicates"] + summary["quarantined"]
    stored = read_complaints(settings)
    assert len(stored) == expected["rows_stored"] and stored["complaint_id"].is_unique
    assert "Claire Fontaine" not in " ".join(stored["text"]) and "06 11 22 33 44" not in " ".join(stored["text"])
    quarantine = pd.concat(pd.read_parquet(p) for p in settings.paths.quarantine.rglob("*.parquet"))
    assert sorted(quarantine["reason"]) == ["empty_text", "invalid_json", "no_content"]
    assert list(settings.paths.inbox.iterdir()) == []
    assert len(list(settings.paths.archive.rglob("*.*"))) == 3
    # The unparseable "hier" is kept as a row with no date, not lost.
    assert stored.loc[stored["complaint_id"] == "F-102", "received_at"].isna().all()
    # Same files dropped again: everything is a duplicate, nothing stored twice.
    write_inbox(settings.paths.inbox)
    again = ingest(home=str(home), names="rules")
    assert again["rows_stored"] == 0 and again["conserved"]
    assert len(read_complaints(settings)) == expected["rows_stored"]


def test_nightly_then_report_end_to_end(harness, tmp_path, trained_model_dir):
    from flows.nightly import nightly
    from flows.report import report

    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    expected = write_inbox(settings.paths.inbox)
    result = nightly(home=str(home))
    assert result["scored"]["scored"] == expected["rows_stored"]
    predictions = read_predictions(settings, "test-v1")
    assert len(predictions) == expected["rows_stored"] and predictions["complaint_id"].is_unique
    assert (predictions["model_version"] == "test-v1").all() and (predictions["taxonomy_version"] == "1").all()
    files = report(home=str(home), date_from="2026-10-27", date_to="2026-11-23")
    html = Path(files["html"]).read_text(encoding="utf-8")
    assert "Claire Fontaine" not in html and "06 11 22 33 44" not in html
    assert Path(files["summary"]).is_file()


def test_score_twice_gives_the_same_rows(harness, tmp_path, trained_model_dir):
    from flows.ingest import ingest
    from flows.score import score

    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    write_inbox(settings.paths.inbox)
    ingest(home=str(home), names="rules")
    first = score(home=str(home), chunk_size=4)
    before = read_predictions(settings, "test-v1").drop(columns="scored_at").sort_values("complaint_id")
    second = score(home=str(home), chunk_size=4)
    after = read_predictions(settings, "test-v1").drop(columns="scored_at").sort_values("complaint_id")
    assert first["scored"] == len(before) and second["scored"] == 0
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))


def _store_many(home: Path, n: int) -> None:
    settings = load_settings(home)
    settings.paths.inbox.mkdir(parents=True, exist_ok=True)
    texts = [f"Réclamation numéro {i} : ma facture de {10 + i} euros est fausse et le service client ne répond pas."
             for i in range(n)]
    pd.DataFrame({"id": [f"K-{i:04d}" for i in range(n)], "text": texts}).to_csv(settings.paths.inbox / "lot.csv", index=False)
    from pipeline.ingest import ingest_inbox

    ingest_inbox(settings, names="rules")


def test_score_killed_midway_then_rerun_is_complete_and_correct(harness, tmp_path, trained_model_dir):
    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    _store_many(home, 120)
    pred_dir = settings.paths.predictions / "test-v1"
    proc = run_flow_process("flows.score", home, harness, "--chunk-size", "5")
    deadline = time.time() + 180
    while time.time() < deadline and not (pred_dir.is_dir() and list(pred_dir.glob("part-*.parquet"))):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = list(pred_dir.glob("part-*.parquet"))
    assert 0 < len(partial) < 24, "the kill should land mid-way"
    for part in partial:  # every visible file is complete and readable
        assert len(pd.read_parquet(part)) == 5
    done = subprocess.run([sys.executable, "-m", "flows.score", "--home", str(home), "--chunk-size", "5"], cwd=REPO,
                          env={**os.environ, "PREFECT_API_URL": harness}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    predictions = read_predictions(settings, "test-v1")
    assert len(predictions) == 120 and predictions["complaint_id"].is_unique
    assert not list(pred_dir.glob(".part-*.tmp"))
    # Same labels as an uninterrupted scoring of the same texts.
    from pipeline.registry import load_model

    texts = read_complaints(settings, ["complaint_id", "text"]).sort_values("complaint_id")
    clean = load_model(trained_model_dir).predict_frame(texts["text"].tolist(), texts["complaint_id"].tolist())
    merged = predictions.merge(clean, left_on="complaint_id", right_on="id", suffixes=("", "_clean"))
    assert (merged["root_cause"] == merged["root_cause_clean"]).all()


def test_two_score_runs_at_once_never_score_twice(harness, tmp_path, trained_model_dir):
    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    _store_many(home, 60)
    procs = [run_flow_process("flows.score", home, harness, "--chunk-size", "7") for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    predictions = read_predictions(settings, "test-v1")
    assert len(predictions) == 60 and predictions["complaint_id"].is_unique


def test_dask_runner_gives_the_same_predictions_as_the_default(harness, tmp_path, trained_model_dir):
    pytest.importorskip("prefect_dask")
    from flows.score import score, task_runner

    home_a = make_home(tmp_path / "a", trained_model_dir)
    home_b = make_home(tmp_path / "b", trained_model_dir)
    for home in (home_a, home_b):
        _store_many(home, 40)
    score(home=str(home_a), chunk_size=10)
    score.with_options(task_runner=task_runner("dask", workers=2))(home=str(home_b), chunk_size=10)
    columns = ["complaint_id", "sector", "root_cause", "urgency", "root_cause_proba", "needs_review", "evidence"]
    a = read_predictions(load_settings(home_a), "test-v1")[columns].sort_values("complaint_id").reset_index(drop=True)
    b = read_predictions(load_settings(home_b), "test-v1")[columns].sort_values("complaint_id").reset_index(drop=True)
    assert len(a) == 40
    pd.testing.assert_frame_equal(a, b)


def test_review_export_import_round_trip(harness, tmp_path, trained_model_dir):
    from flows.nightly import nightly
    from flows.review import review_export, review_import

    home = make_home(tmp_path, trained_model_dir)
    settings = load_settings(home)
    write_inbox(settings.paths.inbox)
    nightly(home=str(home))
    # A budget of 2 flagged predictions (there are 4), plus 3 confident ones as a check.
    exported = review_export(home=str(home), out=str(tmp_path / "a_revoir.csv"), sample=3, limit=2)
    sheet = pd.read_csv(exported["file"], sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(sheet) == exported["rows"] == 5 and exported["flagged"] == 2
    sheet.loc[0, "root_cause_corrige"] = "livraison"
    sheet.to_csv(tmp_path / "corrige.csv", sep=";", index=False, encoding="utf-8-sig")
    result = review_import(path=str(tmp_path / "corrige.csv"), reviewer="a.martin", home=str(home))
    stored = pd.read_json(result["stored"], lines=True, dtype=False)
    assert len(stored) == len(sheet) and (stored["reviewer"] == "a.martin").all()
    assert stored.loc[stored["id"] == sheet.loc[0, "complaint_id"], "root_cause"].item() == "livraison"
    assert result["changed"] >= (sheet.loc[0, "root_cause"] != "livraison")
    # The channel travels with the text into the training rows (the model uses it).
    assert {"formulaire", "email"} <= set(sheet["channel"])
    by_id = stored.set_index("id")["channel"]
    for cid, channel in zip(sheet["complaint_id"], sheet["channel"]):
        assert by_id[cid] == channel if channel else pd.isna(by_id[cid])
    # The next export leaves out every complaint just labelled: the two flagged ones the
    # budget left out come now, after (less informative than) the first two.
    again = review_export(home=str(home), out=str(tmp_path / "encore.csv"), sample=0)
    second = pd.read_csv(again["file"], sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert again["rows"] == again["flagged"] == 2
    assert not set(second["complaint_id"]) & set(sheet["complaint_id"])
    first_priorities = sheet["priorite"].astype(float)[:2]
    assert first_priorities.is_monotonic_decreasing
    assert second["priorite"].astype(float).max() <= first_priorities.min()
    # A label outside the taxonomy is refused, naming the row and the label.
    sheet.loc[1, "urgency_corrige"] = "urgentissime"
    sheet.to_csv(tmp_path / "faux.csv", sep=";", index=False, encoding="utf-8-sig")
    from pipeline.errors import LabelError

    with pytest.raises(LabelError, match="urgentissime.*|line 3"):
        review_import(path=str(tmp_path / "faux.csv"), reviewer="a.martin", home=str(home))


def test_retrain_gate_refuses_worse_and_promotes_better(harness, tmp_path, trained_model_dir, small_corpus_path):
    from flows.retrain import retrain
    from pipeline.registry import current_version, read_card

    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    shutil.copy(small_corpus_path, corpus_dir / "small.jsonl")
    home = make_home(tmp_path, trained_model_dir, corpus=corpus_dir)
    settings = load_settings(home)
    # Worse: the corrections scramble every label of the training rows.
    data = pd.read_json(small_corpus_path, lines=True, dtype=False)
    scrambled = data.copy()
    for head in ("sector", "root_cause", "urgency"):
        scrambled[head] = data[head].sample(frac=1, random_state=3).to_numpy()
    bad_file = tmp_path / "bad_labels.jsonl"
    scrambled.to_json(bad_file, orient="records", lines=True, force_ascii=False)
    refused = retrain(home=str(home), data=[str(bad_file)], max_drop=0.02)
    assert refused["promoted"] is False
    assert current_version(settings.paths.models) == "test-v1"
    card = read_card(Path(refused["model_dir"]))
    assert card["promotion"]["decision"] == "refused" and "refusé" in card["promotion"]["report_markdown"]
    # Better: a generous margin lets an honest challenger through.
    promoted = retrain(home=str(home), max_drop=1.0, max_critique_drop=1.0)
    assert promoted["promoted"] is True
    assert current_version(settings.paths.models) == promoted["challenger"]
