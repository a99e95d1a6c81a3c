"""Small inboxes written for the flow tests, with known bad rows and known answers."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

GOOD = [
    ("F-001", "2026-11-02T09:00:00", "Ma box fibre ne marche plus depuis trois jours, aucune connexion internet."),
    ("F-002", "2026-11-03T10:30:00", "Vous m'avez prélevé deux fois l'abonnement, remboursez la facture en double."),
    ("F-003", "2026-11-04T08:15:00", "Colis jamais reçu, le suivi indique livré mais rien dans la boîte aux lettres."),
    ("F-004", "2026-11-05T14:00:00", "Impossible de joindre le service client, 45 minutes d'attente puis on raccroche."),
    ("F-005", "2026-11-06T16:45:00", "Merci pour la rapidité de l'intervention, technicien très aimable."),
    ("F-006", "2026-11-07T11:20:00", "Odeur de gaz dans l'immeuble depuis votre passage, ma mère de 88 ans vit seule."),
    ("F-007", "2026-11-08T09:10:00", "Je souhaite résilier mon contrat mais vous refusez sans raison, j'envisage le médiateur."),
    ("F-008", "2026-11-09T17:00:00", "Mme Claire Fontaine, tél 06 11 22 33 44 : mon remboursement de sinistre est refusé."),
]


def write_inbox(inbox: Path) -> dict:
    """CSV (cp1252) + JSONL with bad rows + a .txt; returns the expected conservation numbers."""
    inbox.mkdir(parents=True, exist_ok=True)
    csv_rows = [{"id": i, "received_at": d, "channel": "formulaire", "company": "Nova", "text": t} for i, d, t in GOOD[:5]]
    csv_rows += [
        {"id": "F-001", "received_at": GOOD[0][1], "channel": "formulaire", "company": "Nova", "text": GOOD[0][2]},  # same id
        {"id": "F-101", "received_at": "2026-11-05", "channel": "formulaire", "company": "Nova", "text": "   "},  # empty
        {"id": "F-102", "received_at": "hier", "channel": "formulaire", "company": "Nova",
         "text": "La facture de novembre est fausse, le montant a doublé sans explication."},  # bad date kept
    ]
    pd.DataFrame(csv_rows).to_csv(inbox / "formulaires.csv", index=False, encoding="cp1252")
    lines = [json.dumps({"id": i, "received_at": d, "channel": "email", "company": "Nova", "text": t}, ensure_ascii=False)
             for i, d, t in GOOD[5:]]
    lines += [
        "{this is not json",  # broken line
        json.dumps({"id": "F-201", "received_at": "2026-11-09", "text": GOOD[1][2].upper()}),  # same text, other id
        json.dumps({"id": "F-202", "received_at": "2026-11-09", "text": "https://exemple.fr/x"}),  # no content
    ]
    (inbox / "emails.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inbox / "avis.txt").write_text(
        "Livraison du repas froide et incomplète, il manquait le dessert.\n"
        "Le conseiller m'a donné une information fausse sur mon forfait.\n", encoding="utf-8")
    return {"rows_read": 8 + 6 + 2, "rows_stored": 8 + 1 + 2, "duplicates": 2, "quarantined": 3}
