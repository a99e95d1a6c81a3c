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
# Raw characters masked to build one excerpt: masking costs ~0.1 ms per 200
# characters, texts can be 20,000 long. When masking leaves less than the excerpt
# from a truncated window, the whole text is masked (see ``excerpt``).
_RAW_WINDOW = 2 * EXCERPT_CHARS + 80
# Longest identifier fragment (address, IBAN...) that could survive masking at the
# window edge: the masked window must extend that far beyond the excerpt.
_TAIL_GUARD = 120

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])(?:(?:\+|00)\d{2,3}[\s.\-]?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I)
_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_LONG_NUMBER = re.compile(r"(?<![\d<])\d{8,}(?!\d)")
_SPACES = re.compile(r"\s+")
_OPEN_PLACEHOLDER = re.compile(r"<[A-Z_]*$")

_privacy_state = {"fallback_warned": False}


# Identifiers that carry digits, most specific first, in one pass.
_DIGITS_ID = re.compile("|".join(f"(?P<{name}>{rx.pattern})" for name, rx in (
    ("IBAN", _IBAN), ("CARTE", _CARD), ("TEL", _PHONE), ("REF", _LONG_NUMBER))), re.I)
_HAS_DIGITS = re.compile(r"\d{2}")


def _belt(text: str) -> str:
    """Last-resort masking of e-mails, IBAN, card, phone and long numbers."""
    if "@" in text:
        text = _EMAIL.sub("<EMAIL>", text)
    if _HAS_DIGITS.search(text):
        text = _DIGITS_ID.sub(lambda m: f"<{m.lastgroup}>", text)
    return text


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
    full = _SPACES.sub(" ", str(text)).strip()
    if not full:
        return ""
    raw = full
    window = max(_RAW_WINDOW, 2 * limit + 80)
    if len(full) > window:
        cut = full.rfind(" ", 0, window)
        raw = full[: cut if cut > 0 else window]
    masked = _SPACES.sub(" ", mask(raw)).strip()
    if len(raw) < len(full) and len(masked) < limit + _TAIL_GUARD:
        # An identifier cut at the window edge may have escaped masking; it sits in
        # the last characters of ``masked``. Too close to the excerpt: mask it all.
        masked = _SPACES.sub(" ", mask(full)).strip()
    if len(masked) <= limit:
        return masked
    cut = masked[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    cut = _OPEN_PLACEHOLDER.sub("", cut).rstrip(" ,;:.-")
    return cut + "…"
