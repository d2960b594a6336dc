"""The search's second pass for twins that substitute many different words: every method again, towards deletion twins.

Why (issue 19; docs/benchmarks.md, "Spread substitutes"): a pair file whose twins substitute the concept word by a
different word each ("a red circle" -> "a green circle", "a blue ...", "a white ...") names no single place to send
the concept, and no method moved it far enough towards those twins within the neutral budget (81% of held-out
videos kept red). The same pairs with the word dropped ("a circle"), the style the docs recommend, are erased. So
where the first pass (the pairs as written) left the concept barely reached (below the self-check's warning line,
`barely_reached_concepts`) and the file's substitutes are spread
(weditor/io/twins.py, `spread`), the search runs again on deletion twins derived from the file, fitting *and*
scoring every trial towards them (one target, consistently, as `objective.with_common_targets` does for the
substitutes), and takes that pass's choice where it is better (`better`). A file that the first pass reaches (a shape
or a motion whose twins spread over three others, which UCE erases) never gets here, so its patch is what it was.
"""

from __future__ import annotations

from weditor.io.twins import deletion_twins, spread, substitutes, with_twins

TWINS = {"twins": "deleted"}  # what every trial of the second pass records in its setting (PatchConfig.twins)


def barely_reached_concepts(tuner) -> set:
    """The concepts (their own prompts or their synonyms) the first pass's choice leaves below the self-check's warning
    line (`WARN_BELOW`): the pairs' own twins were not reached by any setting within the budget; every concept where
    nothing was chosen. Only there are deletion twins tried: on pairs/shapes-left.toml (twins spread over three
    directions) the first pass reached 0.70 and its videos lost every left; the deletion twins ("a red circle
    moving") would have been chosen there too (0.92), a change no measurement asked for (docs/benchmarks.md, "Spread
    substitutes")."""
    from weditor.io.synonyms import SUFFIX
    from weditor.pipeline.budgets import WARN_BELOW

    chosen = tuner.trials_[tuner.chosen_] if tuner.chosen_ is not None else None
    if chosen is None or chosen.score is None:
        return {c.removesuffix(SUFFIX) for c in tuner.split_.held_pairs}
    return {c.removesuffix(SUFFIX) for c, e in chosen.score.erasure.items() if e < WARN_BELOW}


def spread_files(split, pairsets, low: set | None = None) -> dict:
    """{concept: {substitute: pairs}} of the files whose *training* pairs (`split.train`) substitute the changed word
    by words none of which holds a majority (`twins.spread`), among the concepts `low` the first pass barely reached
    (every concept where `low` is None); {} where a file has parts elsewhere, or where deletion twins would change
    any other file (one choice of twins holds for every file of a patch: a spread shape the first pass reached, or a
    file that is not spread, keeps its patch by keeping the whole patch on the pairs as written)."""
    if split.held_parts:
        return {}
    found = {
        ps.concept: dict(substitutes(ps)) for ps in split.train if spread(ps) and (low is None or ps.concept in low)
    }
    others = [ps for ps in pairsets if ps.concept not in found]
    if not found or any(deletion_twins(ps).pairs != ps.pairs for ps in others):
        return {}
    return found


def deletion_pass(tuner, pipe, adapter, base, pairsets, settings, cfg):
    """`tuner`'s search again on the deletion twins (every trial's setting says "twins": "deleted"); its choice
    replaces the first pass's where `better`. Both passes' trials are kept, the first pass's first."""
    first = (tuner.split_, tuner.erased_, tuner.objective_, tuner.trials_, tuner.chosen_)
    tuner._search(pipe, adapter, base, with_twins(pairsets, "deleted"), settings, cfg, TWINS)
    trials = first[3] + tuner.trials_
    new = tuner.trials_[tuner.chosen_] if tuner.chosen_ is not None else None
    if new is not None and (first[4] is None or better(new, first[3][first[4]], tuner.budget, tuner.erased_)):
        tuner.trials_, tuner.chosen_ = trials, len(first[3]) + tuner.chosen_
    else:
        tuner.split_, tuner.erased_, tuner.objective_, _, tuner.chosen_ = first
        tuner.trials_ = trials


def better(new, old, budget: float, erased: float) -> bool:
    """Whether the deletion twins' chosen trial `new` beats the first pass's `old`: never where `new` is itself barely
    reached (below `WARN_BELOW`); else within the budget where `old` is not; else, both within it, erased (`erased`)
    where `old` is not, or a higher `Score.rank_erasure`, each measured towards its own twins. Neither within the
    budget: the first pass's stays.

    Why the first condition: on the held-out yellow file (twins spread over six colours and white) the second pass
    reached 0.15 where the first had reached 0.13, both below the line, and its choice (refusal, deletion twins) left
    yellow on 98% of the videos where the first pass's left it on 81% (docs/benchmarks.md, "Spread substitutes"):
    below the line the erasure does not rank settings by their videos, and the pairs as the user wrote them stay."""
    from weditor.pipeline.budgets import WARN_BELOW

    if new.score is None or new.score.min_erasure < WARN_BELOW:
        return False
    if new.feasible(budget) != old.feasible(budget):
        return new.feasible(budget)
    if not new.feasible(budget):
        return False

    def key(t):
        return (t.score.min_erasure >= erased, t.score.rank_erasure)

    return key(new) > key(old)
