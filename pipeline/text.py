"""Text normalisation before spaCy: unicode, whitespace, case and placeholder tokens.

Placeholders are upper-case words (``URL``, ``EMAIL``, ``TEL``...) in an otherwise
lower-cased text, so they can never collide with a real French word and read well
as evidence ("MONTANT, rembourser, jamais").
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Typed placeholders written by the privacy masking (``<EMAIL>``...) map to the same
# tokens, so a model trained on raw text scores masked text the same way.
_MASK_PLACEHOLDER = re.compile(r"<([A-Z_]{2,12})>")

_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:fr|com|net|org|eu|io)(?:/\S*)?\b", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MENTION = re.compile(r"(?<!\w)@\w{2,}")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)33[\s.\-]?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)")
_AMOUNT = re.compile(
    r"(?<![\w])(?:\d{1,3}(?:[ \u202f.]\d{3})+|\d+)(?:[.,]\d{1,2})?\s?(?:€|eur(?:os?)?\b|euros?\b)"
    r"|€\s?\d+(?:[.,]\d{1,2})?",
    re.I,
)
_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_DATE = re.compile(
    r"\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"
    rf"|\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})(?:\s+\d{{4}})?\b"
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.I,
)
_REPEAT = re.compile(r"(.)\1{3,}")          # "nuuuuul" -> "nuul": typed intensity, not vocabulary
_SPACES = re.compile(r"\s+")
# Some scraped tweet collections turn line breaks into a literal "nn" glued after
# punctuation ("bonjour,nnma box"). Only after punctuation: "bonne", "personne" stay whole.
_GLUED_NN = re.compile(r"(?<=[,.!?:;)])nn(?=[a-zà-ÿ])")

PLACEHOLDERS = ("URL", "EMAIL", "MENTION", "TEL", "MONTANT", "DATE")


# Both feature branches (spaCy lemmas, character n-grams) normalise the same texts in
# the same call: the memo makes the second pass free. Sized above a scoring chunk.
@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Unicode NFKC, one space between words, lower case, placeholder tokens."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _MASK_PLACEHOLDER.sub(lambda m: f" {m.group(1).upper()} ", text)
    text = _URL.sub(" URL ", _EMAIL.sub(" EMAIL ", text))
    text = _MENTION.sub(" MENTION ", text)
    text = _HASHTAG.sub(r" \1 ", text)
    text = _PHONE.sub(" TEL ", text)
    text = _AMOUNT.sub(" MONTANT ", text)
    text = _DATE.sub(" DATE ", text)
    # Lower-case everything but the placeholders, which are the only upper-case words.
    text = _GLUED_NN.sub(" ", text)
    text = " ".join(w if w in _PLACEHOLDER_SET else w.lower() for w in _SPACES.split(text) if w)
    return _REPEAT.sub(r"\1\1", text)


_PLACEHOLDER_SET = frozenset(PLACEHOLDERS) | {
    "NOM", "REF", "IBAN", "CARTE", "NIR", "SIRET", "SIREN", "ADRESSE", "TEL", "EMAIL", "URL",
}


def is_placeholder(token: str) -> bool:
    return token in _PLACEHOLDER_SET
