"""A linear text classifier with calibrated probabilities and readable weights.

Why a custom estimator rather than ``CalibratedClassifierCV`` straight in the
pipeline: the number of calibration folds must adapt to the rarest label (a user's
first labelled file may have three ``critique`` examples), and the scorer needs the
linear weights of the single final model to explain each prediction (evidence).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

LOSSES = ("hinge", "logistic")


class CalibratedLinearClassifier(ClassifierMixin, BaseEstimator):
    """Linear SVM or logistic regression, probabilities calibrated by cross-validation.

    Parameters
    ----------
    loss : "hinge" (LinearSVC) or "logistic" (LogisticRegression)
    C : float, inverse regularisation strength
    class_weight : None or "balanced"
    method : "sigmoid" or "isotonic" calibration
    cv : int, maximum calibration folds (fewer when a label is rarer than that)
    random_state : int, fold shuffling seed

    Fitted attributes: ``classes_``, ``calibrated_`` (the calibrated model, None
    when a label has a single example), ``temperature_`` (only then: the softmax
    temperature fitted on out-of-fold margins), ``estimator_`` (the final linear model),
    ``coef_`` (weights of the final linear model: one row per class, or one row
    for the second class of a binary problem), ``n_features_in_``.
    """

    def __init__(self, loss="hinge", C=0.5, class_weight="balanced", method="sigmoid", cv=3, random_state=0):
        self.loss = loss
        self.C = C
        self.class_weight = class_weight
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def _base(self):
        if self.loss == "hinge":
            return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        if self.loss == "logistic":
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr")
        check_classification_targets(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2:
            raise ValueError("need examples of at least 2 classes to train, got 1 class")
        base = self._base()
        folds = int(min(self.cv, counts.min()))
        if folds >= 2:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            self.calibrated_ = CalibratedClassifierCV(base, method=self.method, cv=splitter, ensemble=False)
            self.calibrated_.fit(X, y)
            self.estimator_ = self.calibrated_.calibrated_classifiers_[0].estimator
        else:
            # A label with a single example cannot be held out, so per-class calibration
            # is impossible. A plain softmax of SVM margins is far too timid (12 sectors,
            # margins near ±1: the best label gets ~0.4 and everything goes to review), so
            # the softmax is sharpened by one temperature fitted on out-of-fold margins.
            self.calibrated_ = None
            self.estimator_ = clone(base).fit(X, y)
            self.temperature_ = self._fit_temperature(X, y, base)
        self.coef_ = np.asarray(self.estimator_.coef_)
        return self

    def _scores(self, estimator, X) -> np.ndarray:
        """Decision values as one column per class of ``self.classes_``."""
        scores = estimator.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        if len(estimator.classes_) == len(self.classes_):
            return scores
        # A fold that missed a rare label: that label scores below everything else.
        full = np.full((X.shape[0], len(self.classes_)), scores.min() - 10.0)
        full[:, np.searchsorted(self.classes_, estimator.classes_)] = scores
        return full

    def _fit_temperature(self, X, y, base) -> float:
        """The temperature minimising the log-loss of out-of-fold softmax probabilities."""
        from scipy.optimize import minimize_scalar
        from sklearn.model_selection import KFold

        n_splits = int(min(max(self.cv, 2), len(y)))
        target = np.searchsorted(self.classes_, y)
        oof = np.zeros((len(y), len(self.classes_)))
        seen = np.zeros(len(y), dtype=bool)
        for train, test in KFold(n_splits, shuffle=True, random_state=self.random_state).split(X):
            if len(np.unique(y[train])) < 2:
                continue
            oof[test] = self._scores(clone(base).fit(X[train], y[train]), X[test])
            seen[test] = True
        if not seen.any():
            return 1.0
        oof, target = oof[seen], target[seen]

        def log_loss(log_t):
            z = oof / np.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), target]))

        return float(np.exp(minimize_scalar(log_loss, bounds=(-5.0, 3.0), method="bounded").x))

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if self.calibrated_ is not None:
            return self.calibrated_.predict_proba(X)
        scores = self._scores(self.estimator_, X) / self.temperature_
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
