"""CharNgramTfidf: exactly TfidfVectorizer's matrix, through its per-word cache."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.vectorizers import CharNgramTfidf

TRAIN = [
    "ma box ne fonctionne plus depuis le 3 mars",
    "Facture   double\tpour le mois de mai !!",
    "le conseiller m'a raccroché au nez, aucune solution",
    "a b c d",   # words shorter than the smallest n-gram
    "remboursement refusé après le sinistre, dossier bloqué",
]
# Unseen words, repeats, tabs and newlines, accents, upper case, an empty text.
UNSEEN = [
    "Ma BOX ne fonctionne plus, plus, plus !",
    "",
    "   \n  ",
    "dossier\nbloqué\tdepuis  mai",
    "œuvre naïve à Noël — 100 € remboursés",
    "x",
]


@pytest.mark.parametrize("params", [
    {"ngram_range": (2, 4), "sublinear_tf": True, "lowercase": False, "dtype": np.float32},
    {"ngram_range": (1, 3), "sublinear_tf": False, "lowercase": True},
    {"ngram_range": (3, 5), "max_features": 40, "norm": None, "use_idf": False},
    {"ngram_range": (2, 6), "min_df": 2, "norm": "l1", "smooth_idf": False},
])
def test_same_matrix_as_tfidf_vectorizer(params):
    reference = TfidfVectorizer(analyzer="char_wb", **params).fit(TRAIN)
    fast = CharNgramTfidf(analyzer="char_wb", **params).fit(TRAIN)
    for documents in (UNSEEN, TRAIN, UNSEEN):   # the second UNSEEN pass reads the cache
        expected, got = reference.transform(documents), fast.transform(documents)
        assert type(got) is type(expected) and got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got.toarray(), expected.toarray())
    assert fast.__dict__["_word_columns"][1], "the fast path was not taken"


def test_other_analyzers_fall_back_to_tfidf_vectorizer():
    fast = CharNgramTfidf(analyzer="word").fit(TRAIN)
    reference = TfidfVectorizer(analyzer="word").fit(TRAIN)
    assert np.array_equal(fast.transform(UNSEEN).toarray(), reference.transform(UNSEEN).toarray())
    assert "_word_columns" not in fast.__dict__


def test_cache_is_not_pickled_and_is_bounded(monkeypatch):
    fast = CharNgramTfidf(analyzer="char_wb", ngram_range=(2, 3)).fit(TRAIN)
    before = fast.transform(UNSEEN)
    restored = pickle.loads(pickle.dumps(fast))
    assert "_word_columns" not in restored.__dict__
    assert (restored.transform(UNSEEN) != before).nnz == 0
    monkeypatch.setattr(CharNgramTfidf, "MAX_CACHED_WORDS", 3)
    restored.transform(TRAIN + UNSEEN)
    assert len(restored.__dict__["_word_columns"][1]) <= 3
    assert (restored.transform(UNSEEN) != before).nnz == 0


def test_is_a_plain_estimator_for_clone_and_params():
    fast = CharNgramTfidf(analyzer="char_wb", ngram_range=(2, 4), min_df=2)
    copy = clone(fast)
    assert copy.get_params() == fast.get_params()
    with pytest.raises(ValueError, match="string object received"):
        copy.fit(TRAIN).transform("un seul texte")
    assert sp.issparse(copy.transform(["un texte"]))


@pytest.mark.parametrize("interface", ["spmatrix", "sparray"])
def test_same_sparse_type_under_each_sklearn_interface(interface):
    from sklearn import config_context

    with config_context(sparse_interface=interface):
        reference = TfidfVectorizer(analyzer="char_wb").fit(TRAIN)
        fast = CharNgramTfidf(analyzer="char_wb").fit(TRAIN)
        assert type(fast.transform(UNSEEN)) is type(reference.transform(UNSEEN))


@pytest.mark.filterwarnings("ignore:Only .* 'dtype' should be used")
def test_refit_and_set_params_never_reuse_stale_columns_or_weighting():
    """A refit (new vocabulary), a set_params after fit and an integer dtype give what
    TfidfVectorizer gives: the cache and the fit-time weighting follow the estimator."""
    fast = CharNgramTfidf(analyzer="char_wb", ngram_range=(2, 3)).fit(["abc", "xyz"])
    fast.transform(["abc"])
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3))
    for documents in (TRAIN, ["xyz abc hello", "other"]):
        expected = reference.fit(documents).transform(UNSEEN + ["abc"]).toarray()
        assert np.array_equal(fast.fit(documents).transform(UNSEEN + ["abc"]).toarray(), expected)
        expected = reference.fit_transform(documents).toarray()
        assert np.array_equal(fast.fit_transform(documents).toarray(), expected)
    for change in ({"norm": None}, {"sublinear_tf": True}, {"ngram_range": (1, 1)}, {"lowercase": False}):
        fast.fit(TRAIN).transform(UNSEEN)
        reference.fit(TRAIN)
        fast.set_params(**change)
        reference.set_params(**change)
        assert np.array_equal(fast.transform(UNSEEN).toarray(), reference.transform(UNSEEN).toarray()), change
    integers = dict(analyzer="char_wb", dtype=np.int64)
    expected = TfidfVectorizer(**integers).fit(TRAIN).transform(UNSEEN)
    got = CharNgramTfidf(**integers).fit(TRAIN).transform(UNSEEN)
    assert got.dtype == expected.dtype and np.array_equal(got.toarray(), expected.toarray())
