"""The systems compared: this pipeline and its peers, behind one small interface.

Every system has ``fit(texts, labels)`` (labels: a DataFrame with the three head
columns) and ``predict(texts) -> {head: array of labels}``. Hyperparameters are
fixed here (no tuning on dev) and seeds are fixed.

* ``PipelineSystem``   this project's ``fit_model`` + ``ComplaintModel.predict_frame``
                        (urgency rules included, as shipped).
* ``TfidfLR``           one shared TF-IDF (word 1-2 + char_wb 2-5) and a
                        LogisticRegression per head. No spaCy.
* ``FastTextSystem``    fastText supervised, one model per head.
* ``SpacyTextcat``      spaCy ``textcat`` (exclusive classes), one component per head,
                        architecture ``spacy.TextCatBOW.v3`` or ``spacy.TextCatEnsemble.v2``.
"""
from __future__ import annotations

import os
import random
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.taxonomy import HEADS

from .common import SEED


class System:
    name = "system"
    description = ""

    def fit(self, texts: list[str], labels: pd.DataFrame) -> "System":
        raise NotImplementedError

    def predict(self, texts: list[str], context: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Labels per head. ``context``: the rows' channel and rating, for systems that use
        them (this pipeline; the peers read the text only)."""
        raise NotImplementedError


# -- this pipeline -------------------------------------------------------------------------
class PipelineSystem(System):
    """``pipeline.training.fit_model`` with the given settings (default: as shipped)."""

    def __init__(self, settings=None, name="pipeline", description="this pipeline (fit_model, settings.toml)"):
        self.settings = settings
        self.name = name
        self.description = description

    def fit(self, texts, labels):
        from pipeline.config import load_settings
        from pipeline.taxonomy import load_taxonomy
        from pipeline.training import fit_model

        data = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": list(texts)})
        for head in HEADS:
            data[head] = labels[head].to_numpy()
        for column in ("channel", "rating"):
            if column in labels.columns:
                data[column] = labels[column].to_numpy()
        self.model = fit_model(data, self.settings or load_settings(), "bench", load_taxonomy())
        return self

    def predict(self, texts, context=None):
        frame = self.model.predict_frame(list(texts), context=context)
        return {head: frame[head].to_numpy(dtype=object) for head in HEADS}


# -- TF-IDF + logistic regression --------------------------------------------------------------
class TfidfLR(System):
    """Plain scikit-learn: lower-cased raw text, one FeatureUnion shared by three LR heads."""

    name = "tfidf_lr"
    description = "TF-IDF word 1-2 + char_wb 2-5 (sublinear), LogisticRegression C=1 per head"

    def __init__(self, C: float = 1.0, class_weight=None, name: str | None = None):
        self.C = C
        self.class_weight = class_weight
        if name:
            self.name = name
            self.description = f"as tfidf_lr, LogisticRegression C={C} class_weight={class_weight}"

    def _vectorizer(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        return FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                      dtype=np.float32)),
        ])

    def fit(self, texts, labels):
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = self._vectorizer()
        X = self.vectorizer.fit_transform(list(texts))
        self.heads = {}
        for head in HEADS:
            clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000,
                                     random_state=SEED)
            self.heads[head] = clf.fit(X, labels[head].to_numpy())
        return self

    def predict(self, texts, context=None):
        X = self.vectorizer.transform(list(texts))
        return {head: clf.predict(X).astype(object) for head, clf in self.heads.items()}


# -- fastText ----------------------------------------------------------------------------------
_FT_PUNCT = re.compile(r"([!?.,;:()\"«»])")
_FT_SPACE = re.compile(r"\s+")


def fasttext_clean(text: str) -> str:
    """One line, lower case, punctuation split off (fastText splits on whitespace only)."""
    text = _FT_PUNCT.sub(r" \1 ", text.lower().replace("\u2019", "'"))
    return _FT_SPACE.sub(" ", text).strip()


class FastTextSystem(System):
    """fastText supervised, one model per head; fixed hyperparameters (see FT_PARAMS).

    Prediction calls the C++ binding (``model.f.multilinePredict`` for a batch,
    ``model.f.predict`` for one line) rather than ``model.predict``, whose
    ``np.array(..., copy=False)`` fails under NumPy 2.
    """

    name = "fasttext"
    FT_PARAMS = dict(epoch=25, lr=0.5, wordNgrams=2, dim=50, minCount=1, minn=0, maxn=0,
                     loss="softmax", bucket=200000, thread=1, seed=SEED, verbose=0)
    description = "fastText supervised per head: " + ", ".join(
        f"{k}={v}" for k, v in FT_PARAMS.items() if k != "verbose")

    def fit(self, texts, labels):
        """Each head is trained in a fresh child interpreter, then loaded here.

        Why: in a process that has already run this pipeline's ``fit_model`` (spaCy,
        scikit-learn), fastText training stops with "Encountered NaN" in 4 of 6 tries,
        against 0 of 6 in a fresh process (measured on the real train split). The child
        sees only the training file. If a head still diverges, it is retrained with half
        the learning rate (recorded in ``lr_used``). Training time includes the child's
        start (~1 s).
        """
        import json
        import subprocess
        import sys

        import fasttext

        cleaned = [fasttext_clean(t) for t in texts]
        self.models, self.lr_used = {}, {}
        with tempfile.TemporaryDirectory() as tmp:
            for head in HEADS:
                path = Path(tmp) / f"{head}.txt"
                with open(path, "w", encoding="utf-8") as handle:
                    for text, label in zip(cleaned, labels[head].to_numpy()):
                        handle.write(f"__label__{label} {text}\n")
                model_path = Path(tmp) / f"{head}.bin"
                job = json.dumps([str(path), str(model_path), self.FT_PARAMS])
                done = subprocess.run([sys.executable, "-c", _FT_CHILD, job], capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(f"fastText training failed: {done.stderr[-500:]}")
                self.lr_used[head] = float(done.stdout.strip().splitlines()[-1])
                self.models[head] = fasttext.load_model(str(model_path))
        return self

    def predict(self, texts, context=None):
        lines = [fasttext_clean(t) + "\n" for t in texts]
        out = {}
        for head, model in self.models.items():
            labels, _ = model.f.multilinePredict(lines, 1, 0.0, "strict")
            out[head] = np.asarray([(l[0] if l else "__label__").replace("__label__", "", 1) for l in labels],
                                   dtype=object)
        return out


# Runs in a fresh interpreter: train one head, save it, print the learning rate used.
_FT_CHILD = """
import json, sys
import fasttext
source, target, params = json.loads(sys.argv[1])
for _ in range(4):
    try:
        fasttext.train_supervised(input=source, **params).save_model(target)
        print(params["lr"])
        break
    except RuntimeError as exc:
        if "NaN" not in str(exc):
            raise
        params["lr"] /= 2
