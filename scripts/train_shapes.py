"""Train the shapes-world Wan model shipped in weditor/assets/shapes-wan/.

A tiny but real text-to-video model: stock `WanPipeline.from_pretrained(path)` loads it with no
custom code, so weditor patches it exactly as it patches a Hub checkpoint. Everything is seeded.

Stages (each cached under --work, so a rerun resumes after the last finished stage):
  1. word-level tokenizer on the world's vocabulary (model_max_length = MAX_SEQUENCE_LENGTH),
  2. AutoencoderKLWan (spatial /4, temporal /4) trained as an autoencoder on rendered clips
     (two cosine cycles),
  3. the clips encoded once; per-channel latent mean/std go into the VAE config, as for Wan,
  4. WanTransformer3DModel + tiny UMT5 encoder trained jointly with rectified flow
     (target = noise - x0, timestep = 1000 * sigma; half the sigmas shifted like the
     scheduler's, half uniform), resumable from --work/dit-state.pt,
     the caption dropped to "" for classifier-free guidance; EMA weights are shipped,
  5. save_pretrained, then an evaluation with weditor.shapes.classify on generated videos.

    python scripts/train_shapes.py            # ~65 min on an idle 2-core CPU (docs/shapes.md)
    python scripts/train_shapes.py --eval-only
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weditor import shapes  # noqa: E402
from weditor.shapes import world  # noqa: E402

FLOW_SHIFT = 3.0
Z_DIM = 8
TEXT_DIM = 32


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# --------------------------------------------------------------------------- components


def build_tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        [" ".join(world.vocabulary())], trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"])
    )
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=shapes.MAX_SEQUENCE_LENGTH,
    )


def build_text_encoder(vocab_size):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(
        UMT5Config(
            vocab_size=vocab_size,
            d_model=TEXT_DIM,
            d_kv=16,
            d_ff=64,
            num_layers=2,
            num_heads=2,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=16,
            dropout_rate=0.0,
        )
    )


def build_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=8,
        z_dim=Z_DIM,
        dim_mult=[1, 2, 4],
        num_res_blocks=1,
        temperal_downsample=[True, True],
        latents_mean=[0.0] * Z_DIM,
        latents_std=[1.0] * Z_DIM,
        scale_factor_spatial=4,
        scale_factor_temporal=4,
    )


def build_transformer(num_layers):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=4,
        attention_head_dim=16,
        in_channels=Z_DIM,
        out_channels=Z_DIM,
        text_dim=TEXT_DIM,
        freq_dim=64,
        ffn_dim=256,
        num_layers=num_layers,
        cross_attn_norm=True,
        rope_max_seq_len=32,
    )


def build_scheduler():
    """The scheduler config of the Wan 2.1 Diffusers checkpoints (UniPC, flow sigmas, shift 3)."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=FLOW_SHIFT, num_train_timesteps=1000
    )


# --------------------------------------------------------------------------- data


def make_dataset(n, seed):
    """n clips as uint8 (n, F, H, W, 3) with their (color, shape, motion)."""
    rng = np.random.default_rng(seed)
    attrs = [world.sample_attributes(rng) for _ in range(n)]
    clips = np.stack([np.round(world.render(*a, rng) * 255).astype(np.uint8) for a in attrs])
    return clips, attrs


def to_pixels(clips_u8):
    """uint8 (B, F, H, W, 3) -> the VAE's (B, 3, F, H, W) in [-1, 1]."""
    x = torch.from_numpy(clips_u8).float().div_(127.5).sub_(1.0)
    return x.permute(0, 4, 1, 2, 3).contiguous()


def text_embeds(tokenizer, text_encoder, captions):
    """The same embeddings as WanPipeline._get_t5_prompt_embeds, but differentiable."""
    enc = tokenizer(
        captions,
        padding="max_length",
        max_length=shapes.MAX_SEQUENCE_LENGTH,
        truncation=True,
        add_special_tokens=True,
        return_attention_mask=True,
        return_tensors="pt",
    )
    h = text_encoder(enc.input_ids, enc.attention_mask).last_hidden_state
    return h * enc.attention_mask[..., None].to(h.dtype)


