"""The promotion gate: macro-F1 per head, and critique recall on its own."""
import pytest

from pipeline.retraining import CRITIQUE_ROW, gate


def metrics(sector=0.8, root=0.6, urgency=0.7, critique_recall=0.9, critique_support=20):
    per_label = {"critique": {"precision": 0.5, "recall": critique_recall, "f1": 0.6, "support": critique_support},
                 "normale": {"precision": 0.8, "recall": 0.8, "f1": 0.8, "support": 200}}
    return {"sector": {"macro_f1": sector}, "root_cause": {"macro_f1": root},
            "urgency": {"macro_f1": urgency, "per_label": per_label}}


def test_a_challenger_better_on_every_head_but_missing_critique_cases_is_refused():
    decision = gate(metrics(), metrics(0.9, 0.7, 0.75, critique_recall=0.8), max_drop=0.02, max_critique_drop=0.05)
    assert not decision.promote
    row = next(r for r in decision.rows if r["head"] == CRITIQUE_ROW)
    assert (row["champion"], row["challenger"], row["delta"], row["ok"]) == (0.9, 0.8, -0.1, False)
    assert all(r["ok"] for r in decision.rows if r["head"] != CRITIQUE_ROW)
    assert "rappel critique" in decision.markdown("v1", "v2") and "trop bas" in decision.markdown("v1", "v2")


@pytest.mark.parametrize("challenger_recall, promoted", [(0.86, True), (0.85, True), (0.84, False), (1.0, True)])
def test_critique_recall_may_drop_by_the_tolerance_and_no_more(challenger_recall, promoted):
    decision = gate(metrics(critique_recall=0.9), metrics(critique_recall=challenger_recall), 0.02, 0.05)
    assert decision.promote is promoted


def test_critique_check_is_skipped_without_a_tolerance_or_without_held_out_cases():
    worse = metrics(critique_recall=0.2)
    assert gate(metrics(), worse, 0.02, None).promote
    assert gate(metrics(), metrics(critique_support=0), 0.02, 0.05).promote
    assert not any(r["head"] == CRITIQUE_ROW for r in gate(metrics(), metrics(critique_support=0), 0.02, 0.05).rows)


def test_first_model_is_promoted_and_records_its_critique_recall():
    decision = gate(None, metrics(critique_recall=0.7), 0.02, 0.05)
    assert decision.promote
    assert next(r for r in decision.rows if r["head"] == CRITIQUE_ROW)["challenger"] == 0.7


def test_macro_f1_drop_still_refuses():
    assert not gate(metrics(), metrics(root=0.55), 0.02, 0.05).promote


def test_comparison_leaves_out_the_rows_a_champion_trained_on(tmp_path):
    import pandas as pd

    from pipeline.retraining import MIN_COMPARISON_ROWS, comparison_rows

    corpus, own = tmp_path / "corpus", tmp_path / "labels.csv"
    n = 4 * MIN_COMPARISON_ROWS
    data = pd.DataFrame({"id": [f"c{i}" for i in range(n)] + [f"o{i}" for i in range(n)],
                         "origin": [str(corpus.resolve())] * n + [str(own.resolve())] * n})
    held = pd.Series([i % 2 == 0 for i in range(2 * n)])
    # The default model was refit on all of its corpus: only the company's own rows count.
    rows, note = comparison_rows(data, held, {"training_data": {"path": str(corpus)}})
    assert rows.sum() == n // 2 and set(data.loc[rows, "origin"]) == {str(own.resolve())}
    assert f"{n // 2} lignes de {corpus}" in note
    # A champion made by the gate never saw the held-out bucket: every held-out row counts.
    rows, _ = comparison_rows(data, held, {"training_data": {"sources": [str(corpus)]}})
    assert rows.equals(held)
    # Too few unseen rows: all held-out rows, and the report says whom that favours.
    few = data["origin"].eq(str(corpus.resolve())) | data.index.isin(range(n, n + 10))
    few_held = held[few].reset_index(drop=True)
    rows, note = comparison_rows(data[few].reset_index(drop=True), few_held, {"training_data": {"path": str(corpus)}})
    assert rows.equals(few_held) and "favorise" in note
