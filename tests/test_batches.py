"""Files read a batch at a time give exactly the rows of a whole-file read."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pipeline.batches import TableReader
from pipeline.errors import InputError
from pipeline.io import read_table

texts = st.one_of(
    st.text(max_size=80),                                       # any unicode, line breaks included
    st.text(alphabet=st.characters(codec="latin-1"), max_size=60),
    st.sampled_from(["", "  ", "Facture fausse; prélèvement de 45 € en trop", 'Il a dit "jamais", puis rien',
                     "ligne\r\ncoupée", "séparateur\u2028unicode", "tabulation\tici", "NA",
                     "Alors, voilà, encore, une, panne, de, box, depuis, lundi, et, rien"]),
)
records = st.lists(st.fixed_dictionaries({"id": st.one_of(st.none(), st.text(max_size=6)), "text": texts}),
                   max_size=30)


def _write(path, rows: list[dict], fmt: str, encoding: str) -> None:
    if fmt == "txt":
        data = "\n".join(r["text"] for r in rows)
    elif fmt == "jsonl":
        lines = [json.dumps(r, ensure_ascii=False) for r in rows]
        lines[len(lines) // 2:len(lines) // 2] = ["", '{"id": "cassé", "text": "sans fin'] if lines else []
        data = "\n".join(lines)
    else:
        buffer = io.StringIO()
        pd.DataFrame(rows, columns=["id", "text"]).to_csv(buffer, index=False, sep=";")
        data = buffer.getvalue()
    path.write_bytes(data.encode(encoding, errors="replace"))


def _same(streamed: pd.DataFrame, whole: pd.DataFrame) -> None:
    """Equal cell for cell, a missing value being a missing value (None or NaN)."""
    assert list(streamed.columns) == list(whole.columns)
    assert len(streamed) == len(whole)
    for column in whole.columns:
        left = [None if pd.isna(v) else v for v in streamed[column]]
        right = [None if pd.isna(v) else v for v in whole[column]]
        assert left == right, column


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records, fmt=st.sampled_from(["txt", "jsonl", "csv"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]), batch=st.integers(1, 7))
def test_batches_give_the_rows_of_a_whole_file_read(tmp_path, rows, fmt, encoding, batch):
    path = tmp_path / f"in.{fmt}"
    _write(path, rows, fmt, encoding)
    try:
        whole = read_table(path)
    except InputError as exc:
        with pytest.raises(InputError, match=str(exc).split(" (")[0]):
            TableReader(path, batch_size=batch).scan()
        return
    reader = TableReader(path, batch_size=batch)
    parts = list(reader.batches())
    assert all(1 <= len(p) <= batch for p in parts) or (len(parts) == 1 and len(parts[0]) == 0)
    streamed = pd.concat(parts, ignore_index=True) if parts else whole.iloc[0:0]
    if fmt == "jsonl":
        # A whole-file read makes one table of every key; a part has its own keys.
        streamed = streamed.reindex(columns=whole.columns)
    _same(streamed, whole)
    scan = reader.scan()
    assert scan.rows == len(whole) and scan.columns == list(whole.columns)


def test_the_encoding_is_decided_over_the_whole_file(tmp_path):
    # UTF-8 for the first megabytes, one cp1252 byte at the very end: cp1252 for all,
    # as a whole-file read decides.
    path = tmp_path / "long.txt"
    path.write_bytes(("Réclamation conforme\n" * 120_000).encode("utf-8") + "Dernière ligne à 10 €\n".encode("cp1252"))
    reader = TableReader(path, batch_size=50_000)
    assert reader.encoding() == "cp1252"
    last = list(reader.batches())[-1]["text"].iloc[-1]
    assert last == read_table(path)["text"].iloc[-1] == "Dernière ligne à 10 €"


def test_a_malformed_csv_is_refused_by_the_first_pass(tmp_path):
    path = tmp_path / "casse.csv"
    good = "".join(f'r{i},"réclamation {i}"\n' for i in range(5000))
    path.write_text("id,text\n" + good + 'r-x,"trop",de,champs\n', encoding="utf-8")
    with pytest.raises(InputError, match="malformed CSV"):
        TableReader(path, batch_size=100).scan()


def test_binary_and_missing_files_are_one_line_errors(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="binary file"):
        TableReader(tmp_path / "bin.csv").scan()
    with pytest.raises(InputError, match="no such file"):
        TableReader(tmp_path / "absent.jsonl").scan()
    with pytest.raises(InputError, match="is a folder"):
        TableReader(tmp_path, fmt="csv").scan()


def test_jsonl_keys_seen_only_late_are_columns_of_the_file(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"réclamation {i}"}) for i in range(6)] + [json.dumps({"id": "z", "text": "fin", "canal": "email"})]
    path.write_text("\n".join(lines), encoding="utf-8")
    scan = TableReader(path, batch_size=3).scan()
    assert scan.rows == 7 and scan.columns == ["text", "id", "canal"]
    assert scan.ids == [None] * 6 + ["z"]


def test_batches_hold_at_most_batch_size_rows(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": [f"réclamation {i}" for i in range(10)]}).to_csv(path, index=False)
    assert [len(b) for b in TableReader(path, batch_size=4).batches()] == [4, 4, 2]


def test_a_french_export_full_of_commas_keeps_its_semicolons(tmp_path):
    """Found by the 1,000,000-row CSV benchmark: csv.Sniffer counted the commas of the
    texts and chose ",", so a ";" export of real complaints was refused as malformed."""
    # Quoted words and line breaks inside texts, as real complaints have them.
    texts = ['Le conseiller m\'a dit "pas de souci", puis plus rien, aucun rappel.',
             'Bonjour,\nma box est coupée, "en maintenance", depuis lundi.',
             "Facture, encore fausse, 3 fois, et personne, jamais, ne répond."] * 200
    path = tmp_path / "export.csv"
    pd.DataFrame({"id": range(len(texts)), "texte": texts, "canal": "email"}).to_csv(path, sep=";", index=False)
    frame = read_table(path)
    assert list(frame.columns) == ["id", "texte", "canal"] and len(frame) == 600
    assert frame["texte"].tolist() == texts
    parts = list(TableReader(path, batch_size=250).batches())
    assert [len(p) for p in parts] == [250, 250, 100] and list(parts[0].columns) == ["id", "texte", "canal"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_found_from_the_header_and_rows(tmp_path, delimiter):
    path = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1", "2"], "text": ["a, b; c | d", "e; f, g"], "note": ["4", "5"]}).to_csv(
        path, sep=delimiter, index=False)
    frame = read_table(path)
    assert list(frame.columns) == ["id", "text", "note"] and frame["text"].tolist() == ["a, b; c | d", "e; f, g"]


def test_a_one_column_file_keeps_every_text_whole(tmp_path):
    path = tmp_path / "textes.csv"
    path.write_text('texte\nBonjour, ma box, encore en panne; rien\n"Il a dit ""non"", puis rien"\nsimple\n',
                    encoding="utf-8")
    expected = ["Bonjour, ma box, encore en panne; rien", 'Il a dit "non", puis rien', "simple"]
    assert read_table(path)["texte"].tolist() == expected


def test_a_tie_between_delimiters_goes_to_the_sniffer(tmp_path):
    """A tab file whose header holds a "; ": both give two columns (a second reader's
    counterexample: ";" won by its place in the list, and the columns were wrong)."""
    path = tmp_path / "in.tsv"
    path.write_text("texte\tcanal; source\nBox en panne; aucun retour\temail\nFacture fausse\tcourrier\n",
                    encoding="utf-8")
    assert list(read_table(path, "csv").columns) == ["texte", "canal; source"]


def test_short_rows_and_blank_lines_do_not_hide_the_delimiter(tmp_path):
    """Rows with fewer fields than the header are valid (pandas fills them)."""
    path = tmp_path / "in.csv"
    path.write_text("id;texte;canal\n1;Bonjour, ma box, en panne, rien;email\n   \n2;Facture, fausse, encore\n",
                    encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["id", "texte", "canal"]
    assert frame["texte"].tolist() == ["Bonjour, ma box, en panne, rien", "Facture, fausse, encore"]


def test_jsonl_ids_keep_their_written_form_in_every_part(tmp_path):
    """pandas guessed each part's id type from its rows: 1 became "1.0" in a part where
    a row had no id, and "1" elsewhere, so the same id counted as two."""
    path = tmp_path / "in.jsonl"
    rows = [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}, {"text": "c"}, {"id": 1, "text": "d"}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert read_table(path)["id"].tolist() == ["1", "2", None, "1"]
    parts = list(TableReader(path, batch_size=2).batches())
    assert [p["id"].tolist() for p in parts] == [["1", "2"], [None, "1"]]
    assert TableReader(path, batch_size=2).scan().ids == ["1", "2", None, "1"]
