"""The encoder edits' data completed with the pair file's own synonyms (issue 19: "a blue ball" erased with "a blue
circle").

Why: the text encoder edits (weditor/methods/encoder_edit.py, encoder_block.py) fit the tokens of the pairs they are
given. A conjunction's concept word is seen only next to the context its pairs name: the block fit sends "blue"
next to "circle" to its twin, and "blue" next to "ball", a word no pair holds, keeps its colour (docs/benchmarks.md,
"The block fit"). The pair file already lists the concept's words in `keywords`; a keyword that no pair prompt
holds is a synonym the fit has not seen. Which pair word it stands for is read from the model, not from a
vocabulary: among the words the pairs are about (the removed words and the context words, weditor/io/parts.py),
the one whose encoding alone (the text encoder's output, mean over the word's tokens) is nearest by cosine. (The
input embedding table does not know this: on the shapes model it puts "crimson" nearest "square" and "ball"
nearest "purple"; docs/benchmarks.md, "The pair file's synonyms".) Each pair whose unsafe prompt holds that word
gains a substituted pair (the word replaced by the synonym in both members, where the twin holds it; a word's
synonyms take the pairs in turn, one pair each), and each neutral prompt that holds it a substituted kept prompt ("a red ball"
kept as "a red circle" is). The fitted block uses the completed data (`WEIGHTS`); the wo closed form does not.

Only pair files with parts elsewhere are completed (their context words exist); a colour, shape or motion file
is returned as it is, so its edit is unchanged.
"""

from __future__ import annotations

import dataclasses

import torch

from weditor.io.parts import changed_run, context_words, part_twin
from weditor.io.synonyms import unseen_keywords

MIN_COSINE = 0.0  # a keyword no pair word's encoding points towards is no synonym of them: not substituted


def pair_words(pairset) -> list[str]:
    """The words a synonym may stand for: the removed words, then the context words (sorted); empty without parts."""
    context = context_words(pairset)
    if not context:
        return []
    found = changed_run(pairset)
    return list(dict.fromkeys([*found[0], *sorted(context)]))


def candidates(pairset) -> list[str]:
    """The file's keywords (lower case, in its order) that no pair prompt holds as whole words."""
    return unseen_keywords(pairset)


def word_vector(pipe, adapter, word: str, device: str = "cpu") -> torch.Tensor:
    """The text encoder's output for `word` alone, float64, mean over the word's own tokens (without the end token)."""
    from weditor.methods.kv_edit import token_ids
    from weditor.models.runtime import encode

    with torch.no_grad():
        h = encode(pipe, adapter, [word], device)["encoder_hidden_states"][0]
    own = len(pipe.tokenizer(word, add_special_tokens=False)["input_ids"])
    n = min(max(own, 1), token_ids(pipe, word, h.shape[0])[1])
    return h[:n].double().mean(0).cpu()


def assign(pipe, adapter, pairset, device: str = "cpu") -> dict[str, tuple[str, float]]:
    """{synonym: (the pair word it stands for, their cosine)}: each candidate keyword's nearest pair word, kept when
    the cosine exceeds MIN_COSINE. Empty for a file without parts or without candidates."""
    words, syns = pair_words(pairset), candidates(pairset)
    if not words or not syns:
        return {}
    vec = {w: word_vector(pipe, adapter, w, device) for w in words + syns}
    out = {}
    for s in syns:
        cos = {w: float(torch.nn.functional.cosine_similarity(vec[s], vec[w], dim=0)) for w in words}
        best = max(words, key=lambda w: cos[w])  # ties: the first (a removed word before the context)
        if cos[best] > MIN_COSINE:
            out[s] = (best, round(cos[best], 4))
    return out


def _swap(text: str, word: str, synonym: str) -> str | None:
    return part_twin(text, tuple(word.split()), tuple(synonym.split()))


