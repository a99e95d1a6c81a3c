"""Model files are verified before anything is unpickled."""
import json
import pickle
import shutil

import pytest

from pipeline import registry
from pipeline.errors import ModelIntegrityError, ModelNotFoundError


@pytest.fixture
def model_copy(tmp_path, trained_model_dir):
    target = tmp_path / "v"
    shutil.copytree(trained_model_dir, target)
    return target


def _forbid_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was attempted")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def test_tampered_model_file_is_refused_before_unpickling(model_copy, monkeypatch):
    with open(model_copy / "model.pkl", "ab") as handle:
        handle.write(b"\x00")
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ModelIntegrityError, match="SHA-256 mismatch"):
        registry.load_model(model_copy)


def test_replaced_model_file_is_refused(model_copy, monkeypatch):
    # A hostile pickle that would run code when loaded: it must never be opened.
    (model_copy / "model.pkl").write_bytes(pickle.dumps(print))
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ModelIntegrityError):
        registry.load_model(model_copy)


def test_card_without_checksums_is_refused(model_copy):
    card = json.loads((model_copy / "model_card.json").read_text())
    card["files"] = {}
    (model_copy / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(ModelIntegrityError, match="no file checksums"):
        registry.load_model(model_copy)


def test_missing_card_and_missing_current(tmp_path):
    with pytest.raises(ModelNotFoundError):
        registry.load_model(tmp_path)
    with pytest.raises(ModelNotFoundError, match="no current model"):
        registry.resolve_model_dir(tmp_path / "models")


def test_intact_model_loads(model_copy):
    assert registry.load_model(model_copy).version == "test-v1"


def test_versions_are_never_overwritten(model_copy, model):
    with pytest.raises(FileExistsError):
        registry.save_model(model, model_copy, {})


def test_current_pointer(tmp_path):
    registry.set_current(tmp_path, "v2")
    assert registry.current_version(tmp_path) == "v2"
    (tmp_path / "v2").mkdir()
    assert registry.resolve_model_dir(tmp_path) == tmp_path / "v2"


def test_skops_format_round_trip_with_trusted_types(tmp_path, model):
    pytest.importorskip("skops")
    out = registry.save_model(model, tmp_path / "sk", {}, fmt="skops")
    loaded = registry.load_model(out)
    text = ["Ma facture est fausse"]
    assert loaded.predict_frame(text)["root_cause"].tolist() == model.predict_frame(text)["root_cause"].tolist()
