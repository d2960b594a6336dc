"""`weditor patch`, as a library call: collect, fit, edit, write, verify.

Kept free of click so that scripts and benchmarks run exactly what the command runs.
"""

from __future__ import annotations

import shutil
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from weditor import __version__
from weditor import recipe as recipes
from weditor.adapters import Adapter, adapter_for_model
from weditor.card import finalize_card
from weditor.card_meta import recipe_record as card_record
from weditor.file_modes import share_like_other_files
from weditor import status
from weditor.checkpoint import (
    BaseModel,
    check_out_dir,
    publish_dir,
    read_tensors,
    resolve_model,
    staging_dir,
    stored_dtypes,
    tensor_locations,
    write_patched,
)
from weditor.collect import (
    Settings,
    SiteKey,
    check_finite,
    encode,
    get_module,
    neutral_images,
    num_blocks,
    present_denoisers,
    progress,
    site_modules,
    taps,
    trajectory,
)
from weditor.directions import RefusalDirection, ZeroDirectionError, _orthonormal_rows
from weditor.edits import remove_input, remove_output
from weditor.errors import WeditorError
from weditor.layers import parse_layers
from weditor.moments import PairMoments, RunningMoments
from weditor.readout import ConceptReadout
from weditor.pair_videos import check_videos_accepted
from weditor.pairs import PairSet, load_pairsets
from weditor.pickles import prepare_base
from weditor.pickles import recipe_note as pickles_recipe_note
from weditor.preflight import run_preflight
from weditor.verify import FORWARD_TOLERANCE, compare_forward, compare_other_files, compare_safetensors, tensor_sha256  # noqa: F401
from weditor.pipeline.measure import measure, most_changed, relative_change, summarise  # noqa: F401 - the summary
from weditor.pipeline.reload_check import verify_staged  # noqa: F401 - the reload check

from weditor import defaults, distributed
from weditor import reins as reins_fold
from weditor.pairs import neutral_prompts as pairs_neutral_prompts

