"""Golden SHA-256 pins of the patches weditor writes: every file an edit wrote, per method and pair file.

Determinism tests run twice in one process; a change that moves every output the same way passes
them. These pins fail on any change of a written byte, so a refactor that claims to keep the
outputs is checked against files written before it (diffusers pins `expected_slice`, heretic
`SHA256SUMS`). A deliberate change of an output updates its pin in the same commit, saying why:
`WEDITOR_PRINT_GOLDEN=1 pytest tests/test_golden.py -s` prints the new ones.

Pinned: every file of the output that is not a byte copy of the base's file at the same path (the
edited shards, the recipe, the card, the pair files, the directions and read-outs); the copies
are checked equal to the base by `weditor patch`'s own verification.
"""

import hashlib
import os
from pathlib import Path

import pytest

from tests.conftest import PAPER_SITE, TINY_PAIRS, TINY_SIZE, run_cli

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "pairs"
SHAPES = ROOT / "weditor" / "assets" / "shapes-wan"
PRINT = os.environ.get("WEDITOR_PRINT_GOLDEN") == "1"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def written(out: Path, base: Path, only_tensors: bool = False) -> dict[str, str]:
    """{relative path: SHA-256} of the files of `out` that are not the base's file at the same path."""
    pins = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if only_tensors and not rel.endswith(".safetensors"):
            continue
        digest = sha256(path)
        if (base / rel).is_file() and sha256(base / rel) == digest:
            continue
        pins[rel] = digest
    return pins


def check(name: str, got: dict, pinned: dict):
    if PRINT:
        print(f"\n    {name!r}: {{\n" + "".join(f"        {k!r}: {v!r},\n" for k, v in got.items()) + "    },")
        return
    assert got == pinned, f"{name}: the written files changed (WEDITOR_PRINT_GOLDEN=1 prints the new pins)"


# --------------------------------------------------------------------------- the shapes model, per method

# `weditor patch --pairs pairs/shapes-red.toml --no-tune OPTIONS --out OUT/red` on the shipped shapes model.
SHAPES_METHODS = {
    "text": (),
    "refusal": ("--method", "refusal"),
    "uce": ("--method", "uce"),
    "safree": ("--method", "safree"),
    "text+reins": ("--reins",),
    "reins": ("--method", "reins"),
}

# README.md and weditor.json carry the summary's figures: moved when the summary went to the self-check's 3 steps
# and its runs (issue 22, branch mem4); every tensor pin stayed.
GOLDEN_SHAPES_METHODS = {
    "text": {
        "README.md": "0c2f8831689d935ec7736d2640de00253620cd39cce1a3cab54b95c01021307b",
        "transformer/diffusion_pytorch_model.safetensors": "c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor.json": "2aad44679610ffd0076f35a673ca76c40eb65314eaa1fca51e8134f3980dd762",
    },
    "refusal": {
        "README.md": "e39ce5dacbcce2f7570566bf539f41030b213bcd02ef2f82de4c7de038215993",
        "transformer/diffusion_pytorch_model.safetensors": "6f1b31dd898585940e9d75742dfc2bf6adbbfb9ac62958ebb380ac79366ba926",
        "weditor/directions.safetensors": "a17d64b429c68757248063f048bc8e3bdc6b6ee8a4c56074af18653c7da7ab55",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "6ac8a790814aed29f84757897515b100864461f1b5af372cba277be51521c7d9",
        "weditor.json": "3cf4fb8bc02f9133b754b83fe03f09c3d695fcedede198adfbea2f9502b2410f",
    },
    "uce": {
        "README.md": "9e803c2e7fe97a79b3337d39525f913e2580fcb13bc9f3cf67353b3acb5bbbbe",
        "transformer/diffusion_pytorch_model.safetensors": "cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8",
        "weditor/directions.safetensors": "68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004",
        "weditor.json": "6de3510d403f6cebc7353c394f6426831d456bf59ba99a4f9f6f78a41d16927c",
    },
    "safree": {
        "README.md": "06915a4db441da5962f6018ec3746d50c9bd6941f22d5501ba608bb82c7e0066",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor.json": "014344f9a2f6e4fa9194fa94b46c0ee4ded48da95cdcd875dc92fa41c9e49106",
    },
    "text+reins": {
        "README.md": "67cc35c04fd8a3bf60843c47c9693096f1c356a44fdb610081fb35dcb17411c0",
        "transformer/diffusion_pytorch_model.safetensors": "06b1f1dfb80536b3db3615c6904b589ad2b4ddb530c0f713353cb390232d36de",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor/reins.safetensors": "4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d",
        "weditor.json": "b931e61ed2994fce7d1bda55d19d2da9edab7a344a280b32d690f3ebb393aa83",
    },
    "reins": {
        "README.md": "7d0c2ceaf771f77855ae6500ad1fe880360664f81cac7c2ba60b93d1fb4d2762",
        "transformer/diffusion_pytorch_model.safetensors": "636fce27acd560a7e91247798b693f4682927a2be21da70ec972464b8c4d3b2f",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/reins.safetensors": "4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d",
        "weditor.json": "c9af52f0833bd852e79b43b66ae5991afdd20e3ccdf5078d82f6107bc2cef6a1",
    },
}


@pytest.mark.parametrize("name", list(SHAPES_METHODS))
def test_shapes_red_per_method(name, tmp_path):
    out = tmp_path / "red"  # the card is titled after the folder
    result = run_cli(["patch", "--pairs", PAIRS / "shapes-red.toml", "--out", out, "--no-tune", *SHAPES_METHODS[name]])
    assert result.exit_code == 0, result.output
    check(name, written(out, SHAPES), GOLDEN_SHAPES_METHODS.get(name))


# --------------------------------------------------------------------------- every shipped pair file, per method

# `weditor patch --pairs pairs/FILE --no-tune --no-summary OPTIONS --out OUT/out` on the shapes model: every written
# file, or the one `Error:` line of a pair file the shapes model cannot take (words its tokenizer does not know).
PAIR_FILES = sorted(p.name for p in PAIRS.glob("*.toml"))
# (the block edit and REINS cost seconds a file: they are pinned on the red pairs above)
PAIR_METHODS = {k: v for k, v in SHAPES_METHODS.items() if k in ("text", "uce", "safree")}