def lr_at(step, total, peak, warmup=100):
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1))))


# --------------------------------------------------------------------------- stages


def decode_unclamped(vae, z):
    """AutoencoderKLWan._decode without its final clamp to [-1, 1]: the clamp has zero gradient
    wherever the output undershoots, so a decoder that starts below -1 would never learn."""
    vae.clear_cache()
    x = vae.post_quant_conv(z)
    out = []
    for i in range(z.shape[2]):
        vae._conv_idx = [0]
        out.append(
            vae.decoder(x[:, :, i : i + 1], feat_cache=vae._feat_map, feat_idx=vae._conv_idx, first_chunk=i == 0)
        )
    vae.clear_cache()
    return torch.cat(out, dim=2)


def train_vae(clips, steps, batch, seed, out, peak_lr, vae=None):
    """One cosine cycle; called twice (a warm restart) because the first cycle spends most of
    its steps escaping the all-black minimum."""
    torch.manual_seed(seed)
    warmup = 100 if vae is None else 50
    vae = (build_vae() if vae is None else vae).train()
    opt = torch.optim.AdamW(vae.parameters(), lr=peak_lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak_lr, warmup=warmup)
        x = to_pixels(clips[rng.integers(len(clips), size=batch)])
        z = vae.encode(x).latent_dist.mean
        # A deterministic autoencoder with a little latent noise: a sampled posterior starts at
        # unit variance and drowns the signal for hundreds of steps, and the noise still teaches
        # the decoder to tolerate the imperfect latents a diffusion model produces.
        y = decode_unclamped(vae, z + 0.05 * torch.randn_like(z))
        # Foreground pixels are ~12% of a clip: up-weight them, or "all black" is a deep local minimum.
        weight = 1.0 + 4.0 * (x.amax(dim=1, keepdim=True) > -0.9).float()
        rec = (weight * (y - x).pow(2)).mean()
        reg = z.pow(2).mean()
        loss = rec + 1e-4 * reg
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            log(f"vae {step}/{steps} rec {rec.item():.5f} |z|^2 {reg.item():.3f} {time.time() - t0:.0f}s")
    vae.eval().save_pretrained(out, safe_serialization=True)
    return vae


@torch.no_grad()
def encode(vae, clips, batch=64):
    return torch.cat(
        [vae.encode(to_pixels(clips[i : i + batch])).latent_dist.mean for i in range(0, len(clips), batch)]
    )


def sample_sigmas(n, gen):
    """Half shifted like the sampler's schedule (sigma near 1 decides colour and layout), half
    uniform: with the shift alone, the low noise levels that shape the outline are starved."""
    u = torch.rand(n, generator=gen)
    shifted = FLOW_SHIFT * u / (1 + (FLOW_SHIFT - 1) * u)
    return torch.where(torch.arange(n) % 2 == 0, shifted, u).clamp(1e-3, 1.0)


