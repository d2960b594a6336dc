"""Self-tuning (`weditor patch`'s default): choose the method and its settings per patch, in memory.

The search runs on the pipeline `weditor patch` has just loaded, before the method's own path:

1. split each pair file (`weditor/pipeline/objective.py`): fit on three quarters, measure on the rest;
2. for each method in the registry (`weditor/pipeline/candidates.py`) that applies, compute its statistics
   on the training split once, then walk its ladders of settings, mildest first: each trial's
   edited tensors are loaded into the live pipeline, scored (erasure of each concept, change of
   the neutral prompts) and the original tensors put back, bit for bit. No folder is written;
3. choose (`choose`), and hand the chosen method and fields to the normal patch path, which
   fits them on *all* pairs and writes, verifies and describes the patch as `--no-tune` would.

Deterministic for a seed: the split, the noise and the order of the trials depend on nothing
else (no clock), and the global torch RNG is restored after the search. Every trial and the
choice are recorded in `weditor.json` ("tuning"), so `--recipe` reproduces the patch without
searching again.

With `--no-tune` the same machinery runs one trial, the fixed settings, only for the self-check.
"""

from __future__ import annotations

import time

import torch

from weditor.defaults import MEASURE_STEPS
from weditor.errors import WeditorError
from weditor.io.twins import with_twins
from weditor.pipeline.budgets import (
    BLIND_SHARE,
    BLOCK_PART_MOVE_BUDGET,
    ERASED,
    ERASED_PLAIN,
    NEUTRAL_BUDGET,
    PART_BUDGET,
    PART_MOVE_BUDGET,
    WARN_BELOW,
)
from weditor.pipeline.candidates import Context, Space, pin, spaces_for
from weditor.pipeline.choice import Trial, choose, move_budget  # noqa: F401 (the rule; imported from here too)
from weditor.pipeline.objective import HELD_OUT, OBJECTIVE_STEPS, Objective, Score, split_pairsets, with_common_targets

# Fields a user can pin (an explicit value fixes that axis of every ladder).
TUNED_FIELDS = (
    "removal",
    "strength",
    "layers",
    "site",
    "uce_tokens",
    "uce_substitute",
    "uce_lambda",
    "uce_preserve",
    "uce_rounds",
    "encoder_preserve",
    "encoder_lambda",
    "encoder_layers",
    "encoder_weights",
    "units",
    "units_preserve",
    "units_silence",
    "twins",  # given: no second pass on deletion twins (weditor/pipeline/tuning_twins.py)
)

TRIALS_RUN = 0  # trials scored in this process (tests check that --recipe runs none)


@torch.no_grad()
def apply_edit(pipe, edited: dict) -> dict:
    """Load `edited` into the live pipeline; returns the original tensors to put back (`restore`)."""
    from weditor.models.runtime import get_module

    originals = {}
    for comp, tensors in edited.items():
        model = getattr(pipe, comp)
        for name, value in tensors.items():
            param = get_module(model, name)
            originals.setdefault(comp, {})[name] = param.detach().clone()
            param.copy_(value.to(device=param.device, dtype=param.dtype))
    return originals


@torch.no_grad()
def restore(pipe, originals: dict):
    from weditor.models.runtime import get_module

    for comp, tensors in originals.items():
        model = getattr(pipe, comp)
        for name, value in tensors.items():
            get_module(model, name).copy_(value)


