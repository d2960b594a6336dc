"""The model-internal objective a patch is tuned on, and its self-check: erasure and preservation.

No external scorer: everything is read from the denoiser's own predictions on prompts the user
already wrote (`weditor/pipeline/tuning.py` chooses settings with it; every patch's summary reports it).

- A deterministic **split** of each pair file: a quarter of the pairs and of the neutral prompts
  (at least one of each) are held out; the edit is fitted on the rest and measured on these.
- **Erasure** of a concept: how far its held-out unsafe prompts' predictions moved to their safe
  twins', `1 - |u' - s| / |u - s|` pooled over the concept's held-out pairs and steps (Frobenius
  norms): 1 means the unsafe prompt now predicts what its safe twin does, 0 that it did not move,
  below 0 that it moved away. `s` is the *original* model's safe prediction: the target is fixed,
  so an edit cannot score by moving the safe twin too.
- **Neutral change**: the relative change `|n' - n| / |n|` of the held-out neutral prompts'
  predictions (what the summary's `output_change_neutral` measures on every neutral prompt), the
  preservation figure: lower is better.

Every prompt gets a short trajectory of the *original* model from its own seeded noise
(`steps` steps); the latents of those runs are then fed to every candidate edit (and the safe
twins to the unsafe prompts' latents), so candidates are compared on identical inputs and each
evaluation is one batched denoiser call per step, with prompts encoded once.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, replace

import torch

from weditor.defaults import MEASURE_STEPS

OBJECTIVE_STEPS = MEASURE_STEPS  # trajectory steps of the objective (the summary runs as many: it reuses them)
HELD_OUT = 0.25  # share of each pair file's pairs and neutral prompts held out for the objective
SEED_OFFSET = 20_000  # the objective's noise seeds, apart from the collection's and the summary's
# Whether the part move also reads the file's own part prompts (every one, held out or not), beside the ones
# synthesized from the held-out pairs (`Split.held_synth`).
MOVES_IN_SAMPLE = True
NEIGHBOUR_BATCH = 32  # the part prompts' neighbours run in batches of this many (original model, once per fit)
NEIGHBOUR_FLOOR = 1e-3  # a neighbour closer than this share of the prompt's own prediction is not read (`_fit_parts`)


@dataclass(frozen=True)
class Split:
    """Each pair file cut in two: `train` pair sets the candidates are fitted on, and held-out prompts."""

    train: tuple  # PairSets with the training pairs and neutral prompts
    held_pairs: dict  # {concept: ((unsafe, safe, unsafe_image, safe_image), ...)}
    held_neutral: tuple  # held-out neutral prompts (the filter of `pairs.neutral_prompts` applied)
    # {concept: {neutral prompt: its part twin}}: every neutral prompt of the file that holds the words the pairs
    # remove (weditor/io/parts.py), held out or not: one or two held-out ones say too little (a blue triangle
    # kept where a blue cross was lost), and the fit keeps them only through the encoder, not in the denoiser
    held_parts: dict = None
    # {concept: (neutral prompt, ...)}: every prompt of the file holding a part elsewhere, both kinds (the removed
    # words in another context, and the context without them: parts.other_parts); the part move is measured on them
    held_moves: dict = None
    # {concept: (prompt, ...)}: part prompts the file does not hold, synthesized from the held-out pairs' unsafe
    # prompts with the file's own words (parts.synthesized: "a purple circle ..." -> "a purple square ...", "a red
    # circle ..."): unseen combinations, as the videos a conjunction's parts are checked on; among `held_moves`
    held_synth: dict = None
    # {concept: (prompt, ...)}: the part prompts synthesized from the training split alone (its pairs and neutral
    # prompts), none of them held out or measured: what a trial of the block fit keeps besides the training split
    # (weditor/methods/encoder_synonyms.py, `part_prompts`); the written patch synthesizes them from every prompt
    train_synth: dict = None
    # {concept: {prompt of `held_moves`: its neighbours}}: each part prompt with one slot refilled (parts.neighbours:
    # "an orange triangle ..." -> "a yellow triangle ...", and its part twin), the prompts it could drift to; the
    # part move is the drift towards the nearest of them
    held_neighbours: dict = None


def _held_count(n: int) -> int:
    return max(1, round(n * HELD_OUT)) if n > 1 else 0


def split_pairsets(pairsets, seed: int) -> Split:
    """Hold out a quarter of each pair file's pairs and neutral prompts, drawn with `seed`.

    The pair files' own rule (at least 5 pairs) leaves at least 4 to fit on. A pair file with one
    neutral prompt keeps it on both sides (nothing else to measure preservation on).
    """
    from weditor.io.pairs import neutral_prompts
    from weditor.io.parts import fit_prompts, neighbours, other_parts, parts, synthesized, templates

    train, held_pairs, held_sets, held_parts, held_moves = [], {}, [], {}, {}
    held_synth, train_synth, held_neighbours = {}, {}, {}
    for c, ps in enumerate(pairsets):
        rng = random.Random(f"{seed}:{c}:{ps.concept}")  # str seeds are hashed deterministically (sha512)
        order = list(range(len(ps.pairs)))
        rng.shuffle(order)
        held = set(order[: _held_count(len(ps.pairs))])
        norder = list(range(len(ps.neutral)))
        rng.shuffle(norder)
        nheld = set(norder[: _held_count(len(ps.neutral))])
        neutral_train = tuple(p for i, p in enumerate(ps.neutral) if i not in nheld) or ps.neutral
        neutral_held = tuple(p for i, p in enumerate(ps.neutral) if i in nheld) or ps.neutral
        train.append(
            replace(ps, pairs=tuple(p for i, p in enumerate(ps.pairs) if i not in held), neutral=neutral_train)
        )
        held_pairs[ps.concept] = tuple(
            (p.unsafe, p.safe, p.unsafe_image, p.safe_image) for i, p in enumerate(ps.pairs) if i in held
        )
        held_sets.append(replace(ps, neutral=neutral_held))
        held_parts[ps.concept] = parts(ps)
        # part prompts the file does not hold: from the held-out prompts' wording (measured), and from the training
        # split's alone (fitted by the block's trials), apart: nothing measured is fitted
        unseen = set(neutral_held) - set(neutral_train) | {t for p in held_pairs[ps.concept] for t in p[:2]}
        fitted = tuple(p for p in fit_prompts(train[-1]) if p not in unseen)
        held_templates = [p.unsafe for i, p in enumerate(ps.pairs) if i in held]
        held_templates += [p for p in templates(ps) if p in neutral_held and p not in neutral_train]
        held_synth[ps.concept] = tuple(p for p in synthesized(ps, held_templates) if p not in set(fitted))
        train_synth[ps.concept] = fitted
        in_sample = tuple(held_parts[ps.concept]) + tuple(other_parts(ps)) if MOVES_IN_SAMPLE else ()
        held_moves[ps.concept] = tuple(dict.fromkeys(in_sample + held_synth[ps.concept]))
        held_neighbours[ps.concept] = neighbours(ps, held_moves[ps.concept])
    held_parts = {c: found for c, found in held_parts.items() if found}
    held_moves = {c: held_moves[c] for c in held_parts}
    held_synth = {c: held_synth[c] for c in held_parts if held_synth[c]}
    train_synth = {c: train_synth[c] for c in held_parts if train_synth[c]}
    held_neighbours = {c: held_neighbours[c] for c in held_parts}
    held_neutral = tuple(neutral_prompts(held_sets))
    return Split(
        tuple(train), held_pairs, held_neutral, held_parts, held_moves, held_synth, train_synth, held_neighbours
    )


def with_common_targets(split: Split, pipe, adapter, pairsets, device) -> Split:
    """`split` with each held-out pair's target twin rewritten with its concept's most frequent substitute.

    A pair file that substitutes (a circle's twins name a square, a triangle, a cross) implies no
    single place the concept must go, and an edit that sends "circle" to one of them (`--method uce`
    with its default `--uce-substitute common`) would be scored against the others and look as if it
    erased nothing (held-out erasure 0.03 on the circle pairs, where every held-out video lost its
    circle: docs/benchmarks.md, "Self-tuning"). Scoring against the common substitute's twin credits
    any edit that takes the concept where the pair file mostly sends it. Pairs that delete the concept
    ("a red circle" -> "a circle") keep their own twin, so colour pairs are scored as before.
    """
    from types import SimpleNamespace

    from weditor.methods.kv_edit import common_substitutes, common_twin
    from weditor.models.runtime import encode

    if getattr(pipe, "tokenizer", None) is None:  # no word-level view of the prompts: keep the pairs' own twins
        return with_synonyms(split, pairsets)
    with torch.no_grad():
        length = encode(pipe, adapter, [pairsets[0].pairs[0].unsafe], device)["encoder_hidden_states"].shape[1]
    held = {}
    for ps in split.train:  # the substitute the candidates are fitted towards: voted on the training pairs
        subs = common_substitutes(pipe, ps, length)
        held[ps.concept] = tuple(
            (u, common_twin(pipe, SimpleNamespace(unsafe=u, safe=s), subs, length), ui, si)
            for u, s, ui, si in split.held_pairs[ps.concept]
        )
    return with_synonyms(replace(split, held_pairs=held), pairsets)


def with_synonyms(split: Split, pairsets) -> Split:
    """`split` with each plain concept's synonym prompts (weditor/io/synonyms.py) held out as a concept of their own,
    `"<concept> (synonyms)"`: built from its held-out pairs and the file's unused keywords. Pair files with parts
    elsewhere (a colour on one shape), or with images or videos, are left as they are: their synonyms enter the block fit's data instead
    (weditor/methods/encoder_synonyms.py), and their search is budgeted by the parts."""
    from weditor.io.parts import parts
    from weditor.io.synonyms import SUFFIX, synonym_pairs

    held = dict(split.held_pairs)
    for ps in pairsets:
        media = ps.has_images or ps.has_videos  # the image or video shows the concept whatever the prompt says
        found = () if parts(ps) or media else synonym_pairs(ps, held.get(ps.concept, ()))
        if found:
            held[ps.concept + SUFFIX] = found
    return replace(split, held_pairs=held)


def original_runs_again(pipe, adapter, pairsets, settings, seed: int, device) -> dict:
    """`Objective.original_runs` of the self-check `tuning.prepare` runs, run again where its record is carried
    instead (a patch reproduced from its recipe): the same split and the same batches, so the summary that reuses
    them gives the same figures, bit for bit, without a trial."""
    split = with_common_targets(split_pairsets(pairsets, seed), pipe, adapter, pairsets, device)
    return Objective(OBJECTIVE_STEPS, seed).fit(pipe, adapter, split, settings).original_runs()


@dataclass
class Score:
    erasure: dict  # {concept: erasure in (-inf, 1]}
    neutral_change: float  # relative change of the held-out neutral predictions
    parts: dict = None  # {concept: part leak}, for concepts whose held-out neutral prompts hold their parts
    moves: dict = None  # {concept: part move, the worst part prompt's}: same concepts (see Objective.part_moves)

    @property
    def max_part_move(self) -> float | None:
        return max(self.moves.values()) if self.moves else None

    @property
    def max_part_leak(self) -> float | None:
        return max(self.parts.values()) if self.parts else None

    @property
    def finite(self) -> bool:
        """Every figure a number: an edit that sends a prediction to NaN or infinity reads as none of them."""
        values = [*self.erasure.values(), self.neutral_change, *(self.parts or {}).values()]
        return all(math.isfinite(v) for v in values + list((self.moves or {}).values()))

    @property
    def min_erasure(self) -> float:
        return min(self.erasure.values())

    @property
    def rank_erasure(self) -> float:
        """The worst concept's erasure, a concept's synonym prompts (weditor/io/synonyms.py) averaged with its own:
        what ranks settings of which none erases everything (the text read-out that erases "circle" but not "ball"
        ranks above a refusal edit that moves both a quarter of the way)."""
        from weditor.io.synonyms import SUFFIX

        own = {c: e for c, e in self.erasure.items() if not c.endswith(SUFFIX)}
        return min((e + self.erasure.get(c + SUFFIX, e)) / 2 for c, e in own.items()) if own else self.min_erasure

    def as_dict(self) -> dict:
        out = {
            "erasure": {c: round(e, 4) for c, e in self.erasure.items()},
            "neutral_change": round(self.neutral_change, 4),
        }
        if self.parts:  # only pair files with parts elsewhere: every other record is as before
            out["part_leak"] = {c: round(v, 4) for c, v in self.parts.items()}
        if self.moves:
            out["part_move"] = {c: round(v, 4) for c, v in self.moves.items()}
        return out


class Objective:
    """Erasure and neutral change of an in-memory edit, on the held-out split (see the module doc).

    Parameters
    ----------
    steps : int
        Trajectory steps per prompt (the scheduler's schedule for that many steps).
    seed : int
        Noise seeds: prompt i gets `seed + SEED_OFFSET + i`.

    `fit` runs the original model once (trajectories, safe twins); `score` then costs one batched
    denoiser call per step. The pipeline must hold the original weights when `fit` runs.
    """

    def __init__(self, steps: int = OBJECTIVE_STEPS, seed: int = 0):
        self.steps = steps
        self.seed = seed

    @torch.no_grad()
    def fit(self, pipe, adapter, split: Split, settings):
        from weditor.models.runtime import encode

        self.pipe_, self.adapter_, self.device_ = pipe, adapter, settings.device
        concepts = list(split.held_pairs)
        unsafe = [(c, u, s, ui, si) for c in concepts for (u, s, ui, si) in split.held_pairs[c]]
        self.concepts_ = [c for c, *_ in unsafe]
        self.n_unsafe_ = len(unsafe)
        held = list(split.held_neutral)
        extra = [p for found in (split.held_moves or split.held_parts or {}).values() for p in found if p not in held]
        extra = list(dict.fromkeys(extra))  # the parts' prompts that are not held out ride along, after them
        self.n_neutral_ = len(held)
        prompts = [u for _, u, _, _, _ in unsafe] + held + extra
        images = [ui for *_, ui, _ in unsafe] + [None] * (len(held) + len(extra))
        self.prompts_, self.images_ = prompts, (images if adapter.image_to_video else None)
        self.cond_ = encode(pipe, adapter, prompts, self.device_, self.images_)
        safe_cond = encode(
            pipe,
            adapter,
            [s for _, _, s, _, _ in unsafe],
            self.device_,
            [si for *_, si in unsafe] if adapter.image_to_video else None,
        )
        self.latents_, base, safe = self._trajectory(pipe, adapter, settings, len(prompts), safe_cond)
        self.unsafe_ = [p[: self.n_unsafe_].double() for p in base]
        self.neutral_ = [p[self.n_unsafe_ : self.n_unsafe_ + self.n_neutral_].double() for p in base]
        self.others_ = [p[self.n_unsafe_ :].double() for p in base]  # held-out neutral, then the other parts
        self.safe_ = (
            [p.double() for p in safe]
            if safe
            else [
                self._forward(k, safe_cond, rows=slice(0, self.n_unsafe_)).double() for k in range(len(self.timesteps_))
            ]
        )
        self.gap_ = {c: self._concept_norm([u - s for u, s in zip(self.unsafe_, self.safe_)], c) for c in concepts}
        self.neutral_norm_ = math.sqrt(sum(float(n.norm() ** 2) for n in self.neutral_))
        self._fit_parts(split)
        return self

    def _fit_parts(self, split: Split):
        """The part twins' original predictions on their neutral prompts' latents, and each concept's gap."""
        from weditor.models.runtime import encode

        others = self.prompts_[self.n_unsafe_ :]
        self.part_rows_, self.part_twin_, self.part_gap_ = {}, {}, {}
        for c, found in (split.held_parts or {}).items():
            rows = [others.index(p) for p in found]
            images = [None] * len(rows) if self.adapter_.image_to_video else None
            cond = encode(self.pipe_, self.adapter_, [found[others[r]] for r in rows], self.device_, images)
            lat = [self.n_unsafe_ + r for r in rows]
            twin = [self._forward(k, cond, rows=lat).double() for k in range(len(self.timesteps_))]
            gap = math.sqrt(sum(float((n[rows] - t).norm() ** 2) for n, t in zip(self.others_, twin)))
            if gap > 0:
                self.part_rows_[c], self.part_twin_[c], self.part_gap_[c] = rows, twin, gap
        # the part move's rows, and per row the offsets to its neighbours' original predictions on its latents
        self.move_rows_, self.move_dirs_ = {}, {}
        for c, prompts in (split.held_moves or {}).items():
            if not prompts:
                continue
            rows = [others.index(p) for p in prompts]
            found = (split.held_neighbours or {}).get(c, {})
            todo = [(r, q) for r, p in zip(rows, prompts) for q in found.get(p, ())]
            self.move_rows_[c], self.move_dirs_[c] = rows, {r: [] for r in rows}
            own2 = {r: sum(float(o[r].pow(2).sum()) for o in self.others_) for r in rows}  # |p|^2, the floor's scale
            for i in range(0, len(todo), NEIGHBOUR_BATCH):
                chunk = todo[i : i + NEIGHBOUR_BATCH]
                images = [None] * len(chunk) if self.adapter_.image_to_video else None
                cond = encode(self.pipe_, self.adapter_, [q for _, q in chunk], self.device_, images)
                lat = [self.n_unsafe_ + r for r, _ in chunk]
                preds = [self._forward(k, cond, rows=lat).double() for k in range(len(self.timesteps_))]
                for j, (r, _) in enumerate(chunk):
                    offset = [(p[j] - o[r]).float() for p, o in zip(preds, self.others_)]
                    norm2 = sum(float(v.double().pow(2).sum()) for v in offset)
                    # a neighbour the model does not tell from the prompt (both tokenize alike; or a batch's rounding
                    # on another device) would make any small move read as a large drift
                    if norm2 > NEIGHBOUR_FLOOR**2 * own2[r] and math.isfinite(norm2):
                        self.move_dirs_[c][r].append((offset, norm2))

    def original_runs(self) -> dict:
        """{prompt: (cond, [(component, t, latent, prediction)] per step)}: the original model's run of each neutral
        prompt this objective ran (held out, or holding a part), one row each, in the layout of
        `weditor.models.measure.trajectories`. The summary reuses them instead of running those prompts again (issue
        22): the same computation, `steps` steps from the prompt's own seeded noise, in a batch of other prompts.
        Empty where the conditioning is not one row per prompt."""
        n = len(self.prompts_)
        if not all(isinstance(v, torch.Tensor) and v.ndim >= 1 and v.shape[0] == n for v in self.cond_.values()):
            return {}
        components = [self.adapter_.denoiser_for(self.pipe_, t) for t in self.timesteps_]
        runs = {}
        for i in range(self.n_unsafe_, n):  # rows are copied: the batches they come from are not kept
            prompt, r = self.prompts_[i], i - self.n_unsafe_
            records = [  # predictions back in float32 (exact: they were float32 or narrower; half the bytes)
                (c, t, x[i : i + 1].clone(), p[r : r + 1].float())
                for c, t, x, p in zip(components, self.timesteps_, self.latents_, self.others_)
            ]
            runs.setdefault(prompt, ({k: v[i : i + 1].clone() for k, v in self.cond_.items()}, records))
        return runs

    def _trajectory(self, pipe, adapter, settings, n: int, safe_cond=None):
        """Each prompt from its own noise, `steps` steps of the original model: (latents per step, predictions,
        the safe twins' predictions on the unsafe prompts' latents). The twins ride in the same forward as
        the trajectory (one denoiser call per step, issue 22) when both conds batch along their first
        dimension; else their list is empty and `fit` runs them apart."""
        from weditor.models.batching import stacked

        both = stacked(self.cond_, safe_cond) if safe_cond is not None and self.n_unsafe_ else None
        gens = [torch.Generator("cpu").manual_seed(self.seed + SEED_OFFSET + i) for i in range(n)]
        x = torch.cat([adapter.latents(pipe, settings.size, g, self.device_) for g in gens])
        scheduler = copy.deepcopy(pipe.scheduler)
        if adapter.set_timesteps is not None:
            adapter.set_timesteps(pipe, scheduler, self.steps, settings.size, self.device_)
        else:
            scheduler.set_timesteps(self.steps, device=self.device_)
        self.timesteps_ = list(scheduler.timesteps)
        latents, preds, safe = [], [], []
        for k, t in enumerate(self.timesteps_):
            latents.append(x)
            model = getattr(pipe, adapter.denoiser_for(pipe, t))
            if both is None:
                pred = adapter.forward(model, x, t, self.cond_)
            else:
                pred = adapter.forward(model, torch.cat([x, x[: self.n_unsafe_]]), t, both)
                pred, twin = pred[:n], pred[n:]
                safe.append(twin)
            preds.append(pred)
            if adapter.step is not None:
                x = adapter.step(scheduler, pred.float(), t, x)
            else:
                x = scheduler.step(pred.float(), t, x, return_dict=False)[0]
        return latents, preds, safe

    def _forward(self, k: int, cond: dict, rows=slice(None)):
        t = self.timesteps_[k]
        model = getattr(self.pipe_, self.adapter_.denoiser_for(self.pipe_, t))
        return self.adapter_.forward(model, self.latents_[k][rows], t, cond)

    def _concept_norm(self, diffs, concept) -> float:
        rows = [i for i, c in enumerate(self.concepts_) if c == concept]
        return math.sqrt(sum(float(d[rows].norm() ** 2) for d in diffs))

    @torch.no_grad()
    def score(self, reencode: bool = False) -> Score:
        """The pipeline as it is now (an edit loaded in memory) against the original's predictions.

        `reencode`: the edit changed the text encoder, so the held-out prompts are encoded again by the
        edited one (the safe twins' predictions stay the original model's: the target is fixed)."""
        from weditor.models.runtime import encode

        cond = encode(self.pipe_, self.adapter_, self.prompts_, self.device_, self.images_) if reencode else self.cond_
        return self.score_predictions([self._forward(k, cond).double() for k in range(len(self.timesteps_))])

    def score_predictions(self, after) -> Score:
        """The score of predictions `after` (per step, every prompt of `prompts_` on the original latents)."""
        u2 = [p[: self.n_unsafe_] for p in after]
        n2 = [p[self.n_unsafe_ : self.n_unsafe_ + self.n_neutral_] for p in after]
        o2 = [p[self.n_unsafe_ :] for p in after]
        erasure = {}
        for c, gap in self.gap_.items():
            left = self._concept_norm([u - s for u, s in zip(u2, self.safe_)], c)
            erasure[c] = 1.0 - left / gap if gap > 0 else 0.0
        moved = math.sqrt(sum(float((a - b).norm() ** 2) for a, b in zip(n2, self.neutral_)))
        leak = {}  # how far the parts' prompts moved to their part twins: 0 kept, 1 erased with the concept
        for c, rows in self.part_rows_.items():
            left = math.sqrt(sum(float((n[rows] - t).norm() ** 2) for n, t in zip(o2, self.part_twin_[c])))
            leak[c] = 1.0 - left / self.part_gap_[c]
        move = {c: max(self.part_moves(o2, c)) for c in self.move_rows_}
        return Score(erasure, moved / max(self.neutral_norm_, 1e-30), leak or None, move or None)

    def part_moves(self, after, concept) -> list[float]:
        """Each part prompt's drift towards its nearest neighbour: the largest `<p' - p, q - p> / |q - p|^2` over its
        neighbours q (the prompt with one slot refilled, and its part twin: `Split.held_neighbours`), all steps as
        one vector. 0: unmoved, or moved where no neighbour lies (a change the videos do not read as another colour
        or shape); 1: it predicts what the neighbour does (an orange triangle drawn as the yellow one). Per prompt,
        against its own neighbours' distance, so a file whose concept gap is small does not inflate every move; a
        prompt without neighbours reads 0."""
        out = []
        for r in self.move_rows_[concept]:
            delta = [(a[r] - b[r]).double() for a, b in zip(after, self.others_)]
            if not all(bool(torch.isfinite(d).all()) for d in delta):  # a broken edit moved it without bound
                out.append(math.inf)
                continue
            best = 0.0
            for offset, norm2 in self.move_dirs_[concept][r]:
                drift = sum(float((d * v.double()).sum()) for d, v in zip(delta, offset)) / norm2
                best = max(best, drift if math.isfinite(drift) else math.inf)
            out.append(best)
        return out

    def blind_share(self, concept) -> tuple[int, float]:
        """(how many, what share) of the concept's part prompts are without a neighbour to read their drift towards
        (they read 0 whatever the edit does: `part_moves`). On the development conjunctions one in 25-64 (the prompt without the
        removed words, "a cross moving down"); a file whose pairs change an article with the word ("an orange" ->
        "a") found no colour siblings and 5 of its 12, and lost 17 points of parts with no warning
        (docs/benchmarks.md, "The parts measure on the held-out conjunctions")."""
        rows = self.move_rows_.get(concept, ())
        blind = sum(1 for r in rows if not self.move_dirs_[concept][r])
        return blind, (blind / len(rows) if rows else 0.0)
