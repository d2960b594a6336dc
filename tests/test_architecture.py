"""The package's shape, checked: layers import only downwards, no import circle, small modules.

Every `import weditor...` counts, at module level or inside a function (a lazy import is still a
dependency). docs/architecture.md draws the same layers.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "weditor"
MAX_LINES = 450

# Lowest first. A module may import from its own layer or any layer below, never above. A module is
# in the layer of its longest matching prefix.
LAYERS = [
    ("core", ["weditor", "weditor.errors", "weditor.defaults"]),
    ("maths", ["weditor.maths"]),
    ("shapes world", ["weditor.shapes"]),  # the synthetic world; its benchmark is near the top
    ("io", ["weditor.io"]),
    ("adapters", ["weditor.adapters"]),
    ("models", ["weditor.models"]),
    ("evaluation", ["weditor.evaluation", "weditor.attack"]),
    ("methods", ["weditor.methods"]),
    ("pipeline", ["weditor.pipeline"]),
    ("checks", ["weditor.checks"]),
    ("hub", ["weditor.hub"]),
    ("benchmarks", ["weditor.shapes.matrix", "weditor.shapes.matrix_report", "weditor.testing"]),
    ("commands", ["weditor.commands", "weditor.cli", "weditor.__main__"]),
]


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    deps = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
            if any(f"{base}.{a.name}" in MODULES for a in node.names):
                targets.remove(base)  # `from weditor.io import recipe`: the module, not the package
        else:
            continue
        deps |= {_resolve(t) for t in targets if t.split(".")[0] == "weditor"}
    return {d for d in deps if d and d != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best, where = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, where = len(p), i
    assert where is not None, f"{module}: in no layer of tests/test_architecture.py"
    return where


def test_every_import_goes_down_the_layers():
    upward = [
        f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
        for m, deps in sorted(GRAPH.items())
        for d in sorted(deps)
        if layer_of(d) > layer_of(m)
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_circle():
    """Tarjan's strongly connected components: any component of more than one module is a circle."""
    index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_450_lines(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]}: {lines} lines (at most {MAX_LINES}); split it by what it holds"


def test_the_layer_test_catches_an_upward_import():
    """The checker itself: a maths module importing the pipeline would be reported."""
    assert layer_of("weditor.pipeline.run") > layer_of("weditor.maths.moments")
    assert "weditor.maths.moments" in GRAPH["weditor.maths.directions"]  # it sees real imports


def test_patch_help_leads_with_the_common_options_and_groups_each_methods():
    from tests.conftest import run_cli

    text = run_cli(["patch", "--help"]).output
    lead = [
        text.index(f"  --{o} ")
        for o in ("pairs", "out", "removal", "device", "dtype", "offload", "recipe", "push-to-hub")
    ]
    assert lead == sorted(lead) and text.index("Options:") < lead[0]
    sections = ["--method refusal (the block-by-block edit):", "--method text:", "--method safree:", "--method uce:"]
    for section, first in zip(sections, ("--layers", "--harden", "--safree-pool", "--uce-tokens")):
        assert lead[-1] < text.index(section) < text.index(f"  {first} ")