def train_dit(latents, attrs, tokenizer, steps, batch, layers, seed, ckpt, p_uncond=0.1):
    """Resumable: the whole state (models, EMA, optimizer, RNGs) goes to `ckpt` every 250 steps,
    so a killed run continues exactly where it stopped."""
    torch.manual_seed(seed)
    text_encoder = build_text_encoder(len(tokenizer)).train()
    transformer = build_transformer(layers).train()
    params = list(transformer.parameters()) + list(text_encoder.parameters())
    log(
        f"transformer {sum(p.numel() for p in transformer.parameters()) / 1e6:.2f}M params, "
        f"text encoder {sum(p.numel() for p in text_encoder.parameters()) / 1e6:.3f}M"
    )
    ema = [
        copy.deepcopy(transformer).eval().requires_grad_(False),
        copy.deepcopy(text_encoder).eval().requires_grad_(False),
    ]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    t0, avg, start = time.time(), None, 0
    modules = {"transformer": transformer, "text_encoder": text_encoder, "ema_t": ema[0], "ema_te": ema[1], "opt": opt}
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        for k, m in modules.items():
            m.load_state_dict(state[k])
        rng.bit_generator.state, start, avg = state["rng"], state["step"], state["avg"]
        gen.set_state(state["gen"])
        log(f"resuming {ckpt} at step {start}")
    for step in range(start, steps):
        if step % 250 == 0 and step > start:
            state = {k: m.state_dict() for k, m in modules.items()}
            state.update(rng=rng.bit_generator.state, gen=gen.get_state(), step=step, avg=avg)
            torch.save(state, ckpt.with_suffix(".tmp"))
            ckpt.with_suffix(".tmp").replace(ckpt)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, 1e-3, warmup=200)
        idx = rng.integers(len(latents), size=batch)
        x0 = latents[idx]
        captions = ["" if rng.random() < p_uncond else world.random_caption(*attrs[i], rng) for i in idx]
        noise = torch.randn(x0.shape, generator=gen)
        sigma = sample_sigmas(batch, gen)
        s = sigma.view(-1, 1, 1, 1, 1)
        xt = (1 - s) * x0 + s * noise
        emb = text_embeds(tokenizer, text_encoder, captions)
        pred = transformer(hidden_states=xt, timestep=sigma * 1000, encoder_hidden_states=emb, return_dict=False)[0]
        loss = F.mse_loss(pred, noise - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, m in zip(ema, (transformer, text_encoder)):
                for pe, pm in zip(e.parameters(), m.parameters()):
                    pe.lerp_(pm, 1 - decay)
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"dit {step}/{steps} loss {avg:.4f} {time.time() - t0:.0f}s")
    return ema[0], ema[1]


def portable_tokenizer_class(out):
    """transformers 5 records its fast tokenizer as "TokenizersBackend", a name 4.x lacks;
    "PreTrainedTokenizerFast" is the same class in 5.x and loads in both."""
    for f, key in (
        (out / "model_index.json", "tokenizer"),
        (out / "tokenizer" / "tokenizer_config.json", "tokenizer_class"),
    ):
        cfg = json.loads(f.read_text())
        if key == "tokenizer":
            cfg[key] = ["transformers", "PreTrainedTokenizerFast"]
        else:
            cfg[key] = "PreTrainedTokenizerFast"
        f.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def save_pipeline(out, tokenizer, text_encoder, vae, transformer):
    from diffusers import WanPipeline

    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder.eval(),
        vae=vae.eval(),
        transformer=transformer.eval(),
        scheduler=build_scheduler(),
    )
    if out.exists():
        shutil.rmtree(out)
    pipe.save_pretrained(out, safe_serialization=True)
    portable_tokenizer_class(out)
    log(f"saved {out}: {sum(f.stat().st_size for f in out.rglob('*') if f.is_file()) / 1e6:.1f} MB")


# --------------------------------------------------------------------------- evaluation