class Tuner:
    """The search, scikit-learn style: `fit` on a loaded pipeline sets `trials_`, `chosen_`, `split_`.

    Parameters
    ----------
    budget : float
        Neutral change allowed (see `choose`).
    seed : int
        Seeds the split and the objective's noise.
    search : bool
        False: one trial, the configuration's own settings (`--no-tune`: the self-check only).
    """

    def __init__(
        self, budget: float = NEUTRAL_BUDGET, seed: int = 0, steps: int = OBJECTIVE_STEPS, search: bool = True
    ):
        self.budget = budget
        self.seed = seed
        self.steps = steps
        self.search = search

    def plan(self, cfg, adapter, pairsets) -> list[tuple[Space, tuple]]:
        """[(space, ladders)]: the methods to try and their ladders, the user's explicit fields pinned."""
        pinned = pinned_fields(cfg)
        plan = []
        for space in spaces_for(cfg, adapter, pairsets):
            if not self.search:  # the configuration's own settings, resolved as its method resolves them
                resolved = space.config(cfg, {})
                return [(space, (({k: getattr(resolved, k) for k in space.ladders[0][0]},),))]
            ladders = pin(space.ladders, pinned)
            try:
                space.config(cfg, ladders[0][0])  # a pinned field this method refuses (e.g. --site for text)
            except WeditorError:
                continue
            plan.append((space, ladders))
        return plan

    def fit(self, pipe, adapter, base, pairsets, settings, cfg, echo=print):
        rng = torch.get_rng_state()
        self.spread_ = {}
        try:
            self._search(pipe, adapter, base, with_twins(pairsets, getattr(cfg, "twins", "pair")), settings, cfg)
            if self.search and "twins" not in pinned_fields(cfg):  # twins that substitute many different words
                from weditor.pipeline.tuning_twins import barely_reached_concepts, deletion_pass, spread_files

                self.spread_ = spread_files(self.split_, pairsets, barely_reached_concepts(self))
                if self.spread_:
                    torch.set_rng_state(rng)  # the second pass starts where the first did
                    deletion_pass(self, pipe, adapter, base, pairsets, settings, cfg)
        finally:
            torch.set_rng_state(rng)
        if self.chosen_ is None:
            first = next((t.error for t in self.trials_ if t.error), "no trial could be scored")
            raise WeditorError(f"self-tuning: no setting could be fitted ({first})")
        return self

    def _search(self, pipe, adapter, base, pairsets, settings, cfg, twins: dict | None = None):
        """One pass of the search on `pairsets`: sets `split_`, `erased_`, `objective_`, `trials_`, `chosen_`.
        `twins` ({"twins": "deleted"}) is added to every trial's setting (the pairs the trial fitted)."""
        global TRIALS_RUN
        from weditor.models.runtime import progress

        self.split_ = with_common_targets(split_pairsets(pairsets, self.seed), pipe, adapter, pairsets, cfg.device)
        # one line per patch: 0.5 where any file has parts elsewhere (or images, videos: never measured at 0.8)
        media = any(ps.has_images or ps.has_videos for ps in pairsets)
        self.erased_ = ERASED if self.split_.held_parts or media else ERASED_PLAIN
        plan = self.plan(cfg, adapter, pairsets)
        if not plan:
            raise WeditorError(f"--method {cfg.method}: not among the methods the self-check can evaluate")
        objective = Objective(self.steps, self.seed).fit(pipe, adapter, self.split_, settings)
        self.objective_ = objective  # its original-model runs are the summary's too (`prepare`)
        ctx = Context(pipe, adapter, base, list(self.split_.train), settings, cfg, self.split_.train_synth or {})
        self.trials_: list[Trial] = []
        total = sum(len(ladder) for _, ladders in plan for ladder in ladders)
        bar = progress(None, total, ("tune" if self.search else "self-check") + (" (deletion twins)" if twins else ""))
        try:
            for space, ladders in plan:
                if self._satisfied():
                    bar.update(sum(len(ladder) for ladder in ladders))
                    continue
                try:
                    state = space.prepare(ctx)
                except WeditorError as e:
                    self.trials_.append(Trial(space.method, dict(twins or {}), error=str(e)))
                    bar.update(sum(len(ladder) for ladder in ladders))
                    continue
                first = len(self.trials_)
                for ladder in ladders:
                    for n, params in enumerate(ladder):
                        trial = self._trial(space, state, ctx, {**params, **(twins or {})}, objective, pipe)
                        TRIALS_RUN += 1
                        self.trials_.append(trial)
                        bar.update(1)
                        if trial.score is not None and (
                            not trial.feasible(self.budget) or trial.score.min_erasure >= self.erased_
                        ):
                            bar.update(len(ladder) - n - 1)
                            break
                for params in self._milder(space, cfg, self.trials_[first]):
                    trial = self._trial(space, state, ctx, {**params, **(twins or {})}, objective, pipe)
                    TRIALS_RUN += 1
                    self.trials_.append(trial)
                    if trial.score is not None and trial.feasible(self.budget):
                        break
        finally:
            bar.close()
        if not self.search and self.trials_[0].error:  # the user's own settings: their error, as the method says it
            raise WeditorError(self.trials_[0].error)
        self.chosen_ = choose(self.trials_, self.budget, self.erased_) if self.search else 0

    def _block_budget(self) -> dict:
        """The block fit's part move budget, recorded where the search tried it (other records stay as they were)."""
        tried = any(t.params.get("encoder_weights") == "block" for t in self.trials_)
        return {"block_part_move_budget": BLOCK_PART_MOVE_BUDGET} if tried else {}

    def _milder(self, space, cfg, first: Trial) -> tuple:
        """The space's milder rungs where its first trial was over the budget and nothing erased (none where the
        user pinned one of their fields, without a search, or for a file with parts elsewhere: its search was set
        with the ladders alone)."""
        if not (self.search and space.milder) or self.split_.held_parts:
            return ()
        if first.score is None or first.feasible(self.budget):
            return ()
        if self._satisfied() or set(pinned_fields(cfg)) & set(space.milder[0]):
            return ()
        return space.milder

    def _satisfied(self) -> bool:
        return any(t.feasible(self.budget) and t.score.min_erasure >= self.erased_ for t in self.trials_)

    def _trial(self, space, state, ctx, params, objective, pipe) -> Trial:
        t0 = time.perf_counter()
        try:
            edited = space.edit(state, ctx, params)
        except WeditorError as e:
            return Trial(space.method, params, error=str(e), seconds=time.perf_counter() - t0)
        originals = apply_edit(pipe, edited)
        try:  # an edit outside the denoisers (the text encoder's) changes what the prompts encode to
            score = objective.score(reencode=any(c not in ctx.adapter.denoisers for c in edited))
        finally:
            restore(pipe, originals)
        if not score.finite:  # a broken edit: no rung may choose it, and weditor.json holds no Infinity
            return Trial(space.method, params, error="non-finite predictions", seconds=time.perf_counter() - t0)
        return Trial(space.method, params, score, time.perf_counter() - t0)

    @property
    def chosen_trial_(self) -> Trial:
        return self.trials_[self.chosen_]

    def record(self) -> dict:
        """What weditor.json keeps ("tuning"): the objective, every trial and the choice."""
        return {
            "objective": {
                "held_out": HELD_OUT,
                "steps": self.steps,
                "seed": self.seed,
                "neutral_budget": self.budget,
                "erased": self.erased_,
                **(
                    {"part_budget": PART_BUDGET, "part_move_budget": PART_MOVE_BUDGET, **self._block_budget()}
                    if self.split_.held_parts
                    else {}
                ),
                # the part prompts the file does not hold that the part move read (and the block's trials kept)
                **(
                    {
                        "synthesized_part_prompts": {c: list(p) for c, p in self.split_.held_synth.items()},
                        "synthesized_part_prompts_fitted": {
                            c: len(p) for c, p in (self.split_.train_synth or {}).items()
                        },
                    }
                    if self.split_.held_synth
                    else {}
                ),
                # the changed word's substitutes in the training pairs of the files searched again with deletion
                # twins (weditor/io/twins.py): only where that pass ran
                **({"spread_substitutes": self.spread_} if self.spread_ else {}),
                "held_out_pairs": {c: len(p) for c, p in self.split_.held_pairs.items()},
                "held_out_neutral": len(self.split_.held_neutral),
            },
            "trials": [t.as_dict() for t in self.trials_],
            "chosen": self.chosen_,
        }


