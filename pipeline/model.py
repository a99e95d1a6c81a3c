"""The three-head complaint model: one scikit-learn Pipeline, shared features.

``build_pipeline`` assembles the estimator (preprocessing -> features -> three
calibrated heads). ``ComplaintModel`` wraps a fitted pipeline with what scoring
needs around it: urgency rules, review thresholds, evidence and input flags.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multioutput import MultiOutputClassifier
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .context import CONTEXT_COLUMNS, ContextFeatures, model_input
from .errors import ModelFormatError
from .estimators import CalibratedLinearClassifier
from .preprocess import FrenchPreprocessor
from .rules import RULE_NAMES, rules_from_flags
from .taxonomy import HEADS, URGENCY_ORDER
from .textcheck import input_flags
from .vectorizers import CharNgramTfidf

UNSCORABLE_FLAGS = ("empty_text", "binary")


def build_pipeline(model: dict, preprocess: dict) -> Pipeline:
    """The estimator, from the [model] and [preprocess] sections of the settings.

    It takes the table made by :func:`pipeline.context.model_input` (``text``,
    ``channel``, ``rating``). Features: word n-grams of spaCy lemmas (readable: they are
    the evidence), character n-grams of the normalised text (robust to typos and
    inflections; on the text rather than the lemmas: +0.01 root-cause and +0.02 urgency
    macro-F1 in cross-validation on the real train split), the channel and star rating
    when ``[model] context_features`` is on, and the urgency-rule flags (last: the scorer
    reads them back from the feature matrix).
    """
    from .preprocess import TextNormaliser
    from .rules import UrgencyRuleFlags

    lemmas = Pipeline([
        ("preprocess", FrenchPreprocessor(
            mode=preprocess["mode"], batch_size=preprocess["batch_size"],
            n_process=preprocess["n_process"], max_chars=preprocess["max_chars"],
        )),
        ("words", TfidfVectorizer(
            token_pattern=r"\S+", lowercase=False, ngram_range=(1, model["word_ngram_max"]),
            min_df=model["min_df"], sublinear_tf=True, dtype=np.float32,
        )),
    ])
    chars = Pipeline([
        ("normalise", TextNormaliser(max_chars=preprocess["max_chars"])),
        # TfidfVectorizer's output, with each word's n-grams remembered between texts.
        ("chars", CharNgramTfidf(
            analyzer="char_wb", lowercase=False,
            ngram_range=(model["char_ngram_min"], model["char_ngram_max"]),
            min_df=model["min_df"], max_features=model["max_char_features"], sublinear_tf=True,
            dtype=np.float32,
        )),
    ])
    branches = [("lemmas", lemmas, "text"), ("chars", chars, "text")]
    if model.get("context_features", True):
        branches.append(("context", ContextFeatures(), list(CONTEXT_COLUMNS)))
    branches.append(("rules", UrgencyRuleFlags(), "text"))
    # sparse_threshold=1: always one sparse matrix, whatever the density.
    features = ColumnTransformer(branches, sparse_threshold=1.0)
    head = CalibratedLinearClassifier(
        loss=model["loss"], C=model["C"], method=model["calibration"], random_state=model["seed"]
    )
    return Pipeline([("features", features), ("heads", MultiOutputClassifier(head))])


@dataclass
class ReviewPolicy:
    """When a head's prediction goes to a person: low probability or close runner-up."""

    min_proba: float = 0.45
    min_margin: float = 0.10


