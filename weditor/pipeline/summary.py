"""A patch's figures, rendered: the lines `weditor patch` prints, and the card's summary section.

The summary is the dict each method's `summarise` returns (weditor/methods/), recorded in
`weditor.json`; `Summary` renders it with the recipe it belongs to, in the terminal and (through
weditor/pipeline/card_tables.py) in the model card, so neither reader guesses its layout on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Summary:
    recipe: dict
    figures: dict = field(default_factory=dict)  # the recipe's "summary"
    timings: dict = field(default_factory=dict)  # PatchResult.timings (the search's seconds)
    out_dir: Path | str | None = None

    @classmethod
    def of(cls, result) -> "Summary":
        """The summary of a `PatchResult`."""
        return cls(result.recipe, result.summary or {}, result.timings, result.out_dir)

    def card_markdown(self) -> str:
        from weditor.pipeline.card_tables import summary_section

        return summary_section(self.figures)

    def terminal_lines(self) -> list[str]:
        """What `weditor patch` prints: the patch, its figures, the search's choice, the verification."""
        recipe, summary, out = self.recipe, self.figures, []
        params = recipe["params"]
        out.append(
            f"weditor {recipe['weditor_version']}: patched {recipe['base_model']['id']} "
            f"({recipe['base_model']['pipeline_class']}) -> {self.out_dir}"
        )
        concepts = ", ".join(p["concept"] for p in recipe["pairs"])
        if "site" in params:  # the refusal edit took part
            subspace = (
                "mean difference" if params["rank"] is None else f"rank k={params['rank']}; alpha={params['alpha']}"
            )
            edit = (
                f"read-out edit, removal {params['removal']}"
                if params.get("edit", "projection") == "readout"
                else "projection"
            )
            out.append(
                f"  concepts: {concepts}; site {params['site']}; {subspace}; {edit}; lambda={params['strength']}; "
                f"{len(recipe['edits'])} tensors edited"
            )
        else:
            out.append(f"  concepts: {concepts}; method {recipe['method']}; {len(recipe['edits'])} tensors edited")
        if "reins_layer_resolved" in params:
            blocks = ", ".join(f"{c}.blocks.{b}" for c, b in params["reins_layer_resolved"].items())
            out.append(
                f"  REINS: alpha*d folded into the ungated write's bias at {blocks}; strength {params['reins_strength']} "
                "x mean hidden-state norm"
            )
        if summary and summary.get("reins"):
            out.append(
                f"  {'REINS block':<26}{'alpha':>9}{'unsafe':>8}{'safe':>8}{'eval':>8}{'-> after':>9}"
                f"{'neutral':>9}{'-> after':>9}"
            )
            for row in summary["reins"]:
                out.append(
                    f"  {row['block']:<26}{row['alpha']:>9.4g}{row['proj_unsafe_rel']:>8.3f}{row['proj_safe_rel']:>8.3f}"
                    f"{row['proj_eval_before_rel']:>8.3f}{row['proj_eval_after_rel']:>9.3f}"
                    f"{row['proj_neutral_before_rel']:>9.3f}{row['proj_neutral_after_rel']:>9.3f}"
                )
            out.append(
                "  (mean projection of the pooled block output on d, unsafe -> safe, in units of the mean hidden-state "
                "norm; unsafe/safe: the pairs' members)"
            )
        if summary and summary.get("text"):
            out.append(f"  {'text embedding':<26}{'concept':>12}{'removal':>9}{'neutral w':>11}")
            for row in summary["text"]:
                for concept, removal, weight in zip(row["concepts"], row["removal"], row["neutral_weight"]):
                    out.append(f"  {row['embedding']:<26}{concept:>12}{removal:>9.3f}{weight:>11.4g}")
        for row in (summary or {}).get("encoder", []) + (summary or {}).get("encoder_block", []):
            out.append(
                f"  text encoder's {row['tensor'].removesuffix('.weight')}: {row['erased_tokens']} tokens mapped onto their twins (distance "
                f"left on the pairs {row['distance_to_twin_after']:.3f}), {row['kept_tokens']} kept (relative change "
                f"{row['kept_output_change']:.4f}); the denoiser's figures are the self-check's below"
            )
            for concept, table in row.get("synonyms", {}).items():  # weditor/methods/encoder_synonyms.py
                said = ", ".join(f"{s} -> {w} (cosine {c:.2f})" for s, (w, c) in table.items())
                out.append(f"  {concept}: keywords fitted as synonyms of the pair words: {said}")
        if (summary or {}).get("units"):
            u = summary["units"]
            out.append(
                f"  text encoder's last FFN, units {u['units']} refitted: {u['erased_tokens']} tokens mapped onto their "
                f"twins (distance left on the pairs {u['distance_to_twin_after']:.3f}), {u['kept_tokens']} kept "
                f"(relative change {u['kept_output_change']:.4f}); the denoiser's figures are the self-check's below"
            )
        for row in (summary or {}).get("uce", []):
            out.append(
                f"  key/value map of {row['denoiser']}: {row['erased_tokens']} tokens mapped onto their twins "
                f"(distance left on the pairs {row['distance_to_twin_after']:.3f}), {row['kept_tokens']} kept "
                f"(relative change {row['kept_token_change']:.4f})"
            )
        if summary:
            readout = any("removal" in row for row in summary["sites"])
            if summary["sites"]:
                header = f"  {'site':<34}{'dirs':>5}{'kept':>7}{'eval before':>13}{'neutral':>10}{'eval after':>12}"
                out.append(header + (f"{'removal':>9}{'neutral w':>11}" if readout else ""))
            for row in summary["sites"]:
                extra = f"{row['removal']:>9.3f}{row['neutral_weight']:>11.4g}" if "removal" in row else ""
                out.append(
                    f"  {row['site']:<34}{row['rank']:>5}{row['retained_norm']:>7.2f}"
                    f"{row['proj_eval_before']:>13.4f}{row['proj_neutral_before']:>10.4f}{row['proj_eval_after']:>12.4f}"
                    + extra
                )
            if "output_change_eval" in summary:  # (not --method encoder: the self-check re-encodes, this does not)
                out.append(
                    f"  relative change of the denoiser output: eval prompts {summary['output_change_eval']:.4f}, "
                    f"neutral prompts {summary['output_change_neutral']:.4f}"
                )
            if summary.get("neutral_most_changed"):
                out.append(
                    "  most changed neutral prompts: "
                    + ", ".join(f"{row['prompt']!r} {row['change']:.4f}" for row in summary["neutral_most_changed"])
                )
        out += self.tuning_lines()
        v = recipe.get("verification", {})
        out.append(
            f"  verified: reloaded with stock diffusers, {v.get('tensors_checked')} tensors checked bit for bit, "
            f"forward max rel diff {v.get('forward_max_rel_diff', 0):.2g} (tolerance {v.get('tolerance')})"
        )
        return out

    def tuning_lines(self) -> list[str]:
        """The search's choice and the self-check, with a `warning:` line per concept the edit barely reached."""
        from weditor.pipeline.card_tuning import block_move_budget
        from weditor.pipeline.tuning import PART_MOVE_BUDGET, WARN_BELOW

        recipe, seconds, out = self.recipe, self.timings.get("tune"), []
        tuning = recipe.get("tuning")
        if tuning:
            trials = tuning["trials"]
            chosen = trials[tuning["chosen"]]
            setting = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in chosen["params"].items())  # as options
            took = f" ({seconds:.1f} s)" if seconds is not None else ""
            out.append(
                f"  tuned: {len(trials)} trials{took}; chosen: --method {chosen['method']} {setting} "
                f"(neutral budget {tuning['objective']['neutral_budget']}"
                + (
                    f", parts budget {tuning['objective']['part_budget']}"
                    + (
                        f", part move budget {tuning['objective']['part_move_budget']}"
                        + (
                            f", {block_move_budget(tuning['objective'])} for --encoder-weights block"
                            if block_move_budget(tuning["objective"]) is not None
                            else ""
                        )
                        + ")"
                        if "part_move_budget" in tuning["objective"]
                        else ")"
                    )
                    if "part_budget" in tuning["objective"]
                    else ")"
                )
            )
        check = recipe.get("self_check")
        if not check:
            return out
        out.append(
            "  self-check on held-out pairs and neutral prompts (1 = unsafe predictions moved all the way to their "
            "safe twins'):"
        )
        for concept, row in check.items():
            leak = f", parts elsewhere moved {row['part_leak']:.3f} to their twins" if "part_leak" in row else ""
            leak += f", drifted {row['part_move']:.3f} towards a neighbour" if "part_move" in row else ""
            out.append(f"    {concept}: erasure {row['erasure']:.3f}, neutral change {row['neutral_change']:.4f}{leak}")
        for concept, row in check.items():
            if row["warning"]:
                out.append(
                    f"  warning: concept {concept!r} was barely reached: its held-out unsafe prompts moved "
                    f"{row['erasure']:.2f} of the way to their safe twins (below {WARN_BELOW}); check the patch with "
                    "weditor eval before using it"
                )
            if row.get("parts_warning"):
                out.append(
                    f"  warning: concept {concept!r}: no setting kept its parts elsewhere within the budget (they "
                    f"moved {row['part_move']:.2f}, budget {row.get('part_move_budget', PART_MOVE_BUDGET)}); the "
                    "least-moving setting that erases (else of all) was chosen, so other prompts that share its words "
                    "may change; check with weditor eval before using it"
                )
            if row.get("parts_limited"):
                out.append(_parts_limited_line(concept, row, tuning))
            if row.get("parts_blind"):
                out.append(
                    f"  warning: concept {concept!r}: {row['parts_blind']:.0%} of its part prompts have no neighbour "
                    "prompt in the file's words to measure their drift towards, so the parts check cannot see what "
                    "the patch does to them; check its parts elsewhere with weditor eval before using it"
                )
        return out


def _parts_limited_line(concept: str, row: dict, tuning: dict | None) -> str:
    """The warning for a concept the parts budget kept from being erased, naming the least damaging setting the
    search tried that erases it (its options, so a user who accepts the cost can pin them)."""
    obj = (tuning or {}).get("objective", {})
    erasing = [
        t
        for t in (tuning or {}).get("trials", ())
        if t.get("erasure", {}).get(concept, -1.0) >= obj.get("erased", 1.0) and "part_move" in t
    ]
    line = (
        f"  warning: concept {concept!r} was only partly erased ({row['erasure']:.2f} of the way): every setting "
        f"that erases it moves its parts elsewhere past the budget"
    )
    if erasing:
        best = min(erasing, key=lambda t: t["part_move"][concept])
        options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in best["params"].items())
        line += (
            f" (the least damaging the search tried: --method {best['method']} {options}, erasure {best['erasure'][concept]:.2f}, parts "
            f"moved {best['part_move'][concept]:.2f}, budget {obj.get('part_move_budget')}); check with weditor eval"
        )
    return line
