from pathlib import Path

import pytest

from weditor.errors import WeditorError
from weditor.io.pairs import load_pairs

SHIPPED = sorted((Path(__file__).parents[1] / "pairs").glob("*.toml"))
GOOD_PAIRS = "".join(f'[[pair]]\nunsafe = "a red thing {i}"\nsafe = "a thing {i}"\n' for i in range(5))


def write(tmp_path, text, name="p.toml", raw=None):
    path = tmp_path / name
    path.write_bytes(raw if raw is not None else text.encode())
    return path


def test_shipped_pair_files_are_valid():
    assert len(SHIPPED) >= 7
    for path in SHIPPED:
        ps = load_pairs(path)
        assert len(ps.pairs) >= 5 and ps.neutral, path


@pytest.mark.parametrize(
    "text,message",
    [
        (
            'concept = "x"\nneutral = ["a"]\n' + GOOD_PAIRS.split("[[pair]]", 2)[1].join(["[[pair]]", ""]),
            "need at least 5",
        ),
        ('concept = "x"\nneutral = ["a"]\ncolour = 1\n' + GOOD_PAIRS, "unknown key 'colour'"),
        (
            'concept = "x"\nneutral = ["a"]\n' + GOOD_PAIRS + '[[pair]]\nunsafe = "same"\nsafe = "same"\n',
            "pair 6: 'unsafe' and 'safe' are identical",
        ),
        (
            'concept = "x"\nneutral = ["a"]\n' + GOOD_PAIRS + '[[pair]]\nunsafe = ""\nsafe = "b"\n',
            "pair 6: unsafe: is empty",
        ),
        (
            'concept = "x"\nneutral = ["a"]\n'
            + GOOD_PAIRS
            + '[[pair]]\nunsafe = "a red thing 0"\nsafe = "a thing 0"\n',
            "duplicate of pair 1",
        ),
        (
            'concept = "x"\nneutral = ["a"]\n'
            + GOOD_PAIRS
            + '[[pair]]\nunsafe = "u"\nsafe = "s"\nimage = "missing.png"\n',
            "does not exist",
        ),
        ('concept = "x"\nneutral = ["a"]\n' + GOOD_PAIRS + '[[pair]]\nunsafe = 3\nsafe = "s"\n', "expected a string"),
        ('concept = "x"\n' + GOOD_PAIRS, "neutral: missing"),
        ('neutral = ["a"]\n' + GOOD_PAIRS, "missing field 'concept'"),
        ('concept = "Bad Name"\nneutral = ["a"]\n' + GOOD_PAIRS, "must be lowercase"),
        ("concept = [", "not valid TOML"),
    ],
)
def test_bad_pair_files_name_the_file_and_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(WeditorError, match=message) as err:
        load_pairs(path)
    assert str(path) in err.value.message
    assert "\n" not in err.value.message


def test_non_utf8_and_missing(tmp_path):
    with pytest.raises(WeditorError, match="not UTF-8"):
        load_pairs(write(tmp_path, "", raw=b'concept = "\xff"'))
    with pytest.raises(WeditorError, match="does not exist"):
        load_pairs(tmp_path / "nope.toml")
