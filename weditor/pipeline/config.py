"""`weditor patch`'s settings (`PatchConfig`, each option validated once in `check`) and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from weditor import defaults
from weditor.errors import WeditorError
from weditor.io.pairs import PairSet
from weditor.models.loading import BUILTIN_MODEL, DTYPES

DEFAULT_LAYERS = defaults.LAYERS
DEFAULT_RANK = defaults.RANK
DEFAULT_ALPHA = defaults.ALPHA
DEFAULT_STEPS = defaults.STEPS


@dataclass
class PatchConfig:
    pairs: list[str]
    out: str
    model: str = BUILTIN_MODEL
    revision: str | None = None
    layers: str = DEFAULT_LAYERS
    site: str | None = None  # adapter default when None
    rank: int | None | str = "auto"  # None: plain mean difference, no subspace; "auto": per --edit (resolved in check)
    rank_explicit: bool = False  # an explicit rank larger than the layer width is an error
    alpha: float = DEFAULT_ALPHA
    strength: float | None = (
        None  # None: per edit and method (READOUT_STRENGTH, STRENGTH, SAFREE_STRENGTH; resolved in check)
    )
    directions: int = 1
    edit: str = defaults.EDIT  # "readout": remove a fitted read-out of the concept; "projection": everything along Q
    removal: float = defaults.REMOVAL  # edit "readout": share of the pairs' mean difference the read-out removes
    steps: int = DEFAULT_STEPS
    size: tuple[int, int, int] | None = None  # height, width, frames; adapter default when None
    seed: int = 0
    device: str = "cpu"
    dtype: str | None = None  # None: as stored
    overwrite: bool = False
    summary: bool = True
    link: bool = True  # hard-link unchanged files instead of copying them (falls back to copying)
    offload: bool = False  # keep weights on the CPU, one block at a time on `device` (diffusers group offloading)
    push_to_hub: str | None = None  # USER/NAME the card is written for (the push itself is the caller's)
    neutral: str = defaults.NEUTRAL  # "prompt": neutral covariance of prompt-driven variation; "raw" (see collect)
    method: str | None = (
        None  # None: per pairs (`resolve_method`); "refusal", "reins", "safree", "text" (defaults.METHODS)
    )
    reins: bool = False  # also fold the REINS steering vector (implied by method "reins")
    reins_layer: str = defaults.REINS_LAYER
    reins_strength: float = defaults.REINS_STRENGTH  # alpha / mean token norm at the REINS block
    safree_pool: str = (
        defaults.SAFREE_POOL
    )  # method "safree": keyword vectors, "mean" or "tokens" (weditor/methods/safree.py)
    allow_pickle: bool = (
        False  # read pickle-only (.bin) weights with torch.load(weights_only=True) (weditor/io/pickles.py)
    )
    harden: int = 0  # method "text": rounds of attack-and-refit (weditor/methods/harden.py)
    tune: bool = True  # search the method and its settings (weditor/pipeline/tuning.py); False: these settings as given
    pinned: tuple = ()  # fields the user set explicitly: the search keeps them (besides any non-default value)
    uce_tokens: str = (
        defaults.UCE_TOKENS
    )  # method "uce" (weditor/methods/kv_edit.py): which tokens of an unsafe prompt are mapped
    uce_substitute: str = defaults.UCE_SUBSTITUTE
    uce_preserve: float = defaults.UCE_PRESERVE
    uce_lambda: float = defaults.UCE_LAMBDA
    uce_rounds: int = defaults.UCE_ROUNDS
    # method "encoder" (weditor/methods/encoder_edit.py); None: the default of --encoder-weights (encoder.params_from)
    encoder_preserve: float | None = None
    encoder_lambda: float | None = None
    encoder_layers: int = defaults.ENCODER_LAYERS
    encoder_weights: str = defaults.ENCODER_WEIGHTS  # "block": weditor/methods/encoder_block.py
    units: int = defaults.UNITS  # method "units" (weditor/methods/encoder_units.py)
    units_preserve: float = defaults.UNITS_PRESERVE
    units_silence: float = defaults.UNITS_SILENCE
    # the pairs every method fits: "pair", as written; "deleted", each twin its unsafe prompt with the changed word
    # dropped (weditor/io/twins.py: what the search chooses for twins that substitute many different words)
    twins: str = "pair"
    batch: int | None = (
        None  # summary prompts per denoiser forward (None: weditor/models/measure.py's default, halved while out of memory)
    )
    card: dict | None = None  # --base-model / --license, or a recipe's `card` record (weditor/io/card_meta.py)

    @property
    def uses_refusal(self) -> bool:
        return self.method == "refusal"

    @property
    def uses_reins(self) -> bool:
        return self.reins or self.method == "reins"

    def resolve_method(self, pairsets: list[PairSet]):
        """Text-to-video pairs get the read-out on the prompt embeddings: on the shapes benchmark it
        erased as much as the block edit and kept other concepts better (docs/benchmarks.md). A pair
        with images may carry its concept in the image, which only the video tokens see."""
        if self.method is None:
            self.method = (
                defaults.IMAGE_METHOD if any(ps.has_images or ps.has_videos for ps in pairsets) else defaults.METHOD
            )

    def check(self):
        if self.method is None:  # a library caller that did not resolve it from its pairs
            self.method = defaults.METHOD
        if self.method not in defaults.METHODS:
            raise WeditorError(f"--method {self.method}: must be one of {', '.join(defaults.METHODS)}")
        if self.method != "refusal":  # the block edit's own options would be ignored: say so instead
            given = {
                "site": self.site is not None,
                "layers": self.layers != DEFAULT_LAYERS,
                "alpha": self.alpha != DEFAULT_ALPHA,
                "directions": self.directions != 1,
                "neutral": self.neutral != defaults.NEUTRAL,
                "rank": self.rank_explicit and self.method != "safree",
            }
            for name, on in given.items():
                if on:
                    raise WeditorError(
                        f"--{name}: only --method refusal (the block-by-block edit) uses it; this patch runs "
                        f"--method {self.method}; add --method refusal"
                    )
        # each of these methods' own options would be ignored by another method: say so instead
        self._own_options(
            "uce",
            dict(
                uce_tokens=defaults.UCE_TOKENS,
                uce_substitute=defaults.UCE_SUBSTITUTE,
                uce_preserve=defaults.UCE_PRESERVE,
                uce_lambda=defaults.UCE_LAMBDA,
                uce_rounds=defaults.UCE_ROUNDS,
            ),
            "maps the concept's tokens onto their twins; its strength is --uce-lambda / --uce-preserve",
        )
        if self._own_options(
            "encoder",
            dict(
                encoder_preserve=None,
                encoder_lambda=None,
                encoder_layers=defaults.ENCODER_LAYERS,
                encoder_weights=defaults.ENCODER_WEIGHTS,
            ),
            "maps the concept's tokens onto their twins in the text encoder; its strength is --encoder-preserve "
            "(lower erases more) / --encoder-lambda",
        ):
            from weditor.methods.encoder import params_from

            params_from(self).check()
        if self._own_options(
            "units",
            dict(units=defaults.UNITS, units_preserve=defaults.UNITS_PRESERVE, units_silence=defaults.UNITS_SILENCE),
            "maps the concept's tokens onto their twins in the text encoder; its strength is --units-preserve (lower "
            "erases more) / --units",
        ):
            from weditor.methods.encoder_units import UnitsParams

            UnitsParams(self.units, self.units_preserve, self.units_silence).check()
        if self.twins not in defaults.TWINS:
            raise WeditorError(f"twins {self.twins!r}: must be one of {', '.join(defaults.TWINS)}")
        if self.edit not in defaults.EDITS:
            raise WeditorError(f"--edit {self.edit}: must be one of {', '.join(defaults.EDITS)}")
        if self.strength is None:
            self.strength = (
                defaults.SAFREE_STRENGTH
                if self.method == "safree"
                else defaults.STRENGTH
                if self.edit == "projection"
                else defaults.READOUT_STRENGTH
            )
        if self.rank == "auto":  # the read-out protects other concepts itself; the projection needs the subspace
            self.rank_explicit = False
            self.rank = None if self.edit == "readout" and self.method == "refusal" else DEFAULT_RANK
        if self.edit == "readout" and self.method == "refusal" and self.neutral == "prompt":
            raise WeditorError(
                "--neutral prompt: the read-out edit is fitted on real neutral activations, and this mode "
                "centres them on each other; use --neutral raw, or --edit projection"
            )
        if self.method == "text" and self.edit != "readout":
            raise WeditorError(
                f"--edit {self.edit}: --method text fits a read-out; add --method refusal to project the "
                "blocks' directions out (or --method safree for a projection of the text embeddings)"
            )
        if self.reins and self.method == "safree":
            raise WeditorError(
                "--reins: the REINS fold goes with --method text or refusal (or --method reins alone), "
                "not --method safree"
            )
        if self.harden and (self.method != "text" or not 0 <= self.harden <= 10):
            raise WeditorError(
                f"--harden {self.harden}: rounds in 0..10, with --method text (the read-out on the prompt "
                "embeddings) only"
            )
        if not 0.0 < self.removal <= 1.0:
            raise WeditorError(
                f"--removal {self.removal}: must be in (0, 1] (share of the pairs' mean difference removed)"
            )
        if not self.pairs:
            raise WeditorError("--pairs: give at least one pair file")
        if self.neutral not in ("prompt", "raw"):
            raise WeditorError(f"--neutral {self.neutral}: must be 'prompt' or 'raw'")
        if not 0.0 < self.reins_strength <= 10.0:
            raise WeditorError(
                f"--reins-strength {self.reins_strength}: must be in (0, 10] (relative to the mean hidden-state norm)"
            )
        if not 0.0 < self.strength <= 2.0:
            raise WeditorError(f"--strength {self.strength}: must be in (0, 2] (1 removes the direction exactly)")
        if not 0.0 <= self.alpha <= 100.0:
            raise WeditorError(f"--alpha {self.alpha}: must be in [0, 100]")
        if self.rank is not None and self.rank < 1:
            raise WeditorError(f"--rank {self.rank}: must be >= 1 (or 'none' for the plain mean difference)")
        if self.directions < 1:
            raise WeditorError(f"--directions {self.directions}: must be >= 1")
        if not 1 <= self.steps <= 100:
            raise WeditorError(f"--steps {self.steps}: must be in 1..100")
        if not 0 <= self.seed <= defaults.MAX_SEED:
            raise WeditorError(f"--seed {self.seed}: must be in 0..{defaults.MAX_SEED} (see defaults.MAX_SEED)")
        if self.size is not None and any(not 1 <= v <= top for v, top in zip(self.size, defaults.MAX_SIZE)):
            raise WeditorError(
                f"--size {self.size}: each of height, width, frames must be in 1..{'/'.join(map(str, defaults.MAX_SIZE))}"
            )
        if self.batch is not None and not 1 <= self.batch <= 4096:
            raise WeditorError(f"--batch {self.batch}: must be in 1..4096 (prompts per summary forward)")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise WeditorError(f"--dtype {self.dtype}: must be one of {', '.join(DTYPES)}")

    def _own_options(self, method: str, options: dict, strength: str) -> bool:
        """Whether `method` runs. With another method, any of its `options` (field -> default) given is refused
        (it would be ignored); with it, `--reins` and `--strength`, which it has no use for, are refused."""
        if self.method != method:
            for name, default in options.items():
                if getattr(self, name) != default:
                    flag = "--" + name.replace("_", "-")
                    raise WeditorError(
                        f"{flag}: only --method {method} uses it; this patch runs --method {self.method}; "
                        f"add --method {method}"
                    )
            return False
        if self.reins:
            raise WeditorError(f"--reins: the REINS fold goes with --method text or refusal, not --method {method}")
        if self.strength is not None:
            raise WeditorError(f"--strength: --method {method} {strength}")
        return True


@dataclass
class PatchResult:
    out_dir: Path
    recipe: dict
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per phase (see `Phases`); printed by nobody
    peak_gpu_bytes: dict = field(default_factory=dict)  # CUDA only: max allocated so far, at the end of each phase
