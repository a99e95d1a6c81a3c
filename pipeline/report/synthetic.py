"""Synthetic scored complaints for demos, benchmarks and rendering tests.

Texts are written for this module (short, already "masked" with the store's
placeholders) - no real complaint is used. Deterministic for a given seed.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

SECTOR_MIX = {
    "telecom": 0.30, "energie_eau": 0.18, "banque": 0.14, "assurance": 0.12, "ecommerce": 0.10,
    "transport_voyage": 0.07, "commerce": 0.04, "sante": 0.03, "logement_travaux": 0.02,
}
CAUSE_MIX = {
    "facturation_prix": 0.22, "joignabilite": 0.15, "panne_service": 0.14, "livraison": 0.08,
    "remboursement_indemnisation": 0.09, "resiliation_contrat": 0.08, "delai_traitement": 0.07,
    "accueil_conseil": 0.06, "qualite_produit": 0.04, "pratiques_commerciales": 0.03,
    "securite_fraude": 0.02, "autre": 0.01, "hors_sujet": 0.01,
}
URGENCY_MIX = {"critique": 0.01, "haute": 0.06, "normale": 0.73, "basse": 0.20}
CHANNELS = ("email", "formulaire", "courrier", "telephone", "reseaux_sociaux")
COMPANIES = ("Alpha Télécom", "Bêta Énergie", "Gamma Banque", "Delta Assurances")
PRODUCTS = ("box internet", "forfait mobile", "contrat électricité", "compte courant", "assurance habitation")

TEMPLATES = {
    "facturation_prix": [
        "Ma facture de ce mois est de <MONTANT> alors que mon forfait est à <MONTANT>, on me prélève des frais que je n'ai jamais acceptés.",
        "Double prélèvement sur mon compte le <DATE>, la facture est erronée et personne ne corrige le montant.",
        "Hausse de tarif sans aucun courrier d'information, je conteste ces frais cachés sur la facture.",
    ],
    "joignabilite": [
        "Impossible de joindre le service client, attente de 45 minutes puis on raccroche, trois relances par mail sans réponse.",
        "J'appelle tous les jours depuis une semaine, le serveur vocal coupe l'appel, aucune réponse à mes courriers.",
        "Personne ne répond au téléphone ni aux mails, le chat est toujours indisponible, c'est inadmissible.",
    ],
    "panne_service": [
        "Plus d'internet depuis cinq jours, la box clignote rouge, le technicien n'est jamais venu, je télétravaille.",
        "Coupure de courant répétée dans mon logement depuis lundi, aucune intervention prévue malgré mes appels.",
        "L'application est en panne depuis la mise à jour, impossible de se connecter à mon espace client.",
    ],
    "livraison": [
        "Commande passée le <DATE>, colis jamais livré, le suivi indique livré alors que je n'ai rien reçu.",
        "Retard de livraison de trois semaines et commande incomplète, il manque deux articles.",
    ],
    "remboursement_indemnisation": [
        "Sinistre déclaré il y a deux mois, l'expert est passé mais l'indemnisation proposée est ridicule.",
        "On m'avait promis un remboursement de <MONTANT> sous quinze jours, toujours rien versé sur mon compte.",
        "Refus de prise en charge de mon dégât des eaux alors que le contrat couvre ce sinistre.",
    ],
    "resiliation_contrat": [
        "Je demande la résiliation de mon contrat depuis trois mois, on continue de me prélever et de facturer.",
        "Frais de résiliation abusifs alors que la période d'engagement est terminée depuis longtemps.",
    ],
    "delai_traitement": [
        "Mon dossier est en attente depuis quatre mois, chaque conseiller me dit que la demande est en cours de traitement.",
        "Dossier de transfert bloqué, lenteur administrative incroyable, on me demande encore les mêmes justificatifs.",
    ],
    "accueil_conseil": [
        "Le conseiller en agence a été désagréable et m'a donné une information fausse sur les conditions du contrat.",
        "Informations contradictoires d'un conseiller à l'autre, promesse de geste commercial non tenue.",
    ],
    "qualite_produit": [
        "Le téléphone acheté neuf est tombé en panne au bout de dix jours, écran noir, produit défectueux.",
        "Le réfrigérateur livré est abîmé et ne correspond pas à la description du site.",
    ],
    "pratiques_commerciales": [
        "Démarchage téléphonique agressif auprès de ma mère âgée, on lui a fait signer un abonnement non sollicité.",
        "Publicité mensongère sur l'offre promotionnelle, le prix annoncé n'était pas le bon.",
    ],
    "securite_fraude": [
        "Mon compte client a été piraté, des achats frauduleux ont été faits avec ma carte, il faut bloquer d'urgence.",
        "Tentative d'arnaque par un faux conseiller qui connaissait mes informations personnelles.",
    ],
    "autre": [
        "Je souhaite signaler un problème que je ne sais pas classer concernant mon espace client.",
    ],
    "hors_sujet": [
        "Merci pour votre réponse rapide, tout est réglé, très bon service.",
        "Bonjour, quels sont vos horaires d'ouverture en agence le samedi ?",
    ],
}
URGENT_TEXTS = {
    "critique": "Ma mère de 85 ans est sans chauffage depuis trois jours en plein hiver, il faut intervenir immédiatement.",
    "haute": "Dixième relance sans réponse, j'ai saisi le médiateur et mon avocat prépare une mise en demeure.",
}
URGENCY_RULES = {"critique": ("personne_vulnerable", "danger", "fraude_en_cours"),
                 "haute": ("menace_recours", "relances_multiples", "")}


def _choice(rng, mix: dict, n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def scored_frame(n: int, start: date, end: date, *, seed: int = 7, spike: str | None = None,
                 spike_from: date | None = None, spike_factor: float = 3.0,
                 model_version: str = "demo-1", received_share: float = 0.9,
                 unique_texts: bool = False) -> pd.DataFrame:
    """``n`` scored complaints spread uniformly over ``[start, end]``.

    ``spike`` (a root cause) gets ``spike_factor`` times its usual rate from
    ``spike_from`` on; ``received_share`` of rows carry a ``received_at``;
    ``unique_texts`` appends a row number to every text (benchmarks: no cache hit).
    """
    rng = np.random.default_rng(seed)
    days = (end - start).days + 1
    day_offset = rng.integers(0, days, size=n)
    seconds = rng.integers(6 * 3600, 22 * 3600, size=n)
    received = (pd.Timestamp(start).tz_localize("Europe/Paris")
                + pd.to_timedelta(day_offset, unit="D") + pd.to_timedelta(seconds, unit="s")).tz_convert("UTC")
    causes = _choice(rng, CAUSE_MIX, n)
    if spike and spike_from is not None:
        late = np.flatnonzero(received >= pd.Timestamp(spike_from).tz_localize("Europe/Paris"))
        extra = rng.random(late.size) < (CAUSE_MIX[spike] * (spike_factor - 1))
        causes[late[extra]] = spike
    urgency = _choice(rng, URGENCY_MIX, n)
    urgency[causes == "hors_sujet"] = "basse"
    sectors = _choice(rng, SECTOR_MIX, n)
    proba = np.round(rng.beta(6, 2, size=n), 3)
    ids = np.array([f"C{seed:02d}-{i:07d}" for i in range(n)], dtype=object)
    texts = np.empty(n, dtype=object)
    for cause, templates in TEMPLATES.items():
        idx = np.flatnonzero(causes == cause)
        picks = rng.integers(0, len(templates), size=idx.size)
        texts[idx] = [templates[p] for p in picks]
    for level, text in URGENT_TEXTS.items():
        idx = np.flatnonzero(urgency == level)
        half = idx[rng.random(idx.size) < 0.5]
        texts[half] = [f"{text} {t}" for t in texts[half]]
    if unique_texts:
        texts = np.array([f"{t} ({i})" for i, t in enumerate(texts)], dtype=object)
    rules = np.array([""] * n, dtype=object)
    for level, options in URGENCY_RULES.items():
        idx = np.flatnonzero(urgency == level)
        rules[idx] = np.array(options, dtype=object)[rng.integers(0, len(options), size=idx.size)]
    has_received = rng.random(n) < received_share
    ingested = received + pd.to_timedelta(rng.integers(1, 36 * 3600, size=n), unit="s")
    answer_delay = pd.to_timedelta(rng.gamma(2.0, 12.0, size=n) * 86400, unit="s")
    answered = received + answer_delay
    answered = answered.where(rng.random(n) < 0.8)
    df = pd.DataFrame({
        "complaint_id": ids,
        "text": texts,
        "text_hash": ids,
        "received_at": pd.Series(received).where(has_received),
        "answered_at": pd.Series(answered).where(has_received),
        "channel": np.array(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), size=n)],
        "company": np.array(COMPANIES, dtype=object)[rng.integers(0, len(COMPANIES), size=n)],
        "product": np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), size=n)],
        "source_file": "synthetic.csv",
        "ingested_at": ingested,
        "ingest_date": pd.Series(ingested).dt.strftime("%Y-%m-%d"),
        "sector": sectors,
        "sector_proba": np.round(rng.beta(6, 2, size=n), 3),
        "root_cause": causes,
        "root_cause_proba": proba,
        "urgency": urgency,
        "urgency_proba": np.round(rng.beta(6, 2, size=n), 3),
        "needs_review": proba < 0.45,
        "evidence": "",
        "model_version": model_version,
        "taxonomy_version": "1",
        "urgency_rule": rules,
    })
    return df


PREDICTION_STORE_COLUMNS = (
    "complaint_id", "sector", "sector_proba", "root_cause", "root_cause_proba", "urgency", "urgency_proba",
    "needs_review", "evidence", "model_version", "taxonomy_version", "sector_alt", "sector_alt_proba",
    "root_cause_alt", "root_cause_alt_proba", "urgency_alt", "urgency_alt_proba", "urgency_rule",
    "review_reasons", "flags", "scored_at",
)
COMPLAINT_STORE_COLUMNS = ("complaint_id", "text", "text_hash", "received_at", "answered_at", "channel",
                           "company", "product", "source_file", "ingested_at")


def write_store(df: pd.DataFrame, processed: Path, *, model_version: str = "demo-1",
                rows_per_file: int = 250_000) -> None:
    """Write ``df`` as a complaints + predictions store under ``processed``."""
    processed = Path(processed)
    full = df.assign(sector_alt="autre", sector_alt_proba=0.1, root_cause_alt="autre", root_cause_alt_proba=0.1,
                     urgency_alt="normale", urgency_alt_proba=0.1, review_reasons="", flags="",
                     scored_at=pd.Timestamp("2024-01-01", tz="UTC"))
    for day, part in full.groupby("ingest_date", sort=True):
        folder = processed / "complaints" / f"ingest_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        part[list(COMPLAINT_STORE_COLUMNS)].to_parquet(folder / "part-0.parquet", index=False)
    pred_dir = processed / "predictions" / model_version
    pred_dir.mkdir(parents=True, exist_ok=True)
    preds = full[list(PREDICTION_STORE_COLUMNS)]
    for i in range(0, len(preds), rows_per_file):
        preds.iloc[i:i + rows_per_file].to_parquet(pred_dir / f"part-{i // rows_per_file:04d}.parquet", index=False)
    runs = processed / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for k, (day, part) in enumerate(full.groupby("ingest_date", sort=True)):
        (runs / f"run-{k:04d}.json").write_text(json.dumps({
            "run_id": f"run-{k:04d}", "started_at": f"{day}T08:00:00+00:00", "finished_at": f"{day}T08:05:00+00:00",
            "files": ["synthetic.csv"], "rows_read": int(len(part) + 3), "rows_stored": int(len(part)),
            "duplicates": 2, "quarantined": 1}), encoding="utf-8")
