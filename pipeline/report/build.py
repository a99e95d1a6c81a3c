"""From scored complaints to the numbers of the root-cause report.

Pure functions on DataFrames (no I/O): each table of the report has its own
function, tested on hand-built frames; :func:`build_report` assembles them.

Input frame ("scored"): one row per complaint with at least ``complaint_id``,
``root_cause``, ``urgency``; optionally ``text`` (masked), ``sector``,
``root_cause_proba``, ``needs_review``, ``urgency_rule``, ``received_at``,
``answered_at``, ``ingest_date`` or ``period_date``, ``company``, ``product``,
``channel``, ``model_version``, ``taxonomy_version``. :func:`pipeline.report.data.load_scored`
returns exactly that.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd

from . import stats
from .data import FILTER_COLUMNS, add_period_date
from .fmt import fmt_int, fmt_pct
from .excerpts import EXCERPT_CHARS, excerpt, privacy_module_available
from .periods import (as_date, fr_period, iso_week_label, local_bounds_utc, previous_period,
                      trend_weeks)

OFF_TOPIC = "hors_sujet"
URGENT_LEVELS = ("critique", "haute")
URGENCY_LEVELS = ("critique", "haute", "normale", "basse")
DEFAULT_WEIGHTS = {"critique": 10.0, "haute": 4.0, "normale": 1.0, "basse": 0.25}
UNKNOWN_OWNER = "Non attribué"
# Columns the tables use (the others, text included, are dropped before the many row selections).
WORK_COLUMNS = ("complaint_id", "root_cause", "root_cause_proba", "sector", "urgency", "needs_review",
                "urgency_rule", "model_version", "taxonomy_version", "period_date", "date_source",
                "received_at", "answered_at")
EXAMPLES_PER_OWNER = 2
ANSWER_DEADLINE = pd.DateOffset(months=2)      # ACPR 2022-R-01: answer within 2 months
ACK_DEADLINE = pd.Timedelta(days=10)  # ACPR 2022-R-01: acknowledge within 10 (working) days


# --------------------------------------------------------------------------- the report
@dataclass
class Report:
    """Everything the renderers need; tables are plain DataFrames."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    filters: dict
    headline: dict
    pareto: pd.DataFrame
    owners: pd.DataFrame
    heatmap: pd.DataFrame
    trend: pd.DataFrame
    alerts: pd.DataFrame
    urgent: pd.DataFrame
    words: pd.DataFrame
    quality: dict
    deadlines: dict
    labels: dict  # {"root_cause": {id: label}, "sector": ..., "urgency": ...}
    parameters: dict  # thresholds actually used (methodology)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def is_empty(self) -> bool:
        return int(self.headline.get("complaints", 0)) == 0

    @property
    def period_label(self) -> str:
        return fr_period(self.start, self.end)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table, keyed by its CSV file stem."""
        return {
            "pareto": self.pareto,
            "departements": self.owners,
            "secteurs_causes": _with_label(self.heatmap.reset_index(), "sector", self.labels["sector"]),
            "tendance": _with_label(self.trend.reset_index(), "root_cause", self.labels["root_cause"]),
            "alertes": self.alerts,
            "urgences": self.urgent,
            "mots": self.words,
            "qualite": quality_table(self.quality),
            "delais": deadlines_table(self.deadlines),
        }


# --------------------------------------------------------------------------- helpers
def _with_label(table: pd.DataFrame, column: str, labels: dict) -> pd.DataFrame:
    """``table`` with a ``label`` column right after the id ``column``."""
    if column not in table.columns:
        return table
    out = table.copy()
    out.insert(out.columns.get_loc(column) + 1, "label", out[column].map(lambda v: labels.get(v, v)))
    return out


def _labels(taxonomy, head: str) -> dict[str, str]:
    return {k: taxonomy.label(head, k) for k in taxonomy.ids(head)}


def cause_owner(taxonomy, cause: str) -> str:
    """Owner department of a root cause; unknown causes are ``Non attribué``."""
    if cause in taxonomy.heads["root_cause"]:
        return taxonomy.owner(cause)
    return UNKNOWN_OWNER


def urgency_weights(settings_report: dict | None) -> dict[str, float]:
    weights = dict(DEFAULT_WEIGHTS)
    weights.update({k: float(v) for k, v in ((settings_report or {}).get("urgency_weights") or {}).items()})
    return weights


def _pct(new: float, old: float) -> float | None:
    return None if not old else (new - old) / old


def prepare(scored: pd.DataFrame) -> pd.DataFrame:
    """Fill optional columns and compute ``period_date`` when missing.

    The (large) ``text`` column is kept as is; filters and counts run on the other
    columns and fetch texts by index only for the rows that show or need them.
    """
    df = scored.reset_index(drop=True) if not scored.index.is_unique else scored.copy(deep=False)
    defaults = {"complaint_id": "", "root_cause": "inconnue", "text": "", "sector": "autre",
                "root_cause_proba": np.nan, "needs_review": False, "urgency_rule": "", "model_version": "",
                "taxonomy_version": "", "urgency": "normale"}
    for col, value in defaults.items():
        if col not in df.columns:
            df[col] = value
    for col in ("received_at", "answered_at", "ingest_date", *FILTER_COLUMNS):
        if col not in df.columns:
            df[col] = pd.NA
    if "period_date" not in df.columns:
        df = add_period_date(df)
    else:
        df["period_date"] = pd.to_datetime(df["period_date"]).dt.normalize()
        if "date_source" not in df.columns:
            df["date_source"] = np.where(pd.to_datetime(df["received_at"], utc=True, errors="coerce").notna(),
                "received_at", "ingest_date")
    for col, fill in (("root_cause", "inconnue"), ("sector", "autre"), ("urgency", "normale"),
                      ("urgency_rule", "")):
        if df[col].isna().any():
            df[col] = df[col].fillna(fill)
        df[col] = df[col].astype(str) if df[col].dtype == object else df[col]
    df["needs_review"] = df["needs_review"].fillna(False).astype(bool)
    return df


def _texts(frame: pd.DataFrame, texts: pd.Series | None) -> pd.Series:
    """Texts of ``frame``'s rows: its own column, else looked up in ``texts`` by index."""
    if "text" in frame.columns:
        return frame["text"]
    if texts is None:
        return pd.Series("", index=frame.index, dtype=object)
    return texts.reindex(frame.index)


