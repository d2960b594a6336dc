"""CPU time of the shapes patch (`weditor patch --pairs pairs/shapes-red.toml`) against its floor.

The floor (issue 22): imports, loading the pipeline, the encodes the method needs (each pair's two
prompts and each neutral prompt, once) and writing the edited shard. Each side runs in a fresh
process; process CPU time (user + system) is reported, less disturbed than wall time on a shared
machine, and split into imports and the rest.

    python scripts/bench_shapes_patch.py [--no-tune] [--pairs pairs/shapes-red.toml] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_patch(a) -> dict:
    c0 = time.process_time()
    import diffusers
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel  # noqa: F401 - diffusers imports lazily

    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    imports = time.process_time() - c0
    torch.set_num_threads(a.threads) if a.threads else None
    forwards: list = []
    original = diffusers.WanTransformer3DModel.forward

    def forward(self, *args, **kwargs):
        forwards.append(list(kwargs.get("hidden_states", args[0] if args else None).shape))
        return original(self, *args, **kwargs)

    diffusers.WanTransformer3DModel.forward = forward
    cpu = wrap_cpu()
    c1 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        kwargs = {"batch": a.batch} if a.batch else {}
        kwargs.update({"summary": False} if a.no_summary else {})
        try:
            cfg = PatchConfig(pairs=[a.pairs], out=f"{tmp}/out", tune=not a.no_tune, **kwargs)
        except TypeError:  # a tree without --batch
            cfg = PatchConfig(pairs=[a.pairs], out=f"{tmp}/out", tune=not a.no_tune)
        result = run_patch(cfg, echo=lambda *_: None)
        recipe = json.loads(Path(f"{tmp}/out/weditor.json").read_text())
    return {
        "imports_cpu_s": imports,
        "work_cpu_s": time.process_time() - c1,
        "timings": result.timings,
        "forwards": forwards,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "cpu_s_by_stage": cpu,
        "tuning_chosen": (recipe.get("tuning") or {}).get("chosen"),
        "tuning_trials": [t.get("params") for t in (recipe.get("tuning") or {}).get("trials", [])],
        "summary": result.summary,
    }


STAGES = (  # (module whose name is called, name, label): wrapped where the caller looks it up
    ("weditor.pipeline.tuning", "prepare", "self-check / tuning"),
    ("weditor.pipeline.load", "load_pipeline", "load (each)"),
    ("weditor.pipeline.verify", "load_pipeline", "load (each)"),
    ("weditor.methods.text", "statistics", "encode"),
    ("weditor.models.measure", "output_change", "summary"),
    ("weditor.pipeline.write", "verify_staged", "verify"),
    ("weditor.pipeline.run", "write_patch", "write + verify + card"),
)


def wrap_cpu() -> dict:
    """Process CPU seconds per stage of the patch (bench-side wrappers; nested stages counted in both)."""
    import importlib

    cpu: dict = {}
    for module_name, name, label in STAGES:
        module = importlib.import_module(module_name)
        fn = getattr(module, name)

        def wrapper(*args, _fn=fn, _label=label, **kwargs):
            c0 = time.process_time()
            try:
                return _fn(*args, **kwargs)
            finally:
                cpu[_label] = cpu.get(_label, 0.0) + time.process_time() - c0

        setattr(module, name, wrapper)
    return cpu


def child_floor(a) -> dict:
    c0 = time.process_time()
    import diffusers
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel  # noqa: F401 - diffusers imports lazily

    from weditor.io.pairs import load_pairsets, neutral_prompts
    from weditor.shapes import model_path

    imports = time.process_time() - c0
    torch.set_num_threads(a.threads) if a.threads else None
    c1 = time.process_time()
    pipe = diffusers.WanPipeline.from_pretrained(model_path(), use_safetensors=True)
    load = time.process_time() - c1
    pairsets = load_pairsets([a.pairs])
    prompts = [p for ps in pairsets for pair in ps.pairs for p in (pair.unsafe, pair.safe)] + neutral_prompts(pairsets)
    c2 = time.process_time()
    with torch.no_grad():
        pipe.encode_prompt(
            prompts, do_classifier_free_guidance=False, max_sequence_length=pipe.tokenizer.model_max_length
        )
    encode = time.process_time() - c2
    c3 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        pipe.transformer.save_pretrained(tmp, safe_serialization=True)
    save = time.process_time() - c3
    return {
        "imports_cpu_s": imports,
        "load_cpu_s": load,
        "encode_cpu_s": encode,
        "save_cpu_s": save,
        "prompts_encoded": len(prompts),
        "work_cpu_s": load + encode + save,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", default=str(ROOT / "pairs" / "shapes-red.toml"))
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument(
        "--no-summary", action="store_true", help="patch with --no-summary (with --no-tune: no self-check either)"
    )
    ap.add_argument("--batch", type=int, default=0, help="--batch of the patch (0: its default)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--child", choices=("patch", "floor"), help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        Path(a.result).write_text(json.dumps(child_patch(a) if a.child == "patch" else child_floor(a)))
        return
    out = {}
    for role in ("patch", "floor"):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            cmd = (
                [
                    sys.executable,
                    __file__,
                    "--child",
                    role,
                    "--result",
                    f.name,
                    "--pairs",
                    a.pairs,
                    "--threads",
                    str(a.threads),
                    "--batch",
                    str(a.batch),
                ]
                + (["--no-tune"] if a.no_tune else [])
                + (["--no-summary"] if a.no_summary else [])
            )
            subprocess.run(cmd, check=True, env={**__import__("os").environ, "TQDM_DISABLE": "1"})
            out[role] = json.loads(Path(f.name).read_text())
    p, f = out["patch"], out["floor"]
    t = p["timings"]
    print(
        f"patch: imports {p['imports_cpu_s']:.2f} s CPU, after imports {p['work_cpu_s']:.2f} s CPU; "
        f"{len(p['forwards'])} denoiser forwards (batches {sorted({s[0] for s in p['forwards']})}); "
        f"phases (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in t.items())
    )
    print("patch CPU s by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in p.get("cpu_s_by_stage", {}).items()))
    print(
        f"floor: imports {f['imports_cpu_s']:.2f} s CPU, after imports {f['work_cpu_s']:.2f} s CPU "
        f"(load {f['load_cpu_s']:.2f}, encode {f['prompts_encoded']} prompts {f['encode_cpu_s']:.2f}, save {f['save_cpu_s']:.2f})"
    )
    summary_share = t.get("summary", 0) / max(t.get("total", 1e-9), 1e-9)
    print(
        f"patch / floor after imports: {p['work_cpu_s'] / f['work_cpu_s']:.2f}x; total with imports: "
        f"{(p['work_cpu_s'] + p['imports_cpu_s']) / (f['work_cpu_s'] + f['imports_cpu_s']):.2f}x; "
        f"summary share of run_patch wall: {100 * summary_share:.0f}%; tuning chosen: {p['tuning_chosen']}"
    )
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
