"""Property-based fuzzing of the two places where arbitrary data meets weditor's logic.

The pair-file parser must turn *any* bytes into a PairSet or a one-line WeditorError, never a
traceback; the estimator must turn any activations into orthonormal, finite directions or a
ValueError (ZeroDirectionError included), never another exception or NaN. Example counts stay
modest so the whole file runs in a few seconds.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from weditor.errors import WeditorError
from weditor.io.pairs import PAIR_KEYS, TOP_KEYS, PairSet, parse_pairs
from weditor.maths.directions import RefusalDirection, ZeroDirectionError
from weditor.maths.moments import RunningMoments

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def parses_cleanly(raw: bytes, path: Path):
    try:
        result = parse_pairs(raw, path)
    except WeditorError as e:
        assert e.message and "\n" not in e.message
        assert e.message.startswith(str(path)), e.message  # every message names the file
        return None
    assert isinstance(result, PairSet)
    assert len(result.pairs) >= 5 and result.neutral
    assert len({(p.unsafe, p.safe) for p in result.pairs}) == len(result.pairs)
    assert all(p.unsafe != p.safe for p in result.pairs)
    return result


# --------------------------------------------------------------------------- raw bytes

TOML_TOKENS = st.sampled_from(
    [
        'concept = "x"\n',
        'neutral = ["a b"]\n',
        "[[pair]]\n",
        'unsafe = "u"\n',
        'safe = "s"\n',
        "[pair]\n",
        "= ",
        '"',
        "'''",
        '"""',
        "[",
        "]",
        "{",
        "}",
        ",",
        "\n",
        " ",
        "\\u0000",
        "\\",
        "#",
        "1e999",
        "nan",
        "inf",
        "image = ",
        "true",
        "1979-05-27T07:32:00Z",
        "\x00",
        "\xff",
        "ü",
        "\ud800",
        "eval = []\n",
        "[[neutral]]\n",
    ]
)


@FAST
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(TOML_TOKENS, max_size=40).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass")),
    )
)
@example(b'concept = "x"\nneutral = ["a"]\n' + b'[[pair]]\nunsafe = "u"\nsafe = "s"\nimage = "\\u0000"\n')
@example(b'concept = "x"\nneutral = ["a"]\n' + b'[[pair]]\nunsafe = "u"\nsafe = "s"\nimage = "' + b"x" * 5000 + b'"\n')
def test_parser_survives_arbitrary_bytes(tmp_path_factory, raw):
    parses_cleanly(raw, tmp_path_factory.getbasetemp() / "fuzz.toml")


# --------------------------------------------------------------------------- structured documents

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.just(""),
    st.just("   "),
    st.just("a\u0000b"),
    st.just("../../etc/passwd"),
    st.just("/" + "x" * 300),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
prompt = st.sampled_from(["a red car", "a car", "a red dog", "a dog", "a cat", "", "  a  car ", "x"]) | st.text(
    max_size=10
)


@st.composite
def documents(draw):
    doc = {}
    if draw(st.booleans()):
        doc["concept"] = draw(st.sampled_from(["red", "Red", "a b", "", "x-1"]) | scalars)
    if draw(st.booleans()):
        doc["neutral"] = draw(st.lists(prompt, max_size=3) | values)
    for key in draw(
        st.lists(st.sampled_from(sorted(TOP_KEYS - {"concept", "neutral", "pair"}) + ["bogus"]), max_size=2)
    ):
        doc[key] = draw(st.lists(prompt, max_size=3) | values)
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        entry = {}
        for key in ("unsafe", "safe"):
            if draw(st.integers(0, 9)):
                entry[key] = draw(prompt | scalars)
        for key in draw(st.lists(st.sampled_from(sorted(PAIR_KEYS - {"unsafe", "safe"}) + ["extra"]), max_size=2)):
            entry[key] = draw(st.sampled_from(["missing.png", "", ".", "a\u0000.png"]) | scalars)
        pairs.append(entry)
    if pairs or draw(st.booleans()):
        doc["pair"] = pairs if draw(st.integers(0, 9)) else draw(values)
    return doc


