"""The root-cause report: numbers checked on hand-built frames with known answers."""
from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import poisson

ROOT = Path(__file__).resolve().parents[1]

from pipeline.report import (build_report, load_backlog, load_quality, load_scored, make_report,  # noqa: E402
                             render_html, render_summary, write_report)
from pipeline.report import build as B  # noqa: E402
from pipeline.report import stats  # noqa: E402
from pipeline.report.excerpts import EXCERPT_CHARS, excerpt, mask  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

TAX = load_taxonomy()
SETTINGS = {"weeks_of_trend": 8, "spike_min_count": 5, "spike_z": 3.0,
            "urgency_weights": {"critique": 10.0, "haute": 4.0, "normale": 1.0, "basse": 0.25}}
WEEK = (date(2024, 3, 4), date(2024, 3, 10))  # Monday -> Sunday
PREV_DAY = "2024-02-28"  # in the previous week (26/02 -> 03/03)
FIXTURES = Path(__file__).parent / "fixtures" / "report"

_ids = iter(range(1, 10_000_000))


def paris(ts: str) -> pd.Timestamp:
    return pd.Timestamp(ts, tz="Europe/Paris").tz_convert("UTC")


def row(cause: str, urgency: str = "normale", day: str = "2024-03-05", **kw) -> dict:
    """One scored complaint received at 10:00 (Paris) on ``day``."""
    base = {
        "complaint_id": f"R{next(_ids):06d}",
        "text": f"Réclamation ordinaire numéro {cause} sans donnée personnelle, merci de traiter rapidement.",
        "sector": "telecom", "root_cause": cause, "root_cause_proba": 0.9, "urgency": urgency,
        "needs_review": False, "urgency_rule": "", "model_version": "m1", "taxonomy_version": "1",
        "received_at": paris(f"{day} 10:00"), "answered_at": pd.NaT, "ingest_date": day,
        "company": "A", "product": "box", "channel": "email",
    }
    base.update(kw)
    return base


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("received_at", "answered_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def report(rows, start=WEEK[0], end=WEEK[1], **kw):
    return build_report(frame(rows), start=start, end=end, taxonomy=TAX, settings_report=SETTINGS, **kw)


def week_fixture() -> list[dict]:
    """Known answers: see test_pareto_* and test_previous_period_*."""
    rows = [row("facturation_prix") for _ in range(3)]
    rows += [row("livraison", "critique", urgency_rule="danger")]
    rows += [row("joignabilite", "haute", urgency_rule="menace_recours") for _ in range(2)]
    rows += [row("joignabilite", "basse")]
    rows += [row("hors_sujet", "basse") for _ in range(2)]
    rows += [row("facturation_prix", day=PREV_DAY)]
    rows += [row("livraison", day=PREV_DAY) for _ in range(2)]
    return rows


# --------------------------------------------------------------------------- pareto, priority
def test_pareto_counts_shares_order_and_priority():
    r = report(week_fixture())
    p = r.pareto.set_index("root_cause")
    assert list(r.pareto["root_cause"]) == ["livraison", "joignabilite", "facturation_prix"]
    assert "hors_sujet" not in p.index
    assert p["complaints"].to_dict() == {"livraison": 1, "joignabilite": 3, "facturation_prix": 3}
    assert p["priority"].to_dict() == {"livraison": 10.0, "joignabilite": 8.25, "facturation_prix": 3.0}
    assert r.pareto["share"].tolist() == pytest.approx([1 / 7, 3 / 7, 3 / 7])
    assert r.pareto["cum_share"].tolist() == pytest.approx([1 / 7, 4 / 7, 1.0])
    assert r.pareto["priority_share"].tolist() == pytest.approx([10 / 21.25, 8.25 / 21.25, 3 / 21.25])
    assert r.pareto["cum_priority_share"].iloc[-1] == pytest.approx(1.0)
    assert p.loc["joignabilite", ["critique", "haute", "normale", "basse", "urgent"]].tolist() == [0, 2, 0, 1, 2]
    h = r.headline
    assert (h["complaints"], h["off_topic"], h["to_fix"], h["urgent"]) == (9, 2, 7, 3)
    assert h["urgency"]["basse"] == {"count": 3, "share": pytest.approx(3 / 9)}
    assert [t["root_cause"] for t in h["top_causes"]] == ["livraison", "joignabilite", "facturation_prix"]
    assert "1 critique" in h["top_causes"][0]["sentence"] and "Logistique" in h["top_causes"][0]["sentence"]


def test_priority_uses_the_weights_from_settings_and_breaks_ties_by_id():
    flat = dict(SETTINGS, urgency_weights={"critique": 1, "haute": 1, "normale": 1, "basse": 1})
    r = build_report(frame(week_fixture()), start=WEEK[0], end=WEEK[1], taxonomy=TAX, settings_report=flat)
    # 3 = 3 > 1: equal scores and counts are ordered by cause id.
    assert list(r.pareto["root_cause"]) == ["facturation_prix", "joignabilite", "livraison"]
    assert r.pareto["priority"].tolist() == [3.0, 3.0, 1.0]


def test_previous_period_change():
    r = report(week_fixture())
    assert (r.previous_start, r.previous_end) == (date(2024, 2, 26), date(2024, 3, 3))
    h = r.headline
    assert (h["previous"], h["change"]) == (3, 6)
    assert h["change_pct"] == pytest.approx(2.0)
    p = r.pareto.set_index("root_cause")
    assert p.loc["facturation_prix", ["previous", "change"]].tolist() == [1, 2]
    assert p.loc["facturation_prix", "change_pct"] == pytest.approx(2.0)
    assert p.loc["livraison", "change_pct"] == pytest.approx(-0.5)
    assert pd.isna(p.loc["joignabilite", "change_pct"])       # nothing before: "nouveau"
    o = r.owners.set_index("owner")
    assert o.loc["Logistique", ["complaints", "urgent", "critique", "previous", "change"]].tolist() == [1, 1, 1, 2, -1]


def test_custom_period_previous_period_has_equal_length():
    r = report(week_fixture(), start=date(2024, 3, 5), end=date(2024, 3, 7))
    assert (r.previous_start, r.previous_end) == (date(2024, 3, 2), date(2024, 3, 4))
    assert r.headline["complaints"] == 9


# --------------------------------------------------------------------------- who must act
def test_every_root_cause_maps_to_its_taxonomy_owner():
    causes = TAX.ids("root_cause")
    r = report([row(c) for c in causes])
    owners = dict(zip(r.pareto["root_cause"], r.pareto["owner"]))
    assert owners == {c: TAX.owner(c) for c in causes if c != "hors_sujet"}
    expected = {TAX.owner(c) for c in causes if c != "hors_sujet"}
    assert set(r.owners["owner"]) == expected and len(r.owners) == len(expected)
    for _, x in r.owners.iterrows():
        mine = [TAX.label("root_cause", c) for c in causes if c != "hors_sujet" and TAX.owner(c) == x["owner"]]
        assert sorted(x["causes"].split(" ; ")) == sorted(mine)
    assert B.cause_owner(TAX, "pas_dans_la_taxonomie") == B.UNKNOWN_OWNER


def test_owner_examples_are_the_most_confident_short_and_distinct():
    long_text = "Le colis n'est jamais arrivé " + "et personne ne répond " * 30
    rows = [row("livraison", root_cause_proba=0.99, text=long_text),
            row("livraison", root_cause_proba=0.95, text="Colis perdu depuis deux semaines, aucune nouvelle du transporteur."),
            row("livraison", root_cause_proba=0.40, text="Texte peu sûr qui ne doit pas être choisi comme exemple ici."),
            row("livraison", root_cause_proba=0.999, needs_review=True, text="Signalé pour relecture : pas en exemple, même très sûr.")]
    o = report(rows).owners.set_index("owner").loc["Logistique"]
    assert o["example_1_id"] == rows[0]["complaint_id"] and o["example_2_id"] == rows[1]["complaint_id"]
    assert len(o["example_1"]) <= EXCERPT_CHARS and o["example_1"].endswith("…")


# --------------------------------------------------------------------------- heatmap, urgent
def test_heatmap_counts_sector_by_cause():
    rows = [row("facturation_prix", sector="banque"), row("facturation_prix", sector="banque"),
            row("facturation_prix", sector="telecom"), row("livraison", sector="ecommerce"),
            row("hors_sujet", sector="telecom")]
    h = report(rows).heatmap
    assert h.loc["banque", "facturation_prix"] == 2 and h.loc["telecom", "facturation_prix"] == 1
    assert h.loc["ecommerce", "livraison"] == 1 and h.loc["banque", "livraison"] == 0
    assert "hors_sujet" not in h.columns and int(h.to_numpy().sum()) == 4
    assert list(h.index) == ["telecom", "banque", "ecommerce"]      # taxonomy order


def test_urgent_cases_critique_first_with_rule():
    rows = [row("livraison", "haute", day="2024-03-09", urgency_rule="menace_recours"),
            row("securite_fraude", "critique", day="2024-03-05", urgency_rule="fraude_en_cours"),
            row("panne_service", "critique", day="2024-03-08"),
            row("facturation_prix", "normale")]
    u = report(rows).urgent
    assert u["urgency"].tolist() == ["critique", "critique", "haute"]
    assert u["complaint_id"].tolist() == [rows[2]["complaint_id"], rows[1]["complaint_id"], rows[0]["complaint_id"]]
    assert u["rule"].tolist() == ["", "fraude_en_cours", "menace_recours"]
    assert u["root_cause"].iloc[1] == TAX.label("root_cause", "securite_fraude")
    assert all(len(x) <= EXCERPT_CHARS for x in u["excerpt"])


# --------------------------------------------------------------------------- trend and alerts
END = date(2024, 3, 31)  # Sunday of ISO week 13
MONDAYS = [END - timedelta(days=6) - timedelta(weeks=k) for k in range(7, -1, -1)]


def weekly(series: dict[str, list[int]]) -> list[dict]:
    """Rows whose weekly counts per cause are ``series`` (8 ISO weeks ending 31/03/2024)."""
    rows = []
    for cause, counts in series.items():
        for monday, n in zip(MONDAYS, counts):
            rows += [row(cause, day=(monday + timedelta(days=i % 7)).isoformat()) for i in range(n)]
    return rows


def trend_report(series, end=END):
    start = end - timedelta(days=end.weekday())
    return report(weekly(series), start=start, end=end)


def test_trend_counts_per_iso_week():
    r = trend_report({"facturation_prix": [1, 2, 3, 4, 5, 6, 7, 8], "livraison": [0, 0, 0, 0, 0, 0, 1, 1]})
    assert list(r.trend.columns) == [f"2024-S{w:02d}" for w in range(6, 14)]
    assert r.trend.loc["facturation_prix"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert r.trend.loc["livraison"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]


def test_flat_series_gives_no_alert():
    r = trend_report({"facturation_prix": [10] * 8, "livraison": [4] * 8})
    assert r.alerts.empty and r.headline["alerts"] == 0


def test_clear_jump_gives_one_alert_with_poisson_p_and_z():
    r = trend_report({"facturation_prix": [10] * 7 + [30], "livraison": [4] * 8})
    assert len(r.alerts) == 1
    a = r.alerts.iloc[0]
    assert (a["root_cause"], a["kind"], a["week"], a["count"]) == ("facturation_prix", "hausse", "2024-S13", 30)
    assert a["baseline_mean"] == pytest.approx(10.0)
    assert a["z"] == pytest.approx(20 / math.sqrt(10))
    assert a["p_value"] == pytest.approx(poisson.sf(29, 10.0))
    assert a["owner"] == TAX.owner("facturation_prix")
    assert "pic inhabituel" in r.headline["top_causes"][0]["sentence"]


def test_small_jump_below_spike_min_count_gives_no_alert():
    series = [1, 0, 1, 0, 1, 0, 1, 4]
    lam, z, p = stats.spike_test(4, sum(series[:7]) / 7)
    assert p < 0.01 and z >= 3.0  # significant... but only 4 complaints (< spike_min_count = 5)
    r = trend_report({"facturation_prix": [10] * 8, "livraison": series})
    assert r.alerts.empty


def test_first_appearance_alert_and_its_minimum():
    r = trend_report({"facturation_prix": [10] * 8, "securite_fraude": [0] * 7 + [stats.NEW_CAUSE_MIN_COUNT]})
    assert r.alerts[["root_cause", "kind", "count"]].values.tolist() == [
        ["securite_fraude", "nouvelle", stats.NEW_CAUSE_MIN_COUNT]]
    r = trend_report({"facturation_prix": [10] * 8, "securite_fraude": [0] * 7 + [stats.NEW_CAUSE_MIN_COUNT - 1]})
    assert r.alerts.empty


def test_no_alert_without_enough_history():
    # Only two baseline weeks hold data (the store began 3 weeks ago): no verdict.
    r = trend_report({"facturation_prix": [0, 0, 0, 0, 0, 10, 10, 40]})
    assert r.alerts.empty


def test_partial_last_week_scales_the_expected_count():
    end = date(2024, 3, 27)  # Wednesday: 3 days of week 13
    rows = weekly({"facturation_prix": [10] * 7 + [0]})
    rows += [row("facturation_prix", day=f"2024-03-{25 + i % 3}") for i in range(14)]
    r = report(rows, start=date(2024, 3, 1), end=end)
    assert r.parameters["last_week_fraction"] == pytest.approx(3 / 7)
    a = r.alerts.iloc[0]
    assert a["expected"] == pytest.approx(10 * 3 / 7)
    assert a["p_value"] == pytest.approx(poisson.sf(13, 10 * 3 / 7))


# --------------------------------------------------------------------------- words
def test_characteristic_words_weighted_log_odds():
    rows = [row("livraison", text=f"Mon colis est perdu, le colis n'arrive pas <EMAIL> <NOM> {i}") for i in range(6)]
    rows += [row("facturation_prix", text=f"La facture est fausse, facture trop élevée <EMAIL> {i}") for i in range(6)]
    rows += [row("joignabilite", text="Personne ne répond au téléphone, attente interminable") for _ in range(4)]
    w = report(rows).words
    top = w[w["rank"] == 1].set_index("root_cause")["word"].to_dict()
    # joignabilite: four words tie (4 complaints each), alphabetical order decides.
    assert top == {"livraison": "colis", "facturation_prix": "facture", "joignabilite": "attente"}
    words = set(w["word"])
    assert not words & {"email", "nom", "est", "les", "pas"}  # placeholders and stop words
    assert w.groupby("root_cause").size().max() <= stats.TOP_WORDS
    assert (w["docs"] >= stats.MIN_WORD_DOCS).all()


def test_log_odds_z_matches_the_formula():
    texts = pd.Series(["alpha beta"] * 3 + ["gamma beta"] * 3)
    groups = pd.Series(["a"] * 3 + ["b"] * 3)
    w = stats.characteristic_words(texts, groups, prior_size=4.0, min_docs=1)
    # counts: a = {alpha 3, beta 3}, b = {gamma 3, beta 3}; prior alpha_w = 4 * share.
    tot = {"alpha": 3, "beta": 6, "gamma": 3}
    alpha = {k: 4.0 * v / 12 for k, v in tot.items()}
    a0 = 4.0
    y_i, y_j, n_i, n_j = 3, 0, 6, 6
    d = math.log((y_i + alpha["alpha"]) / (n_i + a0 - y_i - alpha["alpha"])) - \
        math.log((y_j + alpha["alpha"]) / (n_j + a0 - y_j - alpha["alpha"]))
    z = d / math.sqrt(1 / (y_i + alpha["alpha"]) + 1 / (y_j + alpha["alpha"]))
    got = w[(w["group"] == "a") & (w["word"] == "alpha")]["z"].item()
    assert got == pytest.approx(z)
    assert "beta" not in set(w["word"])  # equally frequent on both sides: z = 0


# --------------------------------------------------------------------------- deadlines
def deadline_rows() -> list[dict]:
    return [
        row("facturation_prix", received_at=paris("2024-01-01 10:00"), answered_at=paris("2024-03-15 10:00")),  # late
        row("facturation_prix", received_at=paris("2024-02-20 10:00"), answered_at=paris("2024-03-05 10:00")),  # on time
        row("facturation_prix", received_at=paris("2024-03-25 10:00")),  # open, 7 days
        row("facturation_prix", received_at=paris("2024-03-10 10:00")),  # open, > 10 days
        row("facturation_prix", received_at=paris("2024-01-15 10:00")),  # open, > 2 months
        row("facturation_prix", received_at=paris("2024-02-10 10:00"), answered_at=paris("2024-04-10 10:00")),
        row("hors_sujet", received_at=paris("2024-01-01 10:00")),  # not a complaint
        row("facturation_prix", received_at=pd.NaT, ingest_date="2024-03-12"),  # no date
    ]


def test_deadlines_shares_and_open_counts():
    d = B.deadlines(frame(deadline_rows()), date(2024, 3, 1), date(2024, 3, 31))
    assert d["available"] and d["answers_available"]
    assert (d["answered"], d["answered_late"]) == (2, 1)
    assert d["late_share"] == pytest.approx(0.5)
    assert d["median_days"] == pytest.approx((74 + 14) / 2)
    assert (d["open"], d["open_over_10_days"], d["open_over_2_months"]) == (4, 3, 1)
    assert d["without_received_at"] == 1


def test_deadlines_through_build_with_backlog_and_not_available():
    r = report(deadline_rows(), start=date(2024, 3, 1), end=date(2024, 3, 31), backlog=frame(deadline_rows()))
    assert r.deadlines["open_over_2_months"] == 1 and r.deadlines["scope"] == "historique complet"
    rows = [row("facturation_prix", received_at=pd.NaT, ingest_date="2024-03-05")]
    r = report(rows)
    assert r.deadlines["available"] is False and r.deadlines["open"] is None
    html = render_html(r)
    section = html[html.index('id="delais"'):html.index('id="qualite"')]
    assert "non disponible" in section
    no_answers = [row("facturation_prix", received_at=paris("2024-03-05 10:00"))]
    d = report(no_answers).deadlines
    assert d["available"] and not d["answers_available"] and d["open"] is None


# --------------------------------------------------------------------------- period and filters
def test_period_uses_received_at_in_paris_time_else_ingest_date():
    rows = [
        row("facturation_prix", received_at=paris("2024-02-28 10:00"), ingest_date="2024-03-02"),   # February
        row("facturation_prix", received_at=pd.NaT, ingest_date="2024-03-02"),  # March (ingest)
        row("facturation_prix", received_at=pd.Timestamp("2024-03-31 23:30", tz="UTC"),  # 1 April, Paris
            ingest_date="2024-04-01"),
        row("facturation_prix", received_at=pd.Timestamp("2024-03-31 21:30", tz="UTC"),  # 31 March 23:30
            ingest_date="2024-04-01"),
        row("facturation_prix", received_at=pd.NaT, ingest_date="2024-04-01"),  # April (ingest)
    ]
    r = report(rows, start=date(2024, 3, 1), end=date(2024, 3, 31))
    assert r.headline["complaints"] == 2
    assert r.headline["previous"] == 1
    assert r.quality["without_received_at"] == 1


def test_filters_by_company_product_channel():
    rows = [row("facturation_prix", company="A"), row("livraison", company="B"), row("livraison", company="B"),
            row("joignabilite", company="C", channel="courrier")]
    assert report(rows, filters={"company": "B"}).headline["complaints"] == 2
    assert report(rows, filters={"company": ["A", "C"]}).headline["complaints"] == 2
    assert report(rows, filters={"company": "A", "channel": "courrier"}).headline["complaints"] == 0
    r = report(rows, filters={"channel": "courrier", "product": None})
    assert r.headline["complaints"] == 1 and r.filters == {"channel": "courrier"}
    assert "canal : courrier" in render_html(r)


# --------------------------------------------------------------------------- quality
def test_quality_box():
    rows = [row("facturation_prix", needs_review=True), row("livraison"), row("livraison"),
            row("livraison", received_at=pd.NaT, ingest_date="2024-03-06", taxonomy_version="2")]
    q = report(rows, quality={"runs": 2, "duplicates": 7, "quarantined": 3,
                              "quarantine_by_reason": {"texte_vide": 2, "illisible": 1}}).quality
    assert q["review"] == 1 and q["review_share"] == pytest.approx(0.25)
    assert q["without_received_at"] == 1
    assert q["model_versions"] == ["m1"] and q["taxonomy_versions"] == ["1", "2"] and q["taxonomy_mismatch"]
    assert (q["duplicates"], q["quarantined"]) == (7, 3)
    assert (q["first_date"], q["last_date"]) == ("2024-03-05", "2024-03-06")
    table = B.quality_table(q).set_index("indicateur")["valeur"]
    assert table["Quarantaine : texte_vide"] == 2 and table["Doublons écartés"] == 7


# --------------------------------------------------------------------------- store loaders
def write_store(processed: Path, rows: list[dict], *, model_version="m1", extra_predictions=()):
    df = frame(rows)
    comp_cols = ["complaint_id", "text", "received_at", "answered_at", "channel", "company", "product"]
    for day, part in df.groupby("ingest_date"):
        folder = processed / "complaints" / f"ingest_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        part[comp_cols].assign(text_hash="h", source_file="f.csv",
                               ingested_at=pd.Timestamp(day, tz="UTC")).to_parquet(folder / "part-0.parquet")
    pred_cols = ["complaint_id", "sector", "root_cause", "root_cause_proba", "urgency", "needs_review",
                 "urgency_rule", "model_version", "taxonomy_version"]
    preds = df[pred_cols].assign(scored_at=pd.Timestamp("2024-04-01", tz="UTC"), evidence="")
    if extra_predictions:
        preds = pd.concat([preds, pd.DataFrame(list(extra_predictions))], ignore_index=True)
    folder = processed / "predictions" / model_version
    folder.mkdir(parents=True, exist_ok=True)
    preds.to_parquet(folder / "part-0.parquet")


class _Paths:
    def __init__(self, processed: Path):
        self.processed = processed
        self.complaints = processed / "complaints"
        self.predictions = processed / "predictions"
        self.quarantine = processed / "quarantine"
        self.runs = processed / "runs"
        self.reports = processed.parent / "reports"


def test_load_scored_joins_filters_and_dates(tmp_path):
    rows = [
        row("facturation_prix", company="A", received_at=paris("2024-03-05 10:00"), ingest_date="2024-03-06"),
        row("livraison", company="B", received_at=paris("2024-03-05 10:00"), ingest_date="2024-03-06"),
        row("livraison", company="A", received_at=pd.NaT, ingest_date="2024-03-07"),
        row("livraison", company="A", received_at=paris("2023-06-01 10:00"), ingest_date="2024-03-07"),  # too old
        row("livraison", company="A", received_at=paris("2024-03-20 10:00"), ingest_date="2024-03-20"),  # after
    ]
    rescored = dict(complaint_id=rows[0]["complaint_id"], sector="banque", root_cause="joignabilite",
                    root_cause_proba=0.8, urgency="haute", needs_review=False, urgency_rule="", model_version="m1",
                    taxonomy_version="1", scored_at=pd.Timestamp("2024-04-02", tz="UTC"), evidence="")
    write_store(tmp_path, rows, extra_predictions=[rescored])
    write_store(tmp_path / "other", rows, model_version="m0")
    paths = _Paths(tmp_path)
    df = load_scored(paths, "m1", date(2024, 3, 4), date(2024, 3, 10), company="A")
    ids = set(df["complaint_id"])
    assert ids == {rows[0]["complaint_id"], rows[2]["complaint_id"]}
    got = df.set_index("complaint_id")
    assert got.loc[rows[0]["complaint_id"], "root_cause"] == "joignabilite"       # latest scoring wins
    assert got.loc[rows[2]["complaint_id"], "period_date"] == pd.Timestamp("2024-03-07")
    assert got.loc[rows[0]["complaint_id"], "period_date"] == pd.Timestamp("2024-03-05")
    all_companies = load_scored(paths, "m1", date(2024, 3, 4), date(2024, 3, 10))
    assert len(all_companies) == 3
    assert load_scored(paths, "absent", date(2024, 3, 4), date(2024, 3, 10)).empty
    backlog = load_backlog(paths, "m1", date(2024, 3, 4), date(2024, 3, 10))
    assert set(backlog["complaint_id"]) == {rows[0]["complaint_id"], rows[1]["complaint_id"], rows[3]["complaint_id"]}


def test_load_quality_from_runs_and_quarantine(tmp_path):
    paths = _Paths(tmp_path)
    paths.runs.mkdir(parents=True)
    for i, (day, dup) in enumerate([("2024-03-05", 2), ("2024-03-09", 3), ("2024-03-12", 50)]):
        (paths.runs / f"r{i}.json").write_text(json.dumps({
            "run_id": f"r{i}", "started_at": f"{day}T09:00:00+00:00", "finished_at": f"{day}T09:01:00+00:00",
            "files": ["x.csv"], "rows_read": 10, "rows_stored": 7, "duplicates": dup, "quarantined": 1}))
    (paths.runs / "broken.json").write_text("{not json")
    for day, reasons in [("2024-03-05", ["texte_vide", "texte_vide", "binaire"]), ("2024-03-12", ["texte_vide"])]:
        folder = paths.quarantine / f"ingest_date={day}"
        folder.mkdir(parents=True)
        pd.DataFrame({"source_file": "x.csv", "row_number": range(len(reasons)), "reason": reasons,
                      "complaint_id": "", "text_masked": "", "ingested_at": pd.Timestamp(day, tz="UTC")}
                     ).to_parquet(folder / "q.parquet")
    q = load_quality(paths, *WEEK)
    assert (q["runs"], q["rows_read"], q["rows_stored"], q["duplicates"]) == (2, 20, 14, 5)
    assert q["quarantine_by_reason"] == {"texte_vide": 2, "binaire": 1}
    assert q["quarantined"] == 3 and q["unreadable_run_files"] == 1
    assert load_quality(_Paths(tmp_path / "nothing"), *WEEK)["runs"] == 0


# --------------------------------------------------------------------------- outputs
PII = ("jean.dupont@example.com", "06 12 34 56 78", "+33 6 98 76 54 32", "FR76 3000 6000 0112 3456 7890 189",
       "Dupont")


def pii_rows() -> list[dict]:
    leak = ("Je m'appelle Jean Dupont, écrivez à jean.dupont@example.com ou au 06 12 34 56 78, "
            "IBAN FR76 3000 6000 0112 3456 7890 189 : le colis n'est jamais arrivé.")
    return [row("livraison", "critique", root_cause_proba=0.99, text=leak),
            row("livraison", "haute", root_cause_proba=0.98, text="Rappelez-moi au +33 6 98 76 54 32, colis perdu."),
            row("facturation_prix", text="=HYPERLINK(\"x\") facture erronée ce mois-ci, merci de corriger vite.")]


def test_no_personal_data_in_any_output(tmp_path):
    r = report(pii_rows())
    files = write_report(r, tmp_path)
    blob = "\n".join(p.read_bytes().decode("utf-8-sig") for p in files.values())
    for value in PII:
        assert value not in blob, value
    assert "<EMAIL>" in blob or "&lt;EMAIL&gt;" in blob  # the excerpt is there, masked


def test_excerpts_go_through_pipeline_privacy(monkeypatch):
    privacy = pytest.importorskip("pipeline.privacy", reason="pipeline.privacy not written yet")
    calls = []
    real = privacy.mask_text

    def spy(text, **kw):
        calls.append(text)
        return real(text, **kw)
    monkeypatch.setattr(privacy, "mask_text", spy)
    mask.cache_clear()
    out = excerpt("Bonjour, je suis Madame Martine Durand et mon colis est perdu depuis le mois dernier.")
    mask.cache_clear()
    assert calls and "Durand" not in out


def test_html_is_self_contained_and_escaped():
    rows = week_fixture() + [row("accueil_conseil", text="<script>alert('x')</script> conseiller <b>impoli</b> !")]
    rows += [row("--><script>alert(1)</script>", "critique", sector="<img src=x onerror=alert(2)>")]
    html = render_html(report(rows))
    assert "<img" not in html and "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert not re.search(r"https?://", html)
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<svg") >= 2 and 'lang="fr"' in html


def test_csv_for_french_excel_and_formula_injection(tmp_path):
    files = write_report(report(pii_rows()), tmp_path)
    raw = files["pareto"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.split(";")[:4] == ["cause", "libelle", "departement", "reclamations"]
    assert re.search(r";0,\d+;", first)  # decimal comma
    departements = files["departements"].read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in departements and ";=HYPERLINK" not in departements


def test_write_report_is_atomic_and_complete(tmp_path):
    r = report(week_fixture())
    files = write_report(r, tmp_path / "out")
    assert set(files) == {"html", "summary", "pareto", "departements", "secteurs_causes", "tendance", "alertes",
                          "urgences", "mots", "qualite", "delais"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())
    write_report(r, tmp_path / "out")  # overwrite in place
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    summary = files["summary"].read_text(encoding="utf-8")
    assert 6 <= len(summary.splitlines()) <= 22 and "9 réclamations" in summary


def test_empty_period_says_so(tmp_path):
    r = report([row("facturation_prix", day=PREV_DAY)])
    assert r.is_empty and r.headline["complaints"] == 0 and r.headline["previous"] == 1
    files = write_report(r, tmp_path)
    assert "Aucune réclamation sur la période" in files["html"].read_text(encoding="utf-8")
    assert "Aucune réclamation" in files["summary"].read_text(encoding="utf-8")
    empty = build_report(pd.DataFrame(), start=WEEK[0], end=WEEK[1], taxonomy=TAX, settings_report={})
    assert empty.is_empty and "Aucune réclamation" in render_summary(empty)


def test_one_complaint_period(tmp_path):
    r = report([row("panne_service", "haute", urgency_rule="coupure_longue")])
    assert r.pareto["share"].tolist() == [1.0] and len(r.urgent) == 1 and r.words.empty
    files = write_report(r, tmp_path)
    assert "Service interrompu" in files["html"].read_text(encoding="utf-8")


def test_end_before_start_is_refused():
    with pytest.raises(ValueError):
        report(week_fixture(), start=WEEK[1], end=WEEK[0])


def test_make_report_end_to_end(tmp_path):
    from pipeline.config import load_settings
    from pipeline.report import synthetic

    settings = load_settings(tmp_path)
    df = synthetic.scored_frame(3000, date(2024, 1, 1), date(2024, 3, 31), model_version="v1", spike="livraison",
                                spike_from=date(2024, 3, 25))
    synthetic.write_store(df, settings.paths.processed, model_version="v1")
    files = make_report(settings, "v1", "2024-03-01", "2024-03-31", tmp_path / "mars", company="Alpha Télécom")
    html = files["html"].read_text(encoding="utf-8")
    assert "Alpha Télécom" in html and html.count("<svg") >= 3
    latest = make_report(settings, "latest", date(2024, 3, 25), date(2024, 3, 31))
    assert latest["html"].parent == settings.paths.reports / "2024-03-25_2024-03-31"
    with pytest.raises(TypeError):
        make_report(settings, "v1", "2024-03-01", "2024-03-31", tmp_path / "x", sector="banque")


def test_parse_period_and_calendar_helpers():
    from pipeline.report import month_bounds, parse_period, week_bounds

    assert parse_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_period("2024-W10") == parse_period("2024-S10") == (date(2024, 3, 4), date(2024, 3, 10))
    assert parse_period("2024-03-01:2024-03-15") == (date(2024, 3, 1), date(2024, 3, 15))
    assert parse_period("2024-03-05") == (date(2024, 3, 5), date(2024, 3, 5))
    assert week_bounds("2024-03-06") == WEEK and month_bounds(date(2024, 12, 9)) == (date(2024, 12, 1),
        date(2024, 12, 31))
    with pytest.raises(ValueError):
        parse_period("2024-03-15:2024-03-01")


def test_excerpt_of_a_long_text_never_shows_an_identifier_cut_at_the_window_edge():
    from pipeline.report import excerpts

    filler = "mot " * ((excerpts._RAW_WINDOW - 20) // 4)
    text = "<URL> " * 60 + filler[: 40] + " jean.dupont@example.com " + filler
    out = excerpt(text)
    assert "jean.dupont" not in out and "example.com" not in out and len(out) <= EXCERPT_CHARS
