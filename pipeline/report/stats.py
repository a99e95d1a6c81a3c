"""The two statistical tools of the report, kept small and documented.

Spike test
    For one root cause, ``k`` complaints in the last ISO week are compared with the
    mean ``m`` of the previous weeks of the trend window that hold data. Under
    "nothing changed", ``k`` is Poisson with mean ``lam = m * f`` (``f`` = share of
    the last week covered by the period, 1 for a full week). One-sided p-value
    ``P(X >= k) = poisson.sf(k - 1, lam)``; z-score ``(k - lam) / sqrt(lam)``.
    An alert needs all three: ``p < spike_p`` (0.01), ``z >= spike_z`` (3.0, from
    settings) and ``k >= spike_min_count`` (5, from settings). Real complaint counts
    are over-dispersed compared with Poisson (the p-value alone would fire too
    often on large counts); the z and minimum-count guards keep alerts rare.

First appearance
    A cause with zero complaints in every baseline week (at least
    ``MIN_BASELINE_WEEKS`` weeks holding data) and at least ``NEW_CAUSE_MIN_COUNT``
    complaints in the last week.

Characteristic words
    Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi &
    Quinn 2008, "Fightin' words"): cause ``i`` against all other
    complaints of the period, prior ``alpha_w = PRIOR_SIZE * share of w in the
    period``; words ranked by the z-score ``delta_w / sqrt(var)`` with
    ``var = 1/(y_iw + alpha_w) + 1/(y_jw + alpha_w)``. Tokens from Arrow (RE2)
    kernels: no Python loop over texts.
"""
from __future__ import annotations

import importlib.util
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import poisson

SPIKE_P = 0.01  # default of settings [report] spike_p
NEW_CAUSE_MIN_COUNT = 3   # complaints in the last week for a "first appearance" alert
MIN_BASELINE_WEEKS = 3    # baseline weeks holding data needed before any alert
PRIOR_SIZE = 1000.0       # alpha_0 of the Dirichlet prior (pseudo-tokens)
MIN_WORD_DOCS = 3  # a word must appear in at least 3 complaints of the cause
TOP_WORDS = 8
MAX_WORD_DOCS = 200_000   # larger periods: a fixed-seed random sample of texts
MIN_TOKEN_CHARS = 3

PLACEHOLDER_RE2 = r"<[A-Za-z_]{1,20}>|\[[A-Z_]{2,20}\]"   # <EMAIL>, <NOM>, [TEL]...
TOKEN_PATTERN = r"(?u)[^\W\d_]{3,}"  # same tokens as tokenize(), for stop words
# Salutations and letter formulas: frequent everywhere, characteristic of nothing.
EXTRA_STOP_WORDS = frozenset({
    "bonjour", "bonsoir", "madame", "monsieur", "cordialement", "salutations", "svp",
    "merci", "remercie", "remerciant", "distinguées", "sentiments", "veuillez", "agréer",
    "mme", "mlle", "xxx", "xxxx",
    # auxiliaries and fillers spaCy's list misses
    "été", "non", "aujourd", "fait", "faire", "avoir", "être", "suis", "jai", "cela", "ça",
})


def spike_test(k: int, baseline_mean: float, *, fraction: float = 1.0) -> tuple[float, float, float]:
    """(expected, z, p) for ``k`` observed against a Poisson baseline."""
    lam = float(baseline_mean) * float(fraction)
    if lam <= 0:
        return lam, math.inf if k > 0 else 0.0, 0.0 if k > 0 else 1.0
    p = float(poisson.sf(int(k) - 1, lam))
    z = (k - lam) / math.sqrt(lam)
    return lam, z, p


def is_spike(k: int, baseline_mean: float, *, min_count: int, z_min: float, p_max: float = SPIKE_P,
             fraction: float = 1.0) -> bool:
    lam, z, p = spike_test(k, baseline_mean, fraction=fraction)
    return lam > 0 and k >= min_count and p < p_max and z >= z_min


def _spacy_french_stop_words() -> set[str]:
    """spaCy's French stop list, read from its file without importing ``spacy.lang.fr``.

    Importing the package compiles the French tokenizer exceptions (~3 s); the stop
    list is a plain module, loaded alone when spaCy's layout allows.
    """
    try:
        spec = importlib.util.find_spec("spacy")
        path = Path(next(iter(spec.submodule_search_locations))) / "lang" / "fr" / "stop_words.py"
        mod_spec = importlib.util.spec_from_file_location("_report_fr_stop_words", path)
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
        return set(module.STOP_WORDS)
    except Exception:  # unusual install: the ordinary import
        from spacy.lang.fr.stop_words import STOP_WORDS
        return set(STOP_WORDS)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """French stop words as the tokenizer sees them (lower case, letters, >= 3 chars)."""
    words = set()
    for w in _spacy_french_stop_words() | EXTRA_STOP_WORDS:
        words.update(re.findall(TOKEN_PATTERN, w.lower().replace("\u2019", "'")))
    return frozenset(words)