def apply_filters(df: pd.DataFrame, filters: dict | None) -> pd.DataFrame:
    """Keep rows whose company/product/channel is in the given value(s)."""
    for col in FILTER_COLUMNS:
        value = (filters or {}).get(col)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        df = df[df[col].astype("string").isin(values).fillna(False).astype(bool)]
    return df


def select_period(df: pd.DataFrame, start, end) -> pd.DataFrame:
    lo, hi = pd.Timestamp(as_date(start)), pd.Timestamp(as_date(end))
    return df[(df["period_date"] >= lo) & (df["period_date"] <= hi)]


# --------------------------------------------------------------------------- pareto
def pareto_table(period: pd.DataFrame, previous: pd.DataFrame, taxonomy, weights: dict) -> pd.DataFrame:
    """Root causes to fix (``hors_sujet`` excluded), ordered by priority score.

    priority = sum of urgency weights of the cause's complaints. ``share`` and
    ``cum_share`` are shares of complaints (cumulated in priority order);
    ``priority_share``/``cum_priority_share`` the same for the score.
    """
    cols = ["root_cause", "label", "owner", "complaints", "share", "cum_share", "priority",
            "priority_share", "cum_priority_share", "critique", "haute", "normale", "basse", "urgent", "previous",
            "change", "change_pct"]
    fix = period[period["root_cause"] != OFF_TOPIC]
    if fix.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    w = fix["urgency"].map(weights).astype("float64").fillna(weights.get("normale", 1.0))
    by = fix.assign(_w=w).groupby("root_cause", observed=True)
    table = pd.DataFrame({"complaints": by.size(), "priority": by["_w"].sum()})
    urg = pd.crosstab(fix["root_cause"], fix["urgency"])
    for level in URGENCY_LEVELS:
        table[level] = urg[level] if level in urg.columns else 0
    table["urgent"] = table["critique"] + table["haute"]
    prev = previous[previous["root_cause"] != OFF_TOPIC]["root_cause"].value_counts()
    table["previous"] = prev.reindex(table.index).fillna(0).astype("int64")
    table = table.reset_index().rename(columns={"index": "root_cause"})
    table = table.sort_values(["priority", "complaints", "root_cause"], ascending=[False, False, True],
                              kind="stable").reset_index(drop=True)
    n, total_priority = table["complaints"].sum(), table["priority"].sum()
    table["share"] = table["complaints"] / n
    table["cum_share"] = table["share"].cumsum()
    table["priority_share"] = table["priority"] / total_priority if total_priority else 0.0
    table["cum_priority_share"] = table["priority_share"].cumsum()
    table["change"] = table["complaints"] - table["previous"]
    table["change_pct"] = [_pct(a, b) for a, b in zip(table["complaints"], table["previous"])]
    labels = _labels(taxonomy, "root_cause")
    table["label"] = table["root_cause"].map(lambda c: labels.get(c, c))
    table["owner"] = table["root_cause"].map(lambda c: cause_owner(taxonomy, c))
    for col in ("complaints", *URGENCY_LEVELS, "urgent", "previous", "change"):
        table[col] = table[col].astype("int64")
    return table[cols]


