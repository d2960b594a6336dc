"""Speed and memory of `weditor patch` on full-size random checkpoints, against the floor.

No download: each model is built from its published transformer config with random weights
(parameters created on the meta device, then filled tensor by tensor), with a one-layer text
encoder of the right output width and a tiny VAE with the right latent channels and scale
factors, and saved as a sharded diffusers folder (`max_shard_size`, like the real checkpoints),
so loading is measured from disk. Then, each in a fresh process (peak RSS is per process; the
base files are evicted from the page cache first, so the load reads the disk):

* patch: `weditor.pipeline.run.run_patch` with a `PatchConfig`, exactly what `weditor patch` runs;
  per-phase times come from `PatchResult.timings`, peak GPU memory per phase from
  `PatchResult.peak_gpu_bytes`.
* floor: plain `DiffusionPipeline.from_pretrained` + the same denoiser forwards (same batch
  sizes and latent sizes, recorded during the patch run) + plain `save_pretrained` of the
  transformer(s).

    python scripts/bench_patch.py --model wan2.1-1.3b --dtype bfloat16 --size 64x64x5 --steps 2 \
        --pairs 5 50 --device cpu --json /tmp/bench.json

On a GPU machine: `--device cuda` (peak GPU memory is then reported too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# ----------------------------------------------------------------------------- model specs

WAN21_13B = dict(  # Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json
    patch_size=(1, 2, 2),
    num_attention_heads=12,
    attention_head_dim=128,
    in_channels=16,
    out_channels=16,
    text_dim=4096,
    freq_dim=256,
    ffn_dim=8960,
    num_layers=30,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    eps=1e-6,
    rope_max_seq_len=1024,
)
WAN22_5B = dict(  # Wan-AI/Wan2.2-TI2V-5B-Diffusers transformer/config.json
    patch_size=(1, 2, 2),
    num_attention_heads=24,
    attention_head_dim=128,
    in_channels=48,
    out_channels=48,
    text_dim=4096,
    freq_dim=256,
    ffn_dim=14336,
    num_layers=30,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    eps=1e-6,
    rope_max_seq_len=1024,
)
COGVIDEOX_5B = dict(  # THUDM/CogVideoX-5b transformer/config.json
    num_attention_heads=48,
    attention_head_dim=64,
    in_channels=16,
    out_channels=16,
    time_embed_dim=512,
    text_embed_dim=4096,
    num_layers=42,
    sample_width=90,
    sample_height=60,
    sample_frames=49,
    patch_size=2,
    temporal_compression_ratio=4,
    max_text_seq_length=226,
    use_rotary_positional_embeddings=True,
    use_learned_positional_embeddings=False,
    flip_sin_to_cos=True,
    freq_shift=0,
    activation_fn="gelu-approximate",
    norm_eps=1e-5,
    timestep_activation_fn="silu",
)
MODELS = ("wan2.1-1.3b", "wan2.2-5b", "cogvideox-5b")
SHARD = "2GB"


def materialize(model, dtype, seed: int, std: float = 0.02):
    """Give every meta parameter real storage: norms' weights 1, biases 0, the rest N(0, std)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    for mod_name, module in model.named_modules():
        is_norm = "norm" in type(module).__name__.lower() or "norm" in mod_name.rsplit(".", 1)[-1]
        for name, p in list(module._parameters.items()):
            if p is None:
                continue
            t = torch.empty(p.shape, dtype=dtype)
            if name == "bias":
                t.zero_()
            elif is_norm and name == "weight":
                t.fill_(1.0)
            else:
                t.normal_(0.0, std, generator=g)
            module._parameters[name] = torch.nn.Parameter(t, requires_grad=False)
    return model.eval()


def empty_model(cls, **config):
    from accelerate import init_empty_weights

    with init_empty_weights():  # parameters on meta, buffers (rope tables) real
        return cls(**config)


