"""Why an edit rewrites the whole shard that holds the edited tensor (issue 22, "smallest write").

The smaller write would leave the base's shards as they are (hard links) and put only the edited
tensors in a new shard, with the index pointing their names at it. Stock diffusers loads that
folder without a warning, but it reads *every* tensor of every shard the index names
(`load_state_dict` is `safetensors.torch.load_file` of the whole shard), so the stale, unedited
copy is loaded too, and which copy the model keeps depends only on the order of the shard file
names. This test shows both outcomes, which is why weditor does not write patches that way: an
erasure that a file name can undo (or a tool that globs `*.safetensors`) is not an erasure.
"""

import json
import shutil

import pytest
import torch

NAME = "condition_embedder.text_embedder.linear_1.weight"


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    from weditor.testing import save_tiny_wan_pipeline

    return save_tiny_wan_pipeline(tmp_path_factory.mktemp("sharded") / "base", max_shard_size="20KB", seed=1)


def _extra_shard(base, out, shard_name: str):
    from safetensors.torch import load_file, save_file

    shutil.copytree(base, out)
    index_path = out / "transformer" / "diffusion_pytorch_model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    old = load_file(out / "transformer" / index["weight_map"][NAME])[NAME]
    new = (old + 1.0).contiguous()
    save_file({NAME: new}, out / "transformer" / shard_name)
    index["weight_map"][NAME] = shard_name
    index_path.write_text(json.dumps(index, indent=2))
    return old, new


@pytest.mark.parametrize(
    "shard_name,keeps",
    [("diffusion_pytorch_model-weditor.safetensors", "new"), ("diffusion_pytorch_model-0-weditor.safetensors", "old")],
)
def test_an_extra_shard_loads_silently_but_the_stale_copy_can_win(sharded, tmp_path, shard_name, keeps, recwarn):
    import diffusers

    old, new = _extra_shard(sharded, tmp_path / "out", shard_name)
    pipe = diffusers.WanPipeline.from_pretrained(tmp_path / "out")
    loaded = dict(pipe.transformer.named_parameters())[NAME]
    assert not [w for w in recwarn if "weight" in str(w.message).lower() or "unexpected" in str(w.message).lower()]
    assert torch.equal(loaded, new if keeps == "new" else old)  # the index said "new" both times