# --------------------------------------------------------------------------- who must act
def _examples(group: pd.DataFrame, n: int) -> list[tuple[str, str]]:
    """(complaint_id, excerpt) of the ``n`` most confident predictions with a text."""
    out, seen = [], set()
    for cid, text in zip(group["complaint_id"], group["text"]):
        ex = excerpt(text)
        if len(ex) < 20 or ex in seen:
            continue
        seen.add(ex)
        out.append((str(cid), ex))
        if len(out) == n:
            break
    return out


def owners_table(period: pd.DataFrame, previous: pd.DataFrame, taxonomy, weights: dict,
                 n_examples: int = EXAMPLES_PER_OWNER, texts: pd.Series | None = None) -> pd.DataFrame:
    """One row per owner department: its causes, volume, urgent cases, trend, examples."""
    cols = ["owner", "causes", "complaints", "urgent", "critique", "priority", "previous", "change",
            "change_pct"] + [f"example_{i}{s}" for i in range(1, n_examples + 1) for s in ("_id", "")]
    fix = period[period["root_cause"] != OFF_TOPIC]
    if fix.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    owner_of = {c: cause_owner(taxonomy, c) for c in pd.unique(pd.concat([fix["root_cause"], previous["root_cause"]]))}
    labels = _labels(taxonomy, "root_cause")
    f = fix.assign(owner=fix["root_cause"].map(owner_of),
                   _w=fix["urgency"].map(weights).astype("float64").fillna(weights.get("normale", 1.0)),
                   _urgent=fix["urgency"].isin(URGENT_LEVELS), _critique=fix["urgency"].eq("critique"))
    by = f.groupby("owner")
    table = pd.DataFrame({"complaints": by.size(), "urgent": by["_urgent"].sum(),
                          "critique": by["_critique"].sum(), "priority": by["_w"].sum()})
    # Causes of the department, most frequent first.
    cause_counts = f.groupby(["owner", "root_cause"]).size().reset_index(name="n")
    cause_counts = cause_counts.sort_values(["owner", "n", "root_cause"], ascending=[True, False, True])
    table["causes"] = cause_counts.groupby("owner")["root_cause"].agg(
        lambda s: " ; ".join(labels.get(c, c) for c in s))
    prev = previous[previous["root_cause"] != OFF_TOPIC]
    prev_counts = prev["root_cause"].map(owner_of).value_counts()
    table["previous"] = prev_counts.reindex(table.index).fillna(0).astype("int64")
    table["change"] = table["complaints"] - table["previous"]
    table["change_pct"] = [_pct(a, b) for a, b in zip(table["complaints"], table["previous"])]
    # Examples: most confident predictions not flagged for review first. Only the
    # best candidates of each department are sorted (and have their text read).
    key = f["needs_review"].astype("float64") * 2.0 + (1.0 - f["root_cause_proba"].astype("float64").fillna(0.0))
    kth = key.groupby(f["owner"]).transform(lambda s: s.nsmallest(n_examples * 10).max())
    candidates = f.loc[key <= kth, ["owner", "complaint_id"]].assign(_k=key)
    candidates["text"] = _texts(f.loc[candidates.index], texts)
    candidates = candidates.sort_values(["owner", "_k", "complaint_id"], kind="stable")
    candidates = candidates.groupby("owner", sort=False).head(n_examples * 10)
    for owner, group in candidates.groupby("owner", sort=False):
        for i, (cid, ex) in enumerate(_examples(group, n_examples), start=1):
            table.loc[owner, f"example_{i}_id"] = cid
            table.loc[owner, f"example_{i}"] = ex
    for c in cols[1:]:
        if c not in table.columns:
            table[c] = ""
    table.index.name = "owner"
    table = table.reset_index()
    table = table.sort_values(["priority", "complaints", "owner"], ascending=[False, False, True],
                              kind="stable").reset_index(drop=True)
    for c in ("complaints", "urgent", "critique", "previous", "change"):
        table[c] = table[c].astype("int64")
    for c in cols[9:]:
        table[c] = table[c].fillna("").astype(str)
    return table[cols]


