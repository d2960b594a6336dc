import pytest

from weditor.errors import WeditorError
from weditor.maths.layers import parse_layers


@pytest.mark.parametrize(
    "spec,n,expected",
    [
        ("17,18", 19, [17, 18]),
        ("10-12", 30, [10, 11, 12]),
        ("-2,-1", 30, [28, 29]),
        ("0.5", 30, [14]),
        ("50%", 30, [14]),
        ("0.75-1.0", 9, [6, 7, 8]),
        ("0,0,1", 4, [0, 1]),
    ],
)
def test_layer_specs(spec, n, expected):
    assert parse_layers(spec, n) == expected


@pytest.mark.parametrize("spec", ["30", "-31", "1.5", "3-1", "a", "", "1,,2"])
def test_bad_layer_specs(spec):
    with pytest.raises(WeditorError, match="--layers"):
        parse_layers(spec, 30)
