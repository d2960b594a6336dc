"""What the attack minimises: the patched denoiser's loss toward latents of the concept.

UnlearnDiffAtk's observation (Zhang et al., 2024) is that a diffusion model is its own
classifier: a prompt that lets the *patched* denoiser predict the noise of a video of the
concept well is a prompt under which the patched model draws that video. So the attack needs
no judge while it searches, only a target video the base model made (from the same seed).

Two pieces, both differentiable:

- `TextSide`: the prompt the pipeline would encode, rebuilt from token embeddings so that a
  gradient reaches every token slot (Wan's `encode_prompt`: UMT5 on the padded ids, each row
  cut at its own length and zero-padded, exactly; `tests/test_attack.py` compares the two);
- `DenoisingLoss`: the flow-matching loss of the denoiser(s) at a few timesteps of the
  sampling schedule, with noises drawn once from the seed, so the loss is a fixed function of
  the prompt embeddings (a greedy search on it never goes up).

Wan pipelines only for now (text-to-video); other families would need their own text side
and prediction target, and are refused with one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from weditor.errors import WeditorError

SUPPORTED = ("wan",)


def check_supported(adapter, pipeline_class: str):
    if adapter.family not in SUPPORTED or adapter.image_to_video:
        raise WeditorError(
            f"{pipeline_class}: `weditor attack` supports text-to-video Wan pipelines (WanPipeline) "
            "for now; its text side and loss are written for them (docs/attack.md)"
        )


@dataclass(frozen=True)
class Layout:
    """Token ids around the adversarial slots: head + prefix + content + suffix + tail."""

    head: tuple[int, ...]  # special tokens before the text (none for T5)
    content: tuple[int, ...]  # the prompt's own tokens
    tail: tuple[int, ...]  # special tokens after it (T5: </s>)
    prefix: int
    suffix: int

    @property
    def length(self) -> int:
        return len(self.head) + self.prefix + len(self.content) + self.suffix + len(self.tail)

    def ids(self, adv) -> list[int]:
        adv = [int(i) for i in adv]
        return [*self.head, *adv[: self.prefix], *self.content, *adv[self.prefix :], *self.tail]

    def slots(self) -> list[int]:
        """Positions of the adversarial tokens in `ids`."""
        h, c = len(self.head), len(self.content)
        return list(range(h, h + self.prefix)) + list(range(h + self.prefix + c, h + self.prefix + c + self.suffix))


class TextSide:
    """The pipeline's text encoding, from token ids or from embeddings of them, with gradients."""

    def __init__(self, pipe, max_length: int, device):
        self.tokenizer = pipe.tokenizer
        self.encoder = pipe.text_encoder
        self.max_length = int(max_length)
        self.device = device
        self.table = self.encoder.get_input_embeddings().weight  # (V, D)
        n = min(len(self.tokenizer), self.table.shape[0])
        special = set(self.tokenizer.all_special_ids)
        words = self.tokenizer.convert_ids_to_tokens(list(range(n)))
        # Tokens a user could type: no special tokens, nothing that decodes to blank.
        allowed = [
            i for i, w in enumerate(words) if i not in special and w is not None and self.tokenizer.decode([i]).strip()
        ]
        if not allowed:
            raise WeditorError("the tokenizer has no ordinary tokens to search over")
        self.allowed = torch.tensor(allowed, dtype=torch.long, device=device)

    def layout(self, prompt: str, prefix: int, suffix: int) -> Layout:
        full = self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        content = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        start = next((i for i in range(len(full) - len(content) + 1) if full[i : i + len(content)] == content), None)
        if start is None:
            raise WeditorError(f"{prompt!r}: the tokenizer's special tokens interleave its text; cannot place slots")
        lay = Layout(tuple(full[:start]), tuple(content), tuple(full[start + len(content) :]), prefix, suffix)
        if lay.length > self.max_length:
            raise WeditorError(
                f"{prompt!r}: {len(full)} tokens plus {prefix + suffix} adversarial ones exceed the "
                f"model's {self.max_length}; use fewer --prefix/--suffix tokens or a shorter prompt"
            )
        return lay

    def text(self, lay: Layout, adv) -> str:
        """The prompt a user would type for these adversarial tokens."""
        ids = lay.ids(adv)
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def retokenizes(self, lay: Layout, adv) -> bool:
        """Whether typing `text()` gives back exactly the searched ids (word pieces may merge)."""
        return self.tokenizer(self.text(lay, adv), add_special_tokens=True)["input_ids"] == lay.ids(adv)

    def embed_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, n) ids -> (B, n, D) input embeddings."""
        return self.table[ids]

    def encode(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        """(B, n, D) input embeddings of n real tokens -> (B, max_length, d) prompt embeds, as the pipeline pads them.

        The pipeline pads ids to max_length and masks the padding, then keeps each row's first n
        outputs and zeroes the rest; the masked padding never reaches the kept outputs, so
        encoding only the n real tokens (all unmasked) gives the same numbers."""
        b, n, _ = inputs_embeds.shape
        mask = torch.ones(b, n, dtype=torch.long, device=inputs_embeds.device)
        out = self.encoder(inputs_embeds=inputs_embeds.to(self.table.dtype), attention_mask=mask).last_hidden_state
        pad = out.new_zeros(b, self.max_length - n, out.shape[-1])
        return torch.cat([out, pad], dim=1)

    def encode_ids(self, ids: list[int]) -> torch.Tensor:
        t = torch.tensor([ids], dtype=torch.long, device=self.device)
        return self.encode(self.embed_ids(t))


def flow_schedule(pipe, steps: int):
    """(timesteps, sigmas) of the pipeline's own sampling schedule (a fresh scheduler copy)."""
    sched = type(pipe.scheduler).from_config(pipe.scheduler.config)
    prediction = getattr(sched.config, "prediction_type", None)
    is_flow = "FlowMatch" in type(sched).__name__ or prediction == "flow_prediction"
    if not is_flow:
        raise WeditorError(
            f"{type(sched).__name__} ({prediction}): the attack's loss is written for flow-matching schedulers (Wan's)"
        )
    sched.set_timesteps(steps)
    sigmas = sched.sigmas[: len(sched.timesteps)].float()
    return sched.timesteps.float(), sigmas