# --------------------------------------------------------------------------- heatmap
def heatmap_table(period: pd.DataFrame, taxonomy) -> pd.DataFrame:
    """Counts sector (rows) x root cause (columns), ``hors_sujet`` left out.

    Rows and columns in taxonomy order, only those with at least one complaint.
    """
    fix = period[period["root_cause"] != OFF_TOPIC]
    if fix.empty:
        return pd.DataFrame(index=pd.Index([], name="sector"))
    table = pd.crosstab(fix["sector"], fix["root_cause"])
    sectors = [s for s in taxonomy.ids("sector") if s in table.index] + \
        sorted(s for s in table.index if s not in taxonomy.heads["sector"])
    causes = [c for c in taxonomy.ids("root_cause") if c in table.columns] + \
        sorted(c for c in table.columns if c not in taxonomy.heads["root_cause"])
    table = table.reindex(index=sectors, columns=causes, fill_value=0).astype("int64")
    table.index.name, table.columns.name = "sector", None
    return table


# --------------------------------------------------------------------------- trend & alerts
def weekly_counts(window: pd.DataFrame, end, weeks: int) -> tuple[pd.DataFrame, pd.Series, float]:
    """(cause x ISO-week counts, all-message counts per week, covered share of last week).

    The window ends on ``end``; columns are the Mondays of the ``weeks`` ISO weeks,
    the last one possibly partial (``fraction`` = covered days / 7).
    """
    end = as_date(end)
    mondays = trend_weeks(end, weeks)
    index = pd.DatetimeIndex([pd.Timestamp(m) for m in mondays])
    lo, hi = pd.Timestamp(mondays[0]), pd.Timestamp(end)
    w = window[(window["period_date"] >= lo) & (window["period_date"] <= hi)]
    week = w["period_date"] - pd.to_timedelta(w["period_date"].dt.dayofweek, unit="D")
    totals = week.value_counts().reindex(index, fill_value=0).astype("int64")
    fix = w["root_cause"] != OFF_TOPIC
    counts = pd.crosstab(w.loc[fix, "root_cause"], week[fix]) if fix.any() else pd.DataFrame()
    counts = counts.reindex(columns=index, fill_value=0).fillna(0).astype("int64")
    counts.index.name, counts.columns.name = "root_cause", "week"
    fraction = ((end - mondays[-1]).days + 1) / 7.0
    return counts, totals, min(fraction, 1.0)


