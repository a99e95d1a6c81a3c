"""Short, re-masked excerpts of complaint texts: the only text a report shows.

Texts in the store are already masked at ingestion. Every excerpt is masked again
(defence in depth) by ``pipeline.privacy.mask_text`` and then by a last regex
belt for the identifiers a report must never show (e-mail, phone, IBAN, card or
long account numbers), so that a masking regression upstream cannot leak into a
document that is mailed around.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache

log = logging.getLogger(__name__)

EXCERPT_CHARS = 160
# Raw characters looked at to build one excerpt (masking only shortens text).
_RAW_WINDOW = 800

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])(?:(?:\+|00)\d{2,3}[\s.\-]?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I)
_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_LONG_NUMBER = re.compile(r"(?<![\d<])\d{8,}(?!\d)")
_SPACES = re.compile(r"\s+")
_OPEN_PLACEHOLDER = re.compile(r"<[A-Z_]*$")

_privacy_state = {"fallback_warned": False}


def _belt(text: str) -> str:
    text = _EMAIL.sub("<EMAIL>", text)
    text = _IBAN.sub("<IBAN>", text)
    text = _CARD.sub("<CARTE>", text)
    text = _PHONE.sub("<TEL>", text)
    return _LONG_NUMBER.sub("<REF>", text)


def privacy_module_available() -> bool:
    try:
        from pipeline.privacy import mask_text  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=65536)
def mask(text: str) -> str:
    """``pipeline.privacy.mask_text`` (imported lazily) then the regex belt."""
    try:
        from pipeline.privacy import mask_text
    except ImportError:
        if not _privacy_state["fallback_warned"]:
            log.warning("pipeline.privacy is not available: excerpts masked by the report's regex belt only")
            _privacy_state["fallback_warned"] = True
        return _belt(text)
    return _belt(mask_text(text))


def excerpt(text, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``text``, re-masked, cut on a word boundary."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    raw = _SPACES.sub(" ", str(text)).strip()
    if not raw:
        return ""
    if len(raw) > _RAW_WINDOW:
        cut = raw.rfind(" ", 0, _RAW_WINDOW)
        raw = raw[: cut if cut > 0 else _RAW_WINDOW]
    masked = _SPACES.sub(" ", mask(raw)).strip()
    if len(masked) <= limit:
        return masked
    cut = masked[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    cut = _OPEN_PLACEHOLDER.sub("", cut).rstrip(" ,;:.-")
    return cut + "…"