GOLDEN_PAIRS = {
    "copyright.toml text": {
        "README.md": "1bb9c2a4d0f77a3afa323efd36caf9dccab1f6adee2495f61685e23848eadb48",
        "transformer/diffusion_pytorch_model.safetensors": "732fa6dfbc0e15ddd94c946382877e16707791d322429bd8ee92c40404b2ed96",
        "weditor/directions.safetensors": "d19d0d72fa5302e8c64002d509c5e9269e1666acf73915536feb17844e46d404",
        "weditor/pairs/copyright.toml": "43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97",
        "weditor/readout.safetensors": "67c0cfd0bca2372af6117b1c1f1f512e99ab02e0a01e114813ab964f4fb90e2b",
        "weditor.json": "f1401ae6104b7414c23ced555b46b7c9da26bebdec35de0716b3cfbe7783dfa2",
    },
    "copyright.toml uce": {
        "error": "Error: 'a runner wearing sneakers on a city track, close-up on the laces' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    "copyright.toml safree": {
        "README.md": "6d12d52e4637d2c69112a062ca023608cfbe00eb43b7adb2fd1c82018b330d62",
        "transformer/diffusion_pytorch_model.safetensors": "1619e27f6b8f98db691e6cbb2864c41ab8d86ac802b47c726b1d7b4117557c1c",
        "weditor/directions.safetensors": "7bc57513b0a088e5dc9d75afd804296f91f0de04d893ed0cb1173a5bee20cd70",
        "weditor/pairs/copyright.toml": "43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97",
        "weditor.json": "dc8897315024c2725a5feacc7e128a80b03bb77cfd5a06af7d517710eb64478e",
    },
    "distorted.toml text": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "distorted.toml uce": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "distorted.toml safree": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "nudity.toml text": {
        "README.md": "85fbe81f21d0276dd4bf0ed29bd3cc3aac39b5c47bd86cac46f5366edd94de87",
        "transformer/diffusion_pytorch_model.safetensors": "df14a0d63aefaf95f0f575f7b07e14d38ecaa35237342f1c2baf387c98cbb293",
        "weditor/directions.safetensors": "5700316d3a4d5ad36a72daaac3d0b6caf8ed8b5ed24cb15ab10167aa84c8369c",
        "weditor/pairs/nudity.toml": "b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9",
        "weditor/readout.safetensors": "ddb9edbd12ee12726a681da3ce22cb259e4adda0a9f3cccb111afabc8758f8a6",
        "weditor.json": "d20ebcef18cd37509d7fef7aea5fe5f2aaf97a32c3c9403cc6b42b69480b7b50",
    },
    "nudity.toml uce": {
        "error": "Error: 'a life-drawing class with a model sitting on a stool, wide shot' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    "nudity.toml safree": {
        "README.md": "ce685936afc2d6466fb10ff154ef343c95b08de1a235570fa7c1cea294945704",
        "transformer/diffusion_pytorch_model.safetensors": "a54a5ab1f87b3f901ced83250189a16f7be4a746078589dc2a0249dd322404ff",
        "weditor/directions.safetensors": "21d80a84ad524a0a20aed45421771b77e352ef3ff05568150c5c2225f5ab2eaa",
        "weditor/pairs/nudity.toml": "b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9",
        "weditor.json": "c0805e779475793b88690c16a1f67daf1393afdf2c6de0effc7caf7fb1a735b4",
    },
    "political.toml text": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "political.toml uce": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "political.toml safree": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "public-figures.toml text": {
        "README.md": "dfa3a57806cfbf6f9f9000ec6298461384277d2f1e8a78dfbde78fb30b8a86a4",
        "transformer/diffusion_pytorch_model.safetensors": "f76627e336169f1b6f864be878d09c575060bce6666782ca7f0eb131c051a696",
        "weditor/directions.safetensors": "677a5946dd9be7b337f7b9779bc5d70ad2cc69994803e56ec371c42459611b6d",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor/readout.safetensors": "c1afb5fc4c64f987428876f299c11d2ad8b694c4f52d338c4dcb56f8ae456332",
        "weditor.json": "d04187e30dd8b8733eca87d8403bae71adcdb069bf49013a66ac7ad028c61f99",
    },
    "public-figures.toml uce": {
        "README.md": "53d194b8aa79aa95ca6e92ca048c113985af4537298c1cc364856c6452a2b60b",
        "transformer/diffusion_pytorch_model.safetensors": "365dc53b0ad6113f8bf917ca3a12ee0dc66303991280d4a5b69e2d9cdee553d9",
        "weditor/directions.safetensors": "38fb4b09331742f0772a1f79135c601d2a5629cd04858234871b2c0d6af546f2",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor/readout.safetensors": "0a3def90017f3a2e111bade009cb759a030c3d1ae5ab7c7cd1d5c0be09ac9d3b",
        "weditor.json": "be57355b34982f95b1a668f0f701152c56d1bfcd572cba298042abd1d216337d",
    },
    "public-figures.toml safree": {
        "README.md": "3dd454b1732dfefea3e0771e7f7ecef6ad13e9d430a0ffb690ef71671542c212",
        "transformer/diffusion_pytorch_model.safetensors": "5104390bb182f0488f2dd582f98b77cc44d580bea6b5965293a3283244b20f57",
        "weditor/directions.safetensors": "1749f1e259dbc5b97bc8c42e11b7f269d0e4b00942bb30080b3cf015b60a440e",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor.json": "37aa8eb110703a1fb654aecef3091f4a57a6cc36a6d88320b9a9ee8e292906bc",
    },
    "shapes-blue-circle.toml text": {
        "README.md": "c96a5958357199e6751914e53f916f2705b616371182f3e248eae4c07846d2f1",
        "transformer/diffusion_pytorch_model.safetensors": "7050fca30785f0eb88f1820615b37753fc775c78a2279e95422500bcb65ab100",
        "weditor/directions.safetensors": "7c0f8203b4b59b79899159a6ef634121c2e7e238c32a94ea692c8a2c60db2e79",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor/readout.safetensors": "c63bf38dd5ca90a370bc54ee92887dd4bb6e02df7035b2a767234cb3cdf3c308",
        "weditor.json": "30bd018bc44023c194cc5d52e5a2abe1165fbd0cd44a01641dd5de9089e72e8c",
    },
    "shapes-blue-circle.toml uce": {
        "README.md": "33439fca25bcab37388860032fa3dc66dbb8ff0ef40648112f36fe391fa7d4b1",
        "transformer/diffusion_pytorch_model.safetensors": "922bd2e05b8d68bbee66b78b731ec8f53619c3c144d3e7898cad5b186bdd62b8",
        "weditor/directions.safetensors": "c32ebfe59b6dd1e1ca37dd4d6f5956f8e30c6c31b4d866cc54bb71a919b330e9",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor/readout.safetensors": "b0c7e3ffbede3c863caff0e92672f6dd53ad2d0ce57bbbd9ea2e7cfa98216c9c",
        "weditor.json": "ce81944fea3a748e7327f4b9d7706c59cfb31940b23c801e8afa9ffff9d22165",
    },
    "shapes-blue-circle.toml safree": {
        "README.md": "c083a5cfb096295a7f3a991564f8939173e77998e415b9f98b4035c1b3dfebd7",
        "transformer/diffusion_pytorch_model.safetensors": "43c199627c8c8d1c13ccbdee90df32babd97978a0ebcec3a0b2d8661f10c739e",
        "weditor/directions.safetensors": "66b07660c0485d03b7bd6cec11d1dc8d692fa104db38cbcd5fdae99a8dea54c5",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor.json": "eef91a8f1b0700c21f14aef5c50e2a45639b390dcf441f49c015a5d333d92ef5",
    },
    "shapes-blue.toml text": {
        "README.md": "ca52ffe6d49e343ad80d2ce42d0adf5ae0d6ceaeb3c0f6eaf933167afef45348",
        "transformer/diffusion_pytorch_model.safetensors": "1d4f32fddbd4c35d97ba54dabda14c01505d37d5f5cf7e295c04327813a8ee30",
        "weditor/directions.safetensors": "2d483fdffd30706729a0fccf82c52e4f90316b4ff497afb795f32767549ee453",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor/readout.safetensors": "b4624df966738bd47e628dc566d90d6c549a531ccb54d8f37611857c3a64869f",
        "weditor.json": "d4e1707efe3d3ca7e78b265c60644ed0b8f4126a07f66605c0309be77579355e",
    },
    "shapes-blue.toml uce": {
        "README.md": "451f65e9cd194993d84c3dafd3c127d54176d1622f67da000b0ba45a57c330d1",
        "transformer/diffusion_pytorch_model.safetensors": "4c7fe1559a17e667d948e22b82b99bd449143c44da52b95d0329504031755faf",
        "weditor/directions.safetensors": "6125f0335784e7def54465c068b316fd1f53a7b2942de22871bf23bed27c6e94",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor/readout.safetensors": "9df9ef621946d366630728539523032eead91e08c6014b04a417cedb4cc3794a",
        "weditor.json": "6667d7293c64853aa8d780e120e1b219945a0fd4beff6809220e2213da7ae92a",
    },
    "shapes-blue.toml safree": {
        "README.md": "9fba1597159cfdc8562411a316e5425246e0c200068a454a0ac63afd37591c34",
        "transformer/diffusion_pytorch_model.safetensors": "2fe385ab6435c9019032e3f4334a9ffd6737f731026ac19ed2c4054ebc3d1b38",
        "weditor/directions.safetensors": "833a358899126ed042ba4b64f1dabb1b4715731066dc4c04963b5277cdc32fa7",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor.json": "cc7ffa727fe73efa8e06673b4a8cbfbf5b875135a891e7c8fd09c809eed287f9",
    },
    "shapes-circle.toml text": {
        "README.md": "069cefa32581a599dffc5a887e2770ca4abfd6f9b40f923f9ca62ccfd5ad8475",
        "transformer/diffusion_pytorch_model.safetensors": "74830d4bcf4b0f748910277b572c99c1e5f01f3fe2ae67e4f4f750208cdf97f9",
        "weditor/directions.safetensors": "73d12fef13fd7bc66da9f700124836eb1ec445f8db80bac0707166c4b98b6f58",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor/readout.safetensors": "18f4c5563ee478dd360a737b1b2fba6718d27b261f95f6a753a046221964812a",
        "weditor.json": "a131daaeb175cb2fd9e2046895f9580cf366238d223ed98241b4ef4cb8e1b4c9",
    },
    "shapes-circle.toml uce": {
        "README.md": "51c136894d9b986be1204b6154db6c753d33a43455dd70ad1d215932b301717f",
        "transformer/diffusion_pytorch_model.safetensors": "ef711eb3638727617782573ead71d5c00c58b8fa1d8f86cf86e6d41aacb272c1",
        "weditor/directions.safetensors": "c5036e005e8550cf77be6c35c474c30ac977fb4c3424e0a0429170135a0d68c0",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor/readout.safetensors": "f2ecad9a0268b6c84a43245d3b3db966562aa607d91b4e6c0029862d2a496c7b",
        "weditor.json": "5b6c3ccc2e92bdf21e33db353aebec33e5e9be02481d1f1251f44b921dafe534",
    },
    "shapes-circle.toml safree": {
        "README.md": "a45e65b7e87c796bd440ed3a5c3786eb45579e171b754c226c292059633b7f83",
        "transformer/diffusion_pytorch_model.safetensors": "4afc3f7f067fa1850fed07b39a0a70c27a6fc0a1ce425371310e77d939fe9b8f",
        "weditor/directions.safetensors": "9d4cf0634d947e0b88a3990db99305c0985e9f028b1d22ba6260d8bbb33fefe0",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor.json": "b154c9d32607d3ce2d4a05b006f28522c385d399ef42fc88566b51bce1b3759e",
    },
    "shapes-purple-circle.toml text": {
        "README.md": "5e2882b11847c063e76e2a65e89da7f3880f43e718bc4c1ac5bfea775eea7964",
        "transformer/diffusion_pytorch_model.safetensors": "f99b0895d9200a36018e96dfb151de0917a3c77839e724f1038e483570d18726",
        "weditor/directions.safetensors": "a7d2f97a6c52ee919251b769c65c262f4b652806f4fd248a2494d0e8ab1a61f8",
        "weditor/pairs/purple-circle.toml": "abbe50822359816df5e82ce6409ee3c66403a3ad2e29da706f1b8d1e7ad27501",
        "weditor/readout.safetensors": "f8a65d48ece83ff68dde6dc2735d6c1aeebd290c7c79e93bb7168ceb5c8cd9ab",
        "weditor.json": "e379ffaf1bc03b84909f4e3ac31fdd605245b29b48fcaf215e4d423fa582ba78",
    },
    "shapes-purple-circle.toml uce": {
        "README.md": "bc49bd4c5050bb20b14bb74689c7395036fafe7043e0f72275157d00397800a8",
        "transformer/diffusion_pytorch_model.safetensors": "d49be27069ae1d1a3f666c06a184ad49b2635e077e7c2a6e549a7f490571c1f0",
        "weditor/directions.safetensors": "d36ca91f213e71f9a880c3e52c90495236d0b7334a7eb20435804bdb1ac19fd3",
        "weditor/pairs/purple-circle.toml": "abbe50822359816df5e82ce6409ee3c66403a3ad2e29da706f1b8d1e7ad27501",
        "weditor/readout.safetensors": "4d85428ec07e24442ed12a635737e355d930131c9b1984dee56e050af3880e06",
        "weditor.json": "1017def6b3f6880edb4a957255d2e82b6a118232f5bb9dac016f4d60205c9a84",
    },
    "shapes-purple-circle.toml safree": {
        "README.md": "bbb52f3a44af56390e26ce4bb96743c76d35162b19b872b6e689d99a3284c6ce",
        "transformer/diffusion_pytorch_model.safetensors": "45b3daee77d01c0188756681f3e794b347bf2cc20594bee2f284a20fdcd5b57a",
        "weditor/directions.safetensors": "37b5d3e4ebd01209825593ac59c503a840e2727bb65a4a9b6ce9d0f2d1af1d94",
        "weditor/pairs/purple-circle.toml": "abbe50822359816df5e82ce6409ee3c66403a3ad2e29da706f1b8d1e7ad27501",
        "weditor.json": "732b465539ba212a7741f0e232b6c0d03b46eec0c4d33fc2fdb354211cacdafe",
    },
    "shapes-cyan-cross.toml text": {
        "README.md": "3ea23e1192ebef4eddeaf772bf420b65dc073cd74d6bbef35def3e93f7eb9d75",
        "transformer/diffusion_pytorch_model.safetensors": "7e1ea79a4bb5c45e94e62c25583ee72b1b448720c97d16dcfaf8b93c0b2431df",
        "weditor/directions.safetensors": "5894dbf5b3e44710832a5ebe1c8ef103f055f88e6d4597532ff2cd4bac9dd175",
        "weditor/pairs/cyan-cross.toml": "1f87b444b70737dd689846cf440d67d5b386c4b407152bed46f3d7528579e980",
        "weditor/readout.safetensors": "3b84a72438698e92897611d092c62cdd3b6c71066c388c5ba7d44bda4d7913e8",
        "weditor.json": "b83efe80c4fbbc34bab34a7743a2dc44109daf0acc7057cfcb61d9f083306fad",
    },
    "shapes-cyan-cross.toml uce": {
        "README.md": "a0f0415ba49631684323406050681ffdef29e5792ee96d1bb16783ee583bc379",
        "transformer/diffusion_pytorch_model.safetensors": "3f704a96d91ddb06644982632c541ec4c67cdcb0a8655bdc29f7cfd2add115b3",
        "weditor/directions.safetensors": "35b9cf7b45d21c45fc33a3e8b6d63789aab5797448ebe8a89b9211faab55db06",
        "weditor/pairs/cyan-cross.toml": "1f87b444b70737dd689846cf440d67d5b386c4b407152bed46f3d7528579e980",
        "weditor/readout.safetensors": "67dd0374dc07a401973b0a42c5d864d1294b24116616e6fe81c9188ba8fb4d8a",
        "weditor.json": "ff10eb25a96231d3f49e923f74a4d76630b5aa78b4d657a5d3c26b0745406fcb",
    },
    "shapes-cyan-cross.toml safree": {
        "README.md": "4ab04705a809d4d53e0628fc6e3601cb66f39e3396caf413eacf0d245b13d0d1",
        "transformer/diffusion_pytorch_model.safetensors": "5dcb1c6cdb04c3d4e90bad3c47a4cf91af725bdfa1d123a2653c16bd77b14ebd",
        "weditor/directions.safetensors": "a86ae172de2cb663b8b9c8f938003245aa8cef87ee7e9f582c15930ae7a9a4e1",
        "weditor/pairs/cyan-cross.toml": "1f87b444b70737dd689846cf440d67d5b386c4b407152bed46f3d7528579e980",
        "weditor.json": "4878df78b9d0fe21ab0392d6cfadd3963c4c699f6198b5f26f58cd26f807148b",
    },
    "shapes-green.toml text": {
        "README.md": "95db6265bb39c18ad644005e1ccd4c6f3c173ac7ede7f86c169c0ea29b491d21",
        "transformer/diffusion_pytorch_model.safetensors": "c31d27d7491a5413abdf255a88d883734f5e517a4462f3a8787ffb4b0a882724",
        "weditor/directions.safetensors": "d2d51a6ab3ee8b237b9c2b3fa8372876270fbdf403314bdebbfa0f560d1f1ecd",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor/readout.safetensors": "9e5c71bc21cb807875e81286edd849917ff752efbd3d2ed81066a72acf593482",
        "weditor.json": "8f181c31006f7e00ce597295e1fad8bc416c3994ce42b961655c2f9364d5d5ec",
    },
    "shapes-green.toml uce": {
        "README.md": "c7dc6130746bffe980e0ff04c3ed64010109d0c2568a1a391b3156499f94eca3",
        "transformer/diffusion_pytorch_model.safetensors": "30a2dab37d6992a2090f3dea7666da1abd3ddb8d2f31e54b24c2d146db74de41",
        "weditor/directions.safetensors": "c979c5b1ee573db7bdcab949e217bd2f52ce0b5eae54dc1d4872fd7e2591de5e",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor/readout.safetensors": "0669ec048e4993cb106c05458db67dec78637af18423a8438295609c0fcc40d3",
        "weditor.json": "f6c2e0027544c5954b39dfd0a512a58a9a748a094ec290d873927562c5ef2839",
    },
    "shapes-green.toml safree": {
        "README.md": "3a69e9a7974573e18aeceb6936c295880b4a723e3558de41e7842b1899c5d18f",
        "transformer/diffusion_pytorch_model.safetensors": "1f670dc262c2e587552df011aea39e69e97a66ae72e3a22cf21c79e77bfb8a84",
        "weditor/directions.safetensors": "9d7c07d5f6c62b44129b0db30226af204f26045a5ccd17a666d5f43b530ff422",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor.json": "64326da83ac78344c6840cedea64d2ee5b62633ab492c88bed8eb71861324946",
    },
    "shapes-green-triangle.toml text": {
        "README.md": "db8b94f0ba7f838e22bf44813af97f450ebb314ab49494ce526f0b70735b1138",
        "transformer/diffusion_pytorch_model.safetensors": "087786a03ba2b658950279ee534bacce5fe28e578134795395a1815aa7f60c31",
        "weditor/directions.safetensors": "7477e026513485e7b58991e4d9226d38f139fac72708d9397b59c54fdb5767d5",
        "weditor/pairs/green-triangle.toml": "936203b29b35d1090e13debaf52f7819d5f12a65e3cb653a42854039c566496e",
        "weditor/readout.safetensors": "b48a7e8092803fce7ae66b44cfe28f003fc884a803b38b7ceca24ce7818a2a96",
        "weditor.json": "1a6c3ef323853452ea729ee129fb4096b66ab0d22e75b7e9d439f6366c518817",
    },
    "shapes-green-triangle.toml uce": {
        "README.md": "e1b39dfe0d7ab83fab987fc1b00936fe0196c55f7aa343f6a433453300578559",
        "transformer/diffusion_pytorch_model.safetensors": "5528ffce3f35b1a3cf7e6df672a80c9138780c8a6259eea95a140e3c963d9145",
        "weditor/directions.safetensors": "2f02db483f1460fc0cfaa1855fa34ab7169a2085cce276bc0ebe11a7161e8ee7",
        "weditor/pairs/green-triangle.toml": "936203b29b35d1090e13debaf52f7819d5f12a65e3cb653a42854039c566496e",
        "weditor/readout.safetensors": "2cd1808d83117c8caa16fdc5f7fa79f543867bb85304f95792456a7560ebf2c0",
        "weditor.json": "f926c6787829ab5e0fd7223fb941f1a380d13691e426341fb889e169da2d90d1",
    },
    "shapes-green-triangle.toml safree": {
        "README.md": "cc8d09130a6316119764cbbfb073b4245dfcaea935a5add5ecc1033f8af27cf4",
        "transformer/diffusion_pytorch_model.safetensors": "02c75f49c393940370aaa825c00b6fb645190ba59c71b336cd594304ca5d613a",
        "weditor/directions.safetensors": "b9ce971c3dc9fb6c20c1bb04438c1aabc70d9cc255fb83591a74483c07825ccb",
        "weditor/pairs/green-triangle.toml": "936203b29b35d1090e13debaf52f7819d5f12a65e3cb653a42854039c566496e",
        "weditor.json": "6482d1a3d40a4d7ff0ebe3923bf247c1208cf1171ff4a05d8d0664e7c80e1dd6",
    },
    "shapes-left.toml text": {
        "README.md": "bc217234c0cbd1d4dcca9b98fdf389f1c4a346040a586f3665b88edc1e3eacf8",
        "transformer/diffusion_pytorch_model.safetensors": "5cd05c8d09c9fa35b572d7bf5b7156a880670c18db4e53d618262f8e7ee2ad8f",
        "weditor/directions.safetensors": "059ab387d817a8506cdbadbbe6f1570551fcc2ab40d963b7a092336c187ec068",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor/readout.safetensors": "7b5dd7dbdbffa5bc168a2e0c762658ca5a07dcb1e7554a0b7cc79e762fbf7419",
        "weditor.json": "ee09acbc65307bdbebfa653c5875d8bdca8eea09eb82b564739bbaa5559dcc0b",
    },
    "shapes-left.toml uce": {
        "README.md": "f5c28501f774927ca64b581c3950878bbb63e1da94eba952d124a82c36ea26f9",
        "transformer/diffusion_pytorch_model.safetensors": "4765eaabbf0beb205442e081df3cf0053ddbdf3a87ba3f7facab4d803c25c6e8",
        "weditor/directions.safetensors": "7fe1b4c486a69eeb0bd9e1750c8aa53bb5c9123f66ea49b9c089fd04a89cb34c",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor/readout.safetensors": "4c6ad27e7dac162489b21f053679ae688a19807238a64e7d6e80ef6bf0d1d048",
        "weditor.json": "30f0c78b69baa9daa71ccbb147ec2e710b2ba238f66ea0c2244a2a8c7704d0a7",
    },
    "shapes-left.toml safree": {
        "README.md": "832e4248bbd1bdc39f1ac2a5820500f8c796451f5babf54099eb881f7fd11956",
        "transformer/diffusion_pytorch_model.safetensors": "5fccca00668a6645b0f0bcabf7ca087870494e2edbe7674ebca3cd1ee6304ea2",
        "weditor/directions.safetensors": "4a87c6edd49687d49adb63142764005fe5cda9ec14914bd60557299d70061d85",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor.json": "fe5a730b1efbfdf5787c013d9e66e16186ad1bc2e9e78b3c44b6a5d8867fdbf6",
    },
    "shapes-red-square.toml text": {
        "README.md": "a50ccc47837fd1726e6ca0e94d898fffefa27e368f40a9add006ecf640c5c781",
        "transformer/diffusion_pytorch_model.safetensors": "2fad9c0da145edab2c7df849297b136165a60ca5679ea917ffffe3c4031039d3",
        "weditor/directions.safetensors": "a00bd8f4bbb4329450ae9df2a44a9757193a460928651ceb51e86a031ad69bfa",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor/readout.safetensors": "ff81e18144fab25235d080603254934253c9696db8485d182cc30a1c66a43fdd",
        "weditor.json": "224e90dfd0ff7fbef13aa45a61851920d4a02bbd52c068088342287fc0c53c7a",
    },
    "shapes-red-square.toml uce": {
        "README.md": "8abbb4fdb91cf216c85005b91ceeb8d08d93b0cc6580dbc6b8adf1617e282574",
        "transformer/diffusion_pytorch_model.safetensors": "acbb26fec6cac03fe08bd17018b1166a6e9f01da3b06c07c5e2577c19b2db12e",
        "weditor/directions.safetensors": "84fcb45eb7563f86a1dcc24f21728d7f163ce5aa48025b2ae23c40cac6553eb0",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor/readout.safetensors": "c5c110d51a504245ffcd0d5d24d0bd9a0bb90e2ba3612115d3972a51f30ef1b0",
        "weditor.json": "e369c0951bc1280bf78f37926e4982a5d974eb9bb07e5485c162616db396efce",
    },
    "shapes-red-square.toml safree": {
        "README.md": "14172ef22f7be1384f0fb005ff4c24cdb933602d1e57eea5119fc17a28656eb0",
        "transformer/diffusion_pytorch_model.safetensors": "86071149983ea5f35f378063d0d9afe5c7dc2c9ad946bece2b2d1bd0665f0ed0",
        "weditor/directions.safetensors": "968934882755b09c8f295def7cd454ca4c856a9646427fb07bbd5deb22f2aadb",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor.json": "a824801799b04fa7b3a59068439f194192e5358b16a43864483c66b76c200743",
    },
    # pairs/shapes-red-triangle.toml (branch conj8): a fifth development conjunction, its fixed-method patches pinned
    "shapes-red-triangle.toml text": {
        "README.md": "f670c56d9b9d20e1e2533430cdfd3271827d640c0842f5f32600457348d20745",
        "transformer/diffusion_pytorch_model.safetensors": "4e0619241780a82bc8e2a84f7d5e4bb4bf40409a64b56ac8d3bfac49c4a102fa",
        "weditor/directions.safetensors": "75fd0d1f0d9154a59773e0cf1b648cd6f756a8a1c9a083e270d88789701aa21c",
        "weditor/pairs/red-triangle.toml": "c5f09af3a2c29ab250da334296bec321c3fb325fbf7a8518761a2d9570deb3bc",
        "weditor/readout.safetensors": "c41f95d1eaba0d92a5a1fcfcd49f71e8d3590cf0ff206cfe7e3cf13ce32c80e3",
        "weditor.json": "6a6eed1fc8ffcfd193139bb532711cca0c61ccb0131f166607c07d5d4b87abb4",
    },
    "shapes-red-triangle.toml uce": {
        "README.md": "4b355d083a0bd51ba30abf81199560cfd190ab8b268903326369076d8aae6e08",
        "transformer/diffusion_pytorch_model.safetensors": "9c79ce52a6fc1d2f18d997964d5913b664b30afe482fab16b959875c71979db6",
        "weditor/directions.safetensors": "f6414e9eab43864db6db2b7daa0ef6f3e8f5c039440c269ae621f36c6de785e6",
        "weditor/pairs/red-triangle.toml": "c5f09af3a2c29ab250da334296bec321c3fb325fbf7a8518761a2d9570deb3bc",
        "weditor/readout.safetensors": "e2639607e7a1f39cda697efcba32eb5bfc5bb197b5d70c097844d08277d7d4c5",
        "weditor.json": "20b9cde80e18f258a1be7de326f5f00343c5749b525f1bd80703305d0ce7d08b",
    },
    "shapes-red-triangle.toml safree": {
        "README.md": "ff5861c6af225f44e25c842382d1d028934a4ea75bd26a084494312ff08620b8",
        "transformer/diffusion_pytorch_model.safetensors": "65256ef0a65c9e4e70ad2d0b6beafeee62400de92883c27119c07c2b204572a8",
        "weditor/directions.safetensors": "078028c04ecad03248b21768ef523558a6b0bf7e8bcd04aedc44db888c1af048",
        "weditor/pairs/red-triangle.toml": "c5f09af3a2c29ab250da334296bec321c3fb325fbf7a8518761a2d9570deb3bc",
        "weditor.json": "82745ea00141a714971ec0b073f3070c9ba914d721bc34223e9994cb34fc6a79",
    },
    # pairs/shapes-green-cross.toml (branch conj10): a seventh development conjunction, its fixed-method patches pinned
    "shapes-green-cross.toml text": {
        "README.md": "98837147bd52d042301329a9aea706dbd37906b156dbb72442fb05c05362d0cc",
        "transformer/diffusion_pytorch_model.safetensors": "53b7f9c0e2445395c071f527f6c714a7f4049a2aaa813dbaf7353bbe62875f19",
        "weditor/directions.safetensors": "7d45fe08f1e4da089256b30a6ac472c72158c87dd99965ba86b0bd22e90b57f9",
        "weditor/pairs/green-cross.toml": "35b3935c7ade9f962ec83139e7b75e453c4afb2f1d644c095bdf706b3e9ab0c5",
        "weditor/readout.safetensors": "713b5b1f9c13aec904bcc49dde1b5719d0a7050d1244b11adf6f146ad9d8b26a",
        "weditor.json": "60636e0c6bb6e10e495346dbdd79734035bc5704eee6723f2c54281f48ba27d3",
    },
    "shapes-green-cross.toml uce": {
        "README.md": "14a471e3df5a588c9187b8a44098e6ca431376be0d8cceb131a24a07ba4feec4",
        "transformer/diffusion_pytorch_model.safetensors": "0e1ea8e858ab8228f2dea0882b891b7a0d470b424f758d3dd17718c7b241d7ca",
        "weditor/directions.safetensors": "a80ed3f9fbfcfab078cc8b3b8b4d4cad3f6bca8c5b4f83233bb46a283f4b5da8",
        "weditor/pairs/green-cross.toml": "35b3935c7ade9f962ec83139e7b75e453c4afb2f1d644c095bdf706b3e9ab0c5",
        "weditor/readout.safetensors": "74d5facc32461da1ad43a1e191da9d98e9919f3db49fcb1054eed48ce315cc47",
        "weditor.json": "cd4d35a8512caabd7f3096948d4e0af242412d02ef1c3a14a219ffe67bcd0dba",
    },
    "shapes-green-cross.toml safree": {
        "README.md": "65cc5569e42397ee7b215a64cec0f48302a512e718c2762d265efda7b524002f",
        "transformer/diffusion_pytorch_model.safetensors": "39b796bcabbdcfcbdb10066e80146c37bbb5b62e03462602d1300eb281059ec7",
        "weditor/directions.safetensors": "7c936a5ce35c899d56275ec6ced5f3ff820bce4a49ccf90a4a94fa4e049c76c9",
        "weditor/pairs/green-cross.toml": "35b3935c7ade9f962ec83139e7b75e453c4afb2f1d644c095bdf706b3e9ab0c5",
        "weditor.json": "2175bb549f6a0641e73cc15461142c3e012eacae96de10a49ff599fb32158fe4",
    },
    # pairs/shapes-orange-triangle.toml (session 12): an eighth development conjunction, its fixed-method patches pinned
    "shapes-orange-triangle.toml text": {
        "README.md": "882a8377620eb9099e8319a7818b1b06b0118100e53a4928039da09d48f44c5e",
        "transformer/diffusion_pytorch_model.safetensors": "a1ec331139dcbc3500b7bf90bc2a56296b375c67b669300158e1fa35f8321f97",
        "weditor/directions.safetensors": "0ef9645175a97620347fe38696d3e02dc7c09e876c776f9e6e5b3a1a755386c4",
        "weditor/pairs/orange-triangle.toml": "01d43480d901ae5f2a148bb05e5709442c87a664f5b5d4ff80f6390e14c570b8",
        "weditor/readout.safetensors": "d209a68333a30600fe73a21438eddcbae0ef1056172559d595687fabd1b0264f",
        "weditor.json": "3d44a9bcd97cc098ebba27a905bb5691d0510584fd230a6bd709ecbfbc5ac059",
    },
    "shapes-orange-triangle.toml uce": {
        "README.md": "2d63fb3df1b84d0cf373c9bdd9dbc3f515d0d7bd012f1d500187df99c77e4e20",
        "transformer/diffusion_pytorch_model.safetensors": "464ed75ab4de9f38f9838a6cf0b07a7eb389fdeaa2bebff673de3aaf6c4fc950",
        "weditor/directions.safetensors": "a8f0300abd9644da638f72911a65c171c276d96a71a8455d78c72ea69b92346d",
        "weditor/pairs/orange-triangle.toml": "01d43480d901ae5f2a148bb05e5709442c87a664f5b5d4ff80f6390e14c570b8",
        "weditor/readout.safetensors": "a59b043724caae2b715f05c5b7c678d398880716636faa1f3b80e32e36d684b2",
        "weditor.json": "a22fa78395a0a88a81c978d77ef53314876053c8ce6cc9283042b675dc361d85",
    },
    "shapes-orange-triangle.toml safree": {
        "README.md": "6f6686f01c89a3a2c128534f688953b077d396af140d83f713abfe65fbe01ee4",
        "transformer/diffusion_pytorch_model.safetensors": "7215d5669f60f14e10b515ccddf52b128b886057fac8996a15a110c98f13919c",
        "weditor/directions.safetensors": "e771b681002d6b61f5e41614edfa039420f138dc7f3b1f454a57a8e7f537f493",
        "weditor/pairs/orange-triangle.toml": "01d43480d901ae5f2a148bb05e5709442c87a664f5b5d4ff80f6390e14c570b8",
        "weditor.json": "78d6a15debb940d4ab67e629ba4635ba7cc02fda22006a859a7cf680eac9ea93",
    },
    "shapes-red.toml text": {
        "README.md": "221e2e9b621a299d328aeb8247af0c11b5252c52be1ede4d7d9fc3798b03fd4a",
        "transformer/diffusion_pytorch_model.safetensors": "c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor.json": "b1ac90092d7d99570be1317ef395d72fe261d673a3ee4e114c8e7eb0b5a7b04f",
    },
    "shapes-red.toml uce": {
        "README.md": "22ac764b63151fd092d90438acd4dda2b68422ba515630f795596cad5746ffd1",
        "transformer/diffusion_pytorch_model.safetensors": "cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8",
        "weditor/directions.safetensors": "68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004",
        "weditor.json": "b625993742fa8abaf5875616a85f946535664be281f7a32106a711ffb3df340d",
    },
    "shapes-red.toml safree": {
        "README.md": "60dc2e36f18f88d3a9433d0abf67c9cc927f837d499edb1df5f22763fb799ea5",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor.json": "28b0d7b2134496cf513fcf2df9555c664f7cd18b44e18f3cdfa7876c51634244",
    },
    "shapes-triangle.toml text": {
        "README.md": "f46dcd36615f80db71d6ddbe3036926fbcf91d947efd13769e0a15fffff7d59c",
        "transformer/diffusion_pytorch_model.safetensors": "be01c2399b76736d29155e1e45a648a45fc2d3a6a9dfcd098cbbda2d42227fb1",
        "weditor/directions.safetensors": "b0d48ddf4e251024390b0467f878bbe57f0257cb2c24a07c63ef2d267691a742",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor/readout.safetensors": "549ffc726ae787e04557196cdf29fcf23e823a5195dd7d8e230a4d82a746aaf6",
        "weditor.json": "2a8ac26f239594c9762f8c3236130948d1ebdf318bd7b78e2b86aa53cc50549f",
    },
    "shapes-triangle.toml uce": {
        "README.md": "00195aa71171bdf3ac1e6fc093bb56673b01d922dc0f20fc2aaa3b3e565c67c3",
        "transformer/diffusion_pytorch_model.safetensors": "d22a2affd73ebfb5f64aca73dfda71f0915ea10afd82365cf2f540c49afc9fbd",
        "weditor/directions.safetensors": "81dde9a9fe502a6881d2662ea69396966295046db86e52d46bc7eabbee9d3b83",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor/readout.safetensors": "f859e2d093a49b4b5f2675f72533bdf6f853b326b363ee2b9cec4ca263710c41",
        "weditor.json": "7dedc4770d04e37eaaee2abed300de4b9f9f81499258552201b6b9408b28e0d6",
    },
    "shapes-triangle.toml safree": {
        "README.md": "484c920fa7727656daf436fee2b5ce49cd72479caa142e05be382432b29a9309",
        "transformer/diffusion_pytorch_model.safetensors": "10012f50b6897026c7fd889c8efce2c1cf46732328e5c3136a8bed24110d34a3",
        "weditor/directions.safetensors": "0239ca2554ae231c7baff9698825c0a931e59a3d7c0dc347d3b71c13cca3adda",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor.json": "83ac652acf12717ed6047af29bc90b23324c99d3a8ecc796e37d9d30120c2d40",
    },
    "shapes-up.toml text": {
        "README.md": "e02e9c12948bb22304bae4d4ceae28f19ead5ff1826e3bccc200e2b65d7b8dea",
        "transformer/diffusion_pytorch_model.safetensors": "e4fee95138cba115c65434a0611f43d9fe4ccd0b76ff27a2bb32181df5bac0bd",
        "weditor/directions.safetensors": "84cb714162ee62c58497a0f74ba58ff2a06205cad012a7d735dcc680bc3e66f9",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor/readout.safetensors": "b1b4b30245ed2ebc99075a2ee6ca00d767509043a68561dc24e0250297de28dd",
        "weditor.json": "caf6bb49437855fb3647684c46f97f8ce1694209703d4eb0c4c3922de0c61a0b",
    },
    "shapes-up.toml uce": {
        "README.md": "c8ea67793d7e928f8c07cc3b5e0961035875a724c44c93f0dc9bb1065fe16ab7",
        "transformer/diffusion_pytorch_model.safetensors": "cee0ae961bd707f8339bec7eb5a7dc52333dae6575e98d65f49824e338cc8412",
        "weditor/directions.safetensors": "9cdd56b1a62385857edb4a5ce51b2cbc6842f651b60e04080808a56707382a7e",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor/readout.safetensors": "65fd3a82eab2132a9018e8e2a2230b2c411da9b4e81d746ea22dbf7362680779",
        "weditor.json": "a8bec5e695874a1bd8f9052529b0e88c7bb5f985567e11affecd0f05657027e2",
    },
    "shapes-up.toml safree": {
        "README.md": "af7830ee3929a46d201af6cddf3b030f2b6bb4e9f9fe5e2ea9d31bf4d9d5b2d0",
        "transformer/diffusion_pytorch_model.safetensors": "90edb51273e9b478b1057383e412269efb9fd9edbc4a73c2a3f4edd481faf967",
        "weditor/directions.safetensors": "ada39355eb4731cdd98853f0274c28d7447cffdb001747673214ea3c2463f177",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor.json": "019eda7743aeb5b5ed69cb2f7663ccf9cb98e25eb039a1c60caf70615cfb03fa",
    },
    "shapes-yellow-cross.toml text": {
        "README.md": "0817b615f522b20361f41fb59c1472004d4733442c8d6dea2be0e65e0622618c",
        "transformer/diffusion_pytorch_model.safetensors": "f27ea77c1ac35b7f6d7eecac0c0b39785c5c4c841046c5a6d72b45d5672c552f",
        "weditor/directions.safetensors": "18b6356d08eb9eba0cdfe1b2080ec8db16ffa7744c5cbc112911ccebcc928c43",
        "weditor/pairs/yellow-cross.toml": "67d6806900d60a050fca042974d4b59c66b2836306b03cadd4f57b55bcd6f342",
        "weditor/readout.safetensors": "c445ea16902c6fb324fbc5111428876d9e21035c86c239bee6b237512a6ad163",
        "weditor.json": "87f570817d4f6802f0568119d68f0304a836314c887168ba3b861d67051f671e",
    },
    "shapes-yellow-cross.toml uce": {
        "README.md": "b81442915dc6f6a27fe77dffe11c8f44d7ca8392c3549c3cad7e1dde8b47b08b",
        "transformer/diffusion_pytorch_model.safetensors": "26b5b794a535cc70ea920b9203c46fb28d830ad57e697e58dcf34d51db9e3757",
        "weditor/directions.safetensors": "9f7ad8d02ac0845167dc852858ffcfeeb3f04d219c0507ba77ab94e636f9335f",
        "weditor/pairs/yellow-cross.toml": "67d6806900d60a050fca042974d4b59c66b2836306b03cadd4f57b55bcd6f342",
        "weditor/readout.safetensors": "711551c6c02689a69a4091e5c6a17f64cec13fcd1fa15dcb170ac960eeff4ff0",
        "weditor.json": "c021992df2ea25061420c1898113f1006cd680fe7dc724249bf9f5a0bd50e2d2",
    },
    "shapes-yellow-cross.toml safree": {
        "README.md": "11125332f2c5a9341e3c7fe9d9a8536719ec91353b33bb08dcd4eb460993e213",
        "transformer/diffusion_pytorch_model.safetensors": "ce34770b739fa7302ec0400c2051ca8ef6a9ec413a6eea177f69ba92cdc40cf6",
        "weditor/directions.safetensors": "9c9f26c730329cdb14adb1d36f4ac048f316de188bbda501bff4785e9a18f059",
        "weditor/pairs/yellow-cross.toml": "67d6806900d60a050fca042974d4b59c66b2836306b03cadd4f57b55bcd6f342",
        "weditor.json": "32545e5bf7512f6dc80cc3627578f37086c9626bec47541a4fbc49fd1802d748",
    },
    "shapes-green-square.toml text": {
        "README.md": "78db7c926f9578259a310666500e82b05febd227c2cb5db4042ae24aa70a19c4",
        "transformer/diffusion_pytorch_model.safetensors": "e5129274df3d13c6fb58445394cf420cbab4882aea5e96138dafb1cbc22b3bf6",
        "weditor/directions.safetensors": "84da8afbeab9da9014563d9349cdd17a27a119e8feb19cb2e86653f20f048f48",
        "weditor/pairs/green-square.toml": "dcaf9c017737a83a3b889d3c09adf313a792ae949bf114320d11fd1e9074a201",
        "weditor/readout.safetensors": "c83d20b2a43b5022feaf693b370eb13b95a5ed9ac794cd351b4c422a5462b547",
        "weditor.json": "c13c631ace56cceb5592daf245d9b6b8c26797e84cfd9da149f87882136805c9",
    },
    "shapes-green-square.toml uce": {
        "README.md": "ad71d8e5dee732e3cd43b26b61936f09cff5d687a2b55d51b2e73c17c24912d2",
        "transformer/diffusion_pytorch_model.safetensors": "1a17d1e28e0e80063c583c505b503c1db84ee2b393b8d27e3f8ef3dddf0b6f48",
        "weditor/directions.safetensors": "580fa0b33fa574ec9e0ecfb4708df6a85ee1b6e51a51e1084b7af89a9228fecc",
        "weditor/pairs/green-square.toml": "dcaf9c017737a83a3b889d3c09adf313a792ae949bf114320d11fd1e9074a201",
        "weditor/readout.safetensors": "83352cd18019b2f2f0675abdfeec8df32189bed512a048faeabfa498bbfd5b66",
        "weditor.json": "53918a36a1cc58ec025af110d20015b9fb118aa388cc4abcbc0666057c704e7b",
    },
    "shapes-green-square.toml safree": {
        "README.md": "b42544d943c499bbb3641447b52cc0590645129618a90ea73dd3a9ef0ef3f45e",
        "transformer/diffusion_pytorch_model.safetensors": "e0aef1b1a5ba31ca42abc423d4c0433815880de1a7c32b010ea1dcd161f682e9",
        "weditor/directions.safetensors": "3649d2c4fc474684a8311395a115619ce071bd1c1c7de7942a7861431129be97",
        "weditor/pairs/green-square.toml": "dcaf9c017737a83a3b889d3c09adf313a792ae949bf114320d11fd1e9074a201",
        "weditor.json": "9e560f051016b68bce77ae50bdea1798d673d1d2583abe7fcdc127c328840877",
    },
    "shapes-orange-circle.toml text": {
        "README.md": "a9d60be25aca44481edfde15228b883c56f2ab61027112a47c947b84abdd1f3e",
        "transformer/diffusion_pytorch_model.safetensors": "a83c40734d90b95bc741504f4a245b8841bd90636637c52ae2f7b2b03579dc4e",
        "weditor/directions.safetensors": "a8661036608502d4128b7231fb7cb395c4f472b5cb7be2acfe325349827dcc05",
        "weditor/pairs/orange-circle.toml": "5360a3b1a40a27f0899c39a40ee55f7db16b365483e937a242b68219fa01a3e6",
        "weditor/readout.safetensors": "814ad7b01909092e942c9e65941c596078acf4d5adf89572fd5010d274bcc0ca",
        "weditor.json": "f4f65fbce63705942fa49d17ad2b3032da408e0953291b71665a6411de759439",
    },
    "shapes-orange-circle.toml uce": {
        "README.md": "8933f975b913ee4eb9f828f08f91a22c7f96b6a6d245d029e144c1dcd3aa19aa",
        "transformer/diffusion_pytorch_model.safetensors": "76835b133112a70a3d2bfa3fed863a16618fe67cdddc0257b23cf02c72b07a7d",
        "weditor/directions.safetensors": "4ef1310a80661e16ff7d60bb637993bd73b4a80949bc513c1f520f8bb6d67b61",
        "weditor/pairs/orange-circle.toml": "5360a3b1a40a27f0899c39a40ee55f7db16b365483e937a242b68219fa01a3e6",
        "weditor/readout.safetensors": "d88883bb5489d73b57972b99ec6db0677f6a99cd6e551539012e34b6c9480ee9",
        "weditor.json": "cfb96ef9613c4cc653475c5043789e501c4d6feb536595df3ef640c099952599",
    },
    "shapes-orange-circle.toml safree": {
        "README.md": "ec0911effdf0c263cb6b5778b760e4d5e08a2b9d8c1aa919e684bd5f5041f39d",
        "transformer/diffusion_pytorch_model.safetensors": "8a2915caa23ef75ec49d0bc492b27cf477a17eda63ff27bfb0298ef90e3eca86",
        "weditor/directions.safetensors": "3335390de250bde12862209f0a4d22864a4f8cf0226ef777c95c166c1760a9b8",
        "weditor/pairs/orange-circle.toml": "5360a3b1a40a27f0899c39a40ee55f7db16b365483e937a242b68219fa01a3e6",
        "weditor.json": "2fe8194ca7c8661c6affe62a29346e7d01d21e89e85985a3bbf4ee81d5d1e77f",
    },
    "shapes-blue-triangle.toml text": {
        "README.md": "835d9243d16ab37f1bb9f1ba2917097d549f2beda99a1214ea4debf230a14564",
        "transformer/diffusion_pytorch_model.safetensors": "1ac011a97a47882b4fab0f697c7ca41a1fc5caebbcc856c07a2640efc00dd66c",
        "weditor/directions.safetensors": "50d6b9f85cbdaa59b5b4733bd8b0d7abad5a47ae04b48ae090fb2b56f2606980",
        "weditor/pairs/blue-triangle.toml": "6b1f6fc2d19f54a59f7f56479115855f82e7b98dd1eb2623cb387eb49d51855b",
        "weditor/readout.safetensors": "ae79f3518ede78048aaef3f76707418ede2a552a02879687692d5092af490fc3",
        "weditor.json": "9da1325a3b8201d2f4a6788672e06410f4e806f37b1f3f798b47705055567da1",
    },
    "shapes-blue-triangle.toml uce": {
        "README.md": "1ab262ae463780f0fcfc23e33b406935681af779d7367fc5ddf76b781c63710e",
        "transformer/diffusion_pytorch_model.safetensors": "9b5074cab9c2324c742f722bb5c78f9e2490b5c06a184c2fdf9a793a415a11f6",
        "weditor/directions.safetensors": "ee833a99ce9d197eb3c9d9dd1c740fa539c6082e5d08dfed12a9750a4c918366",
        "weditor/pairs/blue-triangle.toml": "6b1f6fc2d19f54a59f7f56479115855f82e7b98dd1eb2623cb387eb49d51855b",
        "weditor/readout.safetensors": "2144193fa6476a4c142fcc2fd1ee5599376196a55df61893e9862a53f82ab65c",
        "weditor.json": "e0feba1105387d19b536e1e3ce7c31a49be9c8f4d7e96fd927908c777540e624",
    },
    "shapes-blue-triangle.toml safree": {
        "README.md": "19533be30a57671aa0e6775075b276820b80eef04ffbdc9931da64ff9a5822c6",
        "transformer/diffusion_pytorch_model.safetensors": "0eb6304419149eccc31b41d4b3f2edc5e8cf5a43c24467fb7778aee0281a010f",
        "weditor/directions.safetensors": "d1dce3e2014c7d70add83f4b521a7589f6e62f5dd763d7b17dc44e6a9cb6e958",
        "weditor/pairs/blue-triangle.toml": "6b1f6fc2d19f54a59f7f56479115855f82e7b98dd1eb2623cb387eb49d51855b",
        "weditor.json": "2301462e043a57f457228b04f9ed4669471dbbd1c16b72edb2be8727b3106a18",
    },
    "shapes-cross.toml text": {
        "README.md": "2b716f51a899220c4a922bb899e6b55c2fe8ffcf9f5d251fff8ced7d9ca1f8fe",
        "transformer/diffusion_pytorch_model.safetensors": "e703f55551616b2928ed6bc986cf4016c60d0a0a4ad17f04c8db1a724186f0ef",
        "weditor/directions.safetensors": "61e3fa0d0f4fba6d78a9a0b2f23f4f15f379454590b11d94502dd92c8138e353",
        "weditor/pairs/cross.toml": "8e51bb087b4ef52a69ced10234ad731f3a8e37892e8e3a7716fbd54d9f020df1",
        "weditor/readout.safetensors": "7bcb644472bc5bc99769c66046acac7e9406aaaad5862c92f3f18ef2e9598850",
        "weditor.json": "5c7fa31482672184033d30856034cc5b0ca8ece5b0b96c75a557aaf9f242d6cc",
    },
    "shapes-cross.toml uce": {
        "README.md": "52850bd832997fde1f984e4b9e6e1402dac48a7cdb60d0e927c1f39df72fc2fd",
        "transformer/diffusion_pytorch_model.safetensors": "ef54b03c622a2f8e8749ba37ab9e19fa62299fb19b1e155ab5d1c653b0a73913",
        "weditor/directions.safetensors": "73bb57942c5767c74d880f8ba320e25b628ca7fa4cb84bf66747d1ab5ec97192",
        "weditor/pairs/cross.toml": "8e51bb087b4ef52a69ced10234ad731f3a8e37892e8e3a7716fbd54d9f020df1",
        "weditor/readout.safetensors": "89a65baf0305dfabe6462e3d77d8ef3653dfee030fd8979c1285085172b49e09",
        "weditor.json": "0435c4efba02523d8239d285b8f90fd23f7a203ff649c60d0f012da99d5b6fc2",
    },
    "shapes-cross.toml safree": {
        "README.md": "58e64063177da0a3980bcdb6c654466257df51b4d65b3760d75f56445861ab24",
        "transformer/diffusion_pytorch_model.safetensors": "1eab6e694b3b6a790908732829abf36577325095ce26fd446c6b891622fb2782",
        "weditor/directions.safetensors": "764b4d958a7cb43d8e8e9ab9e209895781267c34916a425bd6387eded6b37829",
        "weditor/pairs/cross.toml": "8e51bb087b4ef52a69ced10234ad731f3a8e37892e8e3a7716fbd54d9f020df1",
        "weditor.json": "1dd1efa83cba2043e24d264d932988e98abfb1fc03fcc8a91cabf93f02fc4783",
    },
    "shapes-purple-square.toml text": {
        "README.md": "a0b29dffcaae1569ae60b4c2ec03f69935f6ee55a8e29a827c622ae6474b2853",
        "transformer/diffusion_pytorch_model.safetensors": "fd5214f64bc685550815e92270cf7b576bd361303679d148f57c6dc27e1410f7",
        "weditor/directions.safetensors": "6be275c4c1c7e60ca3f0c9764b37ffb9e9f9ad010b6ad3801adb404dd52b7fb4",
        "weditor/pairs/purple-square.toml": "a434371d998b2219cd1d3bfa98d819cc588f5a2fea254bf368810623675c90c0",
        "weditor/readout.safetensors": "c595f1e7dbced655cc69489d6deb8f91e68fef8541985cca50b1341f85771754",
        "weditor.json": "a29a30b28f87963c711bfc657d1352bfb915eab7e6fcb8fcf1d36557e70dfb2b",
    },
    "shapes-purple-square.toml uce": {
        "README.md": "e92c753a85fb878a24224d41f5f775ce397a9bc6f8407c7718456ddfe568552d",
        "transformer/diffusion_pytorch_model.safetensors": "79db399a88830b960513a4aae04f49a923cba9d9111aa3068544a6260bb8eb73",
        "weditor/directions.safetensors": "f4a2993d8e65cf51c07eab5fac2c6ffccfa8d44a1bce8663cdd3ce9cb47e1133",
        "weditor/pairs/purple-square.toml": "a434371d998b2219cd1d3bfa98d819cc588f5a2fea254bf368810623675c90c0",
        "weditor/readout.safetensors": "328867e33d44a1b05358b6ec2c45742eb3f68ce2ca0d08a82812443d93562c1c",
        "weditor.json": "83044c6ded3455d23c90cdef07615704901c1ff27d153282d799da68603629f2",
    },
    "shapes-purple-square.toml safree": {
        "README.md": "03512a5ee76b0b8d83b619c3b29150338003847e7bb1ea9b608345eda4a58c83",
        "transformer/diffusion_pytorch_model.safetensors": "07af11cda1112e39233263cc4b8567cbceb6258898039dc88173b9665a7b3781",
        "weditor/directions.safetensors": "6947058e800a3a11a49f9188b8df3427e9db06a768aff7cbe8d711a0cb3fa4e3",
        "weditor/pairs/purple-square.toml": "a434371d998b2219cd1d3bfa98d819cc588f5a2fea254bf368810623675c90c0",
        "weditor.json": "8794073ac7b10af1becc0a9eb44e206a263ffc55c0ca86b864b891d29644d3c1",
    },
    "shapes-red-cross.toml text": {
        "README.md": "ebe4130747c4fdf7740b74dfc6ab1e75f9334b1319e69c7d0e6c326e7780635c",
        "transformer/diffusion_pytorch_model.safetensors": "a08bb9f2a71039b283bcc110697e55cf895d2a7187de2ea2f9562d3621339595",
        "weditor/directions.safetensors": "09b0aa8b8170b7c129e941a10c74b888c3d043c5c9222c026d197de172bc3c02",
        "weditor/pairs/red-cross.toml": "72556b1d6f171b52832479b2b4872c59e99164d69f7193df8fce7d2fa5b33b11",
        "weditor/readout.safetensors": "c629d6105da03860ee4fc77ea1aefc821279a97a90bae2f41ff30a785a053c3c",
        "weditor.json": "bf0d4f17a6c431a127ad101aadd2d2a1720eaf6545419b3f1ca8c2f8182ff927",
    },
    "shapes-red-cross.toml uce": {
        "README.md": "41e686494c36d3fd9eca52e27f39519c512e0a53e8a4b6341116371667305e53",
        "transformer/diffusion_pytorch_model.safetensors": "626184f657edbfc8bfe3f729d1a365dd320d15d17ad3919ef447265cc595664d",
        "weditor/directions.safetensors": "96aaf323624b75ab0d5f09cb62dc182fed87f8e2c75cccd2284f95fd3e288c10",
        "weditor/pairs/red-cross.toml": "72556b1d6f171b52832479b2b4872c59e99164d69f7193df8fce7d2fa5b33b11",
        "weditor/readout.safetensors": "942eea7319e6dc57ef0a353e479173ab6a7b3107c1209d7ccb71533f716ed2ef",
        "weditor.json": "5cfb55e3d88e4e05f188a4d0bac6df4c92976c43c6cbbdfe6d20c93d5f3fc4ee",
    },
    "shapes-red-cross.toml safree": {
        "README.md": "6c08a13beea9b96d9d610f920d00127c87b72a4ba0ed9f28b75c94a3238c677f",
        "transformer/diffusion_pytorch_model.safetensors": "e3ebba88523b8d4bf281018eabcaa1d2ff830f191e4f430667f4c43961f94222",
        "weditor/directions.safetensors": "9f19e81c0c41643679694aadaecd0fa177b99e4016738938595ae4478b79bb99",
        "weditor/pairs/red-cross.toml": "72556b1d6f171b52832479b2b4872c59e99164d69f7193df8fce7d2fa5b33b11",
        "weditor.json": "7f110a476d8e74d11cf68bf5e6763a52aae9ffe448b7100beabda3f0024cea60",
    },
    "shapes-right.toml text": {
        "README.md": "361de29eaba9827f1c1eca0f314fbb3296ddad362e315f2133a46e4215240138",
        "transformer/diffusion_pytorch_model.safetensors": "5f8c13f4a873951fd12986f4073f07185590756e9ac4635d70db725a7e9ec1f9",
        "weditor/directions.safetensors": "2eddd2076c0a5c69dbf1443f39f5a04251e774ef5ad515528bbcb8f79f517440",
        "weditor/pairs/right.toml": "27369c1b4b58f5a6fa2376abfb20dfe8586d4bae2b474c340e8dc60a3813077c",
        "weditor/readout.safetensors": "67c42de01f7b4f8f42b2f273e6b596bead0eeff164bfb6d645f4a0ae0cbf0319",
        "weditor.json": "3e57fcff81d480867d1780aef3cb0bd9cb07b05ccdd9fb57de1b71cc65f9f522",
    },
    "shapes-right.toml uce": {
        "README.md": "a04994e080a738ee32cdb65f4b067ebc898544ba15a486a9c3c193f615949ad3",
        "transformer/diffusion_pytorch_model.safetensors": "5fa133276253ea6e511fa21bd70086dad7efd7266ed1fca74efd407720306a06",
        "weditor/directions.safetensors": "312a25b3c3bb8cc4b18ae299a96f044836b4dab7649bd62920cb7a005b227d8f",
        "weditor/pairs/right.toml": "27369c1b4b58f5a6fa2376abfb20dfe8586d4bae2b474c340e8dc60a3813077c",
        "weditor/readout.safetensors": "d6a8f2895b407d38029e9e886011d4cd2140154fb6ef0ed37e57243a84c79f65",
        "weditor.json": "c4091c7a9a49a61cbefe420612ba89f5ec502691d75604c14252b5ac3eff4a5a",
    },
    "shapes-right.toml safree": {
        "README.md": "3202c7e52691c2b4094f544e99e4d4779cf9ced001a3feed72614ba56b1c50bb",
        "transformer/diffusion_pytorch_model.safetensors": "20cd8243ffec6dff3604ac1b26685c9a6675c31ad26f5d144ce41ec2751e85f5",
        "weditor/directions.safetensors": "4ab346bdf7dd281dac3aa07580ceadd1ef810b92d92b3f16293c160a8bf0eb0d",
        "weditor/pairs/right.toml": "27369c1b4b58f5a6fa2376abfb20dfe8586d4bae2b474c340e8dc60a3813077c",
        "weditor.json": "ce0450eed9e3e8f346a5b2ec3a3c7d0a8de272209df33f9f51a6afe30c997d85",
    },
    "shapes-square.toml text": {
        "README.md": "ae821c75cbfb9538444d7ac7170f854671a4c1bc4b3e099b77b65c93d7c48c70",
        "transformer/diffusion_pytorch_model.safetensors": "b5c72fd2a6418a941634f61aca8c84072f4c4bf7732d7892009c68e60b88d5bd",
        "weditor/directions.safetensors": "cc14a7a5400c266d88f99a63a0b663a29a1c6d38ae548232c781d2582c88cb0a",
        "weditor/pairs/squares.toml": "2a4d06b775f1bcd21a221495e5056720231eb3a5858f78e467ad583923d7bc41",
        "weditor/readout.safetensors": "bdc46e9ffb5b4220afa39834c1c55e8296238dfbd8832cb88fafc41fc81d598a",
        "weditor.json": "6ffedea02c1cede278e9a033d90a15642fbfc85ef321a95cf8366f961ddafcfd",
    },
    "shapes-square.toml uce": {
        "README.md": "6753fecf4597c178bfd6ff5a11849582a37edd1394ab67c18334491c4c9cc088",
        "transformer/diffusion_pytorch_model.safetensors": "4a1c0579a4a2da7f77354f8d0123940f7b93b6fc25a2de445a33bf6b56ab4308",
        "weditor/directions.safetensors": "6e9df5afdbf2ddb1a9229de9b87be16f478f01600ea5fe4e122976c20cd694ad",
        "weditor/pairs/squares.toml": "2a4d06b775f1bcd21a221495e5056720231eb3a5858f78e467ad583923d7bc41",
        "weditor/readout.safetensors": "194d107f4d43dee7f963792472610f312605fbdafac769264b17db95f141c857",
        "weditor.json": "b7c6584be651355bc8335a12a691ab5663416e064a3bb09ecdedd4ab03d813ab",
    },
    "shapes-square.toml safree": {
        "README.md": "f879d424126d1cbd829e0a53113ecf8edd3b9ad7e66abe883c5221a45d4f1f87",
        "transformer/diffusion_pytorch_model.safetensors": "c72e46c0d506f2940c1438557087d06b93e2a46666966dfa2eeb727fb032e63f",
        "weditor/directions.safetensors": "a8a5f2bde093b97edaedbef09053abae206be4924d1b86936139596fac40abff",
        "weditor/pairs/squares.toml": "2a4d06b775f1bcd21a221495e5056720231eb3a5858f78e467ad583923d7bc41",
        "weditor.json": "05fbf293c4ae8005d6b39a795ce4435bc7e5ed9ad5bac434794b35c9ef6e1780",
    },
    "shapes-yellow-circle.toml text": {
        "README.md": "caaccca2a8570750507d5eeb84a4c5b0b2c3729c1977dbd8b1d4960fe2bcee3f",
        "transformer/diffusion_pytorch_model.safetensors": "08386c0127ba041d6a7e5420e23a3a085d18b10fa71298d8fab5f04d289f6973",
        "weditor/directions.safetensors": "5bc77213b95516e3d1a23ce7de861c20920d437381f46fce2f5503d11cba65aa",
        "weditor/pairs/yellow-circle.toml": "93a7fbd02eaa25b5c8a329ed6863762e651863c858067a29036383a45ecf0c04",
        "weditor/readout.safetensors": "b01e443c9ae0989337f97acb72646053e6486bcd257d7eb3c5035700a52c0e60",
        "weditor.json": "cb309bcf9b936ac890b3882c9a39795ababf6859af85c23e24576023cf5c002a",
    },
    "shapes-yellow-circle.toml uce": {
        "README.md": "2a044f2a010bb5161de02adf6b1085b17eb2b34d663dff4741395a1e69af5703",
        "transformer/diffusion_pytorch_model.safetensors": "544e54eba0383e54ad59d9e71465f0a02b921be34a3408fcdd0c57f2bbe50f48",
        "weditor/directions.safetensors": "33d71dcd4c8c109d95b715080c1fd8dd9fc9b0f0528c0913000ac6f3409ab192",
        "weditor/pairs/yellow-circle.toml": "93a7fbd02eaa25b5c8a329ed6863762e651863c858067a29036383a45ecf0c04",
        "weditor/readout.safetensors": "328fd31e65f0f3b7b739cebbf5976093c67eb23de61712f667f7b3af691943b4",
        "weditor.json": "63e2cfed771febc4221ae65fae6c546072f7aeaee2ed60f3d81c63a293138ece",
    },
    "shapes-yellow-circle.toml safree": {
        "README.md": "ce41449cb34bb37e0cafa8f8ce584f75ea5378665ba4737d7b8d4bcb3581f7c8",
        "transformer/diffusion_pytorch_model.safetensors": "c8dafed138a2f112bc606ecd1a3ebe99574c837ad283f9bfa7e009317848b610",
        "weditor/directions.safetensors": "8569c7f684164963cf7476b04cabfa4b0c945ee9973531fe3c315e12ceb16806",
        "weditor/pairs/yellow-circle.toml": "93a7fbd02eaa25b5c8a329ed6863762e651863c858067a29036383a45ecf0c04",
        "weditor.json": "63c8e2c19afa95cea7b2bc12ab638a9db63a7680f9efe07adcf7ef8593419da5",
    },
    "shapes-yellow.toml text": {
        "README.md": "470e0b1bc44b9a8b4be3f13776983dc44572df52b5256016f834c9639dd87d94",
        "transformer/diffusion_pytorch_model.safetensors": "21b5d7c6ff7885922661ce040abf872b36d80142ba45290c8c9a7f11a2e6e4d0",
        "weditor/directions.safetensors": "abfbcfd5d2c83c106d9159d9951c81635b9783ee27467fb5076315885ed1297f",
        "weditor/pairs/yellow.toml": "ee32ad7c95f8d930f1f2f2ae3773119c130885f4101c6198528020049d76a414",
        "weditor/readout.safetensors": "8e717f5b7556c6017a7f6a143625ed0bf28e04065e18ebccb9a7b2f0c4188029",
        "weditor.json": "1b40196d65d593ab032635ca0569c481264c5f23626b6f36b585d241994f7721",
    },
    "shapes-yellow.toml uce": {
        "README.md": "96c5eaca1dec2bad1b09646259f8edd6d436a85f2b6b8c56dffe0728af99092d",
        "transformer/diffusion_pytorch_model.safetensors": "1ef7897146804ece0ab57f8e13fd6f95d235a6dc6d67b15fc5e06aa095be251f",
        "weditor/directions.safetensors": "df2b44b7f36431a324687de0efed93f1ea60eecf0eab8437fccd296350a893dd",
        "weditor/pairs/yellow.toml": "ee32ad7c95f8d930f1f2f2ae3773119c130885f4101c6198528020049d76a414",
        "weditor/readout.safetensors": "b66f6d6e061e18321ecf5af8fbf636f5cb815bb98a4a3914e0ca5d596818e191",
        "weditor.json": "a2e3895dcdb89daf5d46b18c605691a08be8e089edc8eb987992c9929e471d19",
    },
    "shapes-yellow.toml safree": {
        "README.md": "f905f3db4e43e17914601e0d1a4f375aba07ab3b7ae8c9d8385ad27aee016b63",
        "transformer/diffusion_pytorch_model.safetensors": "029453f9a738e0efbf22561fbc74f8d4c0da9b89646c8df1b0dfd23bd7b18648",
        "weditor/directions.safetensors": "ea3377bc64977d0437760dd841ab570dfb5ade18535b5fcf55399011c735b526",
        "weditor/pairs/yellow.toml": "ee32ad7c95f8d930f1f2f2ae3773119c130885f4101c6198528020049d76a414",
        "weditor.json": "a6621c8af24b86585002e9e1000547437ac829d115b479a30f4d185cd9a9251c",
    },
    "shapes-circle-square.toml text": {
        "README.md": "64f0b79a1b6cb1f2484dde97fa3f86189c89ed289e7096b4003cbe953231ec15",
        "transformer/diffusion_pytorch_model.safetensors": "f19923ca445931d1b57583245842d26e7c95ddd89e92dcda6acda05a78f99387",
        "weditor/directions.safetensors": "3b90b2bf953e3029fe3dd64c939ceb59e83f3057d5ae1996003b1987ceecd004",
        "weditor/pairs/circle.toml": "787f9c1b3994fbfb99f1fd16d9ab5d8ce4722d922efde842e259ef2996a75082",
        "weditor/readout.safetensors": "feb0cce11b1387a999d51456924996c545e55701ce45ddd24c9009c93201dd66",
        "weditor.json": "dcc2382617457f1274a9f7975012653f67bd02c9d2cc56a417f4a609ae608455",
    },
    "shapes-circle-square.toml uce": {
        "README.md": "fb8d0853d50afa5978b6dca6106c55b30d1cf00b57787c8032da305a2c21e59b",
        "transformer/diffusion_pytorch_model.safetensors": "ef711eb3638727617782573ead71d5c00c58b8fa1d8f86cf86e6d41aacb272c1",
        "weditor/directions.safetensors": "c5036e005e8550cf77be6c35c474c30ac977fb4c3424e0a0429170135a0d68c0",
        "weditor/pairs/circle.toml": "787f9c1b3994fbfb99f1fd16d9ab5d8ce4722d922efde842e259ef2996a75082",
        "weditor/readout.safetensors": "f2ecad9a0268b6c84a43245d3b3db966562aa607d91b4e6c0029862d2a496c7b",
        "weditor.json": "435036bd03d7c1b9e1bf5f1816275bd687e33ab546310d7b2cae8d993dd68a52",
    },
    "shapes-circle-square.toml safree": {
        "README.md": "b3b2718c42ba9b7ef1067afab7b707111ac844f55714b2547d005919a00868a6",
        "transformer/diffusion_pytorch_model.safetensors": "4afc3f7f067fa1850fed07b39a0a70c27a6fc0a1ce425371310e77d939fe9b8f",
        "weditor/directions.safetensors": "9d4cf0634d947e0b88a3990db99305c0985e9f028b1d22ba6260d8bbb33fefe0",
        "weditor/pairs/circle.toml": "787f9c1b3994fbfb99f1fd16d9ab5d8ce4722d922efde842e259ef2996a75082",
        "weditor.json": "707d890b8fe344491e7f295319c33f8158954974765ff6f4a4eff341f91ef3af",
    },
    "shapes-red-orange.toml text": {
        "README.md": "f9417959639daf54d3f4f26417f9101f42793687806956443064b40e085f19bb",
        "transformer/diffusion_pytorch_model.safetensors": "10684107bcb15614687a9ad53935d90b764400f75c9afe97e9602b17731f1d19",
        "weditor/directions.safetensors": "ad0b3660c501d86405455a966239b774972ce88577edad19136522baf63c5ed9",
        "weditor/pairs/red.toml": "fa267f871170e448a239e418ac61f923908de4da40d4df04077f27cee7e0311a",
        "weditor/readout.safetensors": "ff963ca1ec3e2d55d342d8240ef36a5e8ad814701acd7793706e14794a48fd41",
        "weditor.json": "8d20043add22e0450806d894acfae01ae2ded7ba20519aff29ec73f0a61bb0ea",
    },
    "shapes-red-orange.toml uce": {
        "README.md": "0633feb2ecb899a08e4b5dda805874e1472c3771c33e274564a7062eb28152db",
        "transformer/diffusion_pytorch_model.safetensors": "6fc372961b3046a8163ffc7bf9e6d5481a14ee77d2baf27cf6a3f260e3705dd8",
        "weditor/directions.safetensors": "bfd302d401712d4047444f92ab6be272d0ca0421e4e9c3aadf87a146235ec078",
        "weditor/pairs/red.toml": "fa267f871170e448a239e418ac61f923908de4da40d4df04077f27cee7e0311a",
        "weditor/readout.safetensors": "837f6441b72fa70caaa374109766ecb44f95c463af79c1533f1fe07845324e4a",
        "weditor.json": "c283a6ff6c53aa59c5e9ca1275df67a1d0e8f8e2138442419c05fd93460e97e8",
    },
    "shapes-red-orange.toml safree": {
        "README.md": "ed2b19dcc9919907eae696a9ef6b4e86cba17d396d327c292cbca692474f7d7e",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "fa267f871170e448a239e418ac61f923908de4da40d4df04077f27cee7e0311a",
        "weditor.json": "7342d7afdac1774e9cfc6f26f402273d1269b1bdd454425921330ec3ba1c003a",
    },
    "shapes-red-substitutes.toml text": {
        "README.md": "09c40cef46e91861005a05a37c45ed2990026a7a7b3e632177a5b5ccbc4ca072",
        "transformer/diffusion_pytorch_model.safetensors": "1afa8da79735b4a5b50352a6f9736113fe61d7872efac216e6cb58039d400278",
        "weditor/directions.safetensors": "77f19eb2df4d93454bfea442e86267fe927457b44abd9af4e58dc517e93365c5",
        "weditor/pairs/red.toml": "0d4a2cca763db2723590a3f9fb2fb30b69f8ac7da4b4fd655dd0b82a1ceb7866",
        "weditor/readout.safetensors": "38a7e324a315b9eef98e991ce4669efb1768deffc98703cfe6ca5d33752db87a",
        "weditor.json": "8cf0a8d082e8ce2427d4e72a680aadadc06440a73444b6f0d212543c0bd3127e",
    },
    "shapes-red-substitutes.toml uce": {
        "README.md": "c23bcfd3e7bbdf0b1987cc991542f99a814c318171f720e25348ea387fbcebcc",
        "transformer/diffusion_pytorch_model.safetensors": "1cab0ece1b68765005ddf36b07e8fc268a9b89813c245ee784f7f56e2b5b805a",
        "weditor/directions.safetensors": "3264c14e1084b366e094ea563a27fbcb37b13526f15e99549b7fc759b12c1b50",
        "weditor/pairs/red.toml": "0d4a2cca763db2723590a3f9fb2fb30b69f8ac7da4b4fd655dd0b82a1ceb7866",
        "weditor/readout.safetensors": "09397f68f2eaf536f63f6b22404cc0d8e551cf1d7a13b96986fd40903a18a16c",
        "weditor.json": "d063deff7fd2fa8de1aaadc4d0eb4027db36b35c51098b65a76296089b479dc2",
    },
    "shapes-red-substitutes.toml safree": {
        "README.md": "e19878f299cb2981dd48ed7f8f4e50c3669d59e3b686c4989a887493465714df",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "0d4a2cca763db2723590a3f9fb2fb30b69f8ac7da4b4fd655dd0b82a1ceb7866",
        "weditor.json": "eb64641bb65e4eb308f07d2b096b22340a33b4f4c44b896f109e4575e87e2e81",
    },
    "shapes-blue-triangle-dev.toml text": {
        "README.md": "72d28168948f38992c7438ffc4beca2ab4b06bfdefb1d05d79dd3ea0f4df511c",
        "transformer/diffusion_pytorch_model.safetensors": "9f2b2fe742d828ebe334904df16c7c846414647f557603a3f1c76fea4e5e442d",
        "weditor/directions.safetensors": "fad0c91c8cd12911a91e753de9f7f28d2497e1ae63d9914224d22dcce74f402f",
        "weditor/pairs/blue-triangle.toml": "ecb36f4db723131b473e63727474702c8b0060dcf08c00b88876577ba5862dee",
        "weditor/readout.safetensors": "16a7a9c2aa161d76e96edf3eda2c7d48cabca75aade5464ec912f05748b15e73",
        "weditor.json": "59bb4efa5b705083c28d67109b69deea356ab2fef39362c5c75d1143db593bdc",
    },
    "shapes-blue-triangle-dev.toml uce": {
        "README.md": "29989097ceb74edd6cad1b776b4b0aef3560788cdc2e17bde1463a847859c497",
        "transformer/diffusion_pytorch_model.safetensors": "0b3b9f9e3b7ed1a2a38b55472ee1e2c5fe7aa16e97250f41ca70f3f8c7b364bd",
        "weditor/directions.safetensors": "53ed9fd7399b65d8d9e8f58fbda2eed19b261b2480fc2cf9dac0a7747e20270e",
        "weditor/pairs/blue-triangle.toml": "ecb36f4db723131b473e63727474702c8b0060dcf08c00b88876577ba5862dee",
        "weditor/readout.safetensors": "ba3441c34a8a95a7a1f7bfce6bb517812927512441902c2effa85adc2cc860fa",
        "weditor.json": "bd2374cf1fd88d2432942529a2de9dd1403e1728039e0eec56bb488c23c0f060",
    },
    "shapes-blue-triangle-dev.toml safree": {
        "README.md": "e414e8a91bd2c2658f64feef5f37f07d7bcddf4acd4030610d4040d930644eaf",
        "transformer/diffusion_pytorch_model.safetensors": "b77f982ef6c5fcc51508fd777c1644ed052d75058f4557764e5fbd5176f3bbdb",
        "weditor/directions.safetensors": "a4ee91f9a5fba86accd2c243e9636bb60d23d61d555e07f477e8105dd674faf0",
        "weditor/pairs/blue-triangle.toml": "ecb36f4db723131b473e63727474702c8b0060dcf08c00b88876577ba5862dee",
        "weditor.json": "c5f17c3fa92bcefa6510764fa1717ed17fb060e0cd9c48b8f767e176e7ae4dc3",
    },
    "terrifying.toml text": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "terrifying.toml uce": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "terrifying.toml safree": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml text": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml uce": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml safree": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
}