def detect_alerts(counts: pd.DataFrame, totals: pd.Series, *, min_count: int, z_min: float,
                  p_max: float = stats.SPIKE_P, fraction: float = 1.0,
                  new_min_count: int = stats.NEW_CAUSE_MIN_COUNT,
                  min_baseline_weeks: int = stats.MIN_BASELINE_WEEKS) -> pd.DataFrame:
    """Spike and first-appearance alerts on the last week (see :mod:`.stats`).

    Baseline = previous weeks of the window in which at least one message exists
    (weeks before the store began are not zeros, they are unknown).
    """
    cols = ["root_cause", "kind", "week", "count", "baseline_mean", "expected", "z", "p_value"]
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    if counts.empty or counts.shape[1] < 2:
        return empty
    base_weeks = [c for c in counts.columns[:-1] if totals.get(c, 0) > 0]
    if len(base_weeks) < min_baseline_weeks:
        return empty
    last = counts.columns[-1]
    rows = []
    for cause, series in counts.iterrows():
        k = int(series[last])
        base = series[base_weeks]
        mean = float(base.mean())
        if mean == 0:
            if k >= new_min_count:
                rows.append((cause, "nouvelle", last, k, 0.0, 0.0, np.nan, np.nan))
        elif stats.is_spike(k, mean, min_count=min_count, z_min=z_min, p_max=p_max, fraction=fraction):
            lam, z, p = stats.spike_test(k, mean, fraction=fraction)
            rows.append((cause, "hausse", last, k, mean, lam, z, p))
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=cols)
    out["week"] = [iso_week_label(pd.Timestamp(w).date()) for w in out["week"]]
    out["_order"] = out["kind"].map({"hausse": 0, "nouvelle": 1})
    return out.sort_values(["_order", "count", "root_cause"], ascending=[True, False, True]) \
        .drop(columns="_order").reset_index(drop=True)


# --------------------------------------------------------------------------- urgent cases
def urgent_table(period: pd.DataFrame, taxonomy, texts: pd.Series | None = None) -> pd.DataFrame:
    """Every critique and haute complaint of the period, critique first, newest first."""
    cols = ["urgency", "complaint_id", "date", "sector", "root_cause", "rule", "excerpt", "needs_review"]
    u = period[period["urgency"].isin(URGENT_LEVELS)]
    if u.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    u = u.assign(_rank=u["urgency"].map({"critique": 0, "haute": 1}))
    u = u.sort_values(["_rank", "period_date", "complaint_id"], ascending=[True, False, True], kind="stable")
    sectors, causes = _labels(taxonomy, "sector"), _labels(taxonomy, "root_cause")
    return pd.DataFrame({
        "urgency": u["urgency"].to_numpy(),
        "complaint_id": u["complaint_id"].astype(str).to_numpy(),
        "date": u["period_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "sector": u["sector"].map(lambda s: sectors.get(s, s)).to_numpy(),
        "root_cause": u["root_cause"].map(lambda c: causes.get(c, c)).to_numpy(),
        "rule": u["urgency_rule"].fillna("").astype(str).to_numpy(),
        "excerpt": [excerpt(t) for t in _texts(u, texts)],
        "needs_review": u["needs_review"].astype(bool).to_numpy(),
    })


# --------------------------------------------------------------------------- words
def words_table(period: pd.DataFrame, taxonomy, top_n: int = stats.TOP_WORDS,
                texts: pd.Series | None = None) -> pd.DataFrame:
    """Top words of each cause against the rest of the period (``hors_sujet`` included in the rest)."""
    words = stats.characteristic_words(_texts(period, texts), period["root_cause"], top_n=top_n)
    words = words[words["group"] != OFF_TOPIC].rename(columns={"group": "root_cause"})
    labels = _labels(taxonomy, "root_cause")
    words.insert(1, "label", words["root_cause"].map(lambda c: labels.get(c, c)))
    return words.reset_index(drop=True)


# --------------------------------------------------------------------------- deadlines
def deadlines(frame: pd.DataFrame, start, end) -> dict:
    """ACPR 2022-R-01 indicators at the end of the period.

    * answered during the period: how many, share answered more than 2 months
      after receipt, median delay in days;
    * open at the end of the period (received before it, no answer yet): how many,
      older than 10 days (acknowledgement deadline, counted here in calendar days),
      older than 2 months (answer deadline).
    ``hors_sujet`` messages are left out. Indicators are ``None`` ("non disponible")
    when no ``received_at`` is known, and the open counts when no ``answered_at``
    is ever filled in.
    """
    out = {"available": False, "answers_available": False, "answered": None, "answered_late": None,
           "late_share": None, "median_days": None, "open": None, "open_over_10_days": None,
           "open_over_2_months": None, "without_received_at": 0}
    if frame is None or frame.empty:
        return out
    f = frame
    if "root_cause" in f.columns:
        f = f[f["root_cause"].astype("string").fillna("") != OFF_TOPIC]
    received = pd.to_datetime(f["received_at"], utc=True, errors="coerce") if "received_at" in f else None
    if received is None or received.notna().sum() == 0:
        out["without_received_at"] = int(len(f))
        return out
    answered = pd.to_datetime(f["answered_at"], utc=True, errors="coerce") if "answered_at" in f \
        else pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns, UTC]")
    lo, hi = local_bounds_utc(start, end)
    known = received.notna() & (received < hi)
    out["available"] = True
    out["without_received_at"] = int(received.isna().sum())
    out["answers_available"] = bool(answered.notna().any())
    if out["answers_available"]:
        in_period = known & answered.notna() & (answered >= lo) & (answered < hi)
        r, a = received[in_period], answered[in_period]
        out["answered"] = int(in_period.sum())
        late = a > (r + ANSWER_DEADLINE)
        out["answered_late"] = int(late.sum())
        out["late_share"] = float(late.mean()) if len(a) else None
        out["median_days"] = float(((a - r).dt.total_seconds() / 86400).median()) if len(a) else None
        is_open = known & (answered.isna() | (answered >= hi))
        ro = received[is_open]
        out["open"] = int(is_open.sum())
        out["open_over_10_days"] = int((ro + ACK_DEADLINE < hi).sum())
        out["open_over_2_months"] = int((ro + ANSWER_DEADLINE < hi).sum())
    return out