def pinned_fields(cfg) -> dict:
    """{field: value} the search must keep: those the user named (`cfg.pinned`) and any non-default value."""
    from weditor import defaults

    given = {
        "removal": cfg.removal != defaults.REMOVAL,
        "strength": cfg.strength is not None,
        "layers": cfg.layers != defaults.LAYERS,
        "site": cfg.site is not None,
        "uce_tokens": cfg.uce_tokens != defaults.UCE_TOKENS,
        "uce_lambda": cfg.uce_lambda != defaults.UCE_LAMBDA,
        "uce_substitute": cfg.uce_substitute != defaults.UCE_SUBSTITUTE,
        "uce_preserve": cfg.uce_preserve != defaults.UCE_PRESERVE,
        "uce_rounds": cfg.uce_rounds != defaults.UCE_ROUNDS,
        "encoder_preserve": cfg.encoder_preserve is not None,  # None: --encoder-weights' own default
        "encoder_lambda": cfg.encoder_lambda is not None,
        "encoder_layers": cfg.encoder_layers != defaults.ENCODER_LAYERS,
        "encoder_weights": getattr(cfg, "encoder_weights", defaults.ENCODER_WEIGHTS) != defaults.ENCODER_WEIGHTS,
        "units": cfg.units != defaults.UNITS,
        "units_preserve": cfg.units_preserve != defaults.UNITS_PRESERVE,
        "units_silence": cfg.units_silence != defaults.UNITS_SILENCE,
        "twins": getattr(cfg, "twins", "pair") != "pair",
    }
    return {k: getattr(cfg, k) for k in TUNED_FIELDS if given[k] or k in getattr(cfg, "pinned", ())}


