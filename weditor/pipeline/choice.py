"""The search's trials and the rule that chooses among them (weditor/pipeline/tuning.py runs the search).

Kept apart from the search so that the rule reads on its own: what "within the budget" means for a pair file with
and without parts elsewhere, and the order in which erasure and preservation decide. Every number it uses is in
weditor/pipeline/budgets.py with the measurement behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from weditor.pipeline.budgets import (
    BLOCK_PART_MOVE_BUDGET,
    ERASED,
    NEUTRAL_BUDGET,
    PART_BUDGET,
    PART_MOVE_BUDGET,
)
from weditor.pipeline.objective import Score


@dataclass
class Trial:
    method: str
    params: dict
    score: Score | None = None
    seconds: float = 0.0
    error: str | None = None

    def feasible(self, budget: float, part_budget: float | None = None) -> bool:
        """Within the budget: the neutral prompts' change, or, for a pair file whose neutral prompts hold the
        concept's parts elsewhere (weditor/io/parts.py), the parts' leak towards their part twins."""
        if self.score is None:
            return False
        if self.score.parts:
            move = self.score.max_part_move
            return self.score.max_part_leak <= (PART_BUDGET if part_budget is None else part_budget) and (
                move is None or move <= move_budget(self.params)
            )
        return self.score.neutral_change <= budget

    def as_dict(self) -> dict:
        # No wall time: the record goes into weditor.json and the card, which must be the same bytes
        # for the same inputs (two runs, or a run and its --recipe); the terminal prints the search's time.
        out = {"method": self.method, "params": self.params}
        if self.score is not None:
            out.update(self.score.as_dict())
        if self.error is not None:
            out["error"] = self.error
        return out


def move_budget(params: dict) -> float:
    """The part move budget of a trial's setting: the block fit's own, else PART_MOVE_BUDGET."""
    return BLOCK_PART_MOVE_BUDGET if (params or {}).get("encoder_weights") == "block" else PART_MOVE_BUDGET


def choose(trials: list[Trial], budget: float = NEUTRAL_BUDGET, erased: float = ERASED) -> int | None:
    """Index of the chosen trial, erasure first, then preservation:

    1. among the trials within the neutral budget that erase every concept (held-out erasure >= `erased`),
       the one that moves the neutral prompts least (past "erased", more erasure buys nothing that the
       benchmark sees, and costs neighbours: red at removal 1);
    2. else the highest worst-concept erasure within the budget, a concept's synonym prompts averaged with its own
       (`Score.rank_erasure`; the self-check then warns if it is low);
    3. else, nothing within the budget: the smallest neutral change of all (with parts elsewhere: the smallest
       part move among the settings that erase, else of all; the self-check then warns that the parts moved).
    Ties go to the earlier trial (the milder setting, the cheaper method).
    """
    scored = [(i, t) for i, t in enumerate(trials) if t.score is not None]
    if not scored:
        return None
    ok = [(i, t) for i, t in scored if t.feasible(budget)]
    done = [(i, t) for i, t in ok if t.score.min_erasure >= erased]
    if done:
        return min(done, key=lambda it: (it[1].score.neutral_change, it[0]))[0]
    if ok:
        return max(ok, key=lambda it: (it[1].score.rank_erasure, -it[0]))[0]
    return min(scored, key=lambda it: (*_kept_key(it[1].score, erased), it[0]))[0]


def _kept_key(score: Score, erased: float = ERASED) -> tuple:
    """What "moved least" means when nothing is within the budget: the parts' move where there are parts, a
    setting that erases first. Measured towards the parts' neighbours, a setting that erases nothing can read
    the least move and lose more: on red on triangles, where every trial is over the budget, the refusal edit
    read 0.455 against the block's 0.678 and left 85% of red triangles, with -9.4 points of parts and -18.8 of
    others, where the block erases them and loses 6.2 of parts (docs/benchmarks.md, "The parts measure against
    the videos"). Without parts, the neutral change alone (as before)."""
    if score.parts and score.moves:
        return (not score.min_erasure >= erased, score.max_part_move)  # a NaN erasure does not count as erasing
    return (False, score.neutral_change)
