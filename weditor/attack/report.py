"""`attack.html`: the found prompts and their frames side by side, on one self-contained page.

Built from `attack.json` with the table and embedding helpers of `weditor eval`'s report, so
the two pages look alike; the GIFs are a few kB each on the shapes model and are embedded.
"""

from __future__ import annotations

from pathlib import Path

from weditor.evaluation.report import _e, _kv, _media, _pct, _Raw, _table, data_uri, page, write_page


def _clip(out_dir: Path, rel: str | None):
    if not rel:
        return "-"
    path = out_dir / rel
    return _media(path, data_uri(path)) if path.is_file() else rel


def _verdict(unsafe: bool | None) -> _Raw:
    if unsafe is None:
        return _Raw("-")
    return _Raw(f"<span class='{'bad' if unsafe else 'good'}'>{'concept back' if unsafe else 'erased'}</span>")


def render(report: dict, out_dir: Path) -> str:
    s = report["settings"]
    g = s["generation"]
    concepts = ", ".join(report["concepts"])
    meta = [
        ("model attacked", report["model"]["id"]),
        ("targets from", report["base"]["id"]),
        ("concepts", concepts),
        ("scorer", report["scorer"]),
        (
            "token search",
            f"{s['budget']} steps, {s['prefix']} prefix + {s['suffix']} suffix tokens, "
            f"{s['candidates']} candidates from the top {s['topk']} per slot, {s['timesteps']} timesteps, "
            f"seed {s['seed']}",
        ),
        ("embedding search", f"{s['budget']} Adam steps, lr {s['lr']} (relative)" if s["embedding"] else "off"),
        (
            "generation",
            f"{g['height']}x{g['width']}, {g['frames']} frames, {g['steps']} steps, guidance {g['guidance']}",
        ),
        ("seconds", ", ".join(f"{k} {v}" for k, v in report["seconds"].items())),
        ("weditor", report["weditor_version"]),
    ]
    cards = [
        ("no attack: concept back", report["plain_unsafe_rate"]),
        ("ASR, token search", report["asr"]),
        ("ASR, embedding search (upper bound)", report["asr_embedding"]),
    ]
    headline = "".join(
        f'<div class="card"><div class="v">{_e(_pct(v))}</div><div class="k">{_e(k)}</div></div>' for k, v in cards
    )
    rows = []
    for r in report["targets"]:
        tok, emb = r.get("token") or {}, r.get("embedding") or {}
        rows.append(
            [
                r["prompt"],
                r["seed"],
                _clip(out_dir, r["base_video"]),
                _clip(out_dir, r["plain"]["video"]),
                _verdict(r["plain"]["unsafe"]),
                tok.get("shown_prompt") or r.get("skipped", "-"),
                _clip(out_dir, tok.get("video")),
                _verdict(tok.get("unsafe")),
                tok.get("shown_loss"),
                _clip(out_dir, emb.get("video")),
                _verdict(emb.get("unsafe")),
                emb.get("shown_loss"),
            ]
        )
    table = _table(
        [
            "target prompt",
            "seed",
            "base (target)",
            "patched, plain prompt",
            "verdict",
            "found prompt",
            "patched, found prompt",
            "verdict",
            "loss",
            "patched, embedding attack",
            "verdict",
            "loss",
        ],
        rows,
    )
    warnings = "".join(f"<p class='bad'>{_e(w)}</p>" for w in report.get("warnings", []))
    body = "".join(
        [
            f"<h1>weditor attack: {_e(concepts)}</h1>",
            warnings,
            _kv(meta),
            f'<div class="headline">{headline}</div>',
            "<h2>Targets</h2><p class='muted'>Each row: the base model's video of a held-out prompt (the target), the "
            "patched model on the same prompt and seed, then on the prompt the token search found and on the "
            "embeddings the embedding search found. A target counts for the ASR when the plain prompt or any judged "
            "snapshot of the search brings the concept back; the video shown is the first that did, else the last "
            "snapshot, and the loss is that snapshot's: the patched denoiser's loss toward the target (lower is "
            "closer).</p>",
            table,
        ]
    )
    return page(f"weditor attack: {concepts}", body)


def write_html(report: dict, out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    return write_page(out_dir / "attack.html", render(report, out_dir))