def self_check(
    score: Score,
    warn_below: float = WARN_BELOW,
    trials: list | None = None,
    move_limit: float = PART_MOVE_BUDGET,
    blind: dict | None = None,
) -> dict:
    """{concept: {erasure, neutral_change, warning}} (and `part_leak`, `part_move`, `parts_warning` where the pair
    file has parts elsewhere): the held-out figures every patch reports."""
    out = {
        c: {"erasure": round(e, 4), "neutral_change": round(score.neutral_change, 4), "warning": e < warn_below}
        for c, e in score.erasure.items()
    }
    for c, leak in (score.parts or {}).items():
        out[c]["part_leak"] = round(leak, 4)
    for c, move in (score.moves or {}).items():  # over the budget: the search found no setting that keeps the parts
        out[c]["part_move"] = round(move, 4)
        if move_limit != PART_MOVE_BUDGET:  # the block fit's own budget, said where it applies
            out[c]["part_move_budget"] = move_limit
        out[c]["parts_warning"] = move > move_limit or score.parts.get(c, 0.0) > PART_BUDGET
        if (blind or {}).get(c, (0, 0.0))[1] > BLIND_SHARE and blind[c][0] >= 2:  # unseen by the part move: said
            out[c]["parts_blind"] = round(blind[c][1], 4)
        # within the budget but short of erased, where a setting the search tried erases at the parts' cost: the
        # budget, not the method, held the erasure back (the summary names that setting, for a user who accepts it)
        out[c]["parts_limited"] = (
            not out[c]["parts_warning"]
            and score.erasure[c] < ERASED
            and any(
                t.score is not None and not t.feasible(NEUTRAL_BUDGET) and t.score.erasure[c] >= ERASED
                for t in trials or ()
            )
        )
    return out


def prepare(cfg, echo=print):
    """The config `weditor patch` runs with, after the search (or the `--no-tune` self-check's one trial).

    Opens the pipeline for the method's path (handed over as `cfg.opened`, so the model is loaded
    once), and sets `cfg.tuning` (the search's record, None without a search) and `cfg.self_check`.
    Without anything to measure (a method outside the registry, `--reins`, or `--no-tune
    --no-summary`) the config comes back as it was.
    """
    from dataclasses import replace

    from weditor.io.pairs import load_pairsets
    from weditor.models.loading import load_base
    from weditor.pipeline.load import open_pipeline

    pairsets = load_pairsets(cfg.pairs)
    with_twins(pairsets, getattr(cfg, "twins", "pair"))  # `--twins deleted` that would change nothing: refused here
    probe = replace(cfg)
    probe.resolve_method(pairsets)
    probe.check()  # the user's options are refused before any weights are read, as without tuning
    # A method the user names keeps its fixed settings (0.4's behaviour, which every option of that method
    # describes); the search chooses among methods, keeping any shared field given (--removal, --strength).
    search = cfg.tune and not cfg.reins and cfg.method is None
    if not (search or cfg.summary) or cfg.reins:
        return cfg
    base, adapter = load_base(cfg.model, cfg.revision, cfg.allow_pickle)
    tuner = Tuner(seed=cfg.seed, search=search)
    unresolved = replace(cfg, method=probe.method)  # each method resolves its own defaults (strength, rank)
    plan = tuner.plan(cfg if search else unresolved, adapter, pairsets)
    if not plan:
        if search and cfg.method is None:
            raise WeditorError(
                "self-tuning: no method of the registry applies to these pairs and this model; "
                "name one with --method and add --no-tune"
            )
        return cfg
    if search and sum(len(ladder) for _, ladders in plan for ladder in ladders) == 1:
        # every searched field given (or one setting left): nothing to choose, the self-check only
        search, tuner.search = False, False
        if not cfg.summary:
            return cfg
    plan_cfg = cfg if search else unresolved
    t0 = time.perf_counter()
    opened = open_pipeline(cfg, pairsets, base, adapter, offload=cfg.offload)
    t_load = time.perf_counter() - t0
    base, _, pipe, settings = opened
    tuner.fit(pipe, adapter, base, pairsets, settings, plan_cfg, echo)
    chosen = tuner.chosen_trial_
    out = replace(cfg, method=chosen.method, tune=False, **chosen.params) if search else cfg
    out.opened, out.opened_seconds = opened, {"load": t_load, "tune": time.perf_counter() - t0 - t_load}
    out.tuning = tuner.record() if search else None
    blind = {c: tuner.objective_.blind_share(c) for c in (chosen.score.moves or {})}
    out.self_check = self_check(
        chosen.score, trials=tuner.trials_ if search else None, move_limit=move_budget(chosen.params), blind=blind
    )
    # the neutral prompts' original runs, reused by the summary (weditor/models/measure.py) where it runs as many steps
    out.shared_runs = tuner.objective_.original_runs() if cfg.summary and tuner.steps == MEASURE_STEPS else {}
    return out
