"""The two searches: adversarial tokens a user can type, and prompt embeddings no user can.

`TokenSearch` is a white-box discrete search in the spirit of UnlearnDiffAtk: a few free
token slots before (`prefix`) and after (`suffix`) the prompt, filled from the model's own
vocabulary. Each step takes the gradient of the loss with respect to a one-hot choice in every
slot (through the text encoder), keeps the `topk` most promising tokens per slot, tries
`candidates` single-token substitutions drawn from them, and moves to the best one if it
lowers the exact loss (a coordinate search guided by the gradient, as in GCG, Zou et al. 2023;
UnlearnDiffAtk relaxes the one-hot onto the simplex instead; both read the same gradient).
The loss never goes up, and a seed fixes every draw.

`EmbeddingSearch` optimises the prompt embeddings themselves (what the denoiser reads) with
Adam from the prompt's own: an upper bound on what any prompt could do through the text
path, reported separately because no user can type it.

Both are estimators: `__init__` stores the settings, `fit(text, loss, prompt)` sets the
trailing-underscore results, `snapshots_` included (the best solution at evenly spaced
points of the budget, which the runner generates and judges).
"""

from __future__ import annotations

import time

import torch

from weditor.attack.objective import DenoisingLoss, TextSide


def _checkpoints(steps: int, checks: int) -> set[int]:
    """Steps (1-based) after which a snapshot is taken: `checks` evenly spaced, the last always."""
    checks = max(1, min(checks, steps))
    return {round(steps * (i + 1) / checks) for i in range(checks)}


class TokenSearch:
    def __init__(
        self,
        prefix: int = 2,
        suffix: int = 2,
        steps: int = 40,
        candidates: int = 32,
        topk: int = 8,
        checks: int = 4,
        batch: int = 16,
        seed: int = 0,
    ):
        self.prefix = prefix
        self.suffix = suffix
        self.steps = steps
        self.candidates = candidates
        self.topk = topk
        self.checks = checks
        self.batch = batch
        self.seed = seed

    def _losses(self, text: TextSide, loss: DenoisingLoss, lay, cands: torch.Tensor) -> torch.Tensor:
        """Exact loss of each row of `cands` (M, slots), in batches, without gradients."""
        out = []
        with torch.no_grad():
            for chunk in cands.split(self.batch):
                ids = torch.tensor([lay.ids(c.tolist()) for c in chunk], dtype=torch.long, device=text.device)
                out.append(loss(text.encode(text.embed_ids(ids))).float().cpu())
        return torch.cat(out)

    def fit(self, text: TextSide, loss: DenoisingLoss, prompt: str, progress=None):
        t0 = time.perf_counter()
        lay = text.layout(prompt, self.prefix, self.suffix)
        slots = lay.slots()
        k = len(slots)
        g = torch.Generator("cpu").manual_seed(self.seed)
        allowed = text.allowed.cpu()
        self.layout_ = lay
        with torch.no_grad():
            self.plain_loss_ = float(loss(text.encode_ids([*lay.head, *lay.content, *lay.tail]))[0])
        adv = allowed[torch.randint(len(allowed), (k,), generator=g)]
        cur = float(self._losses(text, loss, lay, adv[None])[0])
        self.start_loss_ = cur
        self.history_ = [cur]
        self.snapshots_ = []
        marks = _checkpoints(self.steps, self.checks)
        table = text.table.detach()
        bar = progress(range(1, self.steps + 1), self.steps, "token search") if progress else range(1, self.steps + 1)
        for step in bar:
            ids = torch.tensor([lay.ids(adv.tolist())], dtype=torch.long, device=text.device)
            emb = text.embed_ids(ids).detach().clone()
            emb.requires_grad_(True)
            value = loss(text.encode(emb)).sum()
            (grad,) = torch.autograd.grad(value, [emb])
            # d loss / d one-hot[slot, v] = <table[v], d loss / d embedding[slot]>: the first-order change of
            # swapping the slot's token for v; the most negative are the promising ones.
            score = -(grad[0, slots].float() @ table[allowed.to(table.device)].float().T).cpu()  # (k, |allowed|)
            top = score.topk(min(self.topk, score.shape[1]), dim=1).indices
            pos = torch.randint(k, (self.candidates,), generator=g)
            pick = top[pos, torch.randint(top.shape[1], (self.candidates,), generator=g)]
            cands = adv.repeat(self.candidates, 1)
            cands[torch.arange(self.candidates), pos] = allowed[pick]
            values = self._losses(text, loss, lay, cands)
            best = int(values.argmin())
            if float(values[best]) < cur:
                adv, cur = cands[best].clone(), float(values[best])
            self.history_.append(cur)
            if step in marks:
                self.snapshots_.append(
                    {"step": step, "tokens": adv.tolist(), "loss": cur, "prompt": text.text(lay, adv.tolist())}
                )
        self.tokens_ = adv.tolist()
        self.loss_ = cur
        self.prompt_ = text.text(lay, self.tokens_)
        self.words_ = text.tokenizer.convert_ids_to_tokens(self.tokens_)
        self.exact_text_ = text.retokenizes(lay, self.tokens_)
        self.seconds_ = time.perf_counter() - t0
        return self


class EmbeddingSearch:
    def __init__(self, steps: int = 40, lr: float = 0.05, checks: int = 4):
        self.steps = steps
        self.lr = lr
        self.checks = checks

    def fit(self, text: TextSide, loss: DenoisingLoss, prompt: str, progress=None):
        t0 = time.perf_counter()
        with torch.no_grad():
            start = text.encode_ids(text.tokenizer(prompt, add_special_tokens=True)["input_ids"]).float()
            self.plain_loss_ = float(loss(start)[0])
        # Adam's step is about lr per coordinate: scale it to the embeddings' own size.
        scale = float(start[start != 0].abs().mean()) if bool((start != 0).any()) else 1.0
        emb = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([emb], lr=self.lr * scale)
        best, best_value = start.clone(), self.plain_loss_
        self.history_ = [best_value]
        self.snapshots_ = []
        marks = _checkpoints(self.steps, self.checks)
        bar = (
            progress(range(1, self.steps + 1), self.steps, "embedding search") if progress else range(1, self.steps + 1)
        )
        for step in bar:
            opt.zero_grad()
            value = loss(emb).sum()
            if float(value.detach()) < best_value:  # the loss at the current point, before this step moves it
                best, best_value = emb.detach().clone(), float(value.detach())
            value.backward()
            opt.step()
            self.history_.append(best_value)
            if step in marks:
                self.snapshots_.append(
                    {"step": step, "loss": best_value, "embeds": best.clone(), "relative_change": _rel(best, start)}
                )
        with torch.no_grad():
            last = float(loss(emb)[0])
        if last < best_value:
            best, best_value = emb.detach().clone(), last
            self.snapshots_[-1] = {
                "step": self.steps,
                "loss": best_value,
                "embeds": best.clone(),
                "relative_change": _rel(best, start),
            }
            self.history_[-1] = best_value
        self.embeds_ = best
        self.loss_ = best_value
        self.relative_change_ = _rel(best, start)
        self.seconds_ = time.perf_counter() - t0
        return self


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-12))