DEFAULT_LAYERS = defaults.LAYERS
DEFAULT_RANK = defaults.RANK
DEFAULT_ALPHA = defaults.ALPHA
DEFAULT_STEPS = defaults.STEPS
BUILTIN_MODEL = defaults.BUILTIN_MODEL
DTYPES = {name: getattr(torch, name) for name in defaults.DTYPE_NAMES}


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
    strength: float | None = None  # None: per edit and method (READOUT_STRENGTH, STRENGTH, SAFREE_STRENGTH; resolved in check)
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
    method: str | None = None  # None: per pairs (`resolve_method`); "refusal", "reins", "safree", "text" (defaults.METHODS)
    reins: bool = False  # also fold the REINS steering vector (implied by method "reins")
    reins_layer: str = defaults.REINS_LAYER
    reins_strength: float = defaults.REINS_STRENGTH  # alpha / mean token norm at the REINS block
    safree_pool: str = defaults.SAFREE_POOL  # method "safree": keyword vectors, "mean" or "tokens" (weditor/safree.py)
    allow_pickle: bool = False  # read pickle-only (.bin) weights with torch.load(weights_only=True) (weditor/pickles.py)
    harden: int = 0  # method "text": rounds of attack-and-refit (weditor/harden.py)
    tune: bool = True  # search the method and its settings (weditor/tuning.py); False: these settings as given
    pinned: tuple = ()  # fields the user set explicitly: the search keeps them (besides any non-default value)
    uce_tokens: str = defaults.UCE_TOKENS  # method "uce" (weditor/kv_edit.py): which tokens of an unsafe prompt are mapped
    uce_substitute: str = defaults.UCE_SUBSTITUTE
    uce_preserve: float = defaults.UCE_PRESERVE
    uce_lambda: float = defaults.UCE_LAMBDA
    uce_rounds: int = defaults.UCE_ROUNDS
    card: dict | None = None  # --base-model / --license, or a recipe's `card` record (weditor/card_meta.py)
    batch: int | None = None  # summary prompts per denoiser forward (None: weditor/pipeline/measure.py's default, halved while out of memory)

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
            self.method = defaults.IMAGE_METHOD if any(ps.has_images or ps.has_videos for ps in pairsets) else defaults.METHOD

    def check(self):
        if self.method is None:  # a library caller that did not resolve it from its pairs
            self.method = defaults.METHOD
        if self.method not in defaults.METHODS:
            raise WeditorError(f"--method {self.method}: must be one of {', '.join(defaults.METHODS)}")
        if self.method != "refusal":  # the block edit's own options would be ignored: say so instead
            given = {"site": self.site is not None, "layers": self.layers != DEFAULT_LAYERS, "alpha": self.alpha != DEFAULT_ALPHA,
                     "directions": self.directions != 1, "neutral": self.neutral != defaults.NEUTRAL,
                     "rank": self.rank_explicit and self.method != "safree"}
            for name, on in given.items():
                if on:
                    raise WeditorError(f"--{name}: only --method refusal (the block-by-block edit) uses it; this patch runs "
                                       f"--method {self.method}; add --method refusal")
        if self.method != "uce":  # the key/value edit's own options would be ignored: say so instead
            for name, default in (("tokens", defaults.UCE_TOKENS), ("substitute", defaults.UCE_SUBSTITUTE),
                                  ("preserve", defaults.UCE_PRESERVE),
                                  ("lambda", defaults.UCE_LAMBDA), ("rounds", defaults.UCE_ROUNDS)):
                if getattr(self, f"uce_{name}") != default:
                    raise WeditorError(f"--uce-{name}: only --method uce uses it; this patch runs --method {self.method}")
        elif self.reins:
            raise WeditorError("--reins: the REINS fold goes with --method text or refusal, not --method uce")
        elif self.strength is not None:
            raise WeditorError("--strength: --method uce maps the concept's tokens onto their twins; its strength is "
                               "--uce-lambda / --uce-preserve")
        if self.edit not in defaults.EDITS:
            raise WeditorError(f"--edit {self.edit}: must be one of {', '.join(defaults.EDITS)}")
        if self.strength is None:
            self.strength = (defaults.SAFREE_STRENGTH if self.method == "safree" else
                             defaults.STRENGTH if self.edit == "projection" else defaults.READOUT_STRENGTH)
        if self.rank == "auto":  # the read-out protects other concepts itself; the projection needs the subspace
            self.rank_explicit = False
            self.rank = None if self.edit == "readout" and self.method == "refusal" else DEFAULT_RANK
        if self.edit == "readout" and self.method == "refusal" and self.neutral == "prompt":
            raise WeditorError("--neutral prompt: the read-out edit is fitted on real neutral activations, and this mode "
                               "centres them on each other; use --neutral raw, or --edit projection")
        if self.method == "text" and self.edit != "readout":
            raise WeditorError(f"--edit {self.edit}: --method text fits a read-out; add --method refusal to project the "
                               "blocks' directions out (or --method safree for a projection of the text embeddings)")
        if self.reins and self.method == "safree":
            raise WeditorError("--reins: the REINS fold goes with --method text or refusal (or --method reins alone), "
                               "not --method safree")
        if self.harden and (self.method != "text" or not 0 <= self.harden <= 10):
            raise WeditorError(f"--harden {self.harden}: rounds in 0..10, with --method text (the read-out on the prompt "
                               "embeddings) only")
        if not 0.0 < self.removal <= 1.0:
            raise WeditorError(f"--removal {self.removal}: must be in (0, 1] (share of the pairs' mean difference removed)")
        if not self.pairs:
            raise WeditorError("--pairs: give at least one pair file")
        if self.neutral not in ("prompt", "raw"):
            raise WeditorError(f"--neutral {self.neutral}: must be 'prompt' or 'raw'")
        if not 0.0 < self.reins_strength <= 10.0:
            raise WeditorError(f"--reins-strength {self.reins_strength}: must be in (0, 10] (relative to the mean hidden-state norm)")
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
            raise WeditorError(f"--size {self.size}: each of height, width, frames must be in 1..{'/'.join(map(str, defaults.MAX_SIZE))}")
        if self.batch is not None and not 1 <= self.batch <= 4096:
            raise WeditorError(f"--batch {self.batch}: must be in 1..4096 (prompts per summary forward)")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise WeditorError(f"--dtype {self.dtype}: must be one of {', '.join(DTYPES)}")


@dataclass
class PatchResult:
    out_dir: Path
    recipe: dict
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per phase (see `Phases`); printed by nobody
    peak_gpu_bytes: dict = field(default_factory=dict)  # CUDA only: max allocated so far, at the end of each phase


class Phases:
    """Wall time per phase of `run_patch`, always on (a few perf_counter calls per run).

    On CUDA each phase ends with a synchronize, so queued kernels are counted where they ran.
    """

    def __init__(self, device: str = "cpu"):
        self.seconds: dict[str, float] = {}
        self.peak_gpu_bytes: dict[str, int] = {}
        self.cuda = str(device).startswith("cuda") and torch.cuda.is_available()
        self.device = device

    def add(self, name: str, seconds: float):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        status.show(name)  # a line on the terminal while a phase without a bar runs (weditor/status.py)
        try:
            yield
        finally:
            status.clear()
            if self.cuda:
                torch.cuda.synchronize(self.device)
                self.peak_gpu_bytes[name] = int(torch.cuda.max_memory_allocated(self.device))
            self.add(name, time.perf_counter() - t0)


