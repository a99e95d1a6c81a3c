"""The label set: 12 sectors, 13 root causes (each owned by a department), 4 urgencies.

The project's copy (``taxonomy.yaml`` beside this module) carries exactly the ids of
the reference taxonomy. This module loads and validates it; every output of the
pipeline uses these ids, and training data is checked against them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from .errors import ComplaintsError, LabelError

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")
HEADS = ("sector", "root_cause", "urgency")
# Urgency levels from the most to the least pressing: rules only ever raise urgency.
URGENCY_ORDER = ("critique", "haute", "normale", "basse")
EXPECTED_COUNTS = {"sector": 12, "root_cause": 13, "urgency": 4}


@dataclass(frozen=True)
class Label:
    id: str
    label: str
    owner: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    version: str
    heads: Mapping[str, Mapping[str, Label]]

    def ids(self, head: str) -> list[str]:
        return list(self.heads[head])

    def label(self, head: str, label_id: str) -> str:
        return self.heads[head][label_id].label

    def owner(self, root_cause: str) -> str:
        return self.heads["root_cause"][root_cause].owner or "—"

    def owners(self) -> dict[str, str]:
        """Root cause id -> owner department."""
        return {k: v.owner or "—" for k, v in self.heads["root_cause"].items()}

    def validate_labels(self, head: str, values: Iterable, row_ids: Iterable | None = None) -> None:
        """Raise LabelError naming the first row whose label is not in the taxonomy."""
        allowed = self.heads[head]
        row_ids = list(row_ids) if row_ids is not None else None
        for position, value in enumerate(values):
            if value not in allowed:
                where = f"row {row_ids[position]!r}" if row_ids is not None else f"row {position + 1}"
                raise LabelError(
                    f"{where}: unknown {head} label {value!r} "
                    f"(expected one of: {', '.join(allowed)})"
                )


def _parse(raw: dict, source: Path) -> Taxonomy:
    if not isinstance(raw, dict) or "version" not in raw:
        raise ComplaintsError(f"{source}: not a taxonomy file (no 'version' key)")
    heads: dict[str, dict[str, Label]] = {}
    for head, expected in EXPECTED_COUNTS.items():
        entries = raw.get(head)
        if not isinstance(entries, dict) or len(entries) != expected:
            found = len(entries) if isinstance(entries, dict) else 0
            raise ComplaintsError(f"{source}: {head} must have {expected} labels, found {found}")
        heads[head] = {
            key: Label(
                id=key,
                label=str(value.get("label", key)),
                owner=value.get("owner"),
                description=value.get("covers") or value.get("rule"),
            )
            for key, value in entries.items()
        }
    missing_owner = [k for k, v in heads["root_cause"].items() if not v.owner]
    if missing_owner:
        raise ComplaintsError(f"{source}: root causes without owner: {', '.join(missing_owner)}")
    if set(heads["urgency"]) != set(URGENCY_ORDER):
        raise ComplaintsError(f"{source}: urgency ids must be {', '.join(URGENCY_ORDER)}")
    return Taxonomy(version=str(raw["version"]), heads=heads)


@lru_cache(maxsize=4)
def load_taxonomy(path: Path | str = TAXONOMY_FILE) -> Taxonomy:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ComplaintsError(f"cannot read taxonomy {path}: {exc}") from None
    return _parse(raw, path)
