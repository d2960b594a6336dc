"""The model card's self-tuning sections: the search's trials and choice, and the self-check per concept.

Apart from weditor/pipeline/card.py because the record grew with the conjunction's parts (leak, move, their
warnings), and the card's other sections do not read it.
"""

from __future__ import annotations

from weditor.pipeline.card_tables import _table


def block_move_budget(objective: dict):
    """The block fit's own part move budget where the search recorded one that differs from the others' (since
    conj10 both are 0.28: nothing to say), else None; the card and the summary say it alike."""
    block = objective.get("block_part_move_budget")
    return block if block is not None and block != objective.get("part_move_budget") else None


def tuning_section(recipe: dict) -> str | None:
    """The model card's "Self-tuning" table (every trial, the chosen one marked) and "Self-check" figures."""

    parts = []
    tuning = recipe.get("tuning")
    if tuning:
        obj = tuning["objective"]
        rows = []
        for i, t in enumerate(tuning["trials"]):
            setting = ", ".join(f"{k} {v}" for k, v in t["params"].items())
            erasure = ", ".join(f"{c} {e:.3f}" for c, e in t.get("erasure", {}).items()) or t.get("error", "")
            rows.append(
                (
                    "**chosen**" if i == tuning["chosen"] else str(i),
                    t["method"],
                    setting,
                    erasure,
                    f"{t['neutral_change']:.4f}" if "neutral_change" in t else "",
                )
            )
        key = "part_budget" if "part_budget" in obj else "neutral_budget"  # parts elsewhere: weditor/io/parts.py
        parts.append(
            "## Self-tuning\n\n`weditor patch` chose the method and its settings itself, on a held-out split of the "
            f"pair files ({obj['held_out']:.0%} of the pairs and neutral prompts, seed {obj['seed']}, {obj['steps']} "
            "denoising steps): erasure is how far the held-out unsafe prompts' denoiser predictions moved to their "
            "safe twins' (1 = all the way), neutral change how much the held-out neutral prompts' moved (relative). "
            f"Chosen: the least neutral change among the settings that reach erasure {obj['erased']} within a "
            f"{key.replace('_budget', ' leak' if key == 'part_budget' else ' change')} of {obj[key]}"
            + (f" and a part move of {obj['part_move_budget']}" if "part_move_budget" in obj else "")
            + (
                f" ({block_move_budget(obj)} for the text encoder's block fit)"
                if block_move_budget(obj) is not None
                else ""
            )
            + ", else the most erasure within it (docs/method.md).\n\n"
            + _table(("Trial", "Method", "Setting", "Erasure", "Neutral change"), [rows[tuning["chosen"]]])
            + f"\n\n<details><summary>All {len(rows)} trials</summary>\n\n"
            + _table(("Trial", "Method", "Setting", "Erasure", "Neutral change"), rows)
            + "\n\n</details>"
        )
    check = recipe.get("self_check")
    if check:
        rows = [(c, f"{r['erasure']:.3f}", f"{r['neutral_change']:.4f}", _verdict(r)) for c, r in check.items()]
        parts.append(
            "## Self-check\n\nOn the held-out split, the setting fitted on the other pairs:\n\n"
            + _table(("Concept", "Erasure", "Neutral change", "Verdict"), rows)
        )
    return "\n\n".join(parts) or None


def _verdict(r: dict) -> str:
    """The self-check's verdict cell: its warnings first (the table cell is cut at its width), then the parts."""
    from weditor.pipeline.tuning import WARN_BELOW

    warnings = [f"below {WARN_BELOW}, barely reached"] if r["warning"] else []
    warnings += ["partly erased: the parts budget held it back"] if r.get("parts_limited") else []
    warnings += ["parts elsewhere over the budget"] if r.get("parts_warning") else []
    warnings += ["parts check partly blind (no neighbour prompts)"] if r.get("parts_blind") else []
    out = "; ".join(f"**warning**: {w}" for w in warnings) or "ok"
    if "part_move" in r:
        out += f"; parts moved {r['part_move']:.3f} (to their twins {r['part_leak']:.3f})"
    elif "part_leak" in r:
        out += f"; parts elsewhere moved {r['part_leak']:.3f} to their twins"
    return out
