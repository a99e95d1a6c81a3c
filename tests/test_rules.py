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
    # vulnerable_person_deprived: "aînés" and an age alone (75-119 years) say elderly
    ("Nos aînés n'ont plus de chauffage dans la résidence depuis lundi", "vulnerable_person_deprived"),
    ("nos ainees de la residence n'ont plus d'eau chaude", "vulnerable_person_deprived"),
    ("Une femme de 94 ans vit sans eau chaude depuis une semaine", "vulnerable_person_deprived"),
    ("Ma voisine, âgée de 80 ans, prend des douches glaciales depuis dix jours", "vulnerable_person_deprived"),
    ("mon oncle de plus de 75 ans n'a plus de chauffage cet hiver", "vulnerable_person_deprived"),
    ("mon grand-pere de 102 ans a le chauffe-eau HS depuis noel", "vulnerable_person_deprived"),
    # ... and the new deprivations
    ("Ma grand-mère de 88 ans prend des douches froides depuis deux semaines", "vulnerable_person_deprived"),
    ("Ma tante âgée de 87 ans a la chaudière en panne depuis samedi", "vulnerable_person_deprived"),
    ("Chez mon père de 83 ans, le chauffage ne marche plus et personne ne vient", "vulnerable_person_deprived"),
    ("Le chauffe-eau ne fonctionne plus chez ma mère de 92 ans", "vulnerable_person_deprived"),
    ("Votre technicien a laissé en panne la chaudière d'une dame de 90 ans", "vulnerable_person_deprived"),
    ("Dans la résidence personne n'a de chauffage, et ma mère a 85 ans", "vulnerable_person_deprived"),
    # food_illness: new illness wordings and food words
    ("Nous sommes tous tombés malades après avoir mangé dans votre resto", "food_illness"),
    ("mon mari est tombe malade apres le poulet de votre traiteur", "food_illness"),
    ("Je suis tombée malade après un plat de votre traiteur", "food_illness"),
    ("Nous avons tous été malades après les huîtres", "food_illness"),
    ("nous avons tous ete malade apres le plateau de fruits de mer", "food_illness"),
    ("Les enfants sont malades depuis le menu du midi", "food_illness"),
    ("Maux de ventre pour toute la famille après votre livraison de sushis", "food_illness"),
    ("Vomissements toute la nuit après le menu enfant", "food_illness"),
    ("Diarrhée pour mes deux enfants depuis le poulet acheté chez vous", "food_illness"),
    ("Ma fille a eu des vomissements après la viande de la boucherie", "food_illness"),
    ("Mes enfants sont tombés malades après le repas de la cantine", "food_illness"),
    # no_resources: "je vis avec (moins de) N euros"
    ("Je vis avec 400 euros par mois, je ne peux pas payer cette facture", "no_resources"),
    ("je vis avec moins de 400€ par mois et vous me prelevez deux fois", "no_resources"),
    ("Nous vivons avec 650 euros à trois depuis mon licenciement", "no_resources"),
    # food_hygiene: pests, unsanitary kitchen, broken cold chain, with a food word
    ("J'ai vu un rat traverser la cuisine du restaurant", "food_hygiene"),
    ("des cafards couraient sous les plats au resto", "food_hygiene"),
    ("Des blattes dans le plat livré ce midi", "food_hygiene"),
    ("La cuisine de ce traiteur est insalubre", "food_hygiene"),
    ("la chaine du froid n'a pas ete respectee, la viande etait tiede", "food_hygiene"),
    ("La chaîne du froid n'a pas été respectée pour mon poisson", "food_hygiene"),
    ("Il y avait des asticots dans le poulet", "food_hygiene"),
    ("Hygiène déplorable dans ce restaurant, les tables sont collantes", "food_hygiene"),
    ("hygiene douteuse a la cantine de mon fils", "food_hygiene"),
    ("Propreté lamentable dans la salle du resto", "food_hygiene"),
    # Found by review of the first version of these patterns (they missed these).
    ("J'ai été malade toute la nuit après votre repas", "food_illness"),
    ("Ma fille a 4 mois et la chaudière est en panne depuis samedi, il fait 14 degrés", "vulnerable_person_deprived"),
    ("Ma mère (86 ans) n'a plus d'eau chaude depuis lundi", "vulnerable_person_deprived"),
    ("il neige et ma mere est sans chauffage depuis jeudi", "vulnerable_person_deprived"),
    ("Mes parents n'ont plus d'électricité depuis votre intervention de mardi", "vulnerable_person_deprived"),
    # Fourth pass (missed critique cases of the real train split, rewritten): a variant of
    # "handicapé", a wheelchair, "à l'eau froide", no boiler, "how do I live".
    ("Je suis polyhandicapé et sans eau chaude depuis le 3 du mois", "vulnerable_person_deprived"),
    ("Mon mari est en fauteuil roulant et nous sommes sans chauffage", "vulnerable_person_deprived"),
    ("Je suis handicapée et je me retrouve à l'eau froide depuis trois semaines", "vulnerable_person_deprived"),
    ("Nous avons un bébé et plus de chaudière depuis la panne", "vulnerable_person_deprived"),
    ("Aucune indemnité depuis six mois, comment je fais pour vivre ?", "no_resources"),
    ("mais comment fait-on pour vivre pendant ce temps ?", "no_resources"),
    # ... and what a second reader of that pass found missing
    ("Plus aucun versement : de quoi vais-je vivre ?", "no_resources"),
    ("Sans indemnités, comment vais je faire pour vivre avec mes enfants", "no_resources"),
    ("On n'a que de l'eau froide depuis dix jours avec notre bébé de 4 mois", "vulnerable_person_deprived"),
    ("Ma mère de 84 ans : la chaudière ne démarre plus depuis lundi", "vulnerable_person_deprived"),
    ("Chez ma grand-mère de 91 ans la chaudière est tombée en panne samedi", "vulnerable_person_deprived"),
    ("Mon père est en fauteuil et il est sans chauffage depuis trois jours", "vulnerable_person_deprived"),
    ("Toujours pas d'électricité chez nous, et mon fils est PMR", "vulnerable_person_deprived"),
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
    # vulnerable people, nothing deprived
    "J'ai 2 enfants de 5 et 8 ans, merci de corriger la facture",
    "Ma mère de 91 ans est ravie de sa nouvelle box",
    "Nos aînés ont adoré le repas livré par votre traiteur",
    "Mon fils aîné n'a plus de téléphone depuis la panne",      # "aîné" = eldest, not elderly
    # pests or filth with no food involved
    "la souris de mon ordinateur ne marche plus",
    "J'ai trouvé un rat mort dans ma cave, le syndic ne fait rien",
    "Des cafards dans la cage d'escalier, l'agence ne répond pas",
    "Logement insalubre, le propriétaire ne fait rien depuis des mois",
    # ill, but not from food; "malade" as a figure of speech
    "J'étais malade le jour de la livraison, je n'ai pas pu réceptionner le colis",
    "j'etais malade le jour de la livraison, je n'ai pas pu receptionner",
    "Ce plat me rend malade tellement il est cher",
    "Le menu déroulant du site ne marche plus",
    # "je vis avec" without an income
    "Je vis avec mon compagnon et nos deux chats",
    # Misfires of the first version of these patterns: an old house, a missed parcel,
    # a comfortable income, a figure of speech.
    "Notre maison de plus de 100 ans a la chaudière en panne depuis lundi",
    "Mon fils est tombé malade, je n'ai pas pu être présent pour la livraison",
    "Cafards dans le hall de l'immeuble, et la livraison du colis a encore été oubliée",
    "Je vis avec 4000 euros par mois et je trouve ça cher",
    # a parent, but no deprivation in the same sentence
    "Ma mère a résilié son contrat. Depuis, toujours pas de remboursement du trop-perçu de gaz",
    "Nous sommes malades de voir comment vous traitez vos clients, le produit est défectueux",
    # Fourth pass look-alikes: cold water asked for, an accessible room, living abroad.
    "Le plat est arrivé froid, servi avec un verre d'eau froide",
    "Chambre pour personne à mobilité réduite très bien équipée, merci",
    "Comment faire pour vivre à l'étranger avec votre forfait ?",
    "Comment je fais pour vivre en Espagne six mois avec cette box ?",
    "Plus de chaudière à remplacer : le technicien a tout réglé, merci",
    # ... and the misfires a second reader found in it
    "Le body de mon bébé a rétréci alors que je l'ai lavé à l'eau froide",
    "Piscine de l'hôtel à l'eau froide, dommage pour notre bébé",
    "Dans le train, comment on fait pour manger ? Le wagon-bar était fermé",
    "Commande livrée sans couverts, comment je fais pour manger ma salade ?",
    "Comment je fais pour vivre sans Netflix depuis que la box est en panne ?",
    "Comment je fais pour vivre à Lyon avec une box qui ne capte rien ?",
    "Accès impossible en fauteuil roulant, et pas de ligne de bus adaptée",
    "Merci ! Plus de chaudière à remplacer pour ma mère de 85 ans, tout est réparé",
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
