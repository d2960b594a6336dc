"""What weditor needs to know about a model family, and nothing more.

An adapter is a small table of names, read off the diffusers model file: which component(s)
denoise, where the block list is, which linears in a block read the residual stream and which
write into it, and which writes are multiplied by a timestep-dependent gate (a constant edit
of a gated write is not a constant change of the stream). Three tiny functions run one
denoiser step the way the pipeline itself does; the maths never sees any of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Site:
    """Linear layer(s) inside every block, addressed relative to the block.

    `paths` may list several linears that share one input (q, k and v): the direction is
    collected at the first and the same input-side edit applies to all of them.
    """

    paths: tuple[str, ...]
    role: str  # "reads": reads the residual stream -> input-side edit; "writes": output-side edit
    gated: bool = False
    doc: str = ""
    blocks: str | None = None  # which block group of the adapter it lives in (None: the first)
    # "video": the linear sees video tokens, which pair up position by position between a pair's members
    # (same noise); "text": it sees the prompt's tokens (cross-attention key and value), which do not
    # ("a red circle" / "a circle"), so each member's tokens are summed into one paired sample.
    tokens: str = "video"

    def __post_init__(self):
        if self.role not in ("reads", "writes"):
            raise ValueError(f"role must be 'reads' or 'writes', got {self.role!r}")
        if self.tokens not in ("video", "text"):
            raise ValueError(f"tokens must be 'video' or 'text', got {self.tokens!r}")
        if self.tokens == "text" and self.role != "reads":
            raise ValueError("a text-token site reads the prompt; its output is not the residual stream")


@dataclass(frozen=True)
class Adapter:
    family: str
    pipelines: tuple[str, ...]
    denoisers: tuple[str, ...]  # pipeline attributes holding a denoiser, in sampling order
    # Where the blocks are, inside a denoiser: the attribute path of a block list ("blocks"), or
    # module-path patterns whose matches are the blocks, in depth order ("down_blocks.*.attentions.*
    # .transformer_blocks.*": `*` matches one path component), or several named groups of either
    # ({"double": "transformer_blocks", "single": "single_transformer_blocks"}): a Site lives in one
    # group, and its block indices (`--layers`) count within that group. See weditor/adapters/paths.py.
    blocks: str | tuple[str, ...] | dict[str, str | tuple[str, ...]]
    sites: dict[str, Site]
    default_site: str
    ungated_write: str | None = None  # block-relative linear (first group) whose output is added to the stream as is
    # Denoiser-relative linear(s) (paths or patterns) that read the text embeddings the adapter's
    # encode() returns as "encoder_hidden_states"; `pooled_text_input`: those reading "pooled_projections".
    text_input: str | tuple[str, ...] | None = None
    pooled_text_input: str | tuple[str, ...] | None = None
    # Further text embeddings a denoiser reads, {encode() output key: linear(s)} (LTX-2's audio stream
    # reads its own connector output through `audio_caption_projection`): each key gets its own directions.
    more_text_inputs: tuple[tuple[str, str | tuple[str, ...]], ...] = ()  # ((key, linear(s)), ...)
    image_to_video: bool = False  # encode() takes one image per prompt (pairs may carry images)
    # Pairs may carry a `video` (weditor/io/pair_videos.py); False: pairs with videos are refused. With
    # `video_latents(pipe, frames, size, device, generator) -> clean latents`, the pipeline starts from the noised
    # video: collection noises them to the schedule cut to `video_strength` (video-to-video). Without, the
    # adapter's encode reads cond["_video"] itself (VACE's control video). The stock pipelines encode the video
    # before they draw the noise: `video_latents` gets the seed's generator first (a VAE *sample* draws from it,
    # an argmax does not), then `video_noise(pipe, clean, generator) -> noise` draws the noise (None: `latents`).
    video_input: bool = False
    video_latents: Callable | None = field(default=None, repr=False)
    video_noise: Callable | None = field(default=None, repr=False)
    video_role: str = "control video"  # what a pair's video is to the pipeline, without `video_latents`
    video_strength: float = 1.0
    # What `weditor inspect --pipelines` says pairs may carry, where the rule of adapters/table.py would mislead.
    pairs_label: str | None = None
    # Runtime glue, each a plain function of the pipeline (contract: weditor/adapters/common.py).
    encode: Callable = field(default=None, repr=False)
    latents: Callable = field(default=None, repr=False)
    forward: Callable = field(default=None, repr=False)
    denoiser_for: Callable = field(default=None, repr=False)
    # Optional glue, where the pipeline departs from `scheduler.set_timesteps(steps)` / `scheduler.step`:
    # set_timesteps(pipe, scheduler, steps, size, device) (one that declares a `cond` parameter also gets encode()'s
    # output, a pair's video in cond["_video"]); step(scheduler, pred, t, x) -> x.
    set_timesteps: Callable | None = field(default=None, repr=False)
    step: Callable | None = field(default=None, repr=False)
    # Collection height, width, frames; or a function of the loaded pipeline (sizes fixed by its config).
    default_size: tuple[int, int, int] | Callable = (256, 256, 17)
    # Python packages the stock pipeline calls without checking that they are installed (the diffusers
    # module imports them only if present, then calls them anyway): (import name, pip name) pairs, or
    # (import name, pip name, why) where the reason is not prompt cleaning.
    requires: tuple[tuple[str, ...], ...] = ()
    # Where one pipeline class covers checkpoints whose blocks differ in what is gated (LTX-2.0 / 2.3):
    # variant(adapter, denoiser config dict) -> the adapter for that checkpoint (weditor.adapters.adapter_for_model).
    variant: Callable | None = field(default=None, repr=False)
    # Pipeline components weditor never runs and loads as a stand-in (weditor/models/guardrail.py): Cosmos'
    # `safety_checker`, which the stock __init__ otherwise builds from the cosmos_guardrail package.
    stand_ins: tuple[str, ...] = ()
    # Two timesteps (an early and a late one) for the reload check's fixed denoiser calls, where the
    # scheduler's timesteps are not on the 0-1000 scale (Cosmos' EDM: log(sigma) / 4); None: 900 and 300.
    check_timesteps: tuple[float, float] | None = None
    # The denoiser is called once per batch row (SkyReels-V2 diffusion forcing: its fps embedding broadcasts
    # only over a batch of one), so a tap sees one row per call: collection joins a batch's rows back
    # (weditor.models.hooks.RowGather) before it pairs the members.
    one_row_per_call: bool = False

    def check_requirements(self):
        """One WeditorError naming what to install, instead of a NameError deep in the pipeline."""
        import importlib

        from weditor.errors import WeditorError

        for module, package, *why in self.requires:
            try:
                importlib.import_module(module)
            except ImportError:
                reason = why[0] if why else "diffusers cleans its prompts with it"
                raise WeditorError(
                    f"{', '.join(self.pipelines)} needs the Python package {package!r}, which is not "
                    f"installed ({reason}): pip install {package}"
                ) from None

    def block_groups(self) -> dict[str, tuple[str, ...]]:
        """{group name: block-list paths or patterns}; a plain `blocks` is the one group "blocks"."""
        spec = self.blocks
        if isinstance(spec, dict):
            return {name: (v,) if isinstance(v, str) else tuple(v) for name, v in spec.items()}
        return {"blocks": (spec,) if isinstance(spec, str) else tuple(spec)}

    def site_group(self, site: str) -> str:
        group = self.sites[site].blocks
        return group if group is not None else next(iter(self.block_groups()))

    def size_for(self, pipe) -> tuple[int, int, int]:
        return tuple(self.default_size(pipe)) if callable(self.default_size) else tuple(self.default_size)

    def text_inputs(self) -> dict[str, tuple[str, ...]]:
        """{encode() output key: linears reading it} for the text-embedding edits (SAFREE)."""
        out = {}
        for key, value in (("encoder_hidden_states", self.text_input), ("pooled_projections", self.pooled_text_input)):
            if value:
                out[key] = (value,) if isinstance(value, str) else tuple(value)
        for key, value in self.more_text_inputs:
            out[key] = (value,) if isinstance(value, str) else tuple(value)
        return out
