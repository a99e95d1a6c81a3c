"""Train -> save -> load -> predict, on the small fixture corpus."""
import pandas as pd
import pytest

from pipeline.model import ReviewPolicy
from pipeline.scoring import OUTPUT_COLUMNS
from pipeline.taxonomy import HEADS, load_taxonomy

TEXTS = [
    "Ma box internet est en panne depuis trois semaines, aucune connexion, je télétravaille",
    "On m'a prélevé deux fois l'abonnement ce mois-ci, remboursez la facture en double",
    "Merci beaucoup, repas délicieux et service parfait, nous reviendrons avec plaisir",
    "Colis jamais livré, le suivi indique livré mais rien dans ma boîte aux lettres",
    "Odeur de gaz dans la cuisine depuis le passage du technicien, j'ai peur",
]


def test_predictions_use_taxonomy_ids_and_valid_probabilities(model):
    out = model.predict_frame(TEXTS)
    taxonomy = load_taxonomy()
    assert len(out) == len(TEXTS)
    for head in HEADS:
        assert set(out[head]) <= set(taxonomy.ids(head))
        assert set(out[head + "_alt"]) <= set(taxonomy.ids(head))
        assert out[head + "_proba"].between(0, 1).all()
        raised = (out[head] == "critique") if head == "urgency" else False  # critique_min_proba
        assert ((out[head + "_proba"] >= out[head + "_alt_proba"]) | raised).all()
        assert (out[head] != out[head + "_alt"]).all()
    assert (out["model_version"] == "test-v1").all() and (out["taxonomy_version"] == "1").all()


# The channel and rating each text would arrive with: the model reads them too (a
# review's stars say much of whether it is a complaint at all).
CONTEXT = pd.DataFrame({"channel": ["tweet", "email", "avis", "formulaire", "email"],
                        "rating": [None, None, 5, None, None]})


@pytest.mark.parametrize("context", [CONTEXT, None], ids=["with channel and rating", "text alone"])
def test_small_model_learns_the_obvious_cases(model, context):
    """Also without context: training sees every row with and without its context."""
    out = model.predict_frame(TEXTS, context=context).set_index(pd.Index(range(len(TEXTS))))
    assert out.at[0, "root_cause"] == "panne_service"
    assert out.at[1, "root_cause"] == "facturation_prix"
    assert out.at[2, "root_cause"] == "hors_sujet"
    assert out.at[3, "root_cause"] == "livraison"


def test_danger_rule_raises_urgency_and_is_reported(model):
    row = model.predict_frame([TEXTS[4]]).iloc[0]
    assert row["urgency"] == "critique"
    assert "danger" in row["urgency_rule"]


def test_evidence_names_words_of_the_text(model):
    row = model.predict_frame([TEXTS[3]]).iloc[0]
    root_part = [p for p in row["evidence"].split(" | ") if p.startswith("root_cause:")][0]
    words = [w.strip() for w in root_part.split(":", 1)[1].split(",")]
    assert any(w.split()[0] in ("colis", "livrer", "livré", "suivi", "boîte") for w in words), words


def test_review_thresholds_are_configurable(model):
    model.review = ReviewPolicy(min_proba=0.0, min_margin=0.0)
    relaxed = model.predict_frame(TEXTS[:4])
    model.review = ReviewPolicy(min_proba=1.01, min_margin=0.0)
    strict = model.predict_frame(TEXTS[:4])
    model.review = ReviewPolicy()
    assert not relaxed["needs_review"].any()
    assert strict["needs_review"].all()
    assert strict["review_reasons"].str.contains("low_proba").all()


def test_unscorable_rows_are_kept_and_flagged(model):
    out = model.predict_frame(["", "   ", "\x00\x01\x02\x03\x04\x05 junk \x06\x07\x08", TEXTS[0]], ids=["a", "b", "c", "d"])
    assert list(out["id"]) == ["a", "b", "c", "d"]
    assert list(out["flags"][:3]) == ["empty_text", "empty_text", "binary"]
    assert out["sector"][:3].isna().all() and out["needs_review"][:3].all()
    assert out["sector"].iloc[3] is not None


def test_non_french_text_is_scored_but_flagged_for_review(model):
    row = model.predict_frame(["My internet has been down for a week and nobody answers the phone"]).iloc[0]
    assert "not_french" in row["flags"] and row["needs_review"]
    assert row["sector"] is not None


def test_model_card_records_what_was_trained(trained_model_dir, small_corpus_path):
    import json

    card = json.loads((trained_model_dir / "model_card.json").read_text())
    assert card["version"] == "test-v1" and card["taxonomy_version"] == "1"
    assert card["training_data"]["rows"] == sum(1 for _ in open(small_corpus_path))
    assert len(card["training_data"]["sha256"]) == 64
    assert set(card["metrics"]["heads"]) == set(HEADS)
    assert 0 <= card["metrics"]["heads"]["root_cause"]["macro_f1"] <= 1
    assert {"scikit-learn", "spacy", "python"} <= set(card["libraries"])
    assert list(card["files"]) == ["model.pkl"] and len(card["files"]["model.pkl"]) == 64


def test_scoring_output_has_the_documented_columns(model):
    from pipeline.scoring import score_texts

    out = score_texts(model, ["1", "2"], TEXTS[:2], chunk_size=1)
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert list(out["id"]) == ["1", "2"]


def test_critique_threshold_raises_urgency_when_its_probability_is_enough(model):
    text = ["Ma mère a froid chez elle et personne ne vient réparer la chaudière"]
    model.critique_min_proba = 1.0
    plain = model.predict_frame(text).iloc[0]
    model.critique_min_proba = 0.0
    raised = model.predict_frame(text).iloc[0]
    model.critique_min_proba = 1.0
    assert raised["urgency"] == "critique"
    if plain["urgency"] != "critique":
        assert raised["urgency_alt"] == plain["urgency"]
