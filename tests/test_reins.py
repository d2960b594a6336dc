"""REINS: supervised PCA, the exact bias fold (vs a runtime steering hook), and `weditor probe`."""

import dataclasses
import json
import sys

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tests.conftest import TINY_PAIRS, TINY_SIZE, patch_tiny, run_cli
from weditor.errors import WeditorError
from weditor.io.integrity import check_folder as verify_folder
from weditor.io.recipe import DIRECTIONS_FILE, hash_files
from weditor.maths.edits import add_to_bias, project_output
from weditor.maths.supervised_pca import SupervisedPCA
from weditor.methods.reins import REINS_FILE, refuse_unless_foldable

# --------------------------------------------------------------------------- SupervisedPCA


def _binary(seed=0, n0=30, n1=20, d=12):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n0 + n1, d)) * rng.uniform(0.5, 3.0, size=d)
    y = np.array([0] * n0 + [1] * n1)
    X[y == 1] += rng.normal(size=d)
    return X, y


def test_binary_labels_give_the_normalised_difference_of_means():
    X, y = _binary()
    spca = SupervisedPCA(n_components=1).fit(X, y)
    diff = X[y == 1].mean(0) - X[y == 0].mean(0)
    np.testing.assert_allclose(spca.components_[0], diff / np.linalg.norm(diff), atol=1e-12)  # sign: 0 -> 1
    n0, n1, n = 30, 20, 50
    np.testing.assert_allclose(spca.explained_variance_[0], 2 * n0**2 * n1**2 / (n**2 * (n - 1) ** 2) * diff @ diff)
    assert spca.explained_variance_ratio_[0] == pytest.approx(1.0)
    # the labels' values and order do not matter, only which samples share one; the sign follows sorted classes
    flipped = SupervisedPCA().fit(X, np.where(y == 1, "a", "b"))
    np.testing.assert_allclose(flipped.components_[0], -spca.components_[0], atol=1e-12)
    assert list(flipped.classes_) == ["a", "b"]
    # the linear kernel on 0/1 labels is the same direction
    np.testing.assert_allclose(SupervisedPCA(kernel="linear").fit(X, y).components_[0], spca.components_[0], atol=1e-12)
    with pytest.raises(ValueError, match="only 1 carry label information"):
        SupervisedPCA(n_components=2).fit(X, y)


