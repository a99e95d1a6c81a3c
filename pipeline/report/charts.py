"""Charts as inline SVG strings (matplotlib object API, no pyplot, no global state).

Text is drawn as paths (``svg.fonttype = "path"``): the charts look the same on
every machine, without any font file. The SVG is cleaned for inlining in HTML:
no XML prolog, DOCTYPE or RDF metadata (and so no ``http://`` string at all).
"""
from __future__ import annotations

import io
import re
import textwrap

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

URGENCY_COLORS = {"critique": "#b3261e", "haute": "#e8710a", "normale": "#5b7fa3", "basse": "#c9d3de"}
URGENCY_LABELS = {"critique": "Critique", "haute": "Haute", "normale": "Normale", "basse": "Basse"}
LINE_COLORS = ("#1f5f8b", "#d1495b", "#edae49", "#00798c", "#6a4c93", "#66a182", "#8d6a9f", "#30638e")
TEXT = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"

_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "complaints-report",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": TEXT,
    "xtick.color": MUTED,
    "ytick.color": TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SIZE = re.compile(r'(<svg[^>]*?)\s+width="([\d.]+)pt"\s+height="([\d.]+)pt"')


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _to_svg(fig: Figure, title: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = _PROLOG.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    svg = _COMMENT.sub("", svg)          # matplotlib writes every label in a comment
    svg = _XMLNS.sub("", svg)
    # Responsive: keep the viewBox, let CSS size the chart.
    # Responsive up to the natural size (1 pt = 4/3 px): a small chart is not blown up.
    svg = _SIZE.sub(lambda m: f'{m.group(1)} class="chart" preserveAspectRatio="xMinYMin meet" '
                    f'style="max-width:{float(m.group(2)) * 4 / 3:.0f}px"', svg, count=1)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return svg.strip()


def _attr(text: str) -> str:
    from html import escape
    return escape(str(text), quote=True)


def pareto_svg(pareto: pd.DataFrame, weights: dict) -> str:
    """Horizontal bars: priority score of each cause, split by urgency; cumulative share on the right."""
    data = pareto.head(12)
    n = len(data)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9.5, 0.45 * n + 1.5))
        ax = fig.subplots()
        y = np.arange(n)[::-1]
        left = np.zeros(n)
        for level in ("critique", "haute", "normale", "basse"):
            values = data[level].to_numpy(dtype=float) * float(weights.get(level, 0))
            ax.barh(y, values, left=left, color=URGENCY_COLORS[level], height=0.68,
                    label=f"{URGENCY_LABELS[level]} (×{str(weights.get(level, 0)).rstrip('0').rstrip('.').replace('.', ',')})")
            left += values
        ax.set_yticks(y, [_wrap(label, 34) for label in data["label"]], fontsize=9.5)
        xmax = float(left.max()) if n else 1.0
        ax.set_xlim(0, xmax * 1.32 if xmax > 0 else 1)
        for yi, total, count, cum in zip(y, left, data["complaints"], data["cum_priority_share"]):
            ax.text(total + xmax * 0.01, yi,
                    f"{int(count):,} récl. · score cumulé {cum * 100:.0f} %".replace(",", "\u202f"),
                    va="center", fontsize=8.5, color=MUTED)
        ax.set_xlabel("Score de priorité (somme des poids d'urgence)")
        ax.xaxis.grid(True, color=GRID)
        ax.set_axisbelow(True)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=8.5, ncols=4,
                  handlelength=1.2, columnspacing=1.2)
        fig.tight_layout()
        return _to_svg(fig, "Pareto des causes de réclamation par score de priorité")


def heatmap_svg(heatmap: pd.DataFrame, cause_labels: dict, sector_labels: dict) -> str:
    """Causes (rows) x sectors (columns), counts written in the cells."""
    table = heatmap.T  # causes as rows: their long labels read horizontally
    rows, cols = table.shape
    values = table.to_numpy(dtype=float)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(max(6.0, 0.7 * cols + 3.2), 0.4 * rows + 1.8))
        ax = fig.subplots()
        vmax = values.max() if values.size and values.max() > 0 else 1
        ax.imshow(values, cmap="Blues", aspect="auto", vmin=0, vmax=vmax)
        for i in range(rows):
            for j in range(cols):
                v = int(values[i, j])
                if v:
                    ax.text(j, i, f"{v:,}".replace(",", "\u202f"), ha="center", va="center", fontsize=9,
                            color="white" if values[i, j] > 0.55 * vmax else TEXT)
        ax.set_yticks(range(rows), [_wrap(cause_labels.get(c, c), 34) for c in table.index], fontsize=9.5)
        ax.set_xticks(range(cols), [_wrap(sector_labels.get(s, s), 13) for s in table.columns], fontsize=9)
        ax.xaxis.tick_top()
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        fig.tight_layout()
        return _to_svg(fig, "Nombre de réclamations par cause et par secteur")


def trend_svg(trend: pd.DataFrame, alerts: pd.DataFrame, cause_labels: dict, top: int = 6) -> str:
    """Weekly counts of the ``top`` first causes (table order); alerting causes marked."""
    data = trend.head(top)
    alerting = set(alerts["root_cause"]) if len(alerts) else set()
    extra = [c for c in alerting if c in trend.index and c not in data.index]
    data = pd.concat([data, trend.loc[extra]]) if extra else data
    x = np.arange(data.shape[1])
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9.5, 4.2))
        ax = fig.subplots()
        for k, (cause, series) in enumerate(data.iterrows()):
            color = LINE_COLORS[k % len(LINE_COLORS)]
            alert = cause in alerting
            ax.plot(x, series.to_numpy(), marker="o", markersize=3.5, linewidth=2.6 if alert else 1.6,
                    color=color, label=_wrap(cause_labels.get(cause, cause) + (" ⚠" if alert else ""), 30))
            if alert:
                ax.scatter([x[-1]], [series.iloc[-1]], s=140, facecolors="none", edgecolors="#b3261e",
                           linewidths=2, zorder=5)
        ax.set_xticks(x, [str(c).split("-")[-1] for c in data.columns], fontsize=9)
        ax.set_xlabel("Semaine ISO")
        ax.set_ylabel("Réclamations")
        ax.set_ylim(bottom=0, top=max(float(data.to_numpy().max()) * 1.08, 4.0) if data.size else 4.0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.grid(True, color=GRID)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5)
        fig.tight_layout()
        return _to_svg(fig, "Évolution hebdomadaire des principales causes")
