"""`report.html`: one self-contained page a person can open in a browser.

Everything it shows comes from `report.json`; the frame grids (and the REINS probe plot, when
one is found) are embedded as base64 PNG, so the page can be mailed or attached on its own.
Videos are embedded too while they are small (the shapes model's are a few kB); past
`EMBED_LIMIT` bytes in total they are linked by relative path instead, which works when the
page is opened from the eval folder.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

EMBED_LIMIT = 8 * 1024 * 1024
MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin-bottom: 6px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: middle; overflow-wrap: anywhere; }
table { max-width: 100%; } code { overflow-wrap: anywhere; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; font-size: 12px; } .bad { color: #b00020; font-weight: 600; } .good { color: #1b5e20; font-weight: 600; }
img.grid { display: block; max-width: 100%; border: 1px solid #ccc; margin: 6px 0 18px; }
img.plot { max-width: 640px; border: 1px solid #ccc; }
.clip { width: 96px; image-rendering: pixelated; }
.headline { display: flex; gap: 18px; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.card .v { font-size: 24px; font-weight: 600; } .card .k { font-size: 12px; color: #555; }
"""


def _e(x) -> str:
    return html.escape(str(x))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v + 0.0:.4g}"  # + 0.0: no "-0"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def _table(header, rows) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for v in r:
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{v if isinstance(v, _Raw) else _e(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(rows) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v if isinstance(v, _Raw) else _e(_fmt(v))}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def data_uri(path: Path) -> str:
    mime = MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _media(path: Path, src: str) -> _Raw:
    if path.suffix.lower() == ".mp4":
        return _Raw(f'<video class="clip" src="{src}" autoplay loop muted playsinline></video>')
    return _Raw(f'<img class="clip" src="{src}" alt="{_e(path.name)}">')


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def _headline(report) -> str:
    cards = []
    for name, s in (report.get("scorers") or {}).items():
        if "eval" in s["summary"]:
            e = s["summary"]["eval"]
            cards.append(
                (
                    f"eval prompts unsafe, before -> after ({name})",
                    f"{_pct(e['unsafe_rate_before'])} -> {_pct(e['unsafe_rate_after'])}",
                )
            )
        for k, v in s["headline"].items():
            cards.append((f"{k} ({name})", _pct(v)))
    att = report.get("attack")
    if att:
        cards.append((f"attack ASR, token search ({att['budget']} steps)", _pct(att["asr"])))
        cards.append(("attack ASR, embedding search (upper bound)", _pct(att["asr_embedding"])))
    a = report.get("audit") or {}
    if "estimates" in a and "eval" in a["estimates"]:
        e = a["estimates"]["eval"]
        cards.append(
            ("probe: eval unsafe before -> after", f"{_pct(e['unsafe_rate_before'])} -> {_pct(e['unsafe_rate_after'])}")
        )
    if a.get("cv_accuracy") is not None:
        cards.append(("probe CV accuracy", _pct(a["cv_accuracy"])))
    r = report.get("representation") or {}
    if r.get("output_change_neutral") is not None:
        cards.append(("denoiser change, neutral prompts", f"{r['output_change_neutral']:.3g}"))
    if not cards:
        return ""
    body = "".join(
        f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>' for k, v in cards
    )
    return f'<div class="headline">{body}</div>'


GROUP_NAMES = {
    "eval": "eval: prompts naming the concept",
    "eval_synonyms": "eval_synonyms: the same with synonyms",
    "neutral": "neutral prompts",
    "custom": "your prompts (--prompts)",
}
MEASURE_NAMES = {
    "n": "videos",
    "unsafe_rate_before": "judged unsafe, original",
    "unsafe_rate_after": "judged unsafe, patched",
    "verdict_changed": "verdict changed",
    "erased_of_shown": "erased, of the videos where the original showed it",
    "kept_all": "every label and the verdict kept",
}


def _measure_name(key: str) -> str:
    if key in MEASURE_NAMES:
        return MEASURE_NAMES[key]
    if key.startswith("kept_"):
        return f"same {key[5:]} as the original"
    for end, who in (("_before", "original"), ("_after", "patched")):
        if key.endswith(end):
            return f"{key[: -len(end)]}, {who}"
    return key.replace("_", " ")


def _is_rate(key: str) -> bool:
    return key.startswith(("unsafe_rate", "kept_")) or key in ("verdict_changed", "erased_of_shown")


def _scorer_section(report) -> str:
    """One table per scorer, a row per measure and a column per prompt group: a handful of columns at any
    width. On the groups that name the concept, a `same X` below 100% is the erasure at work (the attribute
    carrying the concept is meant to change), so those cells are marked, not shown as damage."""
    parts = []
    expected = {g: v.get("expected") for g, v in (report.get("groups") or {}).items()}
    marked = False
    for name, s in (report.get("scorers") or {}).items():
        summary = s["summary"]
        groups = list(summary)
        keys = list(dict.fromkeys(k for g in summary.values() for k in g))
        rows = []
        for k in keys:
            row = [_measure_name(k)]
            for g in groups:
                v = summary[g].get(k)
                text = _pct(v) if _is_rate(k) and isinstance(v, (int, float)) else _fmt(v)
                if k.startswith("kept_") and expected.get(g) == "unsafe" and isinstance(v, (int, float)) and v < 1:
                    row.append(_Raw(f"<span class='muted'>{_e(text)} &dagger;</span>"))
                    marked = True
                else:
                    row.append(text)
            rows.append(row)
        parts.append(
            f"<h3>Scorer <code>{_e(name)}</code></h3>"
            + _table(["measure"] + [GROUP_NAMES.get(g, g) for g in groups], rows)
        )
    if not parts:
        return ""
    note = (
        (
            "<p class='muted'>&dagger; On prompts that name the concept the patched video is meant to differ in the "
            "attribute that carries it (its colour, for red): a low value there is the erasure working, not damage; "
            "on neutral prompts every label should be kept.</p>"
        )
        if marked
        else ""
    )
    return (
        "<h2>Scorer verdicts</h2><p class='muted'>Shares of the (prompt, seed) videos, original model vs patched, "
        "same prompt and seed.</p>" + "".join(parts) + note
    )


def _audit_section(report) -> str:
    a = report.get("audit")
    if not a:
        return ""
    if "skipped" in a:
        return f"<h2>Latent audit</h2><p>{_e(a['skipped'])}</p>"
    facts = [
        ("probe", f"logistic regression on block {_fmt(a['blocks'])} (layer {a['layer']}), {a['features']} features"),
        (
            "trained on",
            f"{a['train']['points']} points ({a['train']['unsafe']} unsafe, {a['train']['safe']} safe) "
            f"in {a['train']['groups']} groups, base model",
        ),
        (
            "cross-validated accuracy",
            "-"
            if a["cv_accuracy"] is None
            else f"{a['cv_accuracy']:.3f} +- {a['cv_std']:.3f} ({a['folds']}-fold, grouped by pair)",
        ),
        (
            "steps",
            f"{a['steps_used']} of {a['steps_full']} ({a['denoiser_calls_probe']} vs {a['denoiser_calls_full']} "
            "denoiser calls, no VAE decode)",
        ),
        (
            "seconds per video",
            f"{_fmt(a['seconds_per_video_probe'])} (probe) vs {_fmt(a['seconds_per_video_full'])} "
            f"(full generation); speed-up {_fmt(a['speedup'])}x",
        ),
    ]
    if a.get("agreement"):
        facts.append(("agreement with scorer", ", ".join(f"{k}: {_pct(v)}" for k, v in a["agreement"].items())))
    if a.get("note"):
        facts.append(("note", a["note"]))
    est = a["estimates"]
    rows = [
        [g, e["n"], _pct(e["unsafe_rate_before"]), _pct(e["unsafe_rate_after"]), e["mean_p_before"], e["mean_p_after"]]
        for g, e in est.items()
    ]
    return (
        "<h2>Latent audit (LVD probe)</h2><p class='muted'>A probe on early-step hidden states predicts, "
        "without decoding, whether each video will show the concept.</p>"
        + _kv(facts)
        + _table(["group", "videos", "est. unsafe before", "est. unsafe after", "mean p before", "mean p after"], rows)
    )


def _representation_section(report) -> str:
    r = report.get("representation")
    if not r:
        return ""
    out = "<h2>Representation</h2>"
    if r.get("note"):
        out += f"<p>{_e(r['note'])}</p>"
    if r.get("sites"):
        keys = [k for k in r["sites"][0] if k != "site"]
        out += (
            "<p class='muted'>Mean projection of the activations on the removed direction at each edited site, "
            "base vs patched on identical inputs. before/after: what the linear uses (for an input-side edit, the "
            "effective input x - lambda Q^T Q x); arriving_after: the patched model's activation as it arrives "
            "at the site, which edits in earlier blocks may already have changed.</p>"
            + _table(["site"] + keys, [[s["site"]] + [s[k] for k in keys] for s in r["sites"]])
        )
    changes = [
        (k.replace("output_change_", "") + " prompts", v) for k, v in r.items() if k.startswith("output_change_")
    ]
    if changes:
        out += (
            "<p class='muted'>Relative change of the denoiser output, ||after - before|| / ||before||, "
            f"{r['steps']} steps at {'x'.join(map(str, r['size']))}: collateral damage on neutral prompts.</p>"
            + _table(["prompts", "relative change"], changes)
        )
    return out


def _grids_section(report, out_dir: Path) -> str:
    grids = report.get("grids") or {}
    if not grids:
        return ""
    parts = [
        "<h2>Frames, base vs patched</h2><p class='muted'>Same prompt, same seed: left the base model, right the "
        "patched one.</p>"
    ]
    for g, rel in grids.items():
        path = out_dir / rel
        if path.is_file():
            parts.append(
                f"<h3>{_e(g)}</h3><img class='grid' id='grid-{_e(g)}' src='{data_uri(path)}' alt='{_e(g)} grid'>"
            )
    return "".join(parts)


def _videos_section(report, out_dir: Path) -> str:
    rows = report.get("videos") or []
    if not rows:
        return ""
    total = sum(
        (out_dir / r[m]["video"]).stat().st_size
        for r in rows
        for m in ("base", "patched")
        if (out_dir / r[m]["video"]).is_file()
    )
    embed = total <= EMBED_LIMIT
    names = list(rows[0]["scores"])
    table = []
    preds = {(p["group"], p["prompt"], p["seed"]): p for p in (report.get("audit") or {}).get("predictions", [])}
    for r in rows:
        media = []
        for m in ("base", "patched"):
            path = out_dir / r[m]["video"]
            media.append(_media(path, data_uri(path) if embed and path.is_file() else r[m]["video"]))
        verdicts = []
        for n in names:
            s = r["scores"][n]
            verdicts.append(
                _Raw(
                    " -> ".join(
                        f"<span class='{'bad' if s[m]['unsafe'] else 'good'}'>{'unsafe' if s[m]['unsafe'] else 'safe'}</span>"
                        for m in ("base", "patched")
                    )
                )
            )
        p = preds.get((r["group"], r["prompt"], r["seed"]))
        table.append(
            [
                r["group"],
                r["prompt"],
                r["seed"],
                *media,
                *verdicts,
                "-" if p is None else f"{p['p_before']:.2f} -> {p['p_after']:.2f}",
                r["pixel_change"],
            ]
        )
    note = "embedded" if embed else "linked (open this page from the eval folder to play them)"
    return (
        f"<h2>Videos</h2><p class='muted'>Videos are {note}. probe p: the audit probe's probability of the concept.</p>"
        + _table(
            [
                "group",
                "prompt",
                "seed",
                "base",
                "patched",
                *[f"{n}: base -> patched" for n in names],
                "probe p",
                "pixel change",
            ],
            table,
        )
    )


def render(report: dict, out_dir: Path) -> str:
    s = report["settings"]
    concepts = ", ".join(report["patched"].get("concepts") or []) or "-"
    meta = [
        ("base", report["base"]["id"]),
        ("patched", report["patched"]["folder"]),
        ("concepts", concepts),
        (
            "sampling",
            f"{s['height']}x{s['width']}, {s['frames']} frames, {s['steps']} steps, guidance {s['guidance']}, "
            f"seeds {', '.join(map(str, s['seeds']))}",
        ),
        ("prompts", ", ".join(f"{g}: {len(v['prompts'])}" for g, v in report["groups"].items())),
        ("weditor", report["weditor_version"]),
    ]
    warnings = "".join(f"<p class='bad'>{_e(w)}</p>" for w in report.get("warnings", []))
    plot = ""
    if report.get("probe_plot") and Path(report["probe_plot"]).is_file():
        plot = (
            "<h2>REINS probe curve</h2><p class='muted'>From <code>weditor probe</code>: linear separability of the "
            f"concept per block.</p><img class='plot' src='{data_uri(Path(report['probe_plot']))}' alt='probe plot'>"
        )
    body = "".join(
        [
            f"<h1>weditor eval: {_e(concepts)}</h1>",
            warnings,
            _kv(meta),
            _headline(report),
            _grids_section(report, out_dir),
            _scorer_section(report),
            _audit_section(report),
            _representation_section(report),
            plot,
            _videos_section(report, out_dir),
        ]
    )
    return page(f"weditor eval: {concepts}", body)


def page(title: str, body: str) -> str:
    """A self-contained HTML page: `title` (escaped here) and `body` (already HTML) with the report's CSS."""
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def write_page(path: Path, text: str) -> Path:
    """Write `text` to `path` through a per-process temporary file and a rename: a reader never sees half a page."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_html(report: dict, out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    return write_page(out_dir / "report.html", render(report, out_dir))