def builtin_model_path() -> Path:
    from weditor.shapes import model_path

    return Path(model_path())


def load_base(model: str, revision: str | None, allow_pickle: bool = False) -> tuple[BaseModel, Adapter]:
    if model == BUILTIN_MODEL:
        base = resolve_model(str(builtin_model_path()))
        base = BaseModel(base.folder, BUILTIN_MODEL, None, base.pipeline_class)
    else:
        base = resolve_model(model, revision, allow_pickle)
    adapter = adapter_for_model(base.folder, base.pipeline_class, f"{base.folder}/model_index.json")
    adapter.check_requirements()  # a package the stock pipeline calls unguarded (ftfy): one line, not a NameError later
    return base, adapter


def load_pipeline(base: BaseModel, dtype: str | None, device: str, offload: bool = False, **components):
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()  # ours are the bars worth watching
    transformers.utils.logging.disable_progress_bar()
    cls = getattr(diffusers, base.pipeline_class)
    kwargs = {"use_safetensors": True, **components}
    if dtype is not None:
        kwargs["torch_dtype"] = DTYPES[dtype]
    else:  # as stored (diffusers' own default would be float32 for every component)
        kwargs["torch_dtype"] = {"default": torch.float32, **{c: DTYPES.get(d, getattr(torch, d)) for c, d in stored_dtypes(base.folder).items()}}
    try:
        with warnings.catch_warnings():  # newer diffusers call it `dtype`; older ones know only `torch_dtype`
            warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
            pipe = cls.from_pretrained(base.folder, **kwargs)
    except Exception as e:  # noqa: BLE001 - any failure of the stock loader on these files means one thing
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise WeditorError(f"{base.folder}: stock {base.pipeline_class} could not load it ({first})") from None
    pipe.set_progress_bar_config(disable=True)
    if offload:
        return offload_pipeline(pipe, device)
    return pipe.to(device)


def offload_pipeline(pipe, device: str):
    """Block-level group offloading of every module: weights live on the CPU, and each block is moved
    to `device` just for its forward. Forward hooks on the linears inside still see the activations
    (on `device`); without CUDA streams, an in-place edit of a parameter survives the moves.
    With device "cpu" nothing moves, but the same hooks run."""
    from diffusers.hooks import apply_group_offloading
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    for module in pipe.components.values():
        if isinstance(module, torch.nn.Module) and not _is_group_offload_enabled(module):
            apply_group_offloading(module, onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                   offload_type="block_level", num_blocks_per_group=1)
    return pipe


def open_pipeline(cfg: PatchConfig, pairsets: list[PairSet], base: BaseModel, adapter: Adapter, offload: bool,
                  phases: Phases | None = None):
    """(base, out_dir, pipe, settings): the checks that need no weights, then the pipeline, loaded and preflighted.

    Shared by every method, so that each refuses the same inputs in the same order before any
    weights are read.
    """
    opened = getattr(cfg, "opened", None)
    if opened is not None:  # the self-tuning step (weditor/tuning.py) loaded it, and put every weight back
        cfg.opened = None
        if phases is not None:
            for name, seconds in cfg.opened_seconds.items():
                phases.add(name, seconds)
        return opened
    out_dir = Path(cfg.out)
    check_out_dir(base.folder, out_dir, cfg.overwrite)
    base = prepare_base(base, out_dir)  # pickles refused, or converted into a mirror (weditor/pickles.py)
    if any(ps.has_images for ps in pairsets) and not adapter.image_to_video:
        raise WeditorError(f"{pairsets[0].path}: pairs carry images, but {base.pipeline_class} is text-to-video only")
    check_videos_accepted(pairsets, adapter, base.pipeline_class)  # videos only where a family feeds them
    torch.manual_seed(cfg.seed)
    with (phases if phases is not None else Phases(cfg.device))("load"):  # a throwaway clock still shows the status line
        pipe = load_pipeline(base, cfg.dtype, cfg.device, offload=offload)
        run_preflight(pipe, adapter, pairsets)  # pairs that tokenize alike, NaN/Inf weights (weditor/preflight.py)
    settings = Settings(size=cfg.size or default_size(cfg.model, adapter, pipe), steps=cfg.steps, seed=cfg.seed,
                        device=cfg.device)
    return base, out_dir, pipe, settings


