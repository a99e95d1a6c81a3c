"""The `complaints` command through a subprocess: outputs, and every bad input."""
import json
import os

import pandas as pd
import pytest

from pipeline.schema import PREDICTION_COLUMNS
from tests.conftest import run_cli, write_jsonl

TEXTS = [
    "Ma box est en panne depuis 3 semaines, aucune connexion internet",
    "Prélevé deux fois ce mois-ci, je veux le remboursement de la facture",
    "Colis jamais reçu alors que le suivi dit livré",
]


def _ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8")


def _user_error(result):
    """Exit 2, one line on stderr, no traceback."""
    err = result.stderr.decode("utf-8").strip()
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    return err


def test_predict_one_text_readable_and_json(trained_model_dir):
    readable = _ok(run_cli(["predict", TEXTS[0], "--model", str(trained_model_dir)]))
    assert "Cause" in readable and "responsable" in readable and "Modèle" in readable
    record = json.loads(_ok(run_cli(["predict", TEXTS[0], "--json", "--model", str(trained_model_dir)])))
    assert set(PREDICTION_COLUMNS) <= set(record)
    assert record["model_version"] == "test-v1" and 0 <= record["root_cause_proba"] <= 1


def test_default_model_is_the_current_version(trained_model_dir):
    home = trained_model_dir.parent.parent  # the fixture trained into <home>/models and made it current
    record = json.loads(_ok(run_cli(["predict", TEXTS[0], "--json"], home=home)))
    assert record["model_version"] == "test-v1"


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_file_in_file_out_keeps_ids_and_row_count(tmp_path, trained_model_dir, suffix):
    frame = pd.DataFrame({"id": ["r1", "r2", "r3"], "text": TEXTS})
    src = tmp_path / f"in.{suffix}"
    {"csv": lambda: frame.to_csv(src, index=False),
     "jsonl": lambda: frame.to_json(src, orient="records", lines=True, force_ascii=False),
     "parquet": lambda: frame.to_parquet(src)}[suffix]()
    dst = tmp_path / f"out.{suffix}"
    _ok(run_cli(["predict", "--input", str(src), "--output", str(dst), "--model", str(trained_model_dir)]))
    out = {"csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True), "parquet": pd.read_parquet}[suffix](dst)
    assert list(out["id"]) == ["r1", "r2", "r3"]
    assert list(out.columns[: len(PREDICTION_COLUMNS)]) == list(PREDICTION_COLUMNS)


def test_stdin_text_lines_to_stdout_jsonl_with_generated_ids(trained_model_dir):
    stdin = ("\n".join(TEXTS) + "\n").encode("utf-8")
    out = _ok(run_cli(["predict", "--input", "-", "--output", "-", "--model", str(trained_model_dir)], stdin=stdin))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]


def test_cp1252_csv_is_decoded(tmp_path, trained_model_dir):
    src = tmp_path / "export.csv"
    src.write_bytes("id;texte\nx1;Facture erronée, prélèvement à 89 € injustifié\n".encode("cp1252"))
    dst = tmp_path / "out.jsonl"
    _ok(run_cli(["predict", "-i", str(src), "-o", str(dst), "--model", str(trained_model_dir)]))
    row = json.loads(dst.read_text(encoding="utf-8"))
    assert row["id"] == "x1" and row["root_cause"] is not None and not row["flags"]


def test_empty_texts_duplicates_and_broken_json_are_flagged_rows(tmp_path, trained_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": TEXTS[0]}) + "\n"
        + json.dumps({"id": "b", "text": "   "}) + "\n"
        + "{not json\n"
        + json.dumps({"id": "a", "text": TEXTS[1]}) + "\n",
        encoding="utf-8",
    )
    dst = tmp_path / "out.csv"
    _ok(run_cli(["predict", "-i", str(src), "-o", str(dst), "--model", str(trained_model_dir)]))
    out = pd.read_csv(dst, keep_default_na=False)
    assert len(out) == 4  # rows out = rows in
    assert out["flags"].tolist()[1] == "empty_text"
    assert "parse_error" in out["flags"].tolist()[2]
    assert "duplicate_id" in out["flags"].tolist()[0] and "duplicate_id" in out["flags"].tolist()[3]
    assert out["needs_review"].tolist()[1:3] == [True, True]


