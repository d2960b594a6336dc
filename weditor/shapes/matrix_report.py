"""Markdown tables of the concept matrix (`weditor.shapes.matrix.run_concept` results), for docs/benchmarks.md.

One row per concept and variant: the concept shown by the original and by the patch on the
held-out target prompts, on synonyms, each attribute's accuracy on prompts without the concept
(original -> patched, drop in points), the worst drop of a conjunction's parts elsewhere, pixel
change, patch time and the verdict against issue 19's targets; then the misses, as asked -> drawn.
"""

from __future__ import annotations

from weditor.shapes.matrix import ACC_KEYS, TARGETS

_SHORT = {"color": "colour", "shape": "shape", "motion": "motion"}


def _pct(x) -> str:
    return "-" if x is None else f"{x:.0%}"


def _kept(orig: dict, row: dict, key: str) -> str:
    change = 100 * (row[key] - orig[key]) + 0.0  # + 0.0: no "-0.0"
    return f"{orig[key]:.1%} -> {row[key]:.1%} ({change:+.1f})"


def _misses(row: dict, attrs=("color", "shape", "motion"), top: int = 3) -> str:
    out = []
    for attr in attrs:
        for k, n in list(row.get(f"{attr}_misses", {}).items())[:top]:
            out.append(f"{k} {n}")
    return ", ".join(out) or "none"


def failed_checks(verdict: dict) -> str:
    names = {
        "original_shows": "original",
        "erased": "erased",
        "synonyms_erased": "synonyms",
        "others_kept": "kept",
        "parts_kept": "parts",
    }
    bad = [names[k] for k, v in verdict["checks"].items() if v is False]
    return "**pass**" if verdict["pass"] else "fail: " + ", ".join(bad)


def table(results: list[dict]) -> str:
    head = (
        "| concept | kind | split | variant | shown (original -> patched) | synonyms | colour kept | shape kept | "
        "motion kept | parts kept (worst) | pixel change | patch s | verdict |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in results:
        orig = r["original"]["sets"]
        syn0 = orig.get("synonyms", {}).get("concept_rate")
        for name, v in r["variants"].items():
            s = v["sets"]
            syn = s.get("synonyms", {}).get("concept_rate")
            parts = v["verdict"]["worst_drop_parts"]
            lines.append(
                f"| {r['label']} | {r['kind']} | {r['split']} | {name} | {_pct(orig['target']['concept_rate'])} -> "
                f"{_pct(s['target']['concept_rate'])} | {_pct(syn0)} -> {_pct(syn)} | "
                + " | ".join(_kept(orig["others"], s["others"], ACC_KEYS[a]) for a in ("color", "shape", "motion"))
                + f" | {'-' if parts is None else f'{0.0 - parts:+.1f}'} | {v['pixel_change']:.4f} | {v['patch_seconds']:.1f} | "
                f"{failed_checks(v['verdict'])} |"
            )
        for name, error in r.get("failed", {}).items():
            lines.append(f"| {r['label']} | {r['kind']} | {r['split']} | {name} | FAILED: {error} |" + " |" * 8)
    return "\n".join(lines)


def details(results: list[dict]) -> str:
    """Per concept: set sizes, what the target prompts were drawn as, the misses and the parts' figures."""
    out = []
    for r in results:
        counts = ", ".join(f"{k} {n}" for k, n in r["counts"].items())
        out.append(
            f"- **{r['label']}** ({r['kind']}, {r['split']}; {r['pairs']}; videos: {counts}; {r['wall_seconds']:.0f} s)"
        )
        orig = r["original"]["sets"]
        out.append(f"  - original: target drawn as {_drawn(orig['target'])}; others' misses: {_misses(orig['others'])}")
        for name, v in r["variants"].items():
            s = v["sets"]
            line = f"  - {name}: target drawn as {_drawn(s['target'])}"
            if "synonyms" in s:
                line += f"; synonyms drawn as {_drawn(s['synonyms'])}"
            line += f"; others' misses: {_misses(s['others'])}"
            for set_name, row in s.items():
                if row["role"] == "parts":
                    line += f"; {set_name}: " + ", ".join(
                        f"{_SHORT[a]} {_kept(orig[set_name], row, ACC_KEYS[a])}" for a in ("color", "shape", "motion")
                    )
            out.append(line)
    return "\n".join(out)


def _drawn(row: dict, top: int = 4) -> str:
    n = row["n"]
    return ", ".join(f"{k} {c / n:.0%}" for k, c in list(row["drawn_instead"].items())[:top])


def markdown(results: list[dict]) -> str:
    t = TARGETS
    legend = (
        f"Targets (issue 19): original shows the concept on >= {t['original_min']:.0%} of held-out prompts; patched "
        f"<= {t['patched_max']:.0%}, synonyms <= {t['synonyms_max']:.0%}; every attribute on prompts without the "
        f"concept (and a conjunction's parts elsewhere) within {t['drop_max_points']:g} points of the original."
    )
    return "\n\n".join([table(results), details(results), legend])


__all__ = ["details", "markdown", "table"]