def to_toml(value) -> str:
    """A minimal TOML writer (inline tables only) for generated documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{to_toml(str(k))} = {to_toml(v)}" for k, v in value.items()) + "}"


@FAST
@given(documents())
def test_parser_survives_structured_documents(tmp_path_factory, doc):
    text = "".join(f"{to_toml(k)} = {to_toml(v)}\n" for k, v in doc.items())
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assume(False)
    parses_cleanly(text.encode("utf-8"), tmp_path_factory.getbasetemp() / "doc.toml")


def test_a_valid_generated_document_parses(tmp_path):
    doc = {
        "concept": "red",
        "neutral": ["a cat"],
        "pair": [{"unsafe": f"a red car {i}", "safe": f"a car {i}"} for i in range(5)],
    }
    text = "".join(f"{to_toml(k)} = {to_toml(v)}\n" for k, v in doc.items())
    assert parses_cleanly(text.encode(), tmp_path / "ok.toml") is not None


# --------------------------------------------------------------------------- the estimator


@st.composite
def activations(draw):
    d = draw(st.integers(1, 12))
    n = draw(st.integers(0, 30))
    kind = draw(st.sampled_from(["normal", "constant", "low_rank", "zero", "huge", "tiny", "nonfinite", "integers"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "normal":
        x = rng.normal(size=(n, d)) + draw(st.floats(-3, 3)) * rng.normal(size=d)
    elif kind == "constant":
        x = np.tile(rng.normal(size=d), (n, 1))
    elif kind == "low_rank":
        x = rng.normal(size=(n, 1)) @ rng.normal(size=(1, d)) + rng.normal(size=d)
    elif kind == "zero":
        x = np.zeros((n, d))
    elif kind == "huge":
        x = rng.normal(size=(n, d)) * 1e200
    elif kind == "tiny":
        x = rng.normal(size=(n, d)) * 1e-300
    elif kind == "integers":
        x = rng.integers(-2, 3, size=(n, d))
    else:
        x = rng.normal(size=(n, d))
        if n:
            x[rng.integers(n), rng.integers(d)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    if kind == "integers":
        return d, x
    with np.errstate(over="ignore"):  # 1e200 in float32 is inf: a case worth generating
        return d, x.astype(dtype)


@FAST
@given(
    data=activations(),
    neutral=st.one_of(st.none(), activations()),
    n_components=st.integers(-1, 4),
    rank=st.one_of(st.none(), st.integers(-1, 15)),
    alpha=st.one_of(st.floats(-1, 100), st.sampled_from([0.0, 1.0, 1e300, math.inf, math.nan])),
    moments=st.booleans(),
)
def test_estimator_never_crashes_or_returns_nan(data, neutral, n_components, rank, alpha, moments):
    d, delta = data
    neutral_x = None
    if neutral is not None:
        nd, neutral_x = neutral
        if nd != d and neutral_x.shape[0] and np.random.default_rng(nd).random() < 0.8:
            neutral_x = np.resize(neutral_x, (neutral_x.shape[0], d))  # mostly matching widths
    if moments:
        delta = RunningMoments.from_array(torch.as_tensor(delta).reshape(-1, d))
        if neutral_x is not None:
            neutral_x = RunningMoments.from_array(torch.as_tensor(neutral_x).reshape(-1, neutral_x.shape[-1]))
    est = RefusalDirection(n_components=n_components, rank=rank, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow in the generator
        try:
            est.fit(delta, neutral_x)
        except ValueError as e:  # ZeroDirectionError is a ValueError
            assert str(e)
            return
    C = est.components_
    assert C.shape == (n_components, d)
    assert np.isfinite(C).all()
    np.testing.assert_allclose(C @ C.T, np.eye(n_components), atol=1e-6)
    assert np.isfinite(est.retained_norm_) and 0 < est.retained_norm_ <= 1 + 1e-9


def test_zero_direction_error_is_a_value_error():
    assert issubclass(ZeroDirectionError, ValueError)
    with pytest.raises(ZeroDirectionError):
        RefusalDirection(rank=None).fit(np.zeros((4, 3)))
