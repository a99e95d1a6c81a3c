"""Write a :class:`~pipeline.report.build.Report`: one HTML file, CSV tables, a Markdown summary.

* ``report.html`` - self-contained (inline CSS, inline SVG charts, no script, no
  external reference): opens offline, can be mailed or archived as is.
* ``<table>.csv`` - UTF-8 with BOM, ``;`` separator and decimal comma: what
  Excel in French opens correctly with a double click. Text cells starting with
  ``= + - @`` are prefixed with ``'`` (no formula injection from complaint texts).
* ``summary.md`` - about 15 lines for an e-mail or a chat message.

Every file is written atomically (temporary file in the same folder, then
``os.replace``): a reader never sees half a report.
"""
from __future__ import annotations

import math
import os
import tempfile
from html import escape
from pathlib import Path

import pandas as pd

from . import charts
from .build import URGENCY_LEVELS, Report
from .fmt import fmt_change, fmt_float, fmt_int, fmt_pct, plural
from .periods import fr_date, fr_period, fr_short

HTML_URGENT_LIMIT = 200  # rows of the urgent-cases table in the HTML (all in the CSV)
CSV_SEP = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"
URGENCY_FR = {"critique": "Critique", "haute": "Haute", "normale": "Normale", "basse": "Basse"}
FILTER_FR = {"company": "entreprise", "product": "produit", "channel": "canal"}

# French headers of the CSV files (internal names stay English for the code).
CSV_HEADERS = {
    "pareto": {"root_cause": "cause", "label": "libelle", "owner": "departement", "complaints": "reclamations",
               "share": "part", "cum_share": "part_cumulee", "priority": "score_priorite",
               "priority_share": "part_score", "cum_priority_share": "part_score_cumulee",
               "critique": "critiques", "haute": "hautes", "normale": "normales", "basse": "basses",
               "urgent": "urgentes", "previous": "periode_precedente", "change": "evolution",
               "change_pct": "evolution_pct"},
    "departements": {"owner": "departement", "causes": "causes", "complaints": "reclamations",
                     "urgent": "urgentes", "critique": "critiques", "priority": "score_priorite",
                     "previous": "periode_precedente", "change": "evolution", "change_pct": "evolution_pct",
                     "example_1_id": "exemple_1_id", "example_1": "exemple_1",
                     "example_2_id": "exemple_2_id", "example_2": "exemple_2"},
    "secteurs_causes": {"sector": "secteur", "label": "libelle"},
    "tendance": {"root_cause": "cause", "label": "libelle"},
    "alertes": {"root_cause": "cause", "label": "libelle", "owner": "departement", "kind": "type",
                "week": "semaine", "count": "reclamations", "baseline_mean": "moyenne_reference",
                "expected": "attendu", "z": "z", "p_value": "p_valeur"},
    "urgences": {"urgency": "urgence", "complaint_id": "id", "date": "date", "sector": "secteur",
                 "root_cause": "cause", "rule": "regle", "excerpt": "extrait", "needs_review": "a_relire"},
    "mots": {"root_cause": "cause", "label": "libelle", "rank": "rang", "word": "mot", "z": "z",
             "count": "occurrences", "docs": "reclamations"},
}

CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#1f5f8b;
--crit:#b3261e;--high:#e8710a;--norm:#5b7fa3;--low:#c9d3de;--ok:#2f7d4f}
*{box-sizing:border-box}
a{color:var(--accent)}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 "Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 32px 48px}
header.top{border-bottom:3px solid var(--accent);padding-bottom:12px;margin-bottom:22px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:0 0 4px;color:var(--accent)}
h3{font-size:16px;margin:18px 0 6px}
.sub{color:var(--muted);margin:0}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:0 0 20px}
.lead{color:var(--muted);margin:0 0 14px;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin:0 0 20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:30px;font-weight:700;line-height:1.2;margin:2px 0}
.card .d{font-size:13px;color:var(--muted)}
.card.alert .v{color:var(--crit)}
.up{color:var(--crit)}.down{color:var(--ok)}
ol.top3{margin:6px 0 0;padding-left:22px}ol.top3 li{margin:0 0 8px}
.mix{display:flex;height:14px;border-radius:7px;overflow:hidden;margin:10px 0 4px;background:var(--line)}
.mix span{display:block;height:100%}
.legend{font-size:13px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px;vertical-align:-1px}
.legend i:first-child{margin-left:0}
svg.chart{width:100%;height:auto;display:block;margin:8px 0 12px}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);padding:6px 8px;vertical-align:bottom}
td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.nw{white-space:nowrap}
details{margin:10px 0 0}details summary{cursor:pointer;color:var(--accent);font-weight:600;padding:4px 0}
tr.off td{color:var(--muted);font-style:italic}
.ex{font-style:italic;color:#3e4c59;font-size:13px;margin:0 0 4px}
.ex::before{content:"« "}.ex::after{content:" »"}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.tag.critique{background:var(--crit)}.tag.haute{background:var(--high)}
.tag.rev{background:#7b8794}
.alerts{list-style:none;padding:0;margin:6px 0 10px}
.alerts li{border-left:4px solid var(--crit);background:#fdf2f1;padding:8px 12px;margin:0 0 8px;border-radius:0 6px 6px 0}
.alerts li.new{border-color:var(--high);background:#fef6ee}
.watch{border-left:4px solid var(--crit);background:#fdf2f1;padding:8px 12px;border-radius:0 6px 6px 0;margin:10px 0 0}
table.words td{vertical-align:middle}
.chips span{display:inline-block;background:#eef2f7;border-radius:12px;padding:1px 10px;margin:2px 4px 2px 0;font-size:13px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:24px}
dl.kv{display:grid;grid-template-columns:auto 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;font-weight:600}
.empty{background:#fff8e1;border:1px solid #f0d58c;border-radius:10px;padding:18px 22px;font-size:17px;margin:0 0 20px}
.warn{color:var(--crit);font-weight:600}
.na{color:var(--muted);font-style:italic}
footer{font-size:13px;color:var(--muted);border-top:1px solid var(--line);padding-top:12px}
footer p{margin:0 0 8px}
@media (max-width:800px){.cards{grid-template-columns:repeat(2,1fr)}.grid2{grid-template-columns:1fr}}
@media print{body{background:#fff}section{break-inside:avoid;border:none;padding:8px 0}}
"""


# --------------------------------------------------------------------------- small helpers
def e(text) -> str:
    """HTML-escape anything (None -> empty)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return escape(str(text), quote=True)


def _trend_class(change) -> str:
    if change is None or (isinstance(change, float) and math.isnan(change)) or int(change) == 0:
        return ""
    return "up" if change > 0 else "down"


def _filters_text(filters: dict) -> str:
    parts = []
    for key, value in filters.items():
        values = [value] if isinstance(value, str) else list(value)
        parts.append(f"{FILTER_FR.get(key, key)} : {', '.join(map(str, values))}")
    return " · ".join(parts)


def _table(headers: list[tuple[str, str]], rows: list, cls: str = "") -> str:
    """``headers``: (label, css class); ``rows``: lists of already-escaped cell HTML,
    or ``(row_class, cells)`` tuples."""
    head = "".join(f'<th class="{c}">{e(h)}</th>' for h, c in headers)
    body = []
    for row in rows:
        row_cls, cells_html = row if isinstance(row, tuple) else ("", row)
        cells = "".join(f'<td class="{headers[i][1]}">{cell}</td>' for i, cell in enumerate(cells_html))
        body.append(f'<tr class="{row_cls}">{cells}</tr>' if row_cls else f"<tr>{cells}</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


# --------------------------------------------------------------------------- sections
def _header(r: Report) -> str:
    filters = _filters_text(r.filters)
    sub = f"Période {e(r.period_label)} · comparée à la période {e(fr_period(r.previous_start, r.previous_end))}"
    return (f'<header class="top"><h1>Réclamations : causes à traiter</h1><p class="sub">{sub}</p>'
            + (f'<p class="sub">Périmètre filtré : {e(filters)}</p>' if filters else "")
            + "</header>")


def _cards(r: Report) -> str:
    h = r.headline
    urg = h["urgency"]
    cards = [
        ("Réclamations", fmt_int(h["complaints"]),
         (f'<span class="{_trend_class(h["change"])}">{e(fmt_change(h["change"], h["change_pct"], h["previous"]))}'
          f"</span> vs période précédente ({e(fmt_int(h['previous']))})") if h["previous"]
         else "aucune réclamation sur la période précédente", ""),
        ("Cas urgents", fmt_int(h["urgent"]),
         f"{e(fmt_int(urg['critique']['count']))} {plural(urg['critique']['count'], 'critique')} · "
         f"{e(fmt_int(urg['haute']['count']))} {plural(urg['haute']['count'], 'haute')}",
         "alert" if urg["critique"]["count"] else ""),
        ("Alertes de hausse", fmt_int(h["alerts"]),
         "causes en hausse inhabituelle ou nouvelles" if h["alerts"] else "aucune hausse inhabituelle",
         "alert" if h["alerts"] else ""),
        ("À vérifier", fmt_pct(h["review_share"]) if h["review_share"] is not None else "—",
         f"{e(fmt_int(h['review']))} prédictions incertaines · {e(fmt_int(h['off_topic']))} hors sujet", ""),
    ]
    html = "".join(f'<div class="card {cls}"><div class="k">{e(k)}</div><div class="v">{e(v)}</div>'
                   f'<div class="d">{d}</div></div>' for k, v, d, cls in cards)
    return f'<div class="cards">{html}</div>'


def _priorities(r: Report) -> str:
    h = r.headline
    items = "".join(f"<li>{_lead_label(t['sentence'], t['label'])}</li>" for t in h["top_causes"])
    top = {t["root_cause"] for t in h["top_causes"]}
    others = r.alerts[~r.alerts["root_cause"].isin(top)] if len(r.alerts) else r.alerts
    watch = ""
    if len(others):
        bits = [f"<strong>{e(x['label'])}</strong> ({'apparition' if x['kind'] == 'nouvelle' else 'hausse inhabituelle'}"
                f", {e(fmt_int(x['count']))} réclamations en semaine {e(x['week'])}, à porter par {e(x['owner'])})"
                for _, x in others.iterrows()]
        watch = f'<p class="watch">À surveiller aussi : {" ; ".join(bits)} — voir <a href="#tendance">Tendance et alertes</a>.</p>'

    mix = "".join(f'<span style="width:{h["urgency"][lvl]["share"] * 100:.2f}%;background:{charts.URGENCY_COLORS[lvl]}"'
                  f' title="{e(URGENCY_FR[lvl])}"></span>' for lvl in URGENCY_LEVELS)
    legend = "".join(f'<i style="background:{charts.URGENCY_COLORS[lvl]}"></i>{e(URGENCY_FR[lvl])} '
                     f'{e(fmt_int(h["urgency"][lvl]["count"]))} ({e(fmt_pct(h["urgency"][lvl]["share"]))})'
                     for lvl in URGENCY_LEVELS)
    return ('<section id="priorites"><h2>Les causes à traiter en priorité</h2>'
            '<p class="lead">Classement par score de priorité : chaque réclamation compte selon son urgence.</p>'
            f'<ol class="top3">{items}</ol>{watch}'
            f'<h3>Répartition par urgence</h3><div class="mix">{mix}</div><div class="legend">{legend}</div></section>')


def _lead_label(sentence: str, label: str) -> str:
    """The sentence, escaped, with its leading cause label in bold."""
    if sentence.startswith(label):
        return f"<strong>{e(label)}</strong>{e(sentence[len(label):])}"
    return e(sentence)


def _pareto(r: Report) -> str:
    p = r.pareto
    rows = []
    for _, x in p.iterrows():
        rows.append([e(x["label"]), e(x["owner"]), e(fmt_int(x["complaints"])), e(fmt_pct(x["share"])),
                     e(fmt_pct(x["cum_share"])), e(fmt_float(x["priority"], 0)), e(fmt_pct(x["cum_priority_share"])),
                     e(fmt_int(x["urgent"])),
                     f'<span class="{_trend_class(x["change"])}">{e(fmt_change(x["change"], x["change_pct"], x["previous"]))}</span>'])
    off = r.headline["off_topic"]
    rows.append(("off", [e("Pas une réclamation (hors sujet, exclu)"), "—", e(fmt_int(off)), "", "", "", "", "",
                         ""]))
    headers = [("Cause", ""), ("Département responsable", ""), ("Réclamations", "n"), ("Part", "n"),
               ("Part cumulée", "n"), ("Score", "n"), ("Score cumulé", "n"), ("Urgentes", "n"),
               ("Évolution", "n")]
    table = _table(headers, rows)
    chart = charts.pareto_svg(p, r.parameters["weights"]) if len(p) else ""
    return ('<section id="pareto"><h2>§ Pareto des causes</h2>'
            '<p class="lead">Les causes sont classées par score de priorité (somme des poids d\'urgence : '
            + e(_weights_text(r.parameters["weights"])) + '). Les messages « hors sujet » ne sont pas des '
            'réclamations à traiter : ils sont comptés à part.</p>' + chart + table + "</section>")


def _weights_text(weights: dict) -> str:
    return ", ".join(f"{URGENCY_FR[k].lower()} = {fmt_float(weights[k], 2).rstrip('0').rstrip(',')}"
                     for k in URGENCY_LEVELS if k in weights)


def _owners(r: Report) -> str:
    rows = []
    for _, x in r.owners.iterrows():
        ex = "".join(f'<p class="ex">{e(x[c])}</p>' for c in ("example_1", "example_2") if x.get(c))
        rows.append([f"<strong>{e(x['owner'])}</strong>", e(x["causes"]), e(fmt_int(x["complaints"])),
                     e(fmt_int(x["urgent"])),
                     f'<span class="{_trend_class(x["change"])}">{e(fmt_change(x["change"], x["change_pct"], x["previous"]))}</span>',
                     ex or '<span class="na">aucun extrait</span>'])
    headers = [("Département", ""), ("Causes", ""), ("Réclamations", "n"), ("Urgentes", "n"),
               ("Évolution", "n"), ("Exemples (extraits masqués)", "")]
    return ('<section id="qui-doit-agir"><h2>§ Qui doit agir</h2>'
            '<p class="lead">Chaque cause a un département responsable (taxonomie). Exemples : les prédictions '
            'les plus sûres de la période, raccourcies et masquées.</p>' + _table(headers, rows) + "</section>")


def _heatmap(r: Report) -> str:
    if r.heatmap.empty:
        return ""
    order = [c for c in r.pareto["root_cause"] if c in r.heatmap.columns]
    order += [c for c in r.heatmap.columns if c not in order]
    chart = charts.heatmap_svg(r.heatmap[order], r.labels["root_cause"], r.labels["sector"])
    return ('<section id="secteurs"><h2>§ Causes par secteur</h2>'
            '<p class="lead">Nombre de réclamations de la période pour chaque couple cause × secteur '
            '(hors sujet exclus). Plus la case est foncée, plus il y en a.</p>' + chart + "</section>")


def _alert_text(x, r: Report) -> str:
    if x["kind"] == "nouvelle":
        return (f"<strong>{e(x['label'])}</strong> ({e(x['owner'])}) : première apparition, "
                f"{e(fmt_int(x['count']))} réclamations en semaine {e(x['week'])}, aucune les semaines précédentes.")
    return (f"<strong>{e(x['label'])}</strong> ({e(x['owner'])}) : {e(fmt_int(x['count']))} réclamations en semaine "
            f"{e(x['week'])} pour {e(fmt_float(x['expected'], 1))} attendues (moyenne des semaines précédentes) — "
            f"hausse inhabituelle (z = {e(fmt_float(x['z'], 1))}, p {e(_p(x['p_value']))}).")


def _p(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< 0,0001" if p < 1e-4 else "= " + fmt_float(p, 4)


def _trend(r: Report) -> str:
    if r.trend.empty:
        return ('<section id="tendance"><h2>§ Tendance et alertes</h2>'
                '<p class="na">Pas de données sur les semaines de la tendance.</p></section>')
    if len(r.alerts):
        items = "".join(f'<li class="{"new" if x["kind"] == "nouvelle" else ""}">{_alert_text(x, r)}</li>'
                        for _, x in r.alerts.iterrows())
        alerts = f'<ul class="alerts">{items}</ul>'
    else:
        alerts = '<p>Aucune hausse inhabituelle la dernière semaine.</p>'
    weeks = list(r.trend.columns)
    headers = [("Cause", "")] + [(w.split("-")[-1], "n") for w in weeks]
    alerting = set(r.alerts["root_cause"]) if len(r.alerts) else set()
    rows = []
    for cause, series in r.trend.iterrows():
        label = e(r.labels["root_cause"].get(cause, cause)) + (' <span class="tag haute">alerte</span>'
            if cause in alerting else "")
        rows.append([label] + [e(fmt_int(v)) for v in series])
    partial = r.parameters.get("last_week_fraction", 1.0) < 1.0
    note = (f'<p class="lead">La dernière semaine n\'est couverte qu\'en partie par la période '
            f'({round(r.parameters["last_week_fraction"] * 7)} jours sur 7) : le test en tient compte.</p>'
            if partial else "")
    return ('<section id="tendance"><h2>§ Tendance et alertes</h2>'
            f'<p class="lead">Réclamations par semaine ISO sur les {len(weeks)} dernières semaines. '
            'Une alerte signale une cause dont la dernière semaine dépasse nettement sa propre moyenne récente.</p>'
            + alerts + note + charts.trend_svg(r.trend, r.alerts, r.labels["root_cause"])
            + _table(headers, rows) + "</section>")


def _urgent_rows(u: pd.DataFrame) -> list:
    rows = []
    for _, x in u.iterrows():
        tag = f'<span class="tag {e(x["urgency"])}">{e(URGENCY_FR.get(x["urgency"], x["urgency"]))}</span>'
        if x["needs_review"]:
            tag += ' <span class="tag rev" title="prédiction à vérifier">à vérifier</span>'
        rule = e(str(x["rule"]).replace("_", " ")) if x["rule"] else '<span class="na">modèle</span>'
        rows.append([tag, e(x["complaint_id"]), e(fr_short(x["date"])), e(x["sector"]), e(x["root_cause"]),
                     rule, e(x["excerpt"])])
    return rows


def _urgent(r: Report) -> str:
    u = r.urgent
    if u.empty:
        return ('<section id="urgences"><h2>§ Cas urgents</h2>'
                '<p>Aucune réclamation critique ou haute sur la période.</p></section>')
    headers = [("Urgence", "nw"), ("Identifiant", "nw"), ("Date", "nw"), ("Secteur", ""), ("Cause", ""),
               ("Règle", ""), ("Extrait (masqué)", "")]
    crit = u[u["urgency"] == "critique"].head(HTML_URGENT_LIMIT)
    high = u[u["urgency"] != "critique"].head(max(HTML_URGENT_LIMIT - len(crit), 0))
    n_crit = int((u["urgency"] == "critique").sum())
    n_high = len(u) - n_crit
    html = ""
    if len(crit):
        html += _table(headers, _urgent_rows(crit))
    else:
        html += "<p>Aucun cas critique sur la période.</p>"
    if n_high:
        html += (f'<details><summary>{fmt_int(n_high)} cas d\'urgence « haute » '
                 f'(cliquer pour afficher)</summary>{_table(headers, _urgent_rows(high))}</details>')
    shown = len(crit) + len(high)
    more = (f'<p class="lead">{fmt_int(shown)} cas affichés sur {fmt_int(len(u))} : '
            'la liste complète est dans <code>urgences.csv</code>.</p>' if len(u) > shown else "")
    return ('<section id="urgences"><h2>§ Cas urgents</h2>'
            f'<p class="lead">{fmt_int(n_crit)} {plural(n_crit, "cas critique", "cas critiques")} et '
            f'{fmt_int(n_high)} cas d\'urgence haute. '
            '« Règle » : la règle d\'urgence explicite qui s\'est déclenchée (sinon, urgence estimée par le '
            'modèle).</p>' + more + html + "</section>")


def _words(r: Report) -> str:
    if r.words.empty:
        return ('<section id="mots"><h2>§ Mots caractéristiques</h2>'
                '<p class="na">Pas assez de texte pour dégager des mots caractéristiques.</p></section>')
    order = [c for c in r.pareto["root_cause"]] + sorted(set(r.words["root_cause"]) - set(r.pareto["root_cause"]))
    rows = []
    for cause in order:
        w = r.words[r.words["root_cause"] == cause].sort_values("rank")
        if w.empty:
            continue
        chips = "".join(f"<span>{e(word)}</span>" for word in w["word"])
        rows.append([e(r.labels["root_cause"].get(cause, cause)), f'<div class="chips">{chips}</div>'])
    return ('<section id="mots"><h2>§ Mots caractéristiques</h2>'
            '<p class="lead">Les mots les plus propres à chaque cause cette période, comparés aux autres '
            'réclamations (mots vides et données masquées exclus).</p>'
            + _table([("Cause", ""), ("Mots", "")], rows, cls="words") + "</section>")


def _deadlines(r: Report) -> str:
    d = r.deadlines
    na = '<span class="na">non disponible</span>'
    if not d.get("available"):
        body = (f'<p>{na} : les données de la période n\'ont pas de date de réception '
                '(<code>received_at</code>), les délais ne peuvent pas être calculés.</p>')
    else:
        def val(x, fmt=fmt_int):
            return e(fmt(x)) if x is not None else na
        answers = d.get("answers_available")
        note = "" if answers else (f'<p class="lead">{na} pour les réponses : aucune date de réponse '
                                   '(<code>answered_at</code>) n\'est renseignée.</p>')
        items = [
            ("Réponses apportées pendant la période", val(d.get("answered"))),
            ("… dont plus de 2 mois après réception", val(d.get("answered_late")) + (
                f' ({e(fmt_pct(d["late_share"], 1))})' if d.get("late_share") is not None else "")),
            ("Délai médian de réponse", val(d.get("median_days"), lambda x: fmt_float(x, 1) + " jours")),
            ("Réclamations ouvertes à la fin de la période", val(d.get("open"))),
            ("… ouvertes depuis plus de 10 jours", val(d.get("open_over_10_days"))),
            ("… ouvertes depuis plus de 2 mois", (f'<span class="warn">{val(d.get("open_over_2_months"))}</span>'
                if d.get("open_over_2_months") else val(d.get("open_over_2_months")))),
        ]
        body = note + '<dl class="kv">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"
        if d.get("without_received_at"):
            body += (f'<p class="lead">{fmt_int(d["without_received_at"])} réclamations sans date de réception '
                     'ne sont pas comptées.</p>')
    return ('<section id="delais"><h2>§ Délais réglementaires</h2>'
            '<p class="lead">Repères de la recommandation ACPR 2022-R-01 (banque, assurance) : accusé de '
            'réception sous 10 jours ouvrables, réponse sous 2 mois. Ici, l\'ancienneté est comptée en jours '
            f'calendaires à la fin de la période ({e(fr_date(r.end))}) ; les messages « hors sujet » sont exclus.</p>'
            + body + "</section>")


def _quality(r: Report) -> str:
    q = r.quality
    na = '<span class="na">non disponible</span>'

    def v(x):
        return na if x is None else e(fmt_int(x)) if isinstance(x, (int, float)) else e(x)
    model = ", ".join(q.get("model_versions") or []) or "—"
    tax = ", ".join(q.get("taxonomy_versions") or []) or "—"
    tax_html = e(tax) + (f' <span class="warn">(fichier : version {e(q["taxonomy_file_version"])})</span>'
                         if q.get("taxonomy_mismatch") else "")
    covered = (f"{fr_short(q['first_date'])} → {fr_short(q['last_date'])}" if q.get("first_date") else "—")
    left = [
        ("Période demandée", e(fr_period(r.start, r.end))),
        ("Dates présentes dans les données", e(covered)),
        ("Réclamations analysées", v(q.get("complaints"))),
        ("Sans date de réception", v(q.get("without_received_at")) + (
            " <span class=\"na\">(datées au jour d'ingestion)</span>" if q.get("without_received_at") else "")),
        ("Signalées pour vérification", v(q.get("review")) + (
            f" ({e(fmt_pct(q['review_share'], 1))})" if q.get("review_share") is not None else "")),
        ("Version du modèle", e(model)),
        ("Version de la taxonomie", tax_html),
    ]
    if q.get("unknown_root_causes"):
        left.append(("Causes inconnues de la taxonomie", f'<span class="warn">{e(", ".join(q["unknown_root_causes"]))}</span>'))
    if q.get("has_ingestion_stats"):
        right = [
            ("Ingestions pendant la période", v(q.get("runs"))),
            ("Lignes lues", v(q.get("rows_read"))),
            ("Lignes stockées", v(q.get("rows_stored"))),
            ("Doublons écartés", v(q.get("duplicates"))),
            ("Lignes en quarantaine", v(q.get("quarantined"))),
        ]
        right += [(f"… motif « {reason} »", v(n)) for reason, n in (q.get("quarantine_by_reason") or {}).items()]
    else:
        right = [("Statistiques d'ingestion", na)]
    kv = lambda items: '<dl class="kv">' + "".join(f"<dt>{e(k)}</dt><dd>{val}</dd>" for k, val in items) + "</dl>"
    note = ('<p class="lead">Les statistiques d\'ingestion portent sur tout le flux, sans le filtre du rapport.</p>'
            if q.get("filtered") and q.get("has_ingestion_stats") else "")
    return ('<section id="qualite"><h2>§ Qualité des données</h2>'
            f'<div class="grid2"><div>{kv(left)}</div><div>{kv(right)}</div></div>{note}</section>')


def _methodology(r: Report) -> str:
    p = r.parameters
    review = r.headline.get("review_share")
    review_txt = fmt_pct(review, 1) if review is not None else "—"
    privacy = ("masqués une seconde fois par le module de confidentialité du pipeline puis par un filtre "
               "de sécurité (courriels, téléphones, IBAN, numéros de carte)" if r.quality.get("privacy_module")
               else "masqués une seconde fois par un filtre de sécurité (courriels, téléphones, IBAN, numéros de carte)")
    paras = [
        "Les causes, secteurs et urgences sont des <strong>prédictions d'un modèle</strong>, pas des "
        "qualifications humaines" + (f" : {e(review_txt)} des réclamations de la période sont signalées pour "
                                     "vérification (prédiction incertaine)" if review is not None else "")
        + ". Les chiffres donnent des ordres de grandeur et des tendances.",
        f"Période {e(r.period_label)}, datée par la date de réception (heure de Paris), à défaut par la date "
        f"d'ingestion ; comparée à la période de même durée qui la précède "
        f"({e(fr_period(r.previous_start, r.previous_end))}).",
        f"Score de priorité : somme des poids d'urgence des réclamations ({e(_weights_text(p['weights']))}).",
        "Alerte de hausse : pour chaque cause, le nombre de la dernière semaine ISO est comparé à la moyenne "
        f"des {p['weeks_of_trend'] - 1} semaines précédentes (celles qui contiennent des données, au moins "
        f"{p['min_baseline_weeks']}) par un test de Poisson unilatéral. Alerte si p &lt; "
        f"{e(fmt_float(p['spike_p'], 2))}, z ≥ {e(fmt_float(p['spike_z'], 1))} et au moins "
        f"{p['spike_min_count']} réclamations. « Première apparition » : aucune réclamation de cette cause dans "
        f"les semaines de référence et au moins {p['new_min_count']} la dernière semaine.",
        "Mots caractéristiques : log-odds pondérés avec a priori de Dirichlet informatif (Monroe, Colaresi et "
        f"Quinn, 2008), {p['top_words']} mots par cause, présents dans au moins 3 réclamations de la cause"
        + (f" (échantillon aléatoire de {fmt_int(p['max_word_docs'])} textes au-delà)" if r.headline["complaints"]
           > p["max_word_docs"] else "") + ".",
        f"Données personnelles : les textes sont masqués dès l'ingestion ; les extraits (≤ {p['excerpt_chars']} "
        f"caractères) sont {privacy}.",
    ]
    generated = r.generated_at.replace("T", " ")[:16] + " UTC"
    return ("<footer><h3>Méthode</h3>" + "".join(f"<p>{t}</p>" for t in paras)
            + f"<p>Généré le {e(generated)}.</p></footer>")


def render_html(r: Report) -> str:
    """The whole report as one self-contained HTML page (French)."""
    parts = [_header(r)]
    if r.is_empty:
        parts.append('<div class="empty"><strong>Aucune réclamation sur la période</strong> '
                     f'{e(r.period_label)}' + (f" pour le périmètre {e(_filters_text(r.filters))}" if r.filters else "")
                     + f". Période précédente : {e(fmt_int(r.headline['previous']))} réclamation"
                     + ("s" if r.headline["previous"] > 1 else "") + ".</div>")
        parts += [_deadlines(r), _quality(r), _methodology(r)]
    else:
        parts += [_cards(r), _priorities(r), _pareto(r), _owners(r), _heatmap(r), _trend(r), _urgent(r),
                  _words(r), _deadlines(r), _quality(r), _methodology(r)]
    number = 0
    for i, part in enumerate(parts):  # number the sections actually shown
        if "<h2>§ " in part:
            number += 1
            parts[i] = part.replace("<h2>§ ", f"<h2>{number}. ", 1)
    title = f"Réclamations — {r.period_label}"
    return ("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
            + "".join(parts) + "</main></body></html>\n")


# --------------------------------------------------------------------------- markdown
def render_summary(r: Report) -> str:
    """About 15 lines of Markdown for an e-mail or a chat message."""
    h = r.headline
    lines = [f"# Réclamations — {r.period_label}"]
    if r.filters:
        lines.append(f"_Périmètre : {_filters_text(r.filters)}_")
    if r.is_empty:
        lines += ["", "**Aucune réclamation sur la période.** "
                  f"Période précédente : {fmt_int(h['previous'])}."]
    else:
        urg = h["urgency"]
        lines += ["", f"**{fmt_int(h['complaints'])} réclamations** · "
                  f"{fmt_change(h['change'], h['change_pct'], h['previous'])} par rapport à la période précédente · "
                  f"{fmt_int(h['urgent'])} urgentes dont {fmt_int(urg['critique']['count'])} "
                  f"{plural(urg['critique']['count'], 'critique')} · {fmt_pct(h['review_share'])} à vérifier",
                  "", "**À traiter en priorité**"]
        lines += [f"{i}. {t['sentence']}" for i, t in enumerate(h["top_causes"], start=1)]
        if len(r.alerts):
            lines += ["", "**Alertes**"]
            for _, x in r.alerts.head(4).iterrows():
                if x["kind"] == "nouvelle":
                    lines.append(f"- {x['label']} : première apparition ({fmt_int(x['count'])} en {x['week']})")
                else:
                    lines.append(f"- {x['label']} : {fmt_int(x['count'])} en {x['week']} pour "
                                 f"{fmt_float(x['expected'], 1)} attendues (z = {fmt_float(x['z'], 1)})")
    d = r.deadlines
    if d.get("available") and d.get("answers_available"):
        lines += ["", f"**Délais (ACPR)** : {fmt_int(d['open_over_2_months'])} réclamations ouvertes depuis plus de "
                  f"2 mois ; {fmt_pct(d['late_share'], 1) if d.get('late_share') is not None else '—'} des réponses "
                  "de la période après plus de 2 mois."]
    else:
        lines += ["", "**Délais (ACPR)** : non disponible (dates de réception ou de réponse absentes)."]
    q = r.quality
    lines += ["", f"_Prédictions du modèle {', '.join(q.get('model_versions') or ['—'])} "
              f"(taxonomie {q.get('taxonomy_file_version')}) ; {fmt_pct(h.get('review_share'), 1) if h.get('review_share') is not None else '—'} "
              f"signalées pour vérification. Détail : report.html et fichiers CSV._"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- csv
def _csv_safe(value):
    """Neutralise spreadsheet formulas; decimal comma for floats of mixed columns."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, float) and not math.isnan(value):
        return f"{value:.6g}".replace(".", CSV_DECIMAL)
    return value


def csv_bytes(df: pd.DataFrame, headers: dict | None = None) -> bytes:
    """CSV for French Excel: UTF-8 BOM, ``;`` separator, decimal comma."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_csv_safe)
    if headers:
        out = out.rename(columns=headers)
    text = out.to_csv(sep=CSV_SEP, decimal=CSV_DECIMAL, float_format="%.6g", index=False, lineterminator="\r\n")
    return text.encode(CSV_ENCODING)


# --------------------------------------------------------------------------- writing
def _file_mode() -> int:
    """0o666 minus the process umask (mkstemp creates files 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_report(report: Report, out_dir) -> dict[str, Path]:
    """Write report.html, summary.md and one CSV per table into ``out_dir``.

    Returns ``{"html": ..., "summary": ..., "<table>": ...}`` (table keys: pareto,
    departements, secteurs_causes, tendance, alertes, urgences, mots, qualite, delais).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, table in report.tables().items():
        path = out / f"{name}.csv"
        _atomic_write(path, csv_bytes(table, CSV_HEADERS.get(name)))
        written[name] = path
    summary = out / "summary.md"
    _atomic_write(summary, render_summary(report).encode("utf-8"))
    written["summary"] = summary
    html = out / "report.html"
    _atomic_write(html, render_html(report).encode("utf-8"))
    written["html"] = html
    return written