def deadlines_table(d: dict) -> pd.DataFrame:
    def v(x):
        return "non disponible" if x is None else x
    rows = [
        ("Réponses apportées pendant la période", v(d.get("answered"))),
        ("dont réponses après plus de 2 mois", v(d.get("answered_late"))),
        ("Part des réponses après plus de 2 mois", v(None if d.get("late_share") is None else round(d["late_share"], 4))),
        ("Délai médian de réponse (jours)", v(None if d.get("median_days") is None else round(d["median_days"], 1))),
        ("Réclamations ouvertes à la fin de la période", v(d.get("open"))),
        ("dont ouvertes depuis plus de 10 jours", v(d.get("open_over_10_days"))),
        ("dont ouvertes depuis plus de 2 mois", v(d.get("open_over_2_months"))),
    ]
    return pd.DataFrame(rows, columns=["indicateur", "valeur"])


# --------------------------------------------------------------------------- quality
def quality_box(period: pd.DataFrame, quality: dict | None, taxonomy, filters: dict | None) -> dict:
    """Data-quality facts shown beside the numbers."""
    q = dict(quality or {})
    n = len(period)
    review = int(period["needs_review"].sum()) if n else 0
    versions = sorted(str(v) for v in period["model_version"].dropna().unique() if str(v))
    tax_versions = sorted(str(v) for v in period["taxonomy_version"].dropna().unique() if str(v))
    unknown = sorted(set(map(str, period["root_cause"].unique())) - set(taxonomy.ids("root_cause"))) if n else []
    q.update({
        "complaints": n,
        "review": review,
        "review_share": review / n if n else None,
        "model_versions": versions,
        "taxonomy_versions": tax_versions,
        "taxonomy_file_version": str(taxonomy.version),
        "taxonomy_mismatch": bool(tax_versions) and tax_versions != [str(taxonomy.version)],
        "first_date": period["period_date"].min().date().isoformat() if n else None,
        "last_date": period["period_date"].max().date().isoformat() if n else None,
        "without_received_at": int((period["date_source"] != "received_at").sum()) if n else 0,
        "unknown_root_causes": unknown,
        "filtered": bool(filters and any(filters.get(c) is not None for c in FILTER_COLUMNS)),
        "privacy_module": privacy_module_available(),
        "has_ingestion_stats": quality is not None,
    })
    q.setdefault("quarantine_by_reason", {})
    return q


