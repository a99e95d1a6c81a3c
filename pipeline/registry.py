"""Model versions on disk: save with a model card, verify before loading.

Layout: ``models/<version>/`` holds ``model.pkl`` (or ``model.skops``) and
``model_card.json``; ``models/CURRENT`` names the version in use.

Why every file's SHA-256 is checked before loading: unpickling runs
code. A model folder copied from elsewhere, or altered on disk, must be refused
before it is opened, not after. The skops format goes further: it loads only
types on an allow-list, and refuses any other.
"""
from __future__ import annotations

import gc
import json
import os
import pickle
import platform
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .errors import ModelIntegrityError, ModelNotFoundError
from .io import sha256_file, write_text_atomic

CARD = "model_card.json"
CURRENT = "CURRENT"
# "pickle": protocol 5 with the C unpickler, ten times faster to load than joblib's
# pure-Python one (0.04 s vs 0.3 s here), which matters for the CLI's cold start.
FORMATS = ("pickle", "skops")
_LIBRARIES = ("scikit-learn", "spacy", "spacy-lookups-data", "numpy", "scipy", "pandas", "joblib", "skops")
# Types a skops model file may contain beyond scikit-learn's own: the project's
# estimators and the numpy/spaCy-free containers they hold.
TRUSTED_PROJECT_TYPES = (
    "pipeline.context.ContextFeatures",
    "pipeline.estimators.CalibratedLinearClassifier",
    "pipeline.preprocess.FrenchPreprocessor",
    "pipeline.preprocess.TextNormaliser",
    "pipeline.rules.UrgencyRuleFlags",
    "pipeline.vectorizers.CharNgramTfidf",
    "pipeline.model.ComplaintModel",
    "pipeline.model.ReviewPolicy",
)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def new_version(data_hash: str) -> str:
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{data_hash[:6]}"


def save_model(model, out_dir: Path, card: dict, fmt: str = "pickle") -> Path:
    """Write the model and its card into ``out_dir`` (created atomically as a whole)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists; model versions are never overwritten")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model_file = staging / ("model.pkl" if fmt == "pickle" else "model.skops")
        if fmt == "pickle":
            with open(model_file, "wb") as handle:
                pickle.dump(model, handle, protocol=5)
        else:
            import skops.io as sio

            sio.dump(model, model_file)
        card = {
            **card,
            "version": model.version,
            "taxonomy_version": model.taxonomy_version,
            "inputs": model.inputs(),
            "format": fmt,
            "created_at": card.get("created_at") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            "files": {model_file.name: sha256_file(model_file)},
        }
        (staging / CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def read_card(model_dir: Path) -> dict:
    card_path = Path(model_dir) / CARD
    if not card_path.is_file():
        raise ModelNotFoundError(f"{model_dir}: not a model folder (no {CARD}); train one with `complaints train`")
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{card_path}: unreadable model card ({exc})") from None


def verify(model_dir: Path) -> dict:
    """Check every file listed in the card against its SHA-256; return the card."""
    model_dir = Path(model_dir)
    card = read_card(model_dir)
    files = card.get("files") or {}
    if not files:
        raise ModelIntegrityError(f"{model_dir}: the model card lists no file checksums; refusing to load")
    for name, expected in files.items():
        path = model_dir / name
        if Path(name).name != name or not path.is_file():
            raise ModelIntegrityError(f"{model_dir}: file {name!r} listed in the model card is missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelIntegrityError(
                f"{path}: SHA-256 mismatch (card {expected[:12]}…, file {actual[:12]}…); "
                "the file was changed after training, refusing to load it (unpickling runs code)"
            )
    return card


def load_model(model_dir: Path):
    """Verify, then load. Nothing is unpickled before every checksum matched."""
    model_dir = Path(model_dir)
    card = verify(model_dir)
    name = next(iter(card["files"]))
    path = model_dir / name
    if card.get("format") == "skops":
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=path)
        unknown = [t for t in untrusted if t not in TRUSTED_PROJECT_TYPES and not _trusted_library_type(t)]
        if unknown:
            raise ModelIntegrityError(f"{path}: contains types outside the allow-list: {', '.join(unknown[:5])}")
        return _check_format(sio.load(path, trusted=untrusted))
    # The garbage collector would scan the growing object graph (vocabularies, lemma
    # table) many times during the load: off for its duration, ~0.2 s of cold start.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as handle:
            model = pickle.load(handle)  # safe only because verify() matched every SHA-256
    finally:
        if was_enabled:
            gc.enable()
    return _check_format(model)


def _check_format(model):
    """A model from an older version of the tool fails here, with what to do, not mid-scoring."""
    model.check_format()
    return model


def _trusted_library_type(name: str) -> bool:
    return name.startswith(("sklearn.", "numpy.", "scipy.sparse.", "builtins.", "collections."))


# -- which version is current -----------------------------------------------------------
def set_current(models_dir: Path, version: str) -> None:
    write_text_atomic(Path(models_dir) / CURRENT, version + "\n")


def current_version(models_dir: Path) -> str | None:
    path = Path(models_dir) / CURRENT
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def resolve_model_dir(models_dir: Path, explicit: str | Path | None = None) -> Path:
    """``--model DIR`` when given, else the version named in ``models/CURRENT``."""
    if explicit:
        path = Path(explicit)
        if not path.is_dir():
            raise ModelNotFoundError(f"{path}: no such model folder")
        return path
    version = current_version(models_dir)
    if not version:
        raise ModelNotFoundError(
            f"no current model in {models_dir} (no {CURRENT} file); run `complaints train` or `make demo`"
        )
    path = Path(models_dir) / version
    if not path.is_dir():
        raise ModelNotFoundError(f"{models_dir}/{CURRENT} names {version!r}, but {path} does not exist")
    return path