def build_pipeline(model: str, dtype_name: str, text_len: int, seed: int = 0):
    import torch
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    from weditor.testing import build_tokenizer

    dtype = getattr(torch, dtype_name)
    tokenizer = build_tokenizer(max_length=text_len)
    torch.manual_seed(seed)
    if model.startswith("wan"):
        from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel

        wan22 = model == "wan2.2-5b"
        cfg = WAN22_5B if wan22 else WAN21_13B
        text_encoder = UMT5EncoderModel(
            UMT5Config(
                vocab_size=len(tokenizer),
                d_model=cfg["text_dim"],
                d_kv=64,
                d_ff=64,
                num_layers=1,
                num_heads=2,
                relative_attention_num_buckets=8,
                dropout_rate=0.0,
            )
        ).eval()
        z = cfg["in_channels"]
        vae_cfg = dict(
            base_dim=8,
            z_dim=z,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
            latents_mean=[0.0] * z,
            latents_std=[1.0] * z,
        )
        if wan22:  # the Wan2.2 VAE: residual blocks, 2x2 patchified pixels, 16x spatial compression
            vae_cfg.update(
                is_residual=True,
                in_channels=12,
                out_channels=12,
                patch_size=2,
                scale_factor_spatial=16,
                scale_factor_temporal=4,
                decoder_base_dim=8,
            )
        vae = AutoencoderKLWan(**vae_cfg).eval()
        transformer = materialize(empty_model(WanTransformer3DModel, **cfg), dtype, seed)
        scheduler = UniPCMultistepScheduler(
            prediction_type="flow_prediction",
            use_flow_sigmas=True,
            flow_shift=5.0 if wan22 else 3.0,
            num_train_timesteps=1000,
        )
        pipe = WanPipeline(
            tokenizer=tokenizer,
            text_encoder=text_encoder,
            vae=vae,
            scheduler=scheduler,
            transformer=transformer,
            expand_timesteps=wan22,
        )
    elif model == "cogvideox-5b":
        from diffusers import (
            AutoencoderKLCogVideoX,
            CogVideoXDDIMScheduler,
            CogVideoXPipeline,
            CogVideoXTransformer3DModel,
        )

        cfg = dict(COGVIDEOX_5B, max_text_seq_length=min(text_len, COGVIDEOX_5B["max_text_seq_length"]))
        text_encoder = T5EncoderModel(
            T5Config(
                vocab_size=len(tokenizer),
                d_model=cfg["text_embed_dim"],
                d_kv=64,
                d_ff=64,
                num_layers=1,
                num_heads=2,
                relative_attention_num_buckets=8,
                dropout_rate=0.0,
            )
        ).eval()
        vae = AutoencoderKLCogVideoX(
            in_channels=3,
            out_channels=3,
            down_block_types=("CogVideoXDownBlock3D",) * 4,
            up_block_types=("CogVideoXUpBlock3D",) * 4,
            block_out_channels=(8, 8, 8, 8),
            latent_channels=16,
            layers_per_block=1,
            norm_num_groups=2,
            temporal_compression_ratio=4,
        ).eval()
        transformer = materialize(empty_model(CogVideoXTransformer3DModel, **cfg), dtype, seed)
        pipe = CogVideoXPipeline(
            tokenizer=tokenizer,
            text_encoder=text_encoder,
            vae=vae,
            transformer=transformer,
            scheduler=CogVideoXDDIMScheduler(),
        )
    else:
        raise SystemExit(f"--model {model}: one of {', '.join(MODELS)}")
    return pipe.to(dtype=dtype)


def base_folder(args, model: str) -> Path:
    return Path(args.workdir) / f"base-{model}-{args.dtype}-t{args.text_len}"


def ensure_base(args, model: str) -> Path:
    folder = base_folder(args, model)
    if (folder / "model_index.json").is_file():
        return folder
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    pipe = build_pipeline(model, args.dtype, args.text_len)
    t1 = time.perf_counter()
    pipe.save_pretrained(tmp, safe_serialization=True, max_shard_size=SHARD)
    os.rename(tmp, folder)
    n = sum(p.numel() for p in pipe.transformer.parameters())
    print(
        f"built {model} ({n / 1e9:.2f} B transformer parameters, {args.dtype}) in {t1 - t0:.1f} s, "
        f"saved in {time.perf_counter() - t1:.1f} s -> {folder}",
        file=sys.stderr,
    )
    return folder


# ----------------------------------------------------------------------------- pair files

NOUNS = "man woman child dog cat car boat person house tree flower cup table camera window river".split()
VERBS = "walking running dancing moving talking smiling".split()
PLACES = "street beach forest city room river".split()