def quality_table(q: dict) -> pd.DataFrame:
    rows = [
        ("Réclamations analysées", q.get("complaints")),
        ("Signalées pour relecture (needs_review)", q.get("review")),
        ("Part signalée pour relecture", None if q.get("review_share") is None else round(q["review_share"], 4)),
        ("Sans date de réception (datées à l'ingestion)", q.get("without_received_at")),
        ("Version(s) du modèle", ", ".join(q.get("model_versions") or [])),
        ("Version de la taxonomie (données)", ", ".join(q.get("taxonomy_versions") or [])),
        ("Version de la taxonomie (fichier)", q.get("taxonomy_file_version")),
        ("Première date couverte", q.get("first_date")),
        ("Dernière date couverte", q.get("last_date")),
        ("Ingestions pendant la période", q.get("runs")),
        ("Lignes lues", q.get("rows_read")),
        ("Lignes stockées", q.get("rows_stored")),
        ("Doublons écartés", q.get("duplicates")),
        ("Lignes en quarantaine", q.get("quarantined")),
    ]
    rows += [(f"Quarantaine : {reason}", n) for reason, n in (q.get("quarantine_by_reason") or {}).items()]
    return pd.DataFrame([(k, "" if v is None else v) for k, v in rows], columns=["indicateur", "valeur"])


# --------------------------------------------------------------------------- headline

def why_sentence(row: pd.Series, alert_kind: str | None) -> str:
    """One French sentence saying why a cause is among the first to tackle."""
    n, crit, high = int(row["complaints"]), int(row["critique"]), int(row["haute"])
    text = (f"{row['label']} : {fmt_pct(row['priority_share'])} du score de priorité "
            f"({fmt_int(n)} réclamation{'s' if n > 1 else ''}")
    urgent_bits = []
    if crit:
        urgent_bits.append(f"{fmt_int(crit)} critique{'s' if crit > 1 else ''}")
    if high:
        urgent_bits.append(f"{fmt_int(high)} haute{'s' if high > 1 else ''}")
    text += (", dont " + " et ".join(urgent_bits) + ")") if urgent_bits else ", aucune urgente)"
    parts = [text]
    if row["previous"] == 0:
        parts.append("absente de la période précédente")
    elif row["change_pct"] is not None and abs(row["change_pct"]) >= 0.05:
        word = "en hausse" if row["change_pct"] > 0 else "en baisse"
        parts.append(f"{word} de {fmt_pct(abs(row['change_pct']))} sur la période précédente")
    else:
        parts.append("stable par rapport à la période précédente")
    if alert_kind == "hausse":
        parts.append("pic inhabituel la dernière semaine")
    elif alert_kind == "nouvelle":
        parts.append("apparue la dernière semaine")
    return ", ".join(parts) + f" ; à porter par {row['owner']}."


def headline(period: pd.DataFrame, previous: pd.DataFrame, pareto: pd.DataFrame, alerts: pd.DataFrame) -> dict:
    n, n_prev = len(period), len(previous)
    mix = period["urgency"].value_counts()
    urgency = {lvl: {"count": int(mix.get(lvl, 0)), "share": (int(mix.get(lvl, 0)) / n) if n else 0.0}
               for lvl in URGENCY_LEVELS}
    review = int(period["needs_review"].sum()) if n else 0
    alert_kind = dict(zip(alerts["root_cause"], alerts["kind"])) if len(alerts) else {}
    top = []
    for _, row in pareto.head(3).iterrows():
        top.append({"root_cause": row["root_cause"], "label": row["label"], "owner": row["owner"],
                    "priority": float(row["priority"]), "complaints": int(row["complaints"]),
                    "sentence": why_sentence(row, alert_kind.get(row["root_cause"]))})
    return {
        "complaints": n,
        "previous": n_prev,
        "change": n - n_prev,
        "change_pct": _pct(n, n_prev),
        "review": review,
        "review_share": review / n if n else None,
        "urgency": urgency,
        "urgent": urgency["critique"]["count"] + urgency["haute"]["count"],
        "off_topic": int((period["root_cause"] == OFF_TOPIC).sum()),
        "to_fix": int((period["root_cause"] != OFF_TOPIC).sum()),
        "alerts": int(len(alerts)),
        "top_causes": top,
    }


