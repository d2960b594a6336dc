"""The table of every video pipeline class weditor knows: what works on each, or why it is refused.

`weditor inspect --pipelines` prints it; README.md's "Supported models" section is this table.
It is built from the adapters and the refusal rows (weditor/adapters/catalogue.py) alone, so it
needs no model and no enumeration of diffusers.
"""

from __future__ import annotations

from weditor.adapters import ADAPTERS, REFUSED, Adapter


def pairs_accepted(adapter: Adapter) -> str:
    """What a pair file may carry for this class besides prompts."""
    if adapter.pairs_label:  # where the rule below would mislead (Cosmos: the frames a video continues)
        return adapter.pairs_label
    if adapter.video_input:  # weditor/io/pair_videos.py
        return f"videos ({'V2V input video' if adapter.video_latents is not None else adapter.video_role})"
    return "images (I2V)" if adapter.image_to_video else "prompts only"


def supported_row(cls: str, adapter: Adapter) -> dict:
    output_side = [n for n, s in adapter.sites.items() if s.role == "writes" and not s.gated]
    return {
        "pipeline_class": cls,
        "status": "supported",
        "family": adapter.family,
        "pairs": pairs_accepted(adapter),
        "refusal_default_site": adapter.default_site,
        "refusal_output_side": output_side,
        "reins": f"exact ({adapter.ungated_write})"
        if adapter.ungated_write
        else "refused (every residual add is gated)",
        "text_and_safree": bool(adapter.text_inputs()),
    }


def pipeline_table() -> list[dict]:
    rows = [supported_row(cls, a) for a in ADAPTERS for cls in a.pipelines]
    rows += [{"pipeline_class": cls, "status": "refused", "reason": reason} for cls, reason in REFUSED.items()]
    return sorted(rows, key=lambda r: (r["status"] != "supported", r["pipeline_class"]))


def format_table(rows: list[dict]) -> str:
    lines = ["supported (methods: refusal on every row; text read-out and SAFREE unless marked; REINS where exact):"]
    width = max((len(r["pairs"]) for r in rows if r["status"] == "supported"), default=0) + 1
    for r in rows:
        if r["status"] == "supported":
            out = ", ".join(r["refusal_output_side"]) or "none (gated)"
            lines.append(
                f"  {r['pipeline_class']:<48}{r['family']:<14}{r['pairs']:<{width}}"
                f"refusal site {r['refusal_default_site']}; output side: {out}; REINS {r['reins']}"
                + ("" if r["text_and_safree"] else "; text methods refused (no linear reads the prompt alone)")
            )
    lines.append("refused:")
    lines += [f"  {r['pipeline_class']:<48}{r['reason']}" for r in rows if r["status"] == "refused"]
    return "\n".join(lines)