def test_the_direction_ignores_large_unlabelled_variance():
    rng = np.random.default_rng(3)
    n, d = 200, 8
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, d)) * 0.1
    X[:, 0] += 50 * np.tile([1.0, -1.0], n // 2)  # huge variance, same in both classes: PCA would pick it
    X[:, 3] += 0.5 * y  # small, label-driven
    assert abs(np.linalg.svd(X - X.mean(0))[2][0][0]) > 0.99  # plain PCA: the unlabelled axis
    spca = SupervisedPCA().fit(X, y)
    assert abs(spca.components_[0][3]) > 0.95 and spca.components_[0][3] > 0


def _dense_reference(X, L, k):
    n = X.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    Q = X.T @ H @ L @ H @ X
    w, V = np.linalg.eigh(Q)
    return w[::-1][:k] / (n - 1) ** 2, V[:, ::-1][:, :k].T


def test_multiclass_and_multicolumn_labels_match_the_dense_hsic_eigenproblem():
    rng = np.random.default_rng(1)
    n, d = 60, 10
    y = rng.integers(0, 4, n)
    X = rng.normal(size=(n, d)) + rng.normal(size=(4, d))[y] * 2
    spca = SupervisedPCA(n_components=3).fit(X, y)
    assert spca.components_.shape == (3, d) and spca.explained_variance_.shape == (3,)
    np.testing.assert_allclose(spca.components_ @ spca.components_.T, np.eye(3), atol=1e-12)
    L = (y[:, None] == y[None, :]).astype(float)
    w, V = _dense_reference(X, L, 3)
    np.testing.assert_allclose(spca.explained_variance_, w, rtol=1e-9)
    np.testing.assert_allclose(np.abs(spca.components_ @ V.T), np.eye(3), atol=1e-8)  # same eigenvectors up to sign
    assert spca.transform(X).shape == (n, 3)
    with pytest.raises(ValueError, match="only 3"):
        SupervisedPCA(n_components=4).fit(X, y)  # 4 classes carry 3 directions

    # two numeric label columns, linear kernel; and the same kernel given as a callable
    Y = np.stack([X[:, 0] + rng.normal(size=n), X[:, 1] - X[:, 2]], axis=1)
    lin = SupervisedPCA(n_components=2, kernel="linear").fit(X, Y)
    w, V = _dense_reference(X, Y @ Y.T, 2)
    np.testing.assert_allclose(lin.explained_variance_, w, rtol=1e-9)
    np.testing.assert_allclose(np.abs(lin.components_ @ V.T), np.eye(2), atol=1e-8)
    call = SupervisedPCA(n_components=2, kernel=lambda Y: Y @ Y.T).fit(X, Y)
    np.testing.assert_allclose(call.components_, lin.components_, atol=1e-8)
    assert np.corrcoef(lin.transform(X)[:, 0], Y[:, 0])[0, 1] > 0  # sign convention: follows the first label column

    # multi-column labels with the delta kernel: classes are the distinct rows
    Z = np.stack([y // 2, y % 2], axis=1)  # sorted rows in the order of y: same classes, same signs
    multi = SupervisedPCA(n_components=3).fit(X, Z)
    np.testing.assert_allclose(multi.components_, spca.components_, atol=1e-10)
    assert multi.classes_.shape == (4, 2)


def test_bad_input_is_rejected():
    X, y = _binary()
    with pytest.raises(ValueError, match="do not vary"):
        SupervisedPCA().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="one row per sample"):
        SupervisedPCA().fit(X, y[:-1])
    with pytest.raises(ValueError, match="kernel"):
        SupervisedPCA(kernel="rbf").fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        SupervisedPCA(n_components=0).fit(X, y)
    est = SupervisedPCA(n_components=2, kernel="linear", tol=1e-6)
    assert (est.n_components, est.kernel, est.tol) == (2, "linear", 1e-6) and not hasattr(est, "components_")


# --------------------------------------------------------------------------- the fold


def load(folder):
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tensors(folder, component):
    out = {}
    for path in sorted((folder / component).glob("*.safetensors")):
        with safe_open(path, "pt") as f:
            out.update({n: f.get_tensor(n) for n in f.keys()})
    return out


def hooked_base(base_folder, fold):
    """The base with REINS applied at run time: a hook adds the vector after the block's cross-attention."""
    pipe = load(base_folder)
    for name, v in fold.items():
        if name.endswith(".vector"):
            component, _, block, _ = name.split(".")
            attn2 = getattr(pipe, component).blocks[int(block)].attn2
            attn2.register_forward_hook(lambda m, args, out, v=v.float(): out + v)
    return pipe


@pytest.fixture(scope="module")
def reins_only(tiny_wan, tmp_path_factory):
    out = tmp_path_factory.mktemp("reins") / "out"
    result = patch_tiny(tiny_wan, out, "--method", "reins")
    assert "REINS block" in result.output and "transformer_2.blocks.2" in result.output
    return out


def test_reins_only_recipe_and_files(tiny_wan, reins_only):
    recipe = json.loads((reins_only / "weditor.json").read_text())
    assert recipe["method"] == "reins"
    assert {e["kind"] for e in recipe["edits"]} == {"bias_fold"}
    assert sorted((e["component"], e["tensor"]) for e in recipe["edits"]) == [
        ("transformer", "blocks.2.attn2.to_out.0.bias"),
        ("transformer_2", "blocks.2.attn2.to_out.0.bias"),
    ]
    params = recipe["params"]
    assert params["reins_layer_resolved"] == {"transformer": 2, "transformer_2": 2}
    assert params["reins_strength"] == 0.5 and "rank" not in params and "site" not in params
    assert not (reins_only / DIRECTIONS_FILE).exists()  # no refusal edit, no refusal directions
    assert recipe["files"] == hash_files(reins_only)
    assert recipe["verification"]["forward_max_rel_diff"] <= 1e-6
    verify_folder(reins_only)
    rows = recipe["summary"]["reins"]
    assert len(rows) == 2 and all(r["proj_eval_after_rel"] > r["proj_eval_before_rel"] for r in rows)

    # audit: every bias = base bias + the stored vector, alpha * unit d, alpha = strength * mean norm
    fold = load_file(reins_only / REINS_FILE)
    for e in recipe["edits"]:
        key = f"{e['component']}.blocks.{e['block']}"
        d, v = fold[f"{key}.direction"], fold[f"{key}.vector"]
        assert d.dtype == torch.float64 and abs(float(d.norm()) - 1) < 1e-12
        assert torch.allclose(v, e["alpha"] * d, rtol=0, atol=1e-15)
        assert e["alpha"] == pytest.approx(0.5 * e["mean_norm"])
        before, after = tensors(tiny_wan, e["component"]), tensors(reins_only, e["component"])
        assert torch.equal(after[e["tensor"]], add_to_bias(before[e["tensor"]], v))
        assert [n for n in before if not torch.equal(before[n], after[n])] == [e["tensor"]]


def test_recipe_reproduces_the_reins_patch(reins_only, tmp_path):
    out = tmp_path / "again" / reins_only.name  # the card names the folder
    result = run_cli(["patch", "--recipe", reins_only / "weditor.json", "--out", out])
    assert result.exit_code == 0, result.output
    assert hash_files(out) == hash_files(reins_only)


def _cfg_embeds(pipe, prompt):
    pos, neg = pipe.encode_prompt(prompt, negative_prompt="", do_classifier_free_guidance=True, max_sequence_length=16)
    return pos, neg


def test_folded_checkpoint_equals_the_runtime_hook_at_every_step_and_both_cfg_passes(tiny_wan, reins_only):
    fold = load_file(reins_only / REINS_FILE)
    hooked, reloaded, base = hooked_base(tiny_wan, fold), load(reins_only), load(tiny_wan)
    pos, neg = _cfg_embeds(base, "a red car on a street")
    x = torch.randn(1, 4, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    for component in ("transformer", "transformer_2"):
        for text in (pos, neg):  # the conditional and the unconditional (negative prompt) pass
            for t in (999.0, 700.0, 400.0, 50.0):
                kw = dict(hidden_states=x, timestep=torch.tensor([t]), encoder_hidden_states=text, return_dict=False)
                with torch.no_grad():
                    want = getattr(hooked, component)(**kw)[0]
                    got = getattr(reloaded, component)(**kw)[0]
                    orig = getattr(base, component)(**kw)[0]
                assert (got - want).abs().max() <= 1e-5 * want.abs().max(), (component, t)
                assert (got - orig).abs().max() > 1e-3 * orig.abs().max()  # the fold does something


def test_full_cfg_generation_equals_the_hooked_base(tiny_wan, reins_only):
    fold = load_file(reins_only / REINS_FILE)
    hooked, reloaded = hooked_base(tiny_wan, fold), load(reins_only)
    kwargs = dict(
        prompt="a red car on a street",
        height=32,
        width=32,
        num_frames=5,
        num_inference_steps=4,
        max_sequence_length=16,
        output_type="pt",
        guidance_scale=4.0,
    )
    want = hooked(**kwargs, generator=torch.Generator().manual_seed(0)).frames
    got = reloaded(**kwargs, generator=torch.Generator().manual_seed(0)).frames
    plain = load(tiny_wan)(**kwargs, generator=torch.Generator().manual_seed(0)).frames
    assert (got - want).abs().max() <= 1e-5
    assert (got - plain).abs().max() > 1e-3


def test_refusal_and_reins_compose_on_one_bias(tiny_wan_single, tmp_path):
    """Output-side refusal edit and REINS fold on the same linear: the fold goes on top of the projection."""
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-summary",
            "--site",
            "cross_attn_out",
            "--layers",
            "2",
            "--rank",
            "none",
            "--edit",
            "projection",
            "--strength",
            "1",
            "--reins",
            "--reins-layer",
            "2",
            "--reins-strength",
            "0.3",
        ]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert recipe["method"] == "refusal+reins"
    assert [e["kind"] for e in recipe["edits"]] == ["output_projection", "output_projection", "bias_fold"]
    Q = load_file(out / DIRECTIONS_FILE)["transformer.blocks.2.cross_attn_out"]
    v = load_file(out / REINS_FILE)["transformer.blocks.2.vector"]
    base, new = tensors(tiny_wan_single, "transformer"), tensors(out, "transformer")
    name = "blocks.2.attn2.to_out.0"
    w, b = project_output(base[f"{name}.weight"], base[f"{name}.bias"], Q)
    assert torch.equal(new[f"{name}.weight"], w)
    assert torch.equal(new[f"{name}.bias"], add_to_bias(b, v))
    assert recipe["edits"][2]["sha256_before"] == recipe["edits"][1]["sha256_after"]
    verify_folder(out)


def test_refusal_plus_reins_default_sites(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--layers",
            "-1",
            "--reins",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "REINS block" in result.output and "cross_attn_out" in result.output
    recipe = json.loads((out / "weditor.json").read_text())
    kinds = [e["kind"] for e in recipe["edits"]]  # the default site is the REINS bias's own linear
    assert kinds == ["output_readout", "output_readout", "bias_fold"]
    assert (out / DIRECTIONS_FILE).is_file() and (out / REINS_FILE).is_file()
    assert run_cli(["verify", out]).exit_code == 0  # both recomputed from the base
    assert recipe["summary"]["sites"] and recipe["summary"]["reins"]


def test_architecture_without_an_ungated_write_is_refused(tiny_wan_single, tmp_path, monkeypatch):
    from weditor.adapters import WAN
    from weditor.pipeline import load as load_stage

    gated = dataclasses.replace(WAN, family="allgated", ungated_write=None)
    with pytest.raises(WeditorError, match="allgated family has no ungated residual write"):
        refuse_unless_foldable(gated)
    real = load_stage.load_base
    monkeypatch.setattr(load_stage, "load_base", lambda m, r, *a, **k: (real(m, r, *a, **k)[0], gated))
    out = tmp_path / "o"
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--method", "reins"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "allgated" in errors[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--reins-layer", "1-2"], "names 2 blocks"),
        (["--reins-layer", "7"], "out of range"),
        (["--reins-strength", "0"], "--reins-strength"),
    ],
)
def test_bad_reins_options_fail_cleanly(tiny_wan_single, tmp_path, extra, message):
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-summary",
            "--reins",
            *extra,
        ]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert not out.exists()