def write_pairs(path: Path, n: int) -> Path:
    """`n` distinct pairs, all words in weditor.testing's tokenizer vocabulary."""
    combos = [(a, v, p) for a in NOUNS for v in VERBS for p in PLACES if a != p]
    assert n <= len(combos)
    lines = [
        'concept = "red"',
        'description = "synthetic benchmark pairs"',
        'neutral = ["a blue car on a street", "a dog running in a forest", "a man walking at night",',
        '           "a green tree by a river", "people dancing in a room", "a cat on a table"]',
        'eval = ["a red boat on a river", "a red house at night", "a red flower in the rain"]',
    ]
    step = max(1, len(combos) // n)
    for a, v, p in combos[::step][:n]:
        lines += ["[[pair]]", f'unsafe = "a red {a} {v} in the {p}"', f'safe = "a {a} {v} in the {p}"']
    path.write_text("\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------------- measurement helpers


def evict(folder: Path):
    """Drop `folder`'s files (only those) from the page cache, so the next load reads the disk."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def proc_io() -> dict:
    out = {}
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            k, v = line.split(":")
            out[k.strip()] = int(v)
    except OSError:
        pass
    return out


def io_delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in ("rchar", "wchar", "read_bytes", "write_bytes") if k in after}


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def gpu_peak(device: str):
    import torch

    return int(torch.cuda.max_memory_allocated(device)) if str(device).startswith("cuda") else None


def written_bytes(folder: Path) -> dict:
    new = linked = 0
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            if st.st_nlink > 1:
                linked += st.st_size
            else:
                new += st.st_size
    return {"new": new, "hard_linked": linked}


def count_forwards(cls, record: list):
    """Record the input shape of every call of the denoiser class (bench-side wrapper)."""
    original = cls.forward

    def forward(self, *args, **kwargs):
        x = kwargs.get("hidden_states", args[0] if args else None)
        record.append(list(x.shape))
        return original(self, *args, **kwargs)

    cls.forward = forward


def denoiser_class(model: str):
    import diffusers

    return diffusers.CogVideoXTransformer3DModel if model.startswith("cogvideox") else diffusers.WanTransformer3DModel


# ----------------------------------------------------------------------------- the two children


def rss_now() -> tuple[int, int]:
    """(RSS, anonymous RSS) in bytes. RSS also counts touched pages of mmap'ed safetensors files
    (page cache the kernel can drop); anonymous memory is what the process really allocated."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon"):
            fields[k] = int(v.split()[0]) * 1024
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0)


class RssByPhase:
    """Peak RSS and anonymous RSS per library function of `run_patch` (bench-side wrappers around
    module-level functions where the stages call them + a 20 ms sampler thread); `wrap=False`: sampler only."""

    FUNCTIONS = (
        ("weditor.pipeline.load", "load_pipeline"),
        ("weditor.pipeline.load", "run_preflight"),
        ("weditor.methods.refusal", "collect"),
        ("weditor.methods.refusal", "fit_directions"),
        ("weditor.methods.refusal", "fit_readouts"),
        ("weditor.methods.refusal", "fit_sites"),
        ("weditor.methods.text", "statistics"),
        ("weditor.methods.text", "fit"),
        ("weditor.methods.refusal", "compute_edits"),
        ("weditor.models.measure", "measure"),
        ("weditor.pipeline.write", "write_patched"),
        ("weditor.pipeline.verify", "compare_safetensors"),
        ("weditor.pipeline.verify", "reference_outputs"),
        ("weditor.pipeline.write", "verify_staged"),
        ("weditor.pipeline.write", "finalize_card"),
    )

    def __init__(self, wrap: bool = True):
        import importlib
        import threading

        self.intervals, self.samples, self.stop = [], [], threading.Event()
        for module_name, name in self.FUNCTIONS if wrap else ():
            try:
                module = importlib.import_module(module_name)
                fn = getattr(module, name)
            except (ImportError, AttributeError):  # an older tree: that function is not there
                continue
            setattr(module, name, self._wrap(name, fn))
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _wrap(self, name, fn):
        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.intervals.append((name, t0, time.perf_counter(), time.process_time() - c0))

        return wrapper

    def _sample(self):
        while not self.stop.wait(0.02):
            self.samples.append((time.perf_counter(), *rss_now()))

    def peaks(self, which: int = 1) -> dict:
        """{function: peak} of RSS (which=1) or anonymous RSS (which=2)."""
        self.stop.set()
        self.thread.join()
        out = {}
        for name, t0, t1, _ in self.intervals:
            inside = [s[which] for s in self.samples if t0 <= s[0] <= t1]
            if inside:
                out[name] = max(out.get(name, 0), max(inside))
        return out

    def peak_anon(self) -> int:
        self.stop.set()
        self.thread.join()
        return max((s[2] for s in self.samples), default=0)

    def cpu_seconds(self) -> dict:
        """Process CPU time per function (nested calls counted in both): less disturbed than wall
        time by other jobs on a shared machine."""
        out = {}
        for name, _, _, cpu in self.intervals:
            out[name] = out.get(name, 0.0) + cpu
        return out