def default_size(model: str, adapter: Adapter, pipe=None) -> tuple[int, int, int]:
    if model == BUILTIN_MODEL:
        from weditor import shapes

        return (shapes.HEIGHT, shapes.WIDTH, shapes.NUM_FRAMES)
    return adapter.size_for(pipe)


def site_keys(pipe, adapter: Adapter, cfg: PatchConfig) -> list[SiteKey]:
    site = cfg.site or adapter.default_site
    if site not in adapter.sites:
        raise WeditorError(f"--site {site}: unknown for {adapter.family} (choose from {', '.join(adapter.sites)})")
    if adapter.sites[site].role == "writes" and adapter.sites[site].gated:
        raise WeditorError(
            f"--site {site}: this write is scaled by a timestep-dependent gate, so an output-side projection "
            f"would not remove the direction from the stream; use an ungated write ({adapter.ungated_write}) or an input site"
        )
    keys = []
    for component in present_denoisers(pipe, adapter):
        for block in parse_layers(cfg.layers, num_blocks(pipe, adapter, component, site)):
            keys.append(SiteKey(component, block, site))
    return keys


def site_width(pipe, adapter: Adapter, key: SiteKey) -> int:
    _, module = site_modules(pipe, adapter, key)[0]
    return module.in_features if adapter.sites[key.site].role == "reads" else module.out_features


# --------------------------------------------------------------------------- collection


def neutral_batches(n: int, size: int) -> list[list[int]]:
    """Indices of the neutral prompts, in batches of about `size` (never one alone when n > 1)."""
    batches = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] += last
    return batches


def collect(pipe, adapter, keys, pairsets: list[PairSet], settings: Settings, phases: Phases | None = None,
            neutral_mode: str = defaults.NEUTRAL, paired: bool = False):
    """Paired-difference moments per concept and site, neutral moments per site, and paired moments.

    With `paired` (the read-out edit), the third value holds `PairMoments` per concept and site
    (the unsafe tokens and their co-variation with the difference, twice the memory of `delta`,
    whose moments they share); otherwise it is None.

    With `neutral_mode` "prompt", neutral prompts run in small batches that share one noise,
    and each activation is centred on its batch's mean at the same token and step: what is left
    is how *prompts* move the activations, the same kind of variation as the paired differences
    (noise, position and timestep cancel, as they do in `delta`). "raw" keeps the activations
    as they are, each prompt with its own noise.

    With `phases`, the time spent in the taps (finiteness check and moment updates) is added
    to `statistics` (on CUDA: the time to queue that work).
    """
    device = settings.device
    widths = {k: site_width(pipe, adapter, k) for k in keys}
    pairs = {ps.concept: {k: PairMoments(widths[k], device) for k in keys} for ps in pairsets} if paired else None
    if paired:
        delta = {c: {k: m.delta for k, m in by_key.items()} for c, by_key in pairs.items()}
    else:
        delta = {ps.concept: {k: RunningMoments(widths[k], device) for k in keys} for ps in pairsets}
    neutral = {k: RunningMoments(widths[k], device) for k in keys}
    neutral_prompts = pairs_neutral_prompts(pairsets)
    jobs = [("pair", ps.concept, [p.unsafe, p.safe], list(p.conditioning)) for ps in pairsets for p in ps.pairs]
    images = neutral_images(pairsets, len(neutral_prompts))
    if neutral_mode == "prompt" and len(neutral_prompts) > 1:
        jobs += [("neutral batch", None, [neutral_prompts[i] for i in b], [images[i] for i in b])
                 for b in neutral_batches(len(neutral_prompts), defaults.NEUTRAL_BATCH)]
    else:
        jobs += [("neutral", None, [p], [im]) for p, im in zip(neutral_prompts, images)]
    state = {}

    text_sites = {k for k in keys if adapter.sites[k.site].tokens == "text"}

    def on_activation(key, x):
        t0 = time.perf_counter()
        check_finite(key, x, state["prompt"])
        # (members, tokens, d): a UNet folds frames into the batch (member-major), so x[1] would be
        # the first member's second frame, not the second member.
        x = x.reshape(state["members"], -1, x.shape[-1])
        if state["kind"] == "pair":
            unsafe, safe = x[0], x[1]
            if key in text_sites:
                # The prompt's tokens do not pair up; each member's sum is one sample, and the safe
                # member's tokens are neutral ones (they must lose nothing).
                unsafe, safe = unsafe.sum(0), safe.sum(0)
                neutral[key].update(x[1])
            if paired:
                pairs[state["concept"]][key].update(unsafe, safe)
            else:
                delta[state["concept"]][key].update(unsafe - safe)
        elif state["kind"] == "neutral batch":  # prompts sharing one noise, centred on each other
            neutral[key].update(x - x.mean(0, keepdim=True))
        else:
            neutral[key].update(x)
        if phases is not None:
            phases.add("statistics", time.perf_counter() - t0)

    with taps(pipe, adapter, keys) as t:
        t.fn = on_activation
        for i, (kind, concept, prompts, images) in enumerate(progress(jobs, len(jobs), "collect")):
            state.update(kind=kind, concept=concept, prompt=prompts[0], members=len(prompts))
            cond = encode(pipe, adapter, prompts, device, images)
            trajectory(pipe, adapter, cond, settings, seed=settings.seed + i)
    return delta, neutral, pairs


