"""Nothing lost, nothing corrupt: arbitrary input, killed runs, full or read-only disks."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pipeline.config import load_settings
from pipeline.errors import StorageError
from pipeline.ingest import ingest_file, ingest_inbox
from pipeline.store import read_complaints
from tests.conftest import REPO

# -- property-based: ingestion ------------------------------------------------------------
texts = st.one_of(
    st.text(max_size=300),  # arbitrary unicode
    st.text(alphabet=st.characters(codec="latin-1"), max_size=200),
    st.just(""), st.just("   \n\t "),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),  # binary junk as text
    st.sampled_from(["Ma facture est fausse, prélèvement de 45 € en trop.", "Colis jamais livré !!!",
                     "Bonjour, aucune réponse depuis 3 semaines, c'est inadmissible."]),
)
rows = st.lists(st.fixed_dictionaries({"id": st.one_of(st.none(), st.text(max_size=12)), "text": texts}),
                max_size=25)


def _home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    (home / "data" / "raw" / "inbox").mkdir(parents=True)
    return home


def _write(path: Path, records: list[dict], fmt: str, encoding: str, damage: str | None) -> int | None:
    """Write records in a format; return the exact row count when the format makes it unambiguous."""
    frame = pd.DataFrame(records, columns=["id", "text"])
    if fmt == "parquet":
        if damage == "wrong_types":
            frame["text"] = range(len(frame))  # numbers where texts are expected
        frame.to_parquet(path)
        return len(frame)
    if fmt == "jsonl":
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        if damage == "broken_lines" and lines:
            lines.insert(len(lines) // 2, '{"id": "x", "text": "unterminated')
        data = "\n".join(lines) + ("\n" if lines else "")
        path.write_bytes(data.encode(encoding, errors="replace"))
        return None  # json.dumps escapes newlines, but a surrogate may be replaced: count via conservation
    if fmt == "csv":
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        data = buffer.getvalue()
        if damage == "quotes":
            data = data.replace(",", ',"', 1)
        elif damage == "extra_column":
            data = data.replace("\n", ",extra\n", 2)
        elif damage == "missing_column":
            data = "id\n" + "\n".join(str(i) for i in range(len(records))) + "\n"
        path.write_bytes(data.encode(encoding, errors="replace"))
        return None
    path.write_bytes("\n".join(r["text"].replace("\n", " ").replace("\r", " ") for r in records).encode(encoding, errors="replace"))
    return None


@pytest.fixture(scope="module")
def ingest_home(tmp_path_factory):
    return _home(tmp_path_factory)


@hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=rows, fmt=st.sampled_from(["csv", "jsonl", "parquet", "txt"]),
       encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]),
       damage=st.sampled_from([None, "quotes", "extra_column", "missing_column", "broken_lines", "wrong_types"]))
def test_ingest_any_file_conserves_rows_or_rejects_it_clearly(ingest_home, records, fmt, encoding, damage):
    settings = load_settings(ingest_home)
    path = settings.paths.inbox / f"f{random.getrandbits(48):x}.{fmt}"
    expected_rows = _write(path, records, fmt, encoding, damage)
    before = len(read_complaints(settings))
    report = ingest_file(path, settings, names="rules")  # must not raise
    if report.rejected:
        assert report.rows_read == 0 and "\n" not in report.rejected and report.rejected.strip()
    else:
        assert report.rows_read == report.rows_stored + report.duplicates + report.quarantined
        if expected_rows is not None:
            assert report.rows_read == expected_rows
    assert len(read_complaints(settings)) == before + report.rows_stored
    assert not path.exists()  # handled files leave the inbox


# -- property-based: complaints predict -----------------------------------------------------
@hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=rows, fmt=st.sampled_from(["csv", "jsonl", "parquet", "txt"]),
       encoding=st.sampled_from(["utf-8", "cp1252"]),
       damage=st.sampled_from([None, "quotes", "extra_column", "missing_column", "broken_lines", "wrong_types"]))
def test_predict_any_file_gives_one_row_per_input_row_or_a_clear_error(tmp_path_factory, trained_model_dir,
    records, fmt, encoding, damage, capsys):
    from pipeline.cli import main
    from pipeline.io import read_table

    folder = tmp_path_factory.mktemp("p")
    src, dst = folder / f"in.{fmt}", folder / "out.jsonl"
    expected_rows = _write(src, records, fmt, encoding, damage)
    code = main(["predict", "-i", str(src), "-o", str(dst), "-q", "--model", str(trained_model_dir)])
    err = capsys.readouterr().err
    if code == 2:
        assert err.startswith("error:") and len(err.strip().splitlines()) == 1
        return
    assert code == 0, err
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    rows_in = expected_rows if expected_rows is not None else len(read_table(src))
    assert len(out) == rows_in


# -- SIGKILL during ingest ----------------------------------------------------------------------
def _inbox_files(inbox: Path, n_files: int = 4, rows: int = 150) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for f in range(n_files):
        pd.DataFrame({
            "id": [f"S{f}-{i:04d}" for i in range(rows)],
            "text": [f"Dossier {f}-{i} : je conteste la facture de {i} euros, M. Jean Martin au 06 12 34 56 {i % 90 + 10}."
                     for i in range(rows)],
        }).to_csv(inbox / f"lot{f}.csv", index=False)


def _ingest_process(home: Path) -> subprocess.Popen:
    code = ("import sys; from pipeline.config import load_settings; from pipeline.ingest import ingest_inbox; "
            "ingest_inbox(load_settings(sys.argv[1]), names='rules')")
    return subprocess.Popen([sys.executable, "-c", code, str(home)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _store_digest(home: Path) -> tuple[int, str]:
    stored = read_complaints(load_settings(home), ["complaint_id", "text"]).sort_values("complaint_id")
    assert stored["complaint_id"].is_unique
    return len(stored), hashlib.sha256("\n".join(stored["complaint_id"] + "\t" + stored["text"]).encode()).hexdigest()


def test_ingest_killed_at_random_points_then_rerun_loses_and_duplicates_nothing(tmp_path):
    reference = tmp_path / "reference"
    _inbox_files(load_settings(reference).paths.inbox)
    started = time.perf_counter()
    assert _ingest_process(reference).wait() == 0
    full_run = time.perf_counter() - started
    expected = _store_digest(reference)
    assert expected[0] == 600

    rng = random.Random(7)
    for attempt in range(4):
        home = tmp_path / f"killed{attempt}"
        _inbox_files(load_settings(home).paths.inbox)
        for _ in range(3):  # several kills in a row before the clean finish
            proc = _ingest_process(home)
            time.sleep(rng.uniform(0.2, full_run))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert _ingest_process(home).wait() == 0
        assert _store_digest(home) == expected
        settings = load_settings(home)
        assert list(settings.paths.inbox.iterdir()) == []
        for part in settings.paths.complaints.rglob("*.parquet"):
            pd.read_parquet(part)  # no corrupt visible file
        assert not [p for p in settings.paths.processed.rglob(".*.tmp")], "debris left visible to readers"


def test_two_ingest_runs_at_once_do_not_double_count(tmp_path):
    home = tmp_path / "home"
    _inbox_files(load_settings(home).paths.inbox, n_files=3, rows=80)
    procs = [_ingest_process(home) for _ in range(2)]
    assert [p.wait() for p in procs] == [0, 0]
    count, _ = _store_digest(home)
    assert count == 240
    runs = [json.loads(p.read_text()) for p in load_settings(home).paths.runs.glob("*.json")]
    assert sum(r["rows_stored"] for r in runs) == 240 and all(r["conserved"] for r in runs)


# -- full disk, read-only folder ------------------------------------------------------------------
@contextlib.contextmanager
def mounted_tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.parametrize("options", ["size=12k", "ro"], ids=["full_disk", "read_only"])
def test_unwritable_store_gives_a_clear_error_and_leaves_inputs_untouched(tmp_path, options):
    home = tmp_path / "home"
    settings = load_settings(home)
    _inbox_files(settings.paths.inbox, n_files=1, rows=3000)
    source = settings.paths.inbox / "lot0.csv"
    before = source.read_bytes()
    with mounted_tmpfs(settings.paths.processed, options):
        with pytest.raises(StorageError) as info:
            ingest_inbox(settings, names="rules")
        message = str(info.value)
        assert "\n" not in message and ("No space left" in message or "Read-only" in message), message
        assert source.read_bytes() == before  # the input is still in the inbox, unchanged
        if options != "ro":
            assert not [p for p in settings.paths.processed.rglob("*") if p.is_file() and p.suffix == ".parquet"]


def test_cli_output_to_a_read_only_folder_is_a_one_line_error(tmp_path, trained_model_dir):
    from tests.conftest import run_cli

    src = tmp_path / "in.txt"
    src.write_text("Ma facture est fausse\n", encoding="utf-8")
    with mounted_tmpfs(tmp_path / "ro", "ro") as folder:
        result = run_cli(["predict", "-i", str(src), "-o", str(folder / "out.csv"), "--model", str(trained_model_dir)])
    err = result.stderr.decode().strip()
    assert result.returncode == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "Read-only" in err


# -- raw-text retention ---------------------------------------------------------------------------
def test_raw_text_is_kept_only_when_chosen_and_purged_after_retention(tmp_path):
    from datetime import datetime, timedelta, timezone

    from pipeline.ingest import purge_raw_texts

    home = tmp_path / "home"
    home.mkdir()
    secret = "M. Jean Martin, 06 12 34 56 78 : ma facture de novembre est fausse."
    for keep in ("false", "true"):
        (home / "complaints.toml").write_text(f"[privacy]\nkeep_raw_text = {keep}\nraw_text_retention_days = 30\n")
        settings = load_settings(home)
        settings.paths.inbox.mkdir(parents=True, exist_ok=True)
        (settings.paths.inbox / f"{keep}.txt").write_text(secret + f" ({keep})\n", encoding="utf-8")
        ingest_inbox(settings, names="rules")
        raw_files = list(settings.paths.raw_texts.rglob("*.parquet"))
        assert bool(raw_files) == (keep == "true")
    stored = read_complaints(settings, ["text"])["text"]
    assert not stored.str.contains("06 12 34 56 78").any()  # the store itself is always masked
    raw = pd.concat(pd.read_parquet(p) for p in raw_files)
    assert raw["text_raw"].str.contains("06 12 34 56 78").all()
    now = datetime.now(timezone.utc)
    assert purge_raw_texts(settings, today=now + timedelta(days=29)) == 0
    assert purge_raw_texts(settings, today=now + timedelta(days=31)) == 1
    assert not list(settings.paths.raw_texts.rglob("*.parquet"))