else:
    raise SystemExit("fastText diverged four times")
"""


# -- spaCy textcat -----------------------------------------------------------------------------
_BOW = """
[model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 262144
ngram_size = 2
no_output_layer = false
"""

_ENSEMBLE = """
[model]
@architectures = "spacy.TextCatEnsemble.v2"

[model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
rows = [2000, 2000, 500, 1000, 500]
attrs = ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"]
include_static_vectors = false

[model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
window_size = 1
maxout_pieces = 3
depth = 2

[model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 262144
ngram_size = 1
no_output_layer = false
"""


class SpacyTextcat(System):
    """spaCy ``textcat`` on a blank French pipeline, one component per head.

    Each head is its own blank-``fr`` pipeline with one ``textcat`` (exclusive
    classes): spaCy's single-label check looks at all of a doc's cats, so three heads
    cannot share one Example. Training: ``nlp.update`` over shuffled mini-batches of
    32, Adam (spaCy's default optimizer), dropout 0.2, a fixed number of epochs.
    Prediction tokenises each text once, then runs the three ``textcat`` components
    on the same Doc objects.
    """

    def __init__(self, arch: str = "bow", epochs: int | None = None, batch_size: int = 32, dropout: float = 0.2):
        if arch not in ("bow", "ensemble"):
            raise ValueError(arch)
        self.arch = arch
        self.epochs = epochs if epochs is not None else (10 if arch == "bow" else 8)
        self.batch_size = batch_size
        self.dropout = dropout
        self.name = f"spacy_textcat_{arch}"
        model = "spacy.TextCatBOW.v3 (ngram_size 2)" if arch == "bow" else \
            "spacy.TextCatEnsemble.v2 (Tok2Vec.v2 width 64, depth 2 + TextCatBOW.v3 unigrams)"
        self.description = (f"spaCy textcat {model}, blank fr, {self.epochs} epochs, batch {batch_size}, "
                            f"dropout {dropout}, Adam")

    def _config(self):
        from thinc.api import Config

        return Config().from_str(_BOW if self.arch == "bow" else _ENSEMBLE)

    def fit(self, texts, labels):
        import spacy
        from spacy.training import Example
        from spacy.util import fix_random_seed, minibatch

        fix_random_seed(SEED)
        rng = random.Random(SEED)
        self.tokenizer_nlp = spacy.blank("fr")
        docs = list(self.tokenizer_nlp.tokenizer.pipe(list(texts), batch_size=256))
        self.pipes = {}
        self.nlps = {}
        for head in HEADS:
            nlp = spacy.blank("fr")
            textcat = nlp.add_pipe("textcat", config=dict(self._config()))
            y = labels[head].to_numpy()
            classes = sorted(set(y))
            for c in classes:
                textcat.add_label(f"{head}={c}")
            examples = []
            for doc, label in zip(docs, y):
                cats = {f"{head}={c}": float(c == label) for c in classes}
                # a fresh Doc in this head's vocab: same tokens as the shared tokenizer's
                examples.append(Example.from_dict(nlp.make_doc(doc.text), {"cats": cats}))
            optimizer = nlp.initialize(lambda: examples)
            for _ in range(self.epochs):
                rng.shuffle(examples)
                for batch in minibatch(examples, size=self.batch_size):
                    nlp.update(batch, sgd=optimizer, drop=self.dropout)
            self.nlps[head] = nlp
            self.pipes[head] = textcat
        return self

    def predict(self, texts, context=None, batch_size: int = 256):
        docs = list(self.tokenizer_nlp.tokenizer.pipe(list(texts), batch_size=batch_size))
        out = {}
        for head, textcat in self.pipes.items():
            labels = textcat.labels
            for doc in textcat.pipe(docs, batch_size=batch_size):
                pass
            prefix = len(head) + 1
            out[head] = np.asarray(
                [max(labels, key=lambda l: doc.cats.get(l, 0.0))[prefix:] for doc in docs], dtype=object)
        return out


def make_system(name: str, **kwargs) -> System:
    if name == "pipeline":
        return PipelineSystem(**kwargs)
    if name == "tfidf_lr":
        return TfidfLR(**kwargs)
    if name == "fasttext":
        return FastTextSystem()
    if name == "spacy_textcat_bow":
        return SpacyTextcat("bow", **kwargs)
    if name == "spacy_textcat_ensemble":
        return SpacyTextcat("ensemble", **kwargs)
    raise ValueError(name)


def timed_fit(system: System, texts, labels) -> float:
    start = time.perf_counter()
    system.fit(texts, labels)
    return time.perf_counter() - start


def limit_threads(n: int = 1) -> None:
    """Called before importing numpy-heavy code in timing runs: one BLAS thread."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