def fit_directions(delta, neutral, keys, pairsets, cfg: PatchConfig, widths):
    """Orthonormal directions per site (all concepts together), the fitted estimators, and the skips.

    A site where a concept leaves no direction (the pairs do not differ there yet, e.g. before
    the first cross-attention, or the concept varies less than neutral prompts do) is skipped
    for that concept rather than failing the patch: `--layers` defaults to every block, and
    not every block carries every concept. A concept skipped at every site is an error.
    """
    directions, estimators, skipped = {}, {}, []
    for key in keys:
        rows = []
        for ps in pairsets:
            rank = cfg.rank
            if rank is not None and rank > widths[key]:
                if cfg.rank_explicit:
                    raise WeditorError(f"--rank {rank}: larger than the width {widths[key]} of {key}")
                rank = widths[key]
            est = RefusalDirection(n_components=cfg.directions, rank=rank, alpha=cfg.alpha)
            try:
                est.fit(delta[ps.concept][key], neutral[key])
            except ZeroDirectionError as e:
                skipped.append({"concept": ps.concept, "site": str(key), "reason": str(e)})
                continue
            except ValueError as e:
                raise WeditorError(f"concept {ps.concept!r} at {key}: {e}") from None
            estimators[(ps.concept, key)] = est
            rows += list(torch.as_tensor(est.components_))
        if rows:
            directions[key] = _orthonormal_rows(rows)  # several concepts: one orthonormal basis
    for ps in pairsets:
        if not any(c == ps.concept for c, _ in estimators):
            first = next(s for s in skipped if s["concept"] == ps.concept)
            hint = f"; try a lower --alpha than {cfg.alpha:g}" if "positive eigenvalue" in first["reason"] else ""
            raise WeditorError(f"concept {ps.concept!r}: no direction at any of the {len(keys)} sites "
                               f"(e.g. {first['site']}: {first['reason']}){hint}")
    return directions, estimators, skipped


def fit_readouts(directions, estimators, pairs, neutral, adapter, cfg: PatchConfig) -> dict:
    """{site: ConceptReadout} for the read-out edit, fitted on the concepts that have a direction there.

    Each concept's rows of Q get their own neutral weight, the heaviest its own removal allows
    (fitted jointly, the concept hardest to remove would set a light one for all), fitted on
    every concept's pairs; when Gram-Schmidt merged rows of several concepts, they share one. A
    writing site fits the intercept (it folds into the bias); a reading one does not.
    """
    readouts = {}
    for key, Q in directions.items():
        concepts = [c for (c, k) in estimators if k == key]
        intercept = adapter.sites[key.site].role == "writes"
        per = len(Q) // max(len(concepts), 1)
        groups = ([(slice(i * per, (i + 1) * per), [i]) for i in range(len(concepts))]
                  if per * len(concepts) == len(Q) and per == cfg.directions else [(slice(None), None)])
        data = [pairs[c][key] for c in concepts]
        try:
            parts = [ConceptReadout(removal=cfg.removal, fit_intercept=intercept).fit(Q[rows], data, neutral[key], calibrate=which)
                     for rows, which in groups]
        except ValueError as e:
            raise WeditorError(f"read-out at {key}: {e}") from None
        readouts[key] = parts[0] if len(parts) == 1 else ConceptReadout.stack(parts)
    return readouts


# --------------------------------------------------------------------------- edits