def test_huge_text_is_truncated_not_refused(tmp_path, trained_model_dir):
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"id": "big", "text": "Ma facture est fausse. " * 230_000}) + "\n", encoding="utf-8")
    assert src.stat().st_size > 5_000_000
    dst = tmp_path / "out.jsonl"
    _ok(run_cli(["predict", "-i", str(src), "-o", str(dst), "--model", str(trained_model_dir)]))
    row = json.loads(dst.read_text())
    assert "truncated" in row["flags"] and row["root_cause"] == "facturation_prix"


def test_non_french_text_is_flagged(trained_model_dir):
    record = json.loads(_ok(run_cli(["predict", "The parcel never arrived and nobody answers my emails",
                                     "--json", "--model", str(trained_model_dir)])))
    assert "not_french" in record["flags"] and record["needs_review"]


def test_missing_text_column(tmp_path, trained_model_dir):
    src = tmp_path / "in.csv"
    src.write_text("id,comment_body\n1,bonjour\n", encoding="utf-8")
    err = _user_error(run_cli(["predict", "-i", str(src), "--model", str(trained_model_dir)]))
    assert "no text column" in err and "comment_body" in err


def test_binary_junk_file(tmp_path, trained_model_dir):
    src = tmp_path / "junk.csv"
    src.write_bytes(os.urandom(4096) + b"\x00" * 100)
    _user_error(run_cli(["predict", "-i", str(src), "--model", str(trained_model_dir)]))


def test_corrupt_parquet(tmp_path, trained_model_dir):
    src = tmp_path / "bad.parquet"
    src.write_bytes(b"PAR1 this is not parquet")
    assert "Parquet" in _user_error(run_cli(["predict", "-i", str(src), "--model", str(trained_model_dir)]))


@pytest.mark.parametrize("target", ["missing.csv", "."])
def test_unreadable_input(tmp_path, trained_model_dir, target):
    _user_error(run_cli(["predict", "-i", str(tmp_path / target), "--model", str(trained_model_dir)]))


def test_missing_model(tmp_path):
    err = _user_error(run_cli(["predict", "bonjour"], home=tmp_path))
    assert "complaints train" in err


def test_empty_text_argument_gives_a_flagged_result(trained_model_dir):
    record = json.loads(_ok(run_cli(["predict", "  ", "--json", "--model", str(trained_model_dir)])))
    assert record["flags"] == "empty_text" and record["needs_review"] and record["sector"] is None


def test_evaluate_prints_metrics_and_confusion(trained_model_dir, small_corpus_path):
    out = _ok(run_cli(["evaluate", "--data", str(small_corpus_path), "--model", str(trained_model_dir)]))
    assert "root_cause: macro-F1" in out and "confusion" in out and "critique" in out


def test_predict_does_not_import_prefect(trained_model_dir):
    import subprocess
    import sys

    code = ("import sys; from pipeline.cli import main; "
            f"main(['predict', 'Ma box est en panne', '--model', {str(trained_model_dir)!r}]); "
            "assert not [m for m in sys.modules if m.startswith('prefect')], 'prefect imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_mask_reads_lines_and_writes_them_masked_in_order(tmp_path):
    lines = [
        "Bonjour, je suis Mme Sandrine Leclerc, joignable au 06 12 34 56 78.",
        "",
        "Écrivez à karim.benali@exemple.fr pour le contrat n° AUT-558741.",
        "Facture de 89 € le 12/03/2026, rien de personnel ici.",
    ]
    out = _ok(run_cli(["mask"], stdin=("\n".join(lines) + "\n").encode("utf-8"))).split("\n")
    assert len(out) == len(lines) + 1 and out[-1] == ""
    masked = out[:-1]
    assert "Sandrine Leclerc" not in masked[0] and "<TEL>" in masked[0] and "<NOM>" in masked[0]
    assert masked[1] == ""
    assert "<EMAIL>" in masked[2] and "558741" not in masked[2]
    assert masked[3] == lines[3]
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_bytes("\n".join(lines).encode("cp1252"))
    _ok(run_cli(["mask", "--input", str(src), "--output", str(dst)]))
    assert dst.read_text(encoding="utf-8").split("\n")[:-1] == masked


def test_report_command_writes_html_csv_and_markdown(tmp_path, trained_model_dir):
    """`complaints report` over a small store built with the library (no Prefect)."""
    from pipeline.config import load_settings
    from pipeline.ingest import ingest_inbox
    from tests.flow_fixtures import write_inbox

    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "test-v1").symlink_to(trained_model_dir, target_is_directory=True)
    (home / "models" / "CURRENT").write_text("test-v1\n")
    settings = load_settings(home)
    write_inbox(settings.paths.inbox)
    ingest_inbox(settings, names="rules")
    from pipeline.scoring import score_chunk
    from pipeline.store import pending

    todo = pending(settings, "test-v1")
    score_chunk(home, trained_model_dir, todo["complaint_id"].tolist(), todo["text"].tolist())
    out = _ok(run_cli(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(tmp_path / "r")], home=home))
    assert "html:" in out
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "Claire Fontaine" not in html
    assert (tmp_path / "r" / "summary.md").is_file() and (tmp_path / "r" / "pareto.csv").is_file()
    _user_error(run_cli(["report", "--from", "2026-13-01", "--to", "2026-11-30"], home=home))


