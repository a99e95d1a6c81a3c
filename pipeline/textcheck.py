"""Per-text input checks: what is wrong with a text, without refusing the whole file."""
from __future__ import annotations

import re

# Common French and English function words: enough to tell the two apart on a few words.
_FRENCH = frozenset(
    "le la les de des du et je j tu il elle nous vous ils un une est pas ne n pour que qui "
    "mon ma mes votre vos sur avec dans au aux ce cette c ça on plus depuis chez suis ai a".split()
)
_OTHER = frozenset(
    "the and is are to of my for not you it this with was have that your from please "
    "der die das und ist nicht el los las por para muy pero".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# C0 control characters other than tab/newline/carriage return, and the Unicode
# replacement character left by a wrong decoding.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def input_flags(text: str, max_chars: int = 20000) -> list[str]:
    """Flags for one text: empty_text, binary, truncated, not_french."""
    if not text or not text.strip():
        return ["empty_text"]
    flags = []
    sample = text[:5000]
    if len(_JUNK.findall(sample)) > max(3, 0.05 * len(sample)):
        return ["binary"]
    if len(text) > max_chars:
        flags.append("truncated")
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) >= 5:
        french = sum(w in _FRENCH for w in words)
        other = sum(w in _OTHER for w in words)
        if other > french:
            flags.append("not_french")
    return flags