def compute_edits(pipe, adapter, base: BaseModel, directions, strength: float, readouts: dict | None = None):
    """{component: {tensor name: edited tensor in the checkpoint's dtype}} from the files on disk.

    With `readouts` (site -> fitted `ConceptReadout`), the read-out edit; otherwise the projection.
    """
    edited: dict[str, dict] = {}
    locations: dict[str, dict[str, str]] = {}
    entries = []
    for key, Q in directions.items():
        comp = key.component
        if comp not in locations:
            locations[comp] = tensor_locations(base.folder, comp)
        role = adapter.sites[key.site].role
        for path, _ in site_modules(pipe, adapter, key):
            names = [f"{path}.weight"] + ([f"{path}.bias"] if role == "writes" else [])
            for n in names:
                if n not in locations[comp]:
                    raise WeditorError(f"{base.folder}/{comp}: tensor {n} not found in the checkpoint")
            originals = read_tensors(base.folder, {n: locations[comp][n] for n in names if n in locations[comp]})
            w = originals[f"{path}.weight"]
            ro = readouts.get(key) if readouts is not None else None
            coef = None if ro is None else torch.as_tensor(ro.coef_)
            intercept = None if ro is None else torch.as_tensor(ro.intercept_)
            if role == "reads":
                new = {f"{path}.weight": remove_input(w, Q, coef, strength)}
                kind = "input_projection" if ro is None else "input_readout"
            else:
                nw, nb = remove_output(w, originals[f"{path}.bias"], Q, coef, intercept, strength)  # checked above
                new = {f"{path}.weight": nw}
                if nb is not None:
                    new[f"{path}.bias"] = nb
                kind = "output_projection" if ro is None else "output_readout"
            edited.setdefault(comp, {}).update(new)
            for name, tensor in new.items():
                entries.append(
                    {
                        "component": comp,
                        "tensor": name,
                        "file": locations[comp][name],
                        "kind": kind,
                        "rank": int(Q.shape[0]),
                        "sha256_before": tensor_sha256(originals[name]),
                        "sha256_after": tensor_sha256(tensor),
                    }
                )
    return edited, locations, entries


@torch.no_grad()
def apply_in_memory(pipe, edited: dict[str, dict]):
    """Load edited tensors into the live pipeline: it becomes the reference the files must match."""
    for comp, tensors in edited.items():
        model = getattr(pipe, comp)
        for name, value in tensors.items():
            param = get_module(model, name)
            param.copy_(value.to(device=param.device, dtype=param.dtype))


# --------------------------------------------------------------------------- summary
# measure, relative_change, most_changed, summarise: weditor/pipeline/measure.py (imported above)


def recipe_params(cfg: PatchConfig, settings: Settings, pipe, adapter, keys, folded) -> dict:
    """Every hyper-parameter that took part, resolved (site, blocks), and none that did not."""
    params = asdict(cfg)
    params.pop("safree_pool")  # method "safree" writes its own recipe (weditor/safree.py)
    for k in ("uce_tokens", "uce_substitute", "uce_preserve", "uce_lambda", "uce_rounds"):  # and method "uce" (weditor/uce.py)
        params.pop(k)
    for k in ("pairs", "out", "model", "revision", "overwrite", "device", "summary", "rank_explicit", "link", "push_to_hub", "offload",
              "allow_pickle", "tune", "pinned", "card", "batch"):
        params.pop(k)
    params["size"] = list(settings.size)
    if cfg.uses_refusal:
        params["site"] = cfg.site or adapter.default_site
        params["layers_resolved"] = {c: sorted({k.block for k in keys if k.component == c}) for c in present_denoisers(pipe, adapter)}
        if cfg.edit != "readout":
            params.pop("removal")
        if cfg.rank is None:
            params.pop("alpha")  # the plain mean difference: no subspace, so no neutral weight in it
    else:  # the refusal edit's hyper-parameters did not take part
        for k in ("layers", "site", "rank", "alpha", "strength", "directions", "edit", "removal", "neutral"):
            params.pop(k)
    if folded is not None:
        params["reins_layer_resolved"] = folded.layer_resolved
    else:
        params.pop("reins_layer")
        params.pop("reins_strength")
    return params


# --------------------------------------------------------------------------- the command


def run_patch(cfg: PatchConfig, echo=print) -> PatchResult:
    from weditor import pickles

    with pickles.workspace(cfg.allow_pickle):  # a pickle-converted base lives in it, removed at the end
        try:
            return _run_patch(cfg, echo)
        except OSError as e:  # disk full, permissions, a vanished file: one line, and nothing was published
            from weditor.workspace import output_name

            where = f" ({output_name(e.filename, cfg.out)})" if getattr(e, "filename", None) else ""
            raise WeditorError(f"{type(e).__name__}: {e.strerror or e}{where}; nothing was written to {cfg.out}") from None