# --------------------------------------------------------------------------- probe


def test_probe_writes_the_curve(tiny_wan_single, tmp_path):
    out = tmp_path / "probe"
    result = run_cli(["probe", tiny_wan_single, "--pairs", TINY_PAIRS, "--size", TINY_SIZE, "--out", out])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "probe.json").read_text())
    assert [r["block"] for r in report["blocks"]] == [0, 1, 2, 3]
    assert report["default_reins_layer"] == {"transformer": 2}
    for r in report["blocks"]:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["gap"] > 0 and r["mean_norm"] > 0
        assert r["points"] == (2 * 5 + 3 + 6) * 4  # (pair members + eval + neutral) x steps
    assert (out / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "transformer.blocks.2" in result.output and " *" in result.output


def test_probe_without_matplotlib_still_plots_an_svg(tiny_wan_single, tmp_path, monkeypatch):
    """The README says the probe plots: without matplotlib (an extra) it writes the SVG, one point per block."""
    import xml.etree.ElementTree as ET

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    out = tmp_path / "probe"
    result = run_cli(
        [
            "probe",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--size",
            TINY_SIZE,
            "--out",
            out,
            "--layers",
            "1,3",
            "--no-extra",
            "--steps",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (out / "probe.json").is_file() and not (out / "probe.png").exists()
    assert f"{out / 'probe.svg'} (the plot)" in result.output
    svg = ET.parse(out / "probe.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{ns}svg" and len(svg.findall(f"{ns}circle")) == 2 * 2  # 2 blocks x 2 panels
    assert len(svg.findall(f"{ns}polyline")) == 2 and "REINS curve: red" in "".join(svg.itertext())
    report = json.loads((out / "probe.json").read_text())
    assert [r["block"] for r in report["blocks"]] == [1, 3] and report["blocks"][0]["points"] == 2 * 5 * 2


def test_cv_folds_keep_pairs_and_prompts_together():
    from weditor.methods.reins_probe import cv_accuracy, grouped_splits

    rng = np.random.default_rng(0)
    # 8 pairs (both labels, 3 timesteps each) + 3 unsafe-only and 4 safe-only prompts, as the probe builds them
    groups = np.concatenate([np.repeat(np.arange(8), 6), np.repeat(np.arange(8, 15), 3)])
    y = np.concatenate([np.tile([1, 0], 24), np.repeat([1, 1, 1, 0, 0, 0, 0], 3)])
    splits = grouped_splits(y, groups, folds=5)
    assert len(splits) == 5
    seen = []
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert set(y[test]) == {0, 1}
        seen += test.tolist()
    assert sorted(seen) == list(range(len(y)))
    X = rng.normal(size=(len(y), 6))
    X[:, 0] += 3 * y  # a shared signal: the probe finds it on held-out pairs
    assert cv_accuracy(X, y, groups, folds=5)[0] > 0.9
    assert cv_accuracy(rng.normal(size=(len(y), 6)), y, groups, folds=5)[0] < 0.8  # no signal: near chance