def tokenize(texts) -> tuple[pa.Array, pa.Array]:
    """(doc index, token) of every kept token of ``texts`` (Arrow, RE2: fast).

    Lower case, letters only (anything else splits words), at least 3 letters,
    masking placeholders (``<EMAIL>``...) and French stop words removed.
    """
    arr = pa.array(texts, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    arr = pc.fill_null(arr, "")
    arr = pc.replace_substring_regex(arr, PLACEHOLDER_RE2, " ")
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"[^\p{L}]+", " ")
    lists = pc.utf8_split_whitespace(arr)
    tokens = pc.list_flatten(lists)
    docs = pc.list_parent_indices(lists)
    keep = pc.and_(pc.greater_equal(pc.utf8_length(tokens), MIN_TOKEN_CHARS),
                   pc.invert(pc.is_in(tokens, value_set=pa.array(sorted(stop_words()), type=pa.large_string()))))
    return pc.filter(docs, keep), pc.filter(tokens, keep)


def characteristic_words(texts: pd.Series, groups: pd.Series, *, top_n: int = TOP_WORDS,
                         min_docs: int = MIN_WORD_DOCS, prior_size: float = PRIOR_SIZE,
                         max_docs: int = MAX_WORD_DOCS, seed: int = 0) -> pd.DataFrame:
    """Top ``top_n`` words of each group against the rest (weighted log-odds, z-score).

    Returns columns group, rank, word, z, count (occurrences in the group), docs
    (complaints of the group containing it). Tokens: see :func:`tokenize`. A word
    is kept for a group when at least ``min_docs`` of the group's texts contain it
    (a rare word can be a name that escaped masking). Above ``max_docs`` texts, a
    fixed-seed random sample is used.
    """
    empty = pd.DataFrame({"group": pd.Series(dtype="str"), "rank": pd.Series(dtype="int64"),
                          "word": pd.Series(dtype="str"), "z": pd.Series(dtype="float64"),
                          "count": pd.Series(dtype="int64"), "docs": pd.Series(dtype="int64")})
    texts, groups = texts.reset_index(drop=True), groups.reset_index(drop=True)
    positions = np.flatnonzero(groups.notna().to_numpy())
    if positions.size > max_docs:
        # Fixed-seed sample of positions: the same texts for the same input frame.
        positions = np.sort(np.random.default_rng(seed).choice(positions, size=max_docs, replace=False))
    if positions.size == 0:
        return empty
    sel_groups = groups.iloc[positions].astype(str)
    if sel_groups.nunique() < 2:
        return empty
    codes, names = pd.factorize(sel_groups, sort=True)
    doc_idx, tokens = tokenize(texts.iloc[positions])
    if len(tokens) == 0:
        return empty
    table = pa.table({"g": pc.take(pa.array(codes, type=pa.int32()), doc_idx), "d": doc_idx, "w": tokens})
    agg = table.group_by(["g", "w"]).aggregate([("d", "count"), ("d", "count_distinct")]).to_pandas()
    agg = agg.rename(columns={"d_count": "count", "d_count_distinct": "docs"})
    counts = agg.pivot(index="g", columns="w", values="count").reindex(range(len(names))).fillna(0.0)
    docs = agg.pivot(index="g", columns="w", values="docs").reindex(index=counts.index,
        columns=counts.columns).fillna(0.0)
    vocab = counts.columns.to_numpy(dtype=object)
    C, D = counts.to_numpy(dtype=np.float64), docs.to_numpy(dtype=np.float64)
    total = C.sum(axis=0)
    n_all = total.sum()
    if n_all == 0:
        return empty
    alpha = prior_size * total / n_all
    a0 = alpha.sum()
    rows = []
    for gi, name in enumerate(names):
        y_i = C[gi]
        y_j = total - y_i
        n_i, n_j = y_i.sum(), y_j.sum()
        if n_i == 0 or n_j == 0:
            continue
        delta = (np.log((y_i + alpha) / (n_i + a0 - y_i - alpha))
                 - np.log((y_j + alpha) / (n_j + a0 - y_j - alpha)))
        var = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
        z = delta / np.sqrt(var)
        idx = np.flatnonzero((D[gi] >= min_docs) & (z > 0))
        if idx.size == 0:
            continue
        order = idx[np.lexsort((vocab[idx].astype(str), -z[idx]))][:top_n]
        for rank, w in enumerate(order, start=1):
            rows.append({"group": str(name), "rank": rank, "word": str(vocab[w]), "z": float(z[w]),
                         "count": int(y_i[w]), "docs": int(D[gi, w])})
    return pd.DataFrame(rows) if rows else empty