def test_error_quoting_a_multiline_column_name_stays_on_one_line(tmp_path, trained_model_dir):
    # Found by hypothesis: a malformed CSV whose header holds line breaks.
    src = tmp_path / "in.csv"
    src.write_text('id,"com\nment"\n1,bonjour\n', encoding="utf-8")
    err = _user_error(run_cli(["predict", "-i", str(src), "--model", str(trained_model_dir)]))
    assert "no text column" in err


def test_jsonl_output_keeps_one_record_per_line_with_unicode_line_breaks(tmp_path, trained_model_dir):
    # Found by hypothesis: U+0085 in an id split a JSONL record for splitlines() readers.
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a\x85b", "text": "Ma facture\u2028est fausse"}) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    _ok(run_cli(["predict", "-i", str(src), "-o", str(dst), "--model", str(trained_model_dir)]))
    lines = dst.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == "a\x85b"


def test_every_format_is_streamed_in_chunks_with_the_result_of_one_chunk(tmp_path, trained_model_dir):
    """Chunks of 3 rows, from Parquet, JSONL and CSV: ids generated from the file's row
    numbers, an id repeated in another chunk still flagged, and the same predictions as
    the whole file scored as one chunk."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "complaints.toml").write_text("[scoring]\nchunk_size = 3\n", encoding="utf-8")
    texts = ["Ma box ne marche plus depuis lundi", "Facture en double ce mois-ci", "Colis jamais reçu",
             "Conseiller très désagréable au téléphone", "", "Remboursement refusé sans explication",
             "Merci pour votre aide rapide", "Résiliation impossible malgré trois courriers"]
    frame = pd.DataFrame({"id": ["a", "b", None, "d", "e", "a", None, "h"], "texte": texts,
                          "channel": ["tweet", "email", None, "avis", None, "email", "avis", None],
                          "note": [None, None, None, 1, None, None, 5, None]})
    frame.to_parquet(tmp_path / "in.parquet")
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True, force_ascii=False)
    frame.assign(note=frame["note"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}/5")).to_csv(
        tmp_path / "in.csv", sep=";", index=False)
    model = ["--model", str(trained_model_dir)]
    one_chunk = tmp_path / "one_chunk.parquet"
    _ok(run_cli(["predict", "--input", str(tmp_path / "in.jsonl"), "--output", str(one_chunk), *model]))
    expected = pd.read_parquet(one_chunk)
    assert expected["id"].tolist() == ["a", "b", "row-3", "d", "e", "a", "row-7", "h"]
    assert [("duplicate_id" in f) for f in expected["flags"]] == [True, False, False, False, False, True, False, False]
    assert "empty_text" in expected.at[4, "flags"]
    for source in ("in.parquet", "in.jsonl", "in.csv"):
        out = tmp_path / f"streamed_{source}.parquet"
        result = run_cli(["predict", "--input", str(tmp_path / source), "--output", str(out), *model], home=home)
        assert result.returncode == 0, result.stderr
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected)


def test_integer_ids_with_gaps_are_the_same_ids_in_every_chunk(tmp_path, trained_model_dir):
    """Found by a second reader: an integer id column with a missing value reaches pandas
    as floats in some chunks only (JSONL) or in every chunk but not in the first pass
    (Parquet), so an id repeated across chunks was not flagged."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "complaints.toml").write_text("[scoring]\nchunk_size = 2\n", encoding="utf-8")
    rows = [{"id": 1, "text": "Box en panne"}, {"id": 2, "text": "Facture fausse"},
            {"id": None, "text": "Colis perdu"}, {"id": 1, "text": "Toujours en panne"}]
    write_jsonl(tmp_path / "in.jsonl", [{k: v for k, v in r.items() if v is not None} for r in rows])
    pd.DataFrame(rows).astype({"id": "Int64"}).to_parquet(tmp_path / "in.parquet")
    for source in ("in.jsonl", "in.parquet"):
        out = tmp_path / f"{source}.out.parquet"
        _ok(run_cli(["predict", "-i", str(tmp_path / source), "-o", str(out), "--model", str(trained_model_dir)],
                    home=home))
        scored = pd.read_parquet(out)
        assert scored["id"].tolist() == ["1", "2", "row-3", "1"], source
        assert [("duplicate_id" in f) for f in scored["flags"]] == [True, False, False, True], source


