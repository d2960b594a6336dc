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

    def __post_init__(self):
        if self.role not in ("reads", "writes"):
            raise ValueError(f"role must be 'reads' or 'writes', got {self.role!r}")


@dataclass(frozen=True)
class Adapter:
    family: str
    pipelines: tuple[str, ...]
    denoisers: tuple[str, ...]  # pipeline attributes holding a denoiser, in sampling order
    blocks: str  # attribute path of the block list inside a denoiser
    sites: dict[str, Site]
    default_site: str
    ungated_write: str | None = None  # block-relative linear whose output is added to the stream as is
    text_input: str | None = None  # denoiser-relative first linear that reads text embeddings
    # Runtime glue, each a plain function of the pipeline (see wan.py for the contract).
    encode: Callable = field(default=None, repr=False)
    latents: Callable = field(default=None, repr=False)
    forward: Callable = field(default=None, repr=False)
    denoiser_for: Callable = field(default=None, repr=False)
    default_size: tuple[int, int, int] = (256, 256, 17)  # collection height, width, frames

    def writes(self) -> list[str]:
        return [name for name, s in self.sites.items() if s.role == "writes"]