@dataclass
class ComplaintModel:
    pipeline: Pipeline
    version: str
    taxonomy_version: str
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    evidence_top_n: int = 5
    # Missing a dangerous case costs more than a false alarm: urgency becomes
    # "critique" as soon as its probability reaches this level (1.0 = plain argmax).
    critique_min_proba: float = 1.0

    # -- the fitted pieces ------------------------------------------------------------
    def check_format(self) -> None:
        """Raise ModelFormatError for a model saved before the current feature layout
        (it took a list of texts, not the channel/rating table): called at load time."""
        if not isinstance(self.pipeline.named_steps["features"], ColumnTransformer):
            raise ModelFormatError(
                f"model {self.version} was saved by an older version of this tool; "
                "retrain it with `complaints train`")

    @property
    def _features(self) -> ColumnTransformer:
        return self.pipeline.named_steps["features"]

    def inputs(self) -> dict:
        """What the fitted model reads besides the text (for the model card): the settings
        say whether context may be used, the training rows decide whether it was."""
        self.check_format()
        context = self._features.named_transformers_.get("context")
        return {"text": True,
                "channels": [] if context is None else [str(c) for c in context.channels_],
                "rating": bool(context is not None and context.use_rating_)}

    @property
    def max_chars(self) -> int:
        return self._features.named_transformers_["lemmas"].named_steps["preprocess"].max_chars

    @property
    def heads(self) -> dict[str, CalibratedLinearClassifier]:
        return dict(zip(HEADS, self.pipeline.named_steps["heads"].estimators_))

    def _readable_features(self) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and names of the features a person can read (words, rules)."""
        cached = self.__dict__.get("_readable_cache")
        if cached is None:
            features = self._features
            words = features.named_transformers_["lemmas"].named_steps["words"]
            where = features.output_indices_
            names = [None] * len(words.vocabulary_)
            for word, column in words.vocabulary_.items():
                # "! !" or "?" weigh in the model but explain nothing to a reader.
                names[column] = word if any(c.isalnum() for c in word) else None
            columns = [np.arange(where["lemmas"].start, where["lemmas"].stop)]
            if "context" in features.named_transformers_:
                names += list(features.named_transformers_["context"].get_feature_names_out())
                columns.append(np.arange(where["context"].start, where["context"].stop))
            names += [f"règle:{n}" for n in RULE_NAMES]
            columns.append(np.arange(where["rules"].start, where["rules"].stop))
            cached = (np.concatenate(columns), np.asarray(names, dtype=object))
            self.__dict__["_readable_cache"] = cached
        return cached

    # -- scoring ------------------------------------------------------------------------
    def predict_frame(self, texts, ids=None, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per input text, in order: labels, probabilities, review, evidence.

        ``context``: optional table aligned with ``texts`` holding ``channel`` and a
        star ``rating`` (see :mod:`pipeline.context`); absent values weigh nothing.
        """
        inputs = model_input(texts, context)
        texts = inputs["text"].tolist()
        ids = [str(i) for i in ids] if ids is not None else [str(i + 1) for i in range(len(texts))]
        max_chars = self.max_chars
        flags = [input_flags(t, max_chars) for t in texts]
        scorable = np.array([not any(f in UNSCORABLE_FLAGS for f in fl) for fl in flags])
        out = pd.DataFrame({"id": ids})
        for head in HEADS:
            for suffix, dtype in (("", object), ("_proba", float), ("_alt", object), ("_alt_proba", float)):
                out[head + suffix] = pd.Series([None if dtype is object else np.nan] * len(texts), dtype=dtype)
        out["urgency_rule"] = ""
        out["evidence"] = ""
        reasons = [[] for _ in texts]
        if scorable.any():
            rows = np.flatnonzero(scorable)
            self._score(rows, inputs.iloc[rows].reset_index(drop=True), out, reasons)
        for i, fl in enumerate(flags):
            if fl:
                reasons[i].extend(f"input:{f}" for f in fl)
        out["needs_review"] = [bool(r) for r in reasons]
        out["review_reasons"] = [";".join(r) for r in reasons]
        out["flags"] = [";".join(f) for f in flags]
        out["model_version"] = self.version
        out["taxonomy_version"] = self.taxonomy_version
        return out

    def _score(self, rows: np.ndarray, inputs: pd.DataFrame, out: pd.DataFrame, reasons: list[list[str]]) -> None:
        X = self._features.transform(inputs).tocsr()
        texts = inputs["text"]
        evidence = [[] for _ in texts]
        for head, clf in self.heads.items():
            proba = clf.predict_proba(X)
            order = np.argsort(-proba, axis=1)
            best, alt = order[:, 0], order[:, 1] if proba.shape[1] > 1 else order[:, 0]
            p_best = proba[np.arange(len(texts)), best]
            p_alt = proba[np.arange(len(texts)), alt]
            labels = clf.classes_[best].astype(object)
            if head == "urgency" and "critique" in clf.classes_:
                column = list(clf.classes_).index("critique")
                raised = (proba[:, column] >= self.critique_min_proba) & (labels != "critique")
                alt = np.where(raised, best, alt)
                labels[raised] = "critique"
                p_alt = np.where(raised, p_best, p_alt)
                p_best = np.where(raised, proba[:, column], p_best)
            if head == "urgency":
                # The rule flags are the last columns of the features: no second pass.
                fired = rules_from_flags(X[:, -len(RULE_NAMES):].toarray())
                labels, p_best, rule_names = self._apply_urgency_rules(fired, labels, p_best, proba, clf.classes_)
                out.loc[rows, "urgency_rule"] = rule_names
            low = p_best < self.review.min_proba
            close = ((p_best - p_alt) < self.review.min_margin) & (alt != best)
            # A fired urgency rule is its own explanation: it does not send the row to review.
            ruled = (np.array([bool(n) for n in rule_names]) if head == "urgency"
                     else np.zeros(len(rows), dtype=bool))
            for k in np.flatnonzero((low | close) & ~ruled):
                reasons[rows[k]].append(f"{head}:{'low_proba' if low[k] else 'close_call'}")
            out.loc[rows, head] = labels
            out.loc[rows, head + "_proba"] = np.round(p_best, 4)
            out.loc[rows, head + "_alt"] = clf.classes_[alt].astype(object)
            out.loc[rows, head + "_alt_proba"] = np.round(p_alt, 4)
            for k, words in enumerate(self._evidence(X, clf, np.searchsorted(clf.classes_, labels))):
                evidence[k].append(f"{head}: {', '.join(words)}" if words else f"{head}: —")
        out.loc[rows, "evidence"] = [" | ".join(e) for e in evidence]

    def _apply_urgency_rules(self, fired_per_row, labels, p_best, proba, classes):
        """Raise urgency to each fired rule's floor; never lower it."""
        rank = {level: i for i, level in enumerate(URGENCY_ORDER)}
        column = {c: i for i, c in enumerate(classes)}
        labels, p_best, names = labels.copy(), p_best.copy(), []
        for k, fired in enumerate(fired_per_row):
            names.append(",".join(r.name for r in fired))
            for rule in fired:
                if rank[rule.floor] < rank[labels[k]] and rule.floor in column:
                    labels[k] = rule.floor
                    p_best[k] = proba[k, column[rule.floor]]
        return labels, p_best, names

    def _evidence(self, X, clf, predicted: np.ndarray) -> list[list[str]]:
        """The readable features that pushed each row most toward its predicted label."""
        columns, names = self._readable_features()
        X = X.tocsr()
        coef = clf.coef_
        binary = coef.shape[0] == 1
        position = np.full(X.shape[1], -1)
        position[columns] = np.arange(len(columns))
        result = []
        for i in range(X.shape[0]):
            start, end = X.indptr[i], X.indptr[i + 1]
            idx, values = X.indices[start:end], X.data[start:end]
            keep = position[idx] >= 0
            idx, values = idx[keep], values[keep]
            if binary:
                weights = coef[0, idx] * (1 if predicted[i] == 1 else -1)
            else:
                weights = coef[predicted[i], idx]
            contrib = values * weights
            top = np.argsort(-contrib)[: self.evidence_top_n + 2]
            words = (names[position[idx[j]]] for j in top if contrib[j] > 0)
            result.append([w for w in words if w is not None][: self.evidence_top_n])
        return result