class DenoisingLoss:
    """Mean flow-matching loss of the denoiser(s) toward `x0` at `n` fixed (timestep, noise) draws.

    x_t = (1 - sigma) x0 + sigma eps, and the denoiser predicts eps - x0 (Wan's velocity); the
    timesteps are `n` of the `steps` sampling timesteps, spread evenly over the schedule, and
    the noises come from `seed`, so the loss is a fixed function of the prompt embeddings.
    """

    def __init__(self, pipe, adapter, x0: torch.Tensor, steps: int, n: int, seed: int, device):
        self.pipe, self.adapter, self.device = pipe, adapter, device
        timesteps, sigmas = flow_schedule(pipe, steps)
        n = min(n, len(timesteps))
        pick = torch.linspace(0, len(timesteps) - 1, n).round().long() if n > 1 else torch.tensor([len(timesteps) // 2])
        self.timesteps = timesteps[pick].to(device)
        g = torch.Generator("cpu").manual_seed(seed)
        x0 = x0.float().cpu()
        noise = torch.randn((n, *x0.shape[1:]), generator=g)
        s = sigmas[pick].view(-1, *[1] * (x0.dim() - 1))
        self.x_t = ((1 - s) * x0 + s * noise).to(device)  # (n, C, F, H, W)
        self.target = (noise - x0).to(device)
        self.models = [getattr(pipe, adapter.denoiser_for(pipe, t)) for t in self.timesteps]
        self.calls = 0

    def __call__(self, prompt_embeds: torch.Tensor) -> torch.Tensor:
        """(B, L, d) prompt embeds -> (B,) losses; differentiable."""
        b = prompt_embeds.shape[0]
        total = prompt_embeds.new_zeros(b, dtype=torch.float32)
        for model in dict.fromkeys(self.models):  # one batched call per denoiser
            idx = [i for i, m in enumerate(self.models) if m is model]
            k = len(idx)
            x = self.x_t[idx].repeat(b, *[1] * (self.x_t.dim() - 1))
            t = self.timesteps[idx].repeat(b)
            cond = prompt_embeds.repeat_interleave(k, dim=0).to(model.dtype)
            pred = model(hidden_states=x.to(model.dtype), timestep=t, encoder_hidden_states=cond, return_dict=False)[0]
            err = (pred.float() - self.target[idx].repeat(b, *[1] * (self.x_t.dim() - 1))) ** 2
            total = total + err.flatten(1).mean(1).view(b, k).sum(1)
            self.calls += b * k
        return total / len(self.models)
