"""Channel and star rating: parsing, the encoder, and their way through model, store and CLI."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from pipeline.context import ContextFeatures, canonical_channel, context_from_frame, model_input, parse_rating
from pipeline.errors import ModelFormatError

from .conftest import run_cli, write_jsonl


@pytest.mark.parametrize("raw, expected", [
    ("Twitter", "reseau_social"), ("tweet", "reseau_social"), ("réseaux_sociaux", "reseau_social"),
    ("E-mail", "email"), ("Courriel", "email"), (" formulaire web ", "formulaire"),
    ("SignalConso", "signalement"), ("Avis", "avis"), ("Téléphone", "telephone"),
    ("pigeon voyageur", "autre"), ("", None), ("   ", None), (None, None), (float("nan"), None),
])
def test_channel_names_fold_to_the_few_the_model_knows(raw, expected):
    assert canonical_channel(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    (4, 4.0), ("4", 4.0), ("4/5", 4.0), ("1 étoile", 1.0), ("2,0", 2.0), (5.0, 5.0),
    (0, None), (6, None), ("sans note", None), ("", None), (None, None), (float("nan"), None),
])
def test_ratings_parse_to_whole_stars_or_none(raw, expected):
    assert parse_rating(raw) == expected


def test_rating_column_is_found_under_its_french_names():
    frame = pd.DataFrame({"text": ["a", "b"], "Note": ["5/5", "1"], "channel": ["Avis", None]})
    context = context_from_frame(frame)
    assert context["rating"].tolist() == [5.0, 1.0]
    assert context["channel"].tolist() == ["avis", None]


def test_encoder_one_hot_and_missing_or_unseen_values_are_all_zero():
    train = pd.DataFrame({"channel": ["email", "avis", "tweet"], "rating": [None, 5, 1]})
    encoder = ContextFeatures().fit(train)
    assert list(encoder.get_feature_names_out()) == [
        "canal:avis", "canal:email", "canal:reseau_social", "note:1", "note:2", "note:3", "note:4", "note:5"]
    X = encoder.transform(pd.DataFrame({"channel": ["Avis", "chat", None], "rating": [5, None, "3 étoiles"]}))
    assert X.toarray().tolist() == [
        [1, 0, 0, 0, 0, 0, 0, 1],   # avis, 5 stars
        [0, 0, 0, 0, 0, 0, 0, 0],   # a channel not seen in training, no rating
        [0, 0, 0, 0, 0, 1, 0, 0],   # no channel, 3 stars
    ]


def test_encoder_trained_without_ratings_keeps_no_rating_columns():
    encoder = ContextFeatures().fit(pd.DataFrame({"channel": ["email", "chat"], "rating": [None, None]}))
    assert encoder.transform(pd.DataFrame({"channel": ["email"], "rating": [5]})).shape == (1, 2)


def test_encoder_refuses_a_bare_list_of_texts():
    with pytest.raises(TypeError, match="DataFrame"):
        ContextFeatures().fit(["un texte"])


def test_model_input_checks_alignment():
    assert model_input(["a", None]).columns.tolist() == ["text", "channel", "rating"]
    with pytest.raises(ValueError, match="2 texts"):
        model_input(["a", "b"], pd.DataFrame({"channel": ["email"]}))


def test_context_changes_the_prediction_and_shows_in_the_evidence(tmp_path, corpus):
    """Same words, different stars: a model trained where stars separate praise from
    complaint must follow the stars, and say so in its evidence."""
    from pipeline.config import load_settings
    from pipeline.taxonomy import load_taxonomy
    from pipeline.training import fit_model

    rows = corpus.groupby("root_cause").head(6).reset_index(drop=True)
    neutral = "Mon avis sur la prestation de cette semaine."
    data = pd.concat([rows.assign(rating=np.nan), pd.DataFrame({
        "id": [f"n{i}" for i in range(40)], "text": [neutral] * 40, "channel": "avis",
        "rating": [5.0] * 20 + [1.0] * 20,
        "sector": "assurance", "root_cause": ["hors_sujet"] * 20 + ["accueil_conseil"] * 20,
        "urgency": ["basse"] * 20 + ["normale"] * 20,
    })], ignore_index=True)
    model = fit_model(data, load_settings(tmp_path), "ctx-test", load_taxonomy())
    out = model.predict_frame([neutral, neutral], context=pd.DataFrame({"channel": ["avis"] * 2, "rating": [5, 1]}))
    assert out["root_cause"].tolist() == ["hors_sujet", "accueil_conseil"]
    assert "note:5" in out.at[0, "evidence"] and "note:1" in out.at[1, "evidence"]


def test_model_saved_before_context_features_fails_with_what_to_do(tmp_path, model):
    from sklearn.pipeline import FeatureUnion, Pipeline

    from pipeline.registry import load_model, save_model

    old = pickle.loads(pickle.dumps(model))
    old.pipeline = Pipeline([("features", FeatureUnion([("x", "drop")])), ("heads", old.pipeline.named_steps["heads"])])
    old.version = "old-v0"
    with pytest.raises(ModelFormatError, match="retrain"):
        load_model(save_model(old, tmp_path / "old-v0", {}))


def test_rating_is_stored_and_older_store_parts_read_as_missing(tmp_path):
    from pipeline.config import load_settings
    from pipeline.ingest import ingest_inbox
    from pipeline.store import pending

    settings = load_settings(tmp_path)
    settings.paths.inbox.mkdir(parents=True)
    write_jsonl(settings.paths.inbox / "avis.jsonl", [
        {"id": "r1", "text": "Remboursement refusé sans explication, une honte.", "note": "1/5", "channel": "Avis"},
        {"id": "r2", "text": "Box en panne depuis lundi, aucune connexion.", "channel": "Twitter"},
    ])
    ingest_inbox(settings)
    # A part written before the rating column existed.
    old = settings.paths.complaints / "ingest_date=2026-01-01" / "part-old.parquet"
    old.parent.mkdir(parents=True)
    first = next(settings.paths.complaints.glob("ingest_date=2*/part-*.parquet"))
    pd.read_parquet(first).head(1).drop(columns=["rating"]).assign(complaint_id="old-1", text_hash="x").to_parquet(old)
    todo = pending(settings, "v1").set_index("complaint_id")
    assert todo.at["r1", "rating"] == 1.0 and todo.at["r1", "channel"] == "Avis"
    assert np.isnan(todo.at["r2", "rating"]) and np.isnan(todo.at["old-1", "rating"])


def test_cli_predict_takes_channel_and_rating(trained_model_dir, tmp_path):
    result = run_cli(["predict", "Très déçu du service client, aucune réponse", "--channel", "avis", "--rating",
                      "1", "--json", "--model", str(trained_model_dir)])
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["root_cause"] and record["urgency"]


def test_model_card_says_which_context_the_model_reads(trained_model_dir):
    """The bundled corpus has channels and review stars: the card must say both are read."""
    from pipeline.registry import read_card

    inputs = read_card(trained_model_dir)["inputs"]
    assert inputs["text"] and inputs["rating"]
    assert {"avis", "email", "reseau_social"} <= set(inputs["channels"])


def test_retraining_keeps_the_channel_and_rating_of_every_source(tmp_path, small_corpus_path):
    """The retrain flow's challenger learns from the same context the champion reads:
    corpus rows keep their channel and stars, corrections without them stay empty."""
    from pipeline.config import load_settings
    from pipeline.retraining import gather_training_data
    from pipeline.taxonomy import load_taxonomy

    corpus_dir, labels_dir = tmp_path / "corpus", tmp_path / "labels"
    corpus_dir.mkdir()
    labels_dir.mkdir()
    (corpus_dir / "small.jsonl").write_bytes(small_corpus_path.read_bytes())
    corpus = pd.read_json(small_corpus_path, lines=True, dtype=False)
    write_jsonl(labels_dir / "corrections.jsonl", [
        {"id": "fix-1", "text": "Ma box ne marche plus depuis trois jours.", "sector": "telecom",
         "root_cause": "panne_service", "urgency": "haute"}])
    (tmp_path / "complaints.toml").write_text(
        f'[paths]\ncorpus = "{corpus_dir.as_posix()}"\nlabels = "{labels_dir.as_posix()}"\n')
    data = gather_training_data(load_settings(tmp_path), load_taxonomy()).set_index("id")

    expected = context_from_frame(corpus).set_index(corpus["id"].astype(str))
    assert data.loc[expected.index, "channel"].tolist() == expected["channel"].tolist()
    assert data.loc[expected.index, "rating"].fillna(0).tolist() == expected["rating"].fillna(0).tolist()
    assert expected["channel"].notna().all() and expected["rating"].notna().any()
    assert data.loc["fix-1", "channel"] is None and np.isnan(data.loc["fix-1", "rating"])
