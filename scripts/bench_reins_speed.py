"""Inference speed of REINS steering: folded into a bias vs applied by a runtime hook.

Times one transformer forward of three models built from the same weights:

    base    the unmodified transformer
    folded  `alpha * d` added to `blocks[L].attn2.to_out.0.bias` (what `weditor patch --reins` writes)
    hook    the base plus a forward hook on `blocks[L].attn2` that adds `alpha * d` to its output
            (REINS as a runtime intervention)

The variants run round-robin, so drift of a shared machine hits all three alike; reported per
forward: median, inter-quartile range and minimum of the wall time, and the median CPU time of
the thread (less sensitive to other processes on a shared machine), plus the largest relative
difference between the folded and the hooked outputs (they compute the same function).

    python scripts/bench_reins_speed.py                      # a medium random Wan transformer
    python scripts/bench_reins_speed.py --model tiny
    python scripts/bench_reins_speed.py --model shapes       # weditor/assets/shapes-wan, if present
    python scripts/bench_reins_speed.py --model PATH         # any local WanPipeline folder
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

PRESETS = {  # random WanTransformer3DModel configs
    "tiny": dict(num_layers=4, hidden=32, heads=2, text_dim=16, latent=(2, 8, 8)),
    "medium": dict(num_layers=12, hidden=512, heads=8, text_dim=256, latent=(3, 32, 32)),
}


def random_transformer(num_layers, hidden, heads, text_dim, latent, seed=0):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=hidden // heads,
        in_channels=16,
        out_channels=16,
        text_dim=text_dim,
        freq_dim=256,
        ffn_dim=4 * hidden,
        num_layers=num_layers,
        cross_attn_norm=True,
        rope_max_seq_len=1024,
    ).eval()
    return model, latent


def load_transformer(spec):
    from diffusers import WanTransformer3DModel

    if spec in PRESETS:
        return random_transformer(**PRESETS[spec])
    if spec == "shapes":
        from weditor.shapes import HEIGHT, NUM_FRAMES, WIDTH, model_path

        path = model_path()
        if not (path / "model_index.json").is_file():
            sys.exit(f"{path}: the shapes model is not there (yet); use --model tiny/medium or a folder")
        size = (HEIGHT, WIDTH, NUM_FRAMES)
    else:
        path = spec
        size = (256, 256, 17)
    model = WanTransformer3DModel.from_pretrained(path, subfolder="transformer").eval()
    latent = ((size[2] - 1) // 4 + 1, size[0] // 8, size[1] // 8)
    return model, latent


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="medium", help="tiny, medium (random Wan transformers), shapes, or a folder")
    ap.add_argument("--repeats", type=int, default=30, help="timed forwards per variant")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--strength", type=float, default=0.5, help="alpha relative to a unit-RMS token (timing only)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from weditor.maths.edits import add_to_bias

    base, (f, h, w) = load_transformer(args.model)
    cfg = base.config
    hidden = cfg.num_attention_heads * cfg.attention_head_dim
    layer = len(base.blocks) // 2
    g = torch.Generator().manual_seed(0)
    d = torch.randn(hidden, generator=g, dtype=torch.float64)
    v = (args.strength * hidden**0.5) * d / d.norm()

    folded = copy.deepcopy(base)
    lin = folded.blocks[layer].attn2.to_out[0]
    with torch.no_grad():
        lin.bias.copy_(add_to_bias(lin.bias, v))
    hooked = copy.deepcopy(base)
    v32 = v.to(torch.float32)
    hooked.blocks[layer].attn2.register_forward_hook(lambda m, a, out: out + v32)

    x = torch.randn(1, cfg.in_channels, f, h, w, generator=g)
    text = torch.randn(1, 32, cfg.text_dim, generator=g)
    t = torch.tensor([500.0])

    def run(model):
        with torch.inference_mode():
            return model(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]

    variants = {"base": base, "folded": folded, "hook": hooked}
    for _ in range(args.warmup):
        for m in variants.values():
            run(m)
    times = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, m in variants.items():
            c0, t0 = time.thread_time(), time.perf_counter()
            run(m)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.thread_time() - c0)
    out_f, out_h = run(folded), run(hooked)
    rel = float((out_f - out_h).abs().max() / out_h.abs().max())

    params = sum(p.numel() for p in base.parameters())
    tokens = f * (h // cfg.patch_size[1]) * (w // cfg.patch_size[2])
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores visible, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), python {platform.python_version()}"
    )
    print(f"command: python scripts/bench_reins_speed.py {' '.join(sys.argv[1:])}".rstrip())
    print(
        f"model: {args.model} ({params / 1e6:.1f}M parameters, {len(base.blocks)} blocks, width {hidden}), "
        f"{tokens} video tokens, REINS at block {layer}; {args.repeats} forwards per variant, round-robin"
    )
    med_base = statistics.median(times["base"])
    cpu_base = statistics.median(cpu["base"])
    print(
        f"  {'variant':<8}{'wall median ms':>16}{'IQR ms':>9}{'min ms':>9}{'vs base':>9}"
        f"{'CPU median ms':>15}{'vs base':>9}"
    )
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=4)
        med, c = statistics.median(ts), statistics.median(cpu[name])
        print(
            f"  {name:<8}{med * 1e3:>16.3f}{(q[2] - q[0]) * 1e3:>9.3f}{min(ts) * 1e3:>9.3f}{med / med_base:>9.3f}"
            f"{c * 1e3:>15.3f}{c / cpu_base:>9.3f}"
        )
    print(f"  folded vs hook: max relative output difference {rel:.2e}")


if __name__ == "__main__":
    main()
