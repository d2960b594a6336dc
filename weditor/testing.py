"""Tiny random pipelines built offline, for tests and benchmarks.

No weights can be downloaded where weditor is developed, so every test that needs a real
diffusers pipeline builds one here: a word-level tokenizer trained locally with `tokenizers`,
a tiny UMT5 encoder and tiny Wan VAE/transformer configs. They are saved with the stock
`save_pretrained`, so the code under test loads them exactly as it loads a Hub checkpoint.
"""

from __future__ import annotations

from pathlib import Path

WORDS = (
    "a an the of on in at with and to is man woman child dog cat car street beach forest city "
    "room night day red blue green yellow white black circle square triangle moving left right up "
    "down walking running talking dancing nude naked clothed blood dust knife flower cup table "
    "sunset rain snow smiling person people crowd river boat tree house window camera slow fast"
).split()


def build_tokenizer(max_length: int = 16):
    """A word-level fast tokenizer with T5-like special tokens (pad=0, eos=1, unk=2)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"])
    tok.train_from_iterator([" ".join(WORDS)], trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def build_tiny_wan_pipeline(
    num_layers: int = 4,
    hidden: int = 32,
    heads: int = 2,
    text_dim: int = 16,
    two_stage: bool = False,
    seed: int = 0,
    dtype=None,
):
    """A random WanPipeline small enough to run a denoiser step in milliseconds on a CPU."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=text_dim,
            d_kv=8,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        )
    ).eval()
    vae = AutoencoderKLWan(
        base_dim=8,
        z_dim=4,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    ).eval()

    def transformer():
        return WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=heads,
            attention_head_dim=hidden // heads,
            in_channels=4,
            out_channels=4,
            text_dim=text_dim,
            freq_dim=32,
            ffn_dim=2 * hidden,
            num_layers=num_layers,
            cross_attn_norm=True,
            rope_max_seq_len=32,
        ).eval()

    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        transformer=transformer(),
        transformer_2=transformer() if two_stage else None,
        boundary_ratio=0.5 if two_stage else None,
    )
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe


def save_tiny_wan_pipeline(path: str | Path, max_shard_size: str | None = None, **kwargs) -> Path:
    """Build and save a tiny Wan pipeline; `max_shard_size` forces a sharded transformer."""
    path = Path(path)
    pipe = build_tiny_wan_pipeline(**kwargs)
    pipe.save_pretrained(path, safe_serialization=True)
    if max_shard_size is not None:
        for name in ("transformer", "transformer_2"):
            model = getattr(pipe, name, None)
            if model is None:
                continue
            for f in (path / name).glob("diffusion_pytorch_model*"):
                f.unlink()
            model.save_pretrained(path / name, safe_serialization=True, max_shard_size=max_shard_size)
    return path