# --------------------------------------------------------------------------- entry point
def build_report(
    scored: pd.DataFrame,
    *,
    start,
    end,
    taxonomy,
    settings_report: dict,
    quality: dict | None = None,
    filters: dict | None = None,
    backlog: pd.DataFrame | None = None,
) -> Report:
    """Build every table of the report for ``[start, end]`` (dates, inclusive).

    ``scored`` may hold more than the period (history for the comparison and the
    trend, see :func:`pipeline.report.data.load_scored`); ``filters`` keeps rows of
    the given company/product/channel; ``backlog`` (from :func:`load_backlog`) gives
    the deadline indicators their full history, else they use ``scored``.
    """
    start, end = as_date(start), as_date(end)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    settings_report = dict(settings_report or {})
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    weights = urgency_weights(settings_report)
    weeks = max(int(settings_report.get("weeks_of_trend", 8)), 2)
    params = {
        "weights": weights,
        "weeks_of_trend": weeks,
        "spike_min_count": int(settings_report.get("spike_min_count", 5)),
        "spike_z": float(settings_report.get("spike_z", 3.0)),
        "spike_p": float(settings_report.get("spike_p", stats.SPIKE_P)),
        "new_min_count": stats.NEW_CAUSE_MIN_COUNT,
        "min_baseline_weeks": stats.MIN_BASELINE_WEEKS,
        "excerpt_chars": EXCERPT_CHARS,
        "top_words": stats.TOP_WORDS,
        "max_word_docs": stats.MAX_WORD_DOCS,
    }
    df = prepare(scored)
    texts = df["text"]
    df = apply_filters(df, filters)
    df = df[[c for c in WORK_COLUMNS if c in df.columns]]
    prev_start, prev_end = previous_period(start, end)
    period = select_period(df, start, end)
    previous = select_period(df, prev_start, prev_end)

    pareto = pareto_table(period, previous, taxonomy, weights)
    counts, totals, fraction = weekly_counts(df, end, weeks)
    params["last_week_fraction"] = fraction
    alerts = detect_alerts(counts, totals, min_count=params["spike_min_count"], z_min=params["spike_z"],
                           p_max=params["spike_p"], fraction=fraction)
    labels_rc = _labels(taxonomy, "root_cause")
    if len(alerts):
        alerts.insert(1, "label", alerts["root_cause"].map(lambda c: labels_rc.get(c, c)))
        alerts.insert(2, "owner", alerts["root_cause"].map(lambda c: cause_owner(taxonomy, c)))
    else:
        alerts = alerts.assign(label=pd.Series(dtype="object"), owner=pd.Series(dtype="object"))
        alerts = alerts[["root_cause", "label", "owner", *[c for c in alerts.columns
            if c not in ("root_cause", "label", "owner")]]]
    trend = counts.copy()
    trend.columns = [iso_week_label(pd.Timestamp(c).date()) for c in trend.columns]
    order = [c for c in pareto["root_cause"] if c in trend.index] + sorted(c for c in trend.index
        if c not in set(pareto["root_cause"]))
    trend = trend.reindex(order)
    trend.columns.name = "semaine"

    dl_frame = backlog if backlog is not None else df[df["period_date"] <= pd.Timestamp(end)]
    return Report(
        start=start, end=end, previous_start=prev_start, previous_end=prev_end, filters=filters,
        headline=headline(period, previous, pareto, alerts),
        pareto=pareto,
        owners=owners_table(period, previous, taxonomy, weights, texts=texts),
        heatmap=heatmap_table(period, taxonomy),
        trend=trend,
        alerts=alerts,
        urgent=urgent_table(period, taxonomy, texts=texts),
        words=words_table(period, taxonomy, texts=texts) if len(period) else stats.characteristic_words(
            pd.Series(dtype="str"), pd.Series(dtype="str")).rename(columns={"group": "root_cause"}).assign(label=""),
        quality=quality_box(period, quality, taxonomy, filters),
        deadlines={**deadlines(dl_frame, start, end),
                   "scope": "historique complet" if backlog is not None else "données chargées"},
        labels={h: _labels(taxonomy, h) for h in ("root_cause", "sector", "urgency")},
        parameters=params,
    )
