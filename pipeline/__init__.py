"""French complaint analytics: tag complaints with sector, root cause and urgency.

Public API (imported lazily so that the CLI starts fast)::

    from pipeline import load_settings, load_taxonomy, load_model, train, mask_text

Modules: ``config`` (paths, settings), ``taxonomy`` (label set), ``io`` (files),
``text`` / ``preprocess`` (normalisation, spaCy), ``rules`` (urgency rules),
``vectorizers`` (cached character n-grams), ``estimators`` / ``model`` (the heads), ``training``, ``evaluation``, ``registry``
(model versions), ``scoring`` (batch), ``privacy`` (masking), ``store`` (ingest and
predictions on disk), ``review``, ``report`` (root-cause reports).
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "load_settings": "config",
    "load_taxonomy": "taxonomy",
    "load_model": "registry",
    "save_model": "registry",
    "train": "training",
    "load_labelled": "training",
    "build_pipeline": "model",
    "ComplaintModel": "model",
    "FrenchPreprocessor": "preprocess",
    "CalibratedLinearClassifier": "estimators",
    "mask_text": "privacy",
    "ComplaintsError": "errors",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