def eval_prompts(seed):
    """(prompt, expected color, shape, motion) over the whole world, plus synonym and
    colour-less paraphrases; templates are drawn at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in world.COLORS:
        for s in world.SHAPES:
            for m in world.MOTIONS:
                rows.append((world.caption(c, s, m, int(rng.integers(len(world.TEMPLATES)))), c, s, m))
    for syn in world.SYNONYMS["red"]:
        for s in world.SHAPES:
            for m in world.MOTIONS:
                rows.append(
                    (world.caption("red", s, m, int(rng.integers(len(world.TEMPLATES))), {"red": syn}), "red", s, m)
                )
    for s in world.SHAPES:
        for m in world.MOTIONS:
            rows.append((world.caption(None, s, m, int(rng.integers(len(world.TEMPLATES)))), world.DEFAULT_COLOR, s, m))
    return rows


def evaluate(path, seeds=(1000, 2000), **overrides):
    from weditor.shapes.classify import classify

    pipe = shapes.load_pipeline(path)
    rows = eval_prompts(0)
    prompts = [r[0] for r in rows]
    res = {}
    for seed in seeds:
        t = time.time()
        videos = shapes.generate(pipe, prompts, seed=seed, **overrides)
        log(f"generated {len(prompts)} videos in {time.time() - t:.1f}s")
        for (p, c, s, m), v in zip(rows, videos):
            a = classify(v)
            group = (
                "crimson/scarlet"
                if ("crimson" in p or "scarlet" in p)
                else ("no colour" if c == "white" and "white" not in p else c)
            )
            for key, ok in (("color", a.color == c), ("shape", a.shape == s), ("motion", a.motion == m)):
                res.setdefault(("all", key), []).append(ok)
                res.setdefault((group, key), []).append(ok)
    table = {f"{g}/{k}": float(np.mean(v)) for (g, k), v in res.items()}
    groups = sorted({g for g, _ in res}, key=lambda g: (g != "all", g))
    n = {g: len(res[(g, "color")]) for g in groups}
    for g in groups:
        log(
            f"{g:16s} n={n[g]:4d}  color {table[g + '/color']:.3f}  shape {table[g + '/shape']:.3f}  motion {table[g + '/motion']:.3f}"
        )
    return table


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=shapes.model_path())
    ap.add_argument("--work", type=Path, default=Path("/tmp/shapes-train"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clips", type=int, default=16000)
    ap.add_argument("--vae-steps", type=int, default=500)
    ap.add_argument("--vae-batch", type=int, default=24)
    ap.add_argument("--vae-steps2", type=int, default=1000)
    ap.add_argument("--vae-batch2", type=int, default=16)
    ap.add_argument("--dit-steps", type=int, default=10000)
    ap.add_argument("--dit-batch", type=int, default=32)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--stop-after", choices=["vae", "latents"], default=None)
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="1 is faster when others share the CPU")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # tiny activations otherwise slow CPU training down several-fold

    if not args.eval_only:
        from diffusers import AutoencoderKLWan

        t_start = time.time()
        args.work.mkdir(parents=True, exist_ok=True)
        tokenizer = build_tokenizer()
        log(f"rendering {args.clips} clips")
        clips, attrs = make_dataset(args.clips, args.seed)
        vae = None
        for cycle, (steps, batch, peak) in enumerate(
            [(args.vae_steps, args.vae_batch, 2e-3), (args.vae_steps2, args.vae_batch2, 1e-3)], start=1
        ):
            vae_dir = args.work / f"vae-{cycle}"
            if (vae_dir / "config.json").exists():
                vae = AutoencoderKLWan.from_pretrained(vae_dir).eval()
                log(f"reusing {vae_dir}")
            else:
                vae = train_vae(clips, steps, batch, args.seed + cycle - 1, vae_dir, peak, vae)
        if args.stop_after == "vae":
            return
        lat_file = args.work / "latents.pt"
        if lat_file.exists():
            latents = torch.load(lat_file)
        else:
            latents = encode(vae, clips)
            torch.save(latents, lat_file)
        mean = latents.mean(dim=(0, 2, 3, 4))
        std = latents.std(dim=(0, 2, 3, 4))
        vae.register_to_config(latents_mean=mean.tolist(), latents_std=std.tolist())
        log(f"latents {tuple(latents.shape)} mean {np.round(mean.numpy(), 2)} std {np.round(std.numpy(), 2)}")
        if args.stop_after == "latents":
            return
        norm = (latents - mean.view(1, -1, 1, 1, 1)) / std.view(1, -1, 1, 1, 1)
        dit_dir = args.work / "dit"
        if (dit_dir / "transformer" / "config.json").exists():
            from diffusers import WanTransformer3DModel
            from transformers import UMT5EncoderModel

            transformer = WanTransformer3DModel.from_pretrained(dit_dir / "transformer")
            text_encoder = UMT5EncoderModel.from_pretrained(dit_dir / "text_encoder")
            log(f"reusing {dit_dir}")
        else:
            transformer, text_encoder = train_dit(
                norm,
                attrs,
                tokenizer,
                args.dit_steps,
                args.dit_batch,
                args.layers,
                args.seed,
                args.work / "dit-state.pt",
            )
            transformer.save_pretrained(dit_dir / "transformer")
            text_encoder.save_pretrained(dit_dir / "text_encoder")
        save_pipeline(args.out, tokenizer, text_encoder, vae, transformer)
        log(f"training wall time {(time.time() - t_start) / 60:.1f} min")
    table = evaluate(args.out)
    (args.work / "eval.json").parent.mkdir(parents=True, exist_ok=True)
    (args.work / "eval.json").write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