def test_parquet_on_stdin_that_is_not_parquet_is_a_one_line_error(trained_model_dir):
    result = run_cli(["predict", "-i", "-", "--format", "parquet", "-o", "-", "--model", str(trained_model_dir)],
                     stdin=b"pas du parquet")
    assert result.returncode == 2 and b"not a readable Parquet file" in result.stderr
    assert len(result.stderr.decode().strip().splitlines()) == 1


def test_a_missing_text_column_is_refused_even_without_rows(tmp_path, trained_model_dir):
    (tmp_path / "entete.csv").write_text("id;text\n", encoding="utf-8")
    (tmp_path / "vide.csv").write_text("", encoding="utf-8")
    for name in ("entete.csv", "vide.csv"):
        result = run_cli(["predict", "-i", str(tmp_path / name), "-o", str(tmp_path / "out.csv"),
                          "--text-column", "texte", "--model", str(trained_model_dir)])
        assert result.returncode == 2 and b"no column 'texte'" in result.stderr, name
        assert not (tmp_path / "out.csv").exists()
    # Without --text-column, a header alone is an empty result with every column.
    _ok(run_cli(["predict", "-i", str(tmp_path / "entete.csv"), "-o", str(tmp_path / "out.csv"),
                 "--model", str(trained_model_dir)]))
    assert len(pd.read_csv(tmp_path / "out.csv")) == 0


def test_a_malformed_csv_writes_nothing(tmp_path, trained_model_dir):
    """The first pass reads the whole file: a bad row far down is refused before any
    output exists, and a previous output stays as it was."""
    src = tmp_path / "in.csv"
    src.write_text("id,text\n" + "".join(f'r{i},"Facture fausse n°{i}"\n' for i in range(40)) + 'x,"a",b,c\n',
                   encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    (home / "complaints.toml").write_text("[scoring]\nchunk_size = 5\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    dst.write_text("previous results\n", encoding="utf-8")
    result = run_cli(["predict", "-i", str(src), "-o", str(dst), "--model", str(trained_model_dir)], home=home)
    assert result.returncode == 2 and b"malformed CSV" in result.stderr
    assert len(result.stderr.decode().strip().splitlines()) == 1
    assert dst.read_text(encoding="utf-8") == "previous results\n"


def test_empty_parquet_input_gives_an_empty_readable_output(tmp_path, trained_model_dir):
    pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}).to_parquet(tmp_path / "none.parquet")
    result = run_cli(["predict", "--input", str(tmp_path / "none.parquet"), "--output", str(tmp_path / "out.parquet"),
                      "--model", str(trained_model_dir)])
    assert result.returncode == 0, result.stderr
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert len(out) == 0 and set(PREDICTION_COLUMNS) <= set(out.columns)


def test_parquet_batches_never_hold_more_than_a_chunk(tmp_path):
    from pipeline.io import parquet_batches

    pd.DataFrame({"text": [f"réclamation {i}" for i in range(10)]}).to_parquet(tmp_path / "t.parquet")
    total, batches = parquet_batches(tmp_path / "t.parquet", 4)
    assert total == 10 and [len(b) for b in batches] == [4, 4, 2]