def child_patch(a) -> dict:
    import torch

    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    import_rss = rss_now()[0]  # torch, diffusers, weditor imported: the "+ imports" of the memory target
    torch.set_num_threads(a.threads) if a.threads else None
    shapes: list = []
    count_forwards(denoiser_class(a.model), shapes)
    rss = RssByPhase()
    io0 = proc_io()
    kwargs = {"offload": True} if a.offload else {}
    cfg = PatchConfig(
        pairs=[a.pair_file],
        out=a.out,
        model=a.base,
        size=a.size,
        steps=a.steps,
        device=a.device,
        overwrite=True,
        summary=not a.no_summary,
        method=a.method,
        **kwargs,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_patch(cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "wall_s": wall,
        "timings": result.timings,
        "peak_gpu_bytes": result.peak_gpu_bytes,
        "peak_rss_bytes": peak_rss_bytes(),
        "io": io_delta(io0, proc_io()),
        "forwards": shapes,
        "written": written_bytes(Path(a.out)),
        "tensors_edited": len(result.recipe["edits"]),
        "peak_rss_by_function": rss.peaks(1),
        "peak_anon_by_function": rss.peaks(2),
        "peak_anon_bytes": rss.peak_anon(),
        "cpu_s": cpu,
        "cpu_s_by_function": rss.cpu_seconds(),
        "import_rss_bytes": import_rss,
        "transformer_bytes": transformer_bytes(Path(a.base)),
    }


def transformer_bytes(base: Path) -> int:
    """Bytes of the denoiser's safetensors files (what the memory target is relative to)."""
    return sum(p.stat().st_size for d in ("transformer", "transformer_2") for p in (base / d).glob("*.safetensors"))


def child_floor(a) -> dict:
    import diffusers
    import torch

    torch.set_num_threads(a.threads) if a.threads else None
    shapes = json.loads(Path(a.forwards).read_text())
    dtype = getattr(torch, a.dtype)
    io0 = proc_io()
    out = {}
    rss = RssByPhase(wrap=False)
    c0 = time.process_time()
    t0 = time.perf_counter()
    pipe = diffusers.DiffusionPipeline.from_pretrained(a.base, torch_dtype=dtype, use_safetensors=True).to(a.device)
    sync(a.device)
    out["load_s"] = time.perf_counter() - t0
    out["load_cpu_s"] = time.process_time() - c0
    out["gpu_after_load"] = gpu_peak(a.device)
    model = pipe.transformer
    g = torch.Generator("cpu").manual_seed(0)
    text_len = model.config.get("max_text_seq_length") or a.text_len  # CogVideoX pads to its config's length
    text_dim = model.config.get("text_dim") or model.config.get("text_embed_dim")
    t1, c1 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for shape in shapes:
            x = torch.randn(shape, generator=g).to(a.device, dtype)
            e = torch.randn(shape[0], text_len, text_dim, generator=g).to(a.device, dtype)
            t = torch.full((shape[0],), 500.0, device=a.device)
            kw = {}
            if a.model.startswith("cogvideox"):
                kw["image_rotary_emb"] = pipe._prepare_rotary_positional_embeddings(
                    shape[3] * pipe.vae_scale_factor_spatial,
                    shape[4] * pipe.vae_scale_factor_spatial,
                    shape[1],
                    a.device,
                )
            model(hidden_states=x, timestep=t, encoder_hidden_states=e, return_dict=False, **kw)
    sync(a.device)
    out["forwards_s"] = time.perf_counter() - t1
    out["forwards_cpu_s"] = time.process_time() - c1
    out["n_forwards"] = len(shapes)
    out["gpu_after_forwards"] = gpu_peak(a.device)
    t2, c2 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True, max_shard_size=SHARD)
        out["save_s"] = time.perf_counter() - t2
        out["save_cpu_s"] = time.process_time() - c2
    out["cpu_s"] = time.process_time() - c0
    out["peak_anon_bytes"] = rss.peak_anon()
    out["peak_rss_bytes"] = peak_rss_bytes()
    out["io"] = io_delta(io0, proc_io())
    return out


def sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def spawn(args, role: str, extra: list[str]) -> dict:
    out = Path(args.workdir) / f"result-{role}.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        role,
        "--result",
        str(out),
        "--model",
        args.model_now,
        "--dtype",
        args.dtype,
        "--device",
        args.device,
        "--workdir",
        args.workdir,
        "--text-len",
        str(args.text_len),
        "--steps",
        str(args.steps),
        "--threads",
        str(args.threads),
        "--method",
        args.method,
    ] + extra
    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    res = json.loads(out.read_text())
    res["process_wall_s"] = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------------------- report


def gib(b):
    return "-" if b is None else f"{b / 2**30:.2f}"


def report(model: str, n_pairs: int, p: dict, f: dict) -> str:
    t = p["timings"]
    collect_fwd = t.get("collect", 0) - t.get("statistics", 0)
    rows = [
        ("load", t.get("load")),
        ("encode (--method text)", t.get("encode")),
        ("collect (forwards)", collect_fwd),
        ("statistics (taps)", t.get("statistics")),
        ("fit (eigh)", t.get("fit")),
        ("edit", t.get("edit")),
        ("summary", t.get("summary")),
        ("save (incl. hash)", t.get("save")),
        ("  of which hash", t.get("hash")),
        ("verify", t.get("verify")),
        ("card (re-hash)", t.get("card")),
        ("total run_patch", t.get("total")),
    ]
    from collections import Counter

    batches = ", ".join(f"{n} at batch {b}" for b, n in sorted(Counter(s[0] for s in p["forwards"]).items()))
    lines = [
        f"### {model}, {n_pairs} pairs: {len(p['forwards'])} denoiser forwards ({batches}), "
        f"{p['tensors_edited']} tensors edited"
    ]
    lines.append("| phase | patch (s) | floor (s) |")
    lines.append("|---|---:|---:|")
    floor = {"load": f["load_s"], "total run_patch": f["load_s"] + f["forwards_s"] + f["save_s"]}
    for name, v in rows:
        fv = floor.get(name, "")
        lines.append(f"| {name} | {'-' if v is None else f'{v:.2f}'} | {fv if fv == '' else f'{fv:.2f}'} |")
    lines.append(f"| floor forwards ({f['n_forwards']}, same shapes) | | {f['forwards_s']:.2f} |")
    lines.append(f"| floor save_pretrained(transformer) | | {f['save_s']:.2f} |")
    lines.append("")
    over = t["total"] / floor["total run_patch"] - 1
    lines.append(f"- overhead over the floor (wall): {100 * over:+.0f}%")
    if "cpu_s" in p and "cpu_s" in f:
        lines.append(
            f"- process CPU time: patch {p['cpu_s']:.1f} s, floor {f['cpu_s']:.1f} s "
            f"(floor load {f['load_cpu_s']:.1f}, forwards {f['forwards_cpu_s']:.1f}, save {f['save_cpu_s']:.1f}); "
            f"overhead {100 * (p['cpu_s'] / f['cpu_s'] - 1):+.0f}%"
        )
        lines.append(
            "- patch CPU s by function: " + ", ".join(f"{k} {v:.1f}" for k, v in p["cpu_s_by_function"].items())
        )
    lines.append(
        f"- peak RSS (incl. mmap'ed file pages): patch {gib(p['peak_rss_bytes'])} GiB, floor {gib(f['peak_rss_bytes'])} GiB"
    )
    if p.get("transformer_bytes"):
        ratio = (p["peak_rss_bytes"] - p["import_rss_bytes"]) / p["transformer_bytes"]
        lines.append(
            f"- patch peak RSS over the RSS after imports ({gib(p['import_rss_bytes'])} GiB): "
            f"{ratio:.2f}x the transformer's {gib(p['transformer_bytes'])} GiB (target <= 1.5x)"
        )
    if "peak_anon_bytes" in p and "peak_anon_bytes" in f:
        lines.append(
            f"- peak anonymous memory: patch {gib(p['peak_anon_bytes'])} GiB, floor {gib(f['peak_anon_bytes'])} GiB"
        )
    if p.get("peak_rss_by_function"):
        lines.append(
            "- patch peak RSS by function (GiB): "
            + ", ".join(f"{k} {gib(v)}" for k, v in p["peak_rss_by_function"].items())
        )
    if p.get("peak_anon_by_function"):
        lines.append(
            "- patch peak anonymous memory by function (GiB): "
            + ", ".join(f"{k} {gib(v)}" for k, v in p["peak_anon_by_function"].items())
        )
    if p["peak_gpu_bytes"]:
        lines.append(
            f"- peak GPU: patch {gib(max(p['peak_gpu_bytes'].values()))} GiB "
            f"({', '.join(f'{k} {gib(v)}' for k, v in p['peak_gpu_bytes'].items())}); "
            f"floor after load {gib(f['gpu_after_load'])}, after forwards {gib(f['gpu_after_forwards'])} GiB"
        )
    pio, fio = p["io"], f["io"]
    lines.append(
        f"- bytes read from disk / through read(): patch {gib(pio.get('read_bytes'))} / {gib(pio.get('rchar'))} GiB, "
        f"floor {gib(fio.get('read_bytes'))} / {gib(fio.get('rchar'))} GiB"
    )
    lines.append(
        f"- bytes written: patch {gib(pio.get('write_bytes'))} GiB (new files {gib(p['written']['new'])} GiB, "
        f"hard-linked {gib(p['written']['hard_linked'])} GiB), floor {gib(fio.get('write_bytes'))} GiB"
    )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", nargs="+", default=["wan2.1-1.3b"], choices=MODELS)
    ap.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float32", "float16"))
    ap.add_argument("--size", default="64x64x5", help="collection HEIGHTxWIDTHxFRAMES")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--pairs", type=int, nargs="+", default=[5, 50])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--text-len", type=int, default=512, help="prompt length the tokenizer pads to (Wan: 512)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "weditor-bench"))
    ap.add_argument("--no-summary", action="store_true", help="patch with --no-summary")
    ap.add_argument("--offload", action="store_true", help="patch with --offload")
    ap.add_argument(
        "--method",
        default="refusal",
        choices=("refusal", "text"),
        help="the block edit (collection runs: what docs/benchmarks.md times) or the text read-out",
    )
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--child", choices=("patch", "floor"), help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--pair-file", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--forwards", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.size_t = tuple(int(v) for v in a.size.lower().split("x"))
    if a.child:
        a.model = a.model[0]
        a.size = a.size_t
        res = child_patch(a) if a.child == "patch" else child_floor(a)
        Path(a.result).write_text(json.dumps(res))
        return
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    results = []
    for model in a.model:
        if model.startswith("cogvideox"):
            from weditor.adapters import supported_pipelines

            if "CogVideoXPipeline" not in supported_pipelines():
                print(f"skipped {model}: no CogVideoX adapter in weditor/adapters", file=sys.stderr)
                continue
        a.model_now = model
        base = ensure_base(a, model)
        for n in a.pairs:
            pair_file = write_pairs(Path(a.workdir) / f"pairs-{n}.toml", n)
            out = Path(a.workdir) / f"out-{model}-{n}"
            shutil.rmtree(out, ignore_errors=True)
            evict(base)
            extra = ["--base", str(base), "--pair-file", str(pair_file), "--out", str(out), "--size", a.size]
            p = spawn(
                a, "patch", extra + (["--no-summary"] if a.no_summary else []) + (["--offload"] if a.offload else [])
            )
            shutil.rmtree(out, ignore_errors=True)
            f = None
            if not a.no_floor:
                fw = Path(a.workdir) / "forwards.json"
                fw.write_text(json.dumps(p["forwards"]))
                evict(base)
                f = spawn(a, "floor", ["--base", str(base), "--forwards", str(fw), "--size", a.size])
            row = {
                "model": model,
                "dtype": a.dtype,
                "size": a.size,
                "steps": a.steps,
                "pairs": n,
                "device": a.device,
                "text_len": a.text_len,
                "threads": a.threads,
                "patch": p,
                "floor": f,
                "date": time.strftime("%Y-%m-%d %H:%M"),
            }
            results.append(row)
            p_short = dict(p, forwards=len(p["forwards"]))
            print(json.dumps({"model": model, "pairs": n, "patch": p_short, "floor": f}, indent=1), file=sys.stderr)
            if f is not None:
                print(report(model, n, p, f) + "\n", flush=True)
            if a.json:
                Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