def _run_patch(cfg: PatchConfig, echo=print) -> PatchResult:
    if cfg.pairs and not getattr(cfg, "prepared", False) and not hasattr(cfg, "self_check"):
        # the search (or the self-check) first; a recipe's reproduction carries its record instead
        from weditor.tuning import prepare

        t0 = time.perf_counter()
        cfg = prepare(cfg, echo)
        cfg.prepared, seconds = True, time.perf_counter() - t0
        result = _run_patch(cfg, echo)
        result.timings["total"] += seconds  # the method's own clock started after it
        return result
    t_start = time.perf_counter()
    if cfg.method is None and cfg.pairs:
        cfg.resolve_method(load_pairsets(cfg.pairs))
    cfg.check()
    distributed.check_method(cfg.method, cfg.uses_reins)  # under torchrun: a method that deals its work out
    cfg.device = distributed.device_for(cfg.device)
    if cfg.method == "safree":  # the text-embedding projection: its own fit, the same write and verification
        from weditor.safree import run_safree

        return run_safree(cfg, echo)
    if cfg.method == "uce":  # the closed-form key/value edit (weditor/kv_edit.py): its own fit, the same write and verification
        from weditor.uce import run_uce

        return run_uce(cfg, echo)
    if cfg.method == "text":  # the read-out edit on the prompt embeddings: its own fit, the same write and verification
        from weditor.text_readout import run_text_readout

        return run_text_readout(cfg, echo)
    phases = Phases(cfg.device)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, cfg.revision, cfg.allow_pickle)
    if cfg.uses_reins:
        reins_fold.refuse_unless_foldable(adapter)
    base, out_dir, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=cfg.offload, phases=phases)
    keys = site_keys(pipe, adapter, cfg) if cfg.uses_refusal else []
    widths = {k: site_width(pipe, adapter, k) for k in keys}
    reins_keys = reins_fold.reins_blocks(pipe, adapter, cfg.reins_layer) if cfg.uses_reins else []

    if cfg.uses_refusal:
        with phases("collect"):
            delta, neutral, paired = collect(pipe, adapter, keys, pairsets, settings, phases, cfg.neutral,
                                             paired=cfg.edit == "readout")
        with phases("fit"):
            directions, estimators, skipped = fit_directions(delta, neutral, keys, pairsets, cfg, widths)
            readouts = fit_readouts(directions, estimators, paired, neutral, adapter, cfg) if paired else None
        del delta, neutral, paired  # the moments (d x d per site and concept) are not needed after the fit
        for concept in dict.fromkeys(s["concept"] for s in skipped):
            sites = [s["site"] for s in skipped if s["concept"] == concept]
            echo(f"note: concept {concept!r} has no direction at {len(sites)} of {len(keys)} sites, left unedited: "
                 f"{', '.join(sites)}")
        short = {str(k): float(ro.removal_.min()) for k, ro in (readouts or {}).items()
                 if float(ro.removal_.min()) < cfg.removal - 1e-3}
        if short:  # even with (almost) no weight on the neutral prompts the pairs cannot give that much
            echo(f"note: the read-out reaches less than --removal {cfg.removal:g} at {len(short)} of {len(readouts)} sites "
                 f"(lowest {min(short.values()):.3f}): " + ", ".join(short))
        keys = [k for k in keys if k in directions]
        with phases("edit"):
            edited, locations, entries = compute_edits(pipe, adapter, base, directions, cfg.strength, readouts)
    else:
        directions, estimators, edited, locations, entries, skipped, readouts = {}, {}, {}, {}, [], [], None
    folded = None
    if reins_keys:  # after the refusal edit: a bias it changed is folded on top of it
        folded = reins_fold.fold(pipe, adapter, base, pairsets, settings, reins_keys, cfg.reins_strength,
                                 edited, locations, entries)
    meter = reins_fold.Meter(pipe, adapter, folded)  # projections on the REINS direction; inert without one

    t_summary = time.perf_counter()
    status.show("summary")
    summary = summarise(pipe, adapter, keys, directions, estimators, widths, pairsets, settings, cfg, edited, meter,
                        readouts)
    meter.close()
    phases.add("summary", time.perf_counter() - t_summary)  # includes loading the edit into the live model

    params = recipe_params(cfg, settings, pipe, adapter, keys, folded)
    method = "+".join(m for m, on in (("refusal", cfg.uses_refusal), ("reins", cfg.uses_reins)) if on)
    recipe = new_recipe(base, pairsets, method, params, entries, summary, skipped_sites=skipped)
    recipe = write_patch(cfg, base, adapter, pipe, settings, out_dir, pairsets, recipe, edited, locations, directions,
                         readouts, folded, phases, release=True)
    phases.seconds["total"] = time.perf_counter() - t_start
    return PatchResult(out_dir=out_dir, recipe=recipe, summary=summary, timings=phases.seconds,
                       peak_gpu_bytes=phases.peak_gpu_bytes)


