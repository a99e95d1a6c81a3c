"""Paths and settings: the one place every other module asks.

Every path resolves from ``COMPLAINTS_HOME`` (environment variable; default the
repository root) so that users, tests and the demo run isolated copies. Tunables
come from ``settings.toml`` shipped with the package, overridden key by key by an
optional ``complaints.toml`` in ``COMPLAINTS_HOME``.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
_DEFAULTS = Path(__file__).with_name("settings.toml")


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def complaints_home() -> Path:
    return Path(os.environ.get("COMPLAINTS_HOME") or REPO_ROOT).resolve()


@dataclass(frozen=True)
class Paths:
    """Every folder the pipeline reads or writes, under one home."""

    home: Path
    layout: dict

    def _p(self, key: str) -> Path:
        return self.home / self.layout[key]

    @property
    def inbox(self) -> Path:
        return self._p("inbox")

    @property
    def archive(self) -> Path:
        return self._p("archive")

    @property
    def labels(self) -> Path:
        return self._p("labels")

    @property
    def corpus(self) -> Path:
        return self._p("corpus")

    @property
    def processed(self) -> Path:
        return self._p("processed")

    @property
    def complaints(self) -> Path:
        return self.processed / "complaints"

    @property
    def predictions(self) -> Path:
        return self.processed / "predictions"

    @property
    def quarantine(self) -> Path:
        return self.processed / "quarantine"

    @property
    def raw_texts(self) -> Path:
        """Unmasked texts, only when [privacy] keep_raw_text is true; purged by retention."""
        return self.processed / "raw_texts"

    @property
    def runs(self) -> Path:
        """Per-run ingestion statistics (counts in/out/duplicates/quarantined)."""
        return self.processed / "runs"

    @property
    def review(self) -> Path:
        return self.processed / "review"

    @property
    def models(self) -> Path:
        return self._p("models")

    @property
    def reports(self) -> Path:
        return self._p("reports")


@dataclass(frozen=True)
class Settings:
    home: Path
    values: dict

    @cached_property
    def paths(self) -> Paths:
        return Paths(self.home, self.values["paths"])

    def __getitem__(self, section: str) -> Any:
        return self.values[section]


def load_settings(home: Path | None = None) -> Settings:
    """Defaults from the package, then ``complaints.toml`` in the home if present."""
    home = Path(home).resolve() if home else complaints_home()
    values = tomllib.loads(_DEFAULTS.read_text(encoding="utf-8"))
    override = home / "complaints.toml"
    if override.is_file():
        values = _merge(values, tomllib.loads(override.read_text(encoding="utf-8")))
    return Settings(home, values)