def completed(
    pairset, table: dict[str, tuple[str, float]], keep: bool = True, rotate: bool = False, per_synonym: int = 0
):
    """`pairset` with the substituted pairs (and, with `keep`, the substituted neutral prompts) appended. With
    `rotate`, the k synonyms of one word take the pairs in turn (pair i gets the (i mod k)-th), so the fit's
    erased tokens double rather than grow k + 1 fold; `per_synonym` > 0 caps each synonym's pairs."""
    pairs, neutral = list(pairset.pairs), list(pairset.neutral)
    seen_pairs, seen_neutral = {(p.unsafe, p.safe) for p in pairs}, set(neutral)
    for synonym, (word, _) in table.items():
        group = [s for s, (w, _) in table.items() if w == word]
        taken = 0
        for i, pair in enumerate(pairset.pairs):
            if (rotate and group[i % len(group)] != synonym) or (per_synonym and taken >= per_synonym):
                continue
            unsafe = _swap(pair.unsafe, word, synonym)
            if unsafe is None:
                continue
            safe = _swap(pair.safe, word, synonym) or pair.safe
            if (unsafe, safe) not in seen_pairs:
                taken += 1
                seen_pairs.add((unsafe, safe))
                pairs.append(dataclasses.replace(pair, unsafe=unsafe, safe=safe))
        for prompt in pairset.neutral if keep else ():
            twin = _swap(prompt, word, synonym)
            if twin is not None and twin not in seen_neutral:
                seen_neutral.add(twin)
                neutral.append(twin)
    return dataclasses.replace(pairset, pairs=tuple(pairs), neutral=tuple(neutral))


def with_synonyms(
    pipe, adapter, pairsets, device: str = "cpu", keep: bool = True, rotate: bool = False, per_synonym: int = 0
) -> tuple[list, dict]:
    """(the pair sets, each completed with its synonyms, {concept: {synonym: [pair word, cosine]}}); a pair set with
    nothing to complete is the same object, and the record is empty when no file has any."""
    out, record = [], {}
    for ps in pairsets:
        table = assign(pipe, adapter, ps, device)
        out.append(completed(ps, table, keep, rotate, per_synonym) if table else ps)
        if table:
            record[ps.concept] = {s: [w, c] for s, (w, c) in table.items()}
    return out, record


# Chosen on the development conjunctions (docs/benchmarks.md, "The pair file's synonyms"). The fitted block only:
# with the wo fit completed too, the search chose the same block edit on both files, and with every synonym on
# every pair it fell back to a wo fit that left 20% of red squares; so the wo fit's data and records stay as they
# were. Every pair once per synonym (the erased tokens tripled) moved red on squares' parts past the block's budget
# (0.44 > 0.35); the synonyms in turn (doubled) erased both conjunctions' synonyms but lost 4 of 24 purple-elsewhere
# videos; one pair per synonym erased them too and lost 2 (red on squares: a pass all three ways).
WEIGHTS = ("block",)
KEEP = True  # the substituted neutral prompts join the kept set
ROTATE = True  # the synonyms of one word take the pairs in turn
PER_SYNONYM = 1  # ... and each synonym one pair: a synonym is a few tokens the fit must reach, not a second concept


def fit_pairsets(pipe, adapter, pairsets, device: str, weights: str) -> tuple[list, dict]:
    """What an encoder edit with `weights` fits: the completed pair sets and their record, or the pair sets as
    given (and an empty record) for weights the completion is not used with."""
    if weights not in WEIGHTS:
        return list(pairsets), {}
    return with_synonyms(pipe, adapter, pairsets, device, KEEP, ROTATE, PER_SYNONYM)


def part_prompts(completed_sets, given, synth: dict | None = None) -> tuple[list, dict]:
    """(`completed_sets` with each file's synthesized prompts appended to its kept prompts, {concept: their count}):
    prompts the file does not hold, made from its own words (weditor/io/parts.py, `fit_prompts`): its part prompts
    ("a purple square ...", "a red circle ..." for purple on circles) and as many with neither part ("a yellow
    square ..."). Read from `given`, the pair sets before the synonyms completed them (a completed set's pairs name
    a synonym in place of the context); `synth` gives them instead ({concept: prompts}: a trial keeps those of its
    training split only, objective.Split.train_synth). A file without parts is returned as it is (nothing
    synthesized), so its fit and record are unchanged."""
    from weditor.io.parts import fit_prompts

    out, counts = [], {}
    for done, ps in zip(completed_sets, given):
        extra = synth.get(ps.concept, ()) if synth is not None else fit_prompts(ps)
        extra = [p for p in extra if p not in set(done.neutral)]
        out.append(dataclasses.replace(done, neutral=tuple(done.neutral) + tuple(extra)) if extra else done)
        if extra:
            counts[ps.concept] = len(extra)
    return out, counts


def record_entry(record: dict, synthesized: dict | None = None) -> dict:
    """The fit record's `synonyms` and `part_prompts_synthesized` (their count per concept), each only where a pair
    file had any: the records of the other files are as they were."""
    return {
        **({"synonyms": record} if record else {}),
        **({"part_prompts_synthesized": synthesized} if synthesized else {}),
    }