def new_recipe(base: BaseModel, pairsets: list[PairSet], method: str, params: dict, entries: list, summary: dict,
               **extra) -> dict:
    """The recipe every method writes; file hashes, verification and the card are added by `write_patch`."""
    recipe = {
        "format": recipes.FORMAT,
        "weditor_version": __version__,
        "base_model": {"id": base.id, "revision": base.revision, "pipeline_class": base.pipeline_class},
        "pairs": [
            {"path": f"{recipes.PAIRS_DIR}/{ps.concept}.toml", "concept": ps.concept, "sha256": ps.sha256} for ps in pairsets
        ],
        "method": method,
        "params": params,
        "edits": entries,
        **extra,
        "summary": summary,
    }
    recipe["base_model"].update(pickles_recipe_note())  # converted / left-out pickle files, if any
    return recipe


def write_patch(cfg: PatchConfig, base: BaseModel, adapter, pipe, settings, out_dir: Path, pairsets, recipe: dict,
                edited, locations, directions: dict, readouts: dict | None = None, folded=None,
                phases: Phases | None = None, release: bool = True) -> dict:
    """Stage the patched folder, verify it with a stock reload, write the card, then rename it into place.

    Nothing reaches `out_dir` unless every step passed; the staging folder is removed on any error.
    Returns the recipe as written (with file hashes and the verification).
    """
    phases = phases if phases is not None else Phases(cfg.device)
    distributed.stop_unless_main()  # under torchrun rank 0 alone writes and verifies (weditor/distributed.py)
    staging = staging_dir(out_dir)
    try:
        t_save = time.perf_counter()
        status.show("save")
        write_patched(base.folder, staging, edited, locations, link=cfg.link, trees=(base.tree,) if base.tree else ())
        pair_dir = staging / recipes.PAIRS_DIR
        pair_dir.mkdir(parents=True, exist_ok=True)
        for ps in pairsets:
            (pair_dir / f"{ps.concept}.toml").write_bytes(ps.raw)
        if directions:
            save_directions(staging / recipes.DIRECTIONS_FILE, directions)
        if readouts:
            save_readouts(staging / recipes.READOUT_FILE, readouts)
        if folded is not None:
            reins_fold.save_fold(staging / reins_fold.REINS_FILE, folded)
        if getattr(cfg, "tuning", None):
            recipe["tuning"] = cfg.tuning
        if getattr(cfg, "self_check", None):
            recipe["self_check"] = cfg.self_check
        recipe["card"] = card_record(cfg.card, base, pairsets)  # base_model, license, pair file names
        share_like_other_files(staging / "weditor")  # safetensors writes 0600 (weditor/file_modes.py)
        with phases("hash"):
            recipe["files"] = recipes.hash_files(staging)
        recipes.write_recipe(staging, recipe)
        phases.add("save", time.perf_counter() - t_save)  # hash included
        with phases("verify"):
            recipe["verification"] = verify_staged(base, staging, pipe, adapter, edited, locations, settings, cfg,
                                                   release=release)
        with phases("card"):
            recipes.write_recipe(staging, recipe)  # the recipe is outside its own hash list
            # The model card reads the verified recipe; writing it re-hashes the folder.
            finalize_card(staging, base_dir=base.folder, repo_id=cfg.push_to_hub)  # never the folder's name
            recipe = recipes.load_recipe(staging)
            publish_dir(staging, out_dir, cfg.overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return recipe


def save_directions(path: Path, directions: dict):
    """The removed directions, so an audit can recompute every edit from the base weights."""
    from safetensors.torch import save_file

    # clone: two denoisers reading one text embedding (Wan 2.2) share one Q, and safetensors refuses shared memory
    save_file({str(k): q.double().cpu().clone().contiguous() for k, q in directions.items()}, path)


def save_readouts(path: Path, readouts: dict):
    """Each site's read-out as one (m, d + 1) tensor `[A | a]`, so an audit can recompute the edit."""
    from safetensors.torch import save_file

    tensors = {}
    for k, ro in readouts.items():
        A, a = torch.as_tensor(ro.coef_).double(), torch.as_tensor(ro.intercept_).double()
        tensors[str(k)] = torch.cat([A, a.reshape(-1, 1)], dim=1).contiguous()
    save_file(tensors, path)


def load_directions(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(path)