@pytest.mark.parametrize("method", list(PAIR_METHODS))
@pytest.mark.parametrize("pairs", PAIR_FILES)
def test_every_pair_file_per_method(pairs, method, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        ["patch", "--pairs", PAIRS / pairs, "--out", out, "--no-tune", "--no-summary", *PAIR_METHODS[method]]
    )
    if result.exit_code == 0:
        got = written(out, SHAPES)
    else:
        assert result.exit_code == 2 and not out.exists(), result.output
        got = {"error": result.output.strip().splitlines()[-1].replace(f"{ROOT}/", "")}
    check(f"{pairs} {method}", got, GOLDEN_PAIRS.get(f"{pairs} {method}"))


# --------------------------------------------------------------------------- tiny random pipelines

# `weditor patch TINY --pairs tests/data/tiny-red.toml --size 32x32x5 --no-tune OPTIONS`, tensors only (the recipe
# names the base folder, a temporary path).
TINY_METHODS = {
    "paper-site": PAPER_SITE[:-1],
    "refusal": ("--method", "refusal"),
    "text": (),
    "uce": ("--method", "uce"),
    "safree": ("--method", "safree"),
    "refusal+reins": ("--method", "refusal", "--reins"),
}

GOLDEN_TINY = {
    "paper-site": {
        "transformer/diffusion_pytorch_model-00008-of-00014.safetensors": "569eb3222562ed39576828f8d6dad8843cd452e9258d0f1461e1ccdcec21fac5",
        "transformer/diffusion_pytorch_model-00011-of-00014.safetensors": "441c3877b21e23f87374684d9fd12fb0c0ee4dbc28d70b145d3e6d5d02cae48c",
        "transformer/diffusion_pytorch_model-00014-of-00014.safetensors": "ab7b70785620cdf500ca1233e1d1349af98e5d63f8800d0868b80c74e497ea74",
        "transformer_2/diffusion_pytorch_model-00008-of-00014.safetensors": "79e94673afc174f323591a4adf79512d9082f367721beef7dfd5407ed1dde0d0",
        "transformer_2/diffusion_pytorch_model-00011-of-00014.safetensors": "0ba7e161618e164ece8cc748cfd6848e00ed5d4dd2b7b47360ce9f6bc260103d",
        "transformer_2/diffusion_pytorch_model-00014-of-00014.safetensors": "ed2176ebe1a84a054a60c8b77369d4676b283029c40e2a47048987604b94c3cd",
        "weditor/directions.safetensors": "97b12e7bfc942393ca31dfbea5032679e09eeeb18fd4bcddc50b8e543f8c1ad7",
    },
    "refusal": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "c1403f2933ad244d66b80ab5a980b0a0e7c5e6bde3806b91047b371e0fd0c329",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "dd1c489dfb0fd37cf535639f2145d84eb41b175d4813a15cecfa5621a5df251d",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620",
        "weditor/directions.safetensors": "bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d",
        "weditor/readout.safetensors": "a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e",
    },
    "text": {
        "transformer/diffusion_pytorch_model-00002-of-00014.safetensors": "53f8dfe339f8cc84d181d8d9584ad29b8d6587ac6055e11614da44017d8d0337",
        "transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors": "442ad05329f9d8e582dd2a5cac4bc600eaf9bba2dabaa2ad349d7f2dee08cff5",
        "weditor/directions.safetensors": "453d59a80c2909fb9a978e4f93f83d007b62029d909244e0e61d89773f0632bf",
        "weditor/readout.safetensors": "9698a911407a2b676e14c60c8999f7721c4a8abf9df9687f8c57bf47d9e71341",
    },
    "uce": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "8b5cf0079d1aead1ae41f7915744bf6b13b0f662db2f517f8ef3335e541aa3e1",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "bd0bc80f0d5ac4b1c451ac70e5320f01d0e3d1b470d32445afa0bbd58ea8e96b",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "a3ff0590071f5fc50b6acd787b24654eea05b82520dd1084274024cbb1c998f2",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "1837c2688aa01e0587c7f0053ade3d3377980606c4e66c926e49b5eaf657ae4a",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "93bab2f30c486f247f09c7858b2b39181a0957d84c415e0ee36a68e81bcd6a0b",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "d4234c23af7e3fb1f2af7cde6a4634eb262e1d5264d7cef0c83407a53790ceb5",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "465e296a5bd73bd01154ad5f7f6e130df6df30d48bd6e970149d5c370a289104",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "32b2864c91a60b34a2052706a000ecfdf752fbd910deafa777ec07d4cc92773d",
        "weditor/directions.safetensors": "e8099afa36c879ea00e4a9dd60f858a427339643fba2352912459342e2a3f23e",
        "weditor/readout.safetensors": "54ed011dd7537e9dabea5bc2bde2a3ae32f0fd8a1636e81f3bdcd06cb741ce3f",
    },
    "safree": {
        "transformer/diffusion_pytorch_model-00002-of-00014.safetensors": "7488b747f00265132ba08ce4ee7b54f57738662a3a156e43f00138f8f7e3eae6",
        "transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors": "823542e5eadf89d677e99b7398eb1770d45053b3df6c2fa5b3ed4b1a2f15dc5c",
        "weditor/directions.safetensors": "c4e6fe28b2d1d2217f58f120127bd8799807c0fbb4bc1cc77f59bb4e73912782",
    },
    "refusal+reins": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "1a55e440e3090afdd90ee04f01909183ec556b18043ee2642194bc3177258a40",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "6cab5631e918e96bc69a2c4f78371fab1aeffffc801105f03451d314a1bae87b",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620",
        "weditor/directions.safetensors": "bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d",
        "weditor/readout.safetensors": "a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e",
        "weditor/reins.safetensors": "d5730e441f6e500557bf2b3741e00ab9f0da32076bc5c704472c04297e32c547",
    },
}


@pytest.mark.parametrize("name", list(TINY_METHODS))
def test_tiny_wan_per_method(name, tiny_wan, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        ["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-tune", *TINY_METHODS[name]]
    )
    assert result.exit_code == 0, result.output
    check(name, written(out, tiny_wan, only_tensors=True), GOLDEN_TINY.get(name))
