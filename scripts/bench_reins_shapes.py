"""REINS on the shapes benchmark: the folded bias at several strengths and layers, and what the fold
cannot reproduce of REINS, measured.

    python scripts/bench_reins_shapes.py --quick     # a few minutes on 2 CPU cores
    python scripts/bench_reins_shapes.py             # the full prompt sets of bench_erasure.py

Variants (held-out prompts and scoring exactly as scripts/bench_erasure.py):
- `weditor patch --method reins` at `--reins-strength` s and `--reins-layer` l (the exact fold);
- the same vector as a run-time hook on the base model, (b) only during the first half of the
  sampling steps (REINS' schedule), (c) at the block output with each token's norm preserved
  (REINS' rescaling): the gap between these and the fold is what baking REINS into weights costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_erasure as B  # noqa: E402


def generate_with_hook(pipe, sets, install):
    """bench_erasure.generate_all with a hook installed by `install(pipe, state)`.

    state["step"] is the index of the sampling step under way: the pipeline's step-end callback
    advances it and wraps it to 0 after the last step, ready for the next batch.
    """
    from weditor.shapes import NUM_INFERENCE_STEPS

    state = {"step": 0}

    def on_step_end(p, i, t, kwargs):
        state["step"] = (i + 1) % NUM_INFERENCE_STEPS
        return kwargs

    handles = install(pipe, state)
    try:
        return B.generate_all(pipe, sets, callback_on_step_end=on_step_end)
    finally:
        for h in handles:
            h.remove()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--strengths", type=float, nargs="*", default=[0.1, 0.2, 0.3, 0.5])
    ap.add_argument(
        "--layers", nargs="*", default=["0.25", "0.75"], help="extra --reins-layer values at --hook-strength"
    )
    ap.add_argument(
        "--hook-strength", type=float, default=0.3, help="strength of the layer sweep and the hook variants"
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    import torch
    from safetensors.torch import load_file

    from weditor.io.pairs import load_pairs
    from weditor.methods.reins import REINS_FILE
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch
    from weditor.shapes import load_pipeline, model_path

    torch.set_num_threads(1)
    pairset = load_pairs(B.PAIRS)
    sets = B.prompt_sets(args.quick, B.used_prompts(pairset))  # neither pair members nor neutral prompts
    rows, started = [], time.perf_counter()

    def report(name, videos, base, extra=None):
        metrics = B.score(sets, videos, base)
        metrics.update(extra or {})
        metrics.setdefault("patch_seconds", 0.0)
        rows.append((name, metrics))
        print(
            f"[{time.perf_counter() - started:6.1f}s] {name}: red {metrics['target']['red_rate']:.0%}, "
            f"others colour {metrics['others']['colour_acc']:.1%}",
            file=sys.stderr,
            flush=True,
        )
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": rows}, indent=2) + "\n")

    base_pipe = load_pipeline()
    base = B.generate_all(base_pipe, sets)
    report("original (no edit)", base, None)
    folds = {}
    with tempfile.TemporaryDirectory() as tmp:
        grid = [(s, "0.5") for s in args.strengths] + [(args.hook_strength, layer) for layer in args.layers]
        for strength, layer in grid:
            out = Path(tmp) / f"s{strength}-l{layer}"
            t0 = time.perf_counter()
            result = run_patch(
                PatchConfig(
                    pairs=[str(B.PAIRS)],
                    out=str(out),
                    method="reins",
                    reins_strength=strength,
                    reins_layer=layer,
                    summary=False,
                ),
                echo=lambda *a: None,
            )
            seconds = time.perf_counter() - t0
            (key,) = result.recipe["params"]["reins_layer_resolved"].items()
            folds[(strength, layer)] = (key[1], load_file(out / REINS_FILE))
            report(
                f"fold, strength {strength:g}, layer {layer} (block {key[1]})",
                B.generate_all(load_pipeline(out), sets),
                base,
                {"patch_seconds": round(seconds, 2)},
            )

    block, tensors = folds[(args.hook_strength, "0.5")]
    vector = tensors[f"transformer.blocks.{block}.vector"].float()

    def early_half(pipe, state):
        from weditor.shapes import NUM_INFERENCE_STEPS

        module = pipe.transformer.blocks[block].attn2.to_out[0]
        return [
            module.register_forward_hook(
                lambda m, a, y: y + vector.to(y.dtype) if state["step"] < NUM_INFERENCE_STEPS / 2 else y
            )
        ]

    def norm_preserving(pipe, state):
        def hook(m, a, h):
            steered = h + vector.to(h.dtype)
            return steered * (h.norm(dim=-1, keepdim=True) / steered.norm(dim=-1, keepdim=True).clamp_min(1e-12))

        return [pipe.transformer.blocks[block].register_forward_hook(hook)]

    s = args.hook_strength
    report(
        f"(b) hook, first half of the steps only, strength {s:g}",
        generate_with_hook(load_pipeline(), sets, early_half),
        base,
    )
    report(
        f"(c) hook at the block output, token norm kept, strength {s:g}",
        generate_with_hook(load_pipeline(), sets, norm_preserving),
        base,
    )
    print(B.markdown(rows))
    print(f"\nmodel {model_path().name}; wall {time.perf_counter() - started:.0f} s")
    return rows


if __name__ == "__main__":
    main()
