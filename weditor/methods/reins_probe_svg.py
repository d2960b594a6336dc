"""The probe's REINS curve as a small SVG written by hand: a plot on every install.

matplotlib is an optional extra (`weditor[plots]`, for the PNG), so without it `weditor probe`
wrote no picture although the README says it plots. The curve is two panels of a few dozen
points (probe accuracy with its cross-validation spread, and the gap along the REINS direction,
against depth), which SVG draws in plain text with no dependency; browsers and the eval report
show it directly.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

WIDTH, PANEL, MARGIN_L, MARGIN_R, TOP = 640, 230, 70, 20, 40
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _panel(
    rows_by_comp: dict, key: str, y0: int, lo: float, hi: float, label: str, default: dict, err: str | None
) -> list[str]:
    """One panel's axes, ticks and one polyline per denoiser."""
    w = WIDTH - MARGIN_L - MARGIN_R
    hi = hi if hi > lo else lo + 1.0

    def px(x):
        return MARGIN_L + x * w

    def py(y):
        return y0 + PANEL - (y - lo) / (hi - lo) * PANEL

    out = [
        f'<rect x="{MARGIN_L}" y="{y0}" width="{w}" height="{PANEL}" fill="none" stroke="#888"/>',
        f'<text x="14" y="{y0 + PANEL / 2:.0f}" transform="rotate(-90 14 {y0 + PANEL / 2:.0f})" '
        f'text-anchor="middle" font-size="12">{escape(label)}</text>',
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        out.append(f'<text x="{MARGIN_L - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="10">{v:.3g}</text>')
    for c, (comp, rows) in enumerate(rows_by_comp.items()):
        colour = COLOURS[c % len(COLOURS)]
        pts = " ".join(f"{px(r['depth']):.1f},{py(r[key]):.1f}" for r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for r in rows:
            out.append(f'<circle cx="{px(r["depth"]):.1f}" cy="{py(r[key]):.1f}" r="3" fill="{colour}"/>')
            if err:
                a, b = py(r[key] - r[err]), py(r[key] + r[err])
                out.append(
                    f'<line x1="{px(r["depth"]):.1f}" x2="{px(r["depth"]):.1f}" y1="{a:.1f}" y2="{b:.1f}" '
                    f'stroke="{colour}"/>'
                )
            if default.get(comp) == r["block"]:
                out.append(
                    f'<line x1="{px(r["depth"]):.1f}" x2="{px(r["depth"]):.1f}" y1="{y0}" y2="{y0 + PANEL}" '
                    'stroke="grey" stroke-dasharray="2,3"/>'
                )
    return out


def write_svg(report: dict, path: str | Path) -> str:
    """Accuracy and relative gap against depth, one line per denoiser; the default --reins-layer dotted."""
    rows_by_comp: dict = {}
    for r in report["blocks"]:
        rows_by_comp.setdefault(r["component"], []).append(r)
    default = report.get("default_reins_layer") or {}
    gaps = [r["gap_rel"] for r in report["blocks"]] or [0.0]
    height = TOP + 2 * PANEL + 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="Helvetica, Arial, sans-serif">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{WIDTH / 2:.0f}" y="22" text-anchor="middle" font-size="14">REINS curve: '
        f"{escape(str(report['pairs']['concept']))} on {escape(str(report['base_model']['id']))}</text>",
    ]
    parts += _panel(rows_by_comp, "accuracy", TOP, 0.0, 1.05, "probe accuracy (grouped CV)", default, "accuracy_std")
    parts += _panel(
        rows_by_comp,
        "gap_rel",
        TOP + PANEL + 20,
        min(0.0, min(gaps)),
        max(gaps) * 1.05,
        "gap along d / mean token norm",
        default,
        None,
    )
    y = TOP + 2 * PANEL + 38
    parts.append(
        f'<text x="{MARGIN_L + (WIDTH - MARGIN_L - MARGIN_R) / 2:.0f}" y="{y}" text-anchor="middle" font-size="12">'
        "depth (block / (blocks - 1)); dotted: default --reins-layer</text>"
    )
    for c, comp in enumerate(rows_by_comp):
        parts.append(
            f'<text x="{MARGIN_L + 120 * c}" y="{y + 22}" font-size="12" fill="{COLOURS[c % len(COLOURS)]}">'
            f"&#9679; {escape(comp)}</text>"
        )
    parts.append("</svg>\n")
    Path(path).write_text("\n".join(parts), encoding="utf-8")
    return str(path)
