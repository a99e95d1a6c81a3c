import pytest

from pipeline.rules import RULE_NAMES, UrgencyRuleFlags, fired_rules


@pytest.mark.parametrize("text, rule", [
    ("Il y a une forte odeur de gaz depuis l'intervention", "danger"),
    ("Le chargeur a pris feu dans la chambre de mon fils", "danger"),
    ("Toute la famille intoxiquée après le repas, ma fille hospitalisée", "food_illness"),
    ("Nous sommes tous tombés malades après le dîner", "food_illness"),
    ("Ma fille de 3 ans a froid, il fait 12 degrés, vous avez coupé le gaz", "vulnerable_person_deprived"),
    ("Je suis dans une situation financière désastreuse à cause de vous", "no_resources"),
    ("Ma mère de 91 ans est sans chauffage depuis jeudi", "vulnerable_person_deprived"),
    ("Coupure d'électricité alors que mon père est sous oxygène", "vulnerable_person_deprived"),
    ("Mon compte a été piraté et des paiements frauduleux continuent", "fraud_in_progress"),
    ("Je n'ai plus un centime pour nourrir mes enfants", "no_resources"),
    ("Je vais saisir le médiateur et mon avocat", "legal_threat"),
    ("Sans réponse je contacte UFC Que Choisir", "legal_threat"),
    ("Je vais alerter la presse et les réseaux sociaux", "media_threat"),
    ("j'en ai marre j'ai plus envie de vivre", "distress"),
])
def test_each_rule_fires_on_its_situation(text, rule):
    assert rule in [r.name for r in fired_rules(text)]


@pytest.mark.parametrize("text", [
    "En entrée un avocat crevettes délicieux",
    "Ma box est en panne depuis trois jours",
    "Le bébé dort bien, merci pour la livraison rapide",  # vulnerable, nothing deprived
    "Facture de gaz trop élevée ce mois-ci",
    "Ma facture a explosé ce mois-ci",                     # figurative
    "Sinistre incendie de 2019 toujours pas indemnisé",    # a past event, a claim
    "Cuisine gastronomique, service à vomir de lenteur",   # neither illness
])
def test_rules_stay_silent_on_look_alikes(text):
    assert fired_rules(text) == []


def test_rules_match_without_accents():
    assert [r.name for r in fired_rules("ODEUR DE GAZ dans l'immeuble")] == ["danger"]
    assert "legal_threat" in [r.name for r in fired_rules("je saisis le mediateur")]


def test_rule_flags_are_one_column_per_rule():
    flags = UrgencyRuleFlags().fit(["x"]).transform(["odeur de gaz", "merci"])
    assert flags.shape == (2, len(RULE_NAMES))
    assert flags[0, RULE_NAMES.index("danger")] == 1 and flags[1].sum() == 0
