"""Column contracts between stages: what ingest stores, what scoring writes.

Kept in one module so that the store, the flows, the CLI and the reports agree.
"""
from __future__ import annotations

# Optional columns an input file may carry besides the text.
OPTIONAL_INPUT_COLUMNS = ("id", "received_at", "answered_at", "channel", "company", "product", "rating")
# Accepted names for the text column, in order of preference.
TEXT_COLUMN_CANDIDATES = ("text", "texte", "message", "complaint", "reclamation", "réclamation", "body")

# data/processed/complaints/ingest_date=YYYY-MM-DD/*.parquet
COMPLAINT_COLUMNS = (
    "complaint_id",   # input id when given (else derived from the text hash), unique in the store
    "text",           # personal data masked
    "text_hash",      # sha256 of the normalised text: duplicate detection across runs
    "received_at",    # timestamp or null
    "answered_at",    # timestamp or null
    "channel",
    "company",
    "product",
    "rating",         # a review's stars, 1-5 (input column rating/note/stars/etoiles), or null
    "source_file",
    "ingested_at",    # timestamp (UTC)
    "ingest_date",    # partition key, YYYY-MM-DD string
)

# data/processed/quarantine/ingest_date=YYYY-MM-DD/*.parquet
QUARANTINE_COLUMNS = ("source_file", "row_number", "reason", "complaint_id", "text_masked", "ingested_at")

# The public prediction columns (CLI output and the predictions store).
PREDICTION_COLUMNS = (
    "id",
    "sector",
    "sector_proba",
    "root_cause",
    "root_cause_proba",
    "urgency",
    "urgency_proba",
    "needs_review",
    "evidence",
    "model_version",
    "taxonomy_version",
)
# Extra detail columns written beside them.
PREDICTION_DETAIL_COLUMNS = (
    "sector_alt",
    "sector_alt_proba",
    "root_cause_alt",
    "root_cause_alt_proba",
    "urgency_alt",
    "urgency_alt_proba",
    "urgency_rule",   # which explicit urgency rule fired (empty when none)
    "review_reasons", # why needs_review is true (e.g. "root_cause:low_proba;lang:not_french")
    "flags",          # input flags: empty_text, truncated, not_french, binary
)


def complaint_arrow_schema():
    """Fixed Parquet types for the complaints store: every part must read as one dataset,
    whatever the input file had (no dates at all, dates without time zone…)."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema([
        ("complaint_id", pa.string()), ("text", pa.string()), ("text_hash", pa.string()),
        ("received_at", ts), ("answered_at", ts), ("channel", pa.string()), ("company", pa.string()),
        ("product", pa.string()), ("rating", pa.float64()), ("source_file", pa.string()), ("ingested_at", ts),
    ])
