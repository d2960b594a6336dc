"""`weditor patch --method uce`: UCE's closed-form key/value edit (weditor/methods/kv_edit.py, weditor/methods/uce.py).

Exactness is checked where the edit means something: the reloaded denoiser must equal the base
denoiser whose cross-attention key and value linears read `M c` instead of `c` (a run-time hook,
from the map the folder carries), and the fit must satisfy its normal equations.
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import DATA, TINY_PAIRS, readouts_of, run_cli
from tests.test_adapters import all_tensors, assert_edited_as, directions, load, same_bits, tiny  # noqa: F401 (fixture)
from tests.test_safree import FAMILIES
from weditor.io.recipe import hash_files
from weditor.methods import kv_edit
from weditor.models.runtime import encode

SUPPORTED = (
    "wan",
    "wan-i2v",
    "ltx",
    "zeroscope",
    "anyflow",
    "helios",
    "cosmos",
    "cosmos25",
    "animatediff",
    "animatediff-sdxl",
)  # anyflow, helios: Wan's blocks, own steps
ROOT = DATA.parents[1]


@pytest.fixture(scope="module")
def uce_patched(tiny, tmp_path_factory):
    """get(family) -> a folder patched once with --method uce for the red and night pairs (two concepts)."""
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp("uce") / name
            result = run_cli(
                [
                    "patch",
                    tiny(name),
                    "--pairs",
                    TINY_PAIRS,
                    "--pairs",
                    DATA / "tiny-night.toml",
                    "--method",
                    "uce",
                    "--out",
                    out,
                    "--size",
                    FAMILIES[name],
                    "--no-summary",
                ]
            )
            assert result.exit_code == 0, result.output
            cache[name] = out
        return cache[name]

    return get


def kv_map(out_dir, component):
    """(Q, A) the folder carries for `component`: its keys and values read `c - Q^T A c`."""
    return directions(out_dir)[f"{component}.kv_map"], readouts_of(out_dir)[f"{component}.kv_map"][0]


def hook_kv(pipe, adapter, component, Q, A):
    """Forward pre-hooks: every cross-attention key/value linear of `component` reads `x - Q^T A x` (float64)."""
    handles = []
    for path in kv_edit.kv_linears(pipe, adapter)[component]:
        module = getattr(pipe, component).get_submodule(path)

        def pre(mod, args, Q=Q, A=A):
            x = args[0]
            y = x.double() - (x.double() @ A.T) @ Q
            return (y.to(x.dtype),) + tuple(args[1:])

        handles.append(module.register_forward_pre_hook(pre))
    return handles


@pytest.mark.parametrize("name", SUPPORTED)
def test_uce_edit_is_exact(name, tiny, uce_patched):
    base_dir, out_dir = tiny(name), uce_patched(name)
    recipe = json.loads((out_dir / "weditor.json").read_text())
    assert recipe["method"] == "uce" and recipe["params"]["uce_tokens"] == "all"
    pipe, adapter = load(base_dir)
    component = adapter.denoisers[0]
    Q, A = kv_map(out_dir, component)
    assert torch.allclose(Q @ Q.T, torch.eye(Q.shape[0], dtype=Q.dtype), atol=1e-10)
    # only the key/value linears changed, each to W (I - Q^T A); everything else is the base's bit for bit
    linears = {(component, f"{p}.weight") for p in kv_edit.kv_linears(pipe, adapter)[component]}
    assert len(recipe["edits"]) == len(linears) and {(e["component"], e["tensor"]) for e in recipe["edits"]} == linears
    base, new = all_tensors(base_dir), all_tensors(out_dir)
    f = kv_edit.KVFactors(Q, A, torch.zeros(Q.shape[0], dtype=Q.dtype))
    for k, tensor in new.items():
        if k in linears:
            assert torch.equal(tensor, kv_edit.edit_weight(base[k], f)), k
        else:
            assert same_bits(tensor, base[k]), k
    # the reloaded denoiser == the base denoiser whose keys and values read the edited tokens at run time
    hooked, _ = load(base_dir)
    hook_kv(hooked, adapter, component, Q, A)
    reloaded = load(out_dir)[0]
    size = tuple(int(v) for v in FAMILIES[name].split("x"))
    cond = encode(pipe, adapter, ["a red house at night"], "cpu")
    x = adapter.latents(pipe, size, torch.Generator().manual_seed(2), "cpu")
    for t in map(torch.tensor, adapter.check_timesteps or (800.0, 200.0)):  # Cosmos' EDM: log(sigma) / 4
        got = adapter.forward(getattr(reloaded, component), x, t, cond)
        want = adapter.forward(getattr(hooked, component), x, t, cond)
        assert_edited_as(got, want, adapter.forward(getattr(pipe, component), x, t, cond), name)


@pytest.mark.parametrize("name", SUPPORTED)
def test_kv_inputs_are_what_the_key_and_value_linears_read(name, tiny):
    pipe, adapter = load(tiny(name))
    component = adapter.denoisers[0]
    cond = encode(pipe, adapter, ["a red house at night"], "cpu")
    seen = []
    path = kv_edit.kv_linears(pipe, adapter)[component][0]
    handle = (
        getattr(pipe, component).get_submodule(path).register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    )
    size = tuple(int(v) for v in FAMILIES[name].split("x"))
    x = adapter.latents(pipe, size, torch.Generator().manual_seed(0), "cpu")
    adapter.forward(getattr(pipe, component), x, torch.tensor((adapter.check_timesteps or (500.0,))[0]), cond)
    handle.remove()
    got = kv_edit.kv_inputs(pipe, adapter, component, cond)
    # Wan I2V: diffusers splits off the image tokens as "all but the last 512"; the tiny model's text is
    # shorter, so its to_k also reads the image tokens, in front: the text tokens are the last ones
    assert seen and torch.allclose(seen[0][0][-got.shape[0] :].double(), got, rtol=1e-5, atol=1e-6)


def test_align_maps_equal_substituted_and_deleted_tokens():
    # unsafe: a red circle moving left </s> pad pad; safe: a circle moving left </s> pad pad pad
    u, s = [5, 9, 7, 3, 4, 1, 0, 0], [5, 7, 3, 4, 1, 0, 0, 0]
    assert kv_edit.align(u, 6, s, 5, "changed") == [(1, -1)]  # "red" deleted: onto the padding vector
    pairs = kv_edit.align(u, 6, s, 5, "all")
    assert (0, 0) in pairs and (2, 1) in pairs and (5, 4) in pairs and (1, -1) in pairs
    assert (6, 5) in pairs and (7, 6) in pairs and len(pairs) == 8
    # substitution: circle -> square maps position to position
    assert kv_edit.align([5, 9, 7, 1, 0], 4, [5, 9, 8, 1, 0], 4, "changed") == [(2, 2)]


def test_common_twins_use_each_concepts_most_frequent_substitute():
    from weditor.io.pairs import load_pairsets
    from weditor.shapes import load_pipeline

    pipe = load_pipeline()
    circle = load_pairsets([ROOT / "pairs" / "shapes-circle.toml"])
    twins = kv_edit.common_twins(pipe, circle, 16)
    assert len(twins) == len(circle[0].pairs)
    # the file spreads square, triangle and cross evenly: the first one seen wins the tie, for every pair
    for pair, twin in zip(circle[0].pairs, twins):
        assert twin == pair.unsafe.replace("circle", "square")
    red = load_pairsets([ROOT / "pairs" / "shapes-red.toml"])  # deletions: each pair keeps its own twin
    assert kv_edit.common_twins(pipe, red, 16) == [p.safe for p in red[0].pairs]


def random_moments(d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    c = torch.randn(20, d, generator=g, dtype=torch.float64)
    t = torch.randn(20, d, generator=g, dtype=torch.float64)
    k = torch.randn(40, d, generator=g, dtype=torch.float64)
    return c, t, k, c.T @ c / 20, t.T @ c / 20, k.T @ k / 40


def test_closed_form_satisfies_its_normal_equations():
    c, t, k, E, X, P = random_moments()
    W = torch.randn(5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    M = kv_edit.solve_map(E, X, P, preserve_scale=0.7, lam=0.2)
    D, N = kv_edit.normal_matrices(E, X, P, 0.7, 0.2)
    assert torch.allclose((W @ M) @ D, W @ N, rtol=0, atol=1e-10 * float((W @ N).abs().max()))
    # and it is the minimum: the objective rises along any perturbation
    reg = 0.2 * float(torch.trace(P)) / 6

    def objective(V):
        return (
            float(((c @ V.T) - (t @ W.T)).pow(2).sum() / 20)
            + 0.7 * float(((k @ V.T) - (k @ W.T)).pow(2).sum() / 40)
            + reg * float((V - W).pow(2).sum())
        )

    best = objective(W @ M)
    for seed in range(5):
        dV = 1e-3 * torch.randn(5, 6, generator=torch.Generator().manual_seed(10 + seed), dtype=torch.float64)
        assert objective(W @ M + dV) > best
    assert objective(W) > best


def test_rece_round_finds_the_embedding_the_edit_still_reads_as_the_concept():
    _, _, _, E, X, P = random_moments()
    W = torch.randn(12, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    M = kv_edit.solve_map(E, X, P, 1.0, 0.1)
    G = W.T @ W
    R = kv_edit.rece_inputs(M, G, 0.01)
    c = torch.randn(6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    cp = R @ c
    mu = 0.01 * float(torch.trace(M.T @ G @ M)) / 6
    grad = (W @ M).T @ (W @ M @ cp - W @ c) + mu * cp  # of 1/2 ||W M c' - W c||^2 + mu/2 ||c'||^2
    assert float(grad.abs().max()) < 1e-9 * float((W.T @ W @ c).abs().max())
    assert float((W @ M @ cp - W @ c).norm()) < float((W @ M @ c - W @ c).norm())  # closer to the concept than c is


def test_in_memory_edit_equals_the_folder(tiny, uce_patched):
    from weditor.io.pairs import load_pairsets

    pipe, adapter = load(tiny("wan"))
    pairsets = load_pairsets([TINY_PAIRS, DATA / "tiny-night.toml"])
    edited = kv_edit.edit_in_memory(pipe, adapter, pairsets)
    new = all_tensors(uce_patched("wan"))
    for component, tensors in edited.items():
        for name, value in tensors.items():
            assert torch.equal(value, new[(component, name)]), name
    stats = kv_edit.statistics(pipe, adapter, pairsets, [], "all", substitute="common")
    with pytest.raises(Exception, match="tokens"):
        kv_edit.edit_in_memory(pipe, adapter, pairsets, params=kv_edit.KVParams(tokens="changed"), stats=stats)
    rounds = kv_edit.edit_in_memory(pipe, adapter, pairsets, params=kv_edit.KVParams(rounds=2))
    name = next(iter(edited["transformer"]))
    assert not torch.equal(rounds["transformer"][name], edited["transformer"][name])


def test_uce_recipe_reproduces_the_patch_and_verify_recomputes_it(tiny, tmp_path):
    from weditor.checks.verify import verify_patched

    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny("wan"),
            "--pairs",
            TINY_PAIRS,
            "--method",
            "uce",
            "--uce-tokens",
            "changed",
            "--uce-lambda",
            "0.3",
            "--uce-rounds",
            "1",
            "--out",
            out,
            "--size",
            FAMILIES["wan"],
        ]
    )
    assert result.exit_code == 0, result.output
    assert "method uce" in result.output and "key/value map of transformer" in result.output
    recipe = json.loads((out / "weditor.json").read_text())
    p = recipe["params"]
    assert (p["uce_tokens"], p["uce_lambda"], p["uce_rounds"]) == ("changed", 0.3, 1)
    assert recipe["summary"]["uce"][0]["distance_to_twin_after"] < 1
    assert "closed-form" in (out / "README.md").read_text()
    again = tmp_path / "again" / out.name  # the card names the folder
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert hash_files(again) == hash_files(out)
    report = verify_patched(out, base=tiny("wan"))
    assert report.ok, report.problems
    assert set(report.recomputed.values()) == {"exact"} and report.recomputed


@pytest.mark.parametrize("name", ("cogvideox", "hunyuanvideo"))
def test_uce_refuses_joint_attention_families(name, tiny, tmp_path):
    result = run_cli(
        [
            "patch",
            tiny(name),
            "--pairs",
            TINY_PAIRS,
            "--method",
            "uce",
            "--out",
            tmp_path / "o",
            "--size",
            FAMILIES[name],
            "--no-summary",
        ]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: --method uce: not available")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--uce-lambda", "0.5"], "--uce-lambda: only --method uce"),
        (["--method", "uce", "--strength", "0.5"], "--strength"),
        (["--method", "uce", "--uce-lambda", "0"], "--uce-lambda 0.0"),
        (["--method", "uce", "--uce-rounds", "11"], "--uce-rounds 11"),
        (["--method", "uce", "--reins"], "--reins"),
    ],
)
def test_uce_options_are_checked(args, message, tiny, tmp_path):
    result = run_cli(["patch", tiny("wan"), "--pairs", TINY_PAIRS, "--out", tmp_path / "o", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()
