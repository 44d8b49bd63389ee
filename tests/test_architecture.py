"""The shape of the code: imports only point down (no cycle, counting imports inside functions),
the CLI is on top, the model at the bottom, functions stay short, and the layout in docs/architecture.md
names every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "noise2noise"
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """Edges between the package's modules from every import statement, wherever it stands.
    ``from . import x`` points at the module ``x`` when there is one. The implicit import of a
    parent package's ``__init__`` is not an edge (every module would point at the top)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_pkg, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                while t and t not in mods and "." in t:  # noise2noise.x.Y -> noise2noise.x
                    t = t.rsplit(".", 1)[0]
                if t in mods and t != name:
                    graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "noise2noise.deploy.quant" in graph["noise2noise.deploy.int8"]  # imported inside a function


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cli_is_on_top_and_the_model_at_the_bottom():
    graph = import_graph()
    for m, deps in graph.items():
        if not m.startswith("noise2noise.cli"):
            assert not any(d.startswith("noise2noise.cli") for d in deps), (m, deps)
    assert graph["noise2noise.model"] <= {"noise2noise.config"}
    assert graph["noise2noise.config"] == set()


def test_no_function_is_longer_than_80_lines():
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {n} lines")
    assert not long, long


def test_the_documented_layout_names_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    layout = page.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    missing = [m for m in missing if m.split("/")[-1] not in layout]
    assert not missing, f"modules missing from the layout in docs/architecture.md: {missing}"


def test_public_names_do_not_shadow_modules():
    import noise2noise

    shadowed = [n for n in noise2noise.__all__ if (PKG / f"{n}.py").exists() or (PKG / n / "__init__.py").exists()]
    assert not shadowed, f"`import noise2noise.X` would give the object, not the module: {shadowed}"


def test_one_optimizer_loop_and_no_temporary_files_on_the_fine_tuning_path():
    """Adam is set up, and a loss stepped backward, in one place: ``training.fit``, which training,
    ``--adapt`` and bursts all use; the fine-tuning path builds its models in memory, so none of its
    modules makes temporary files."""
    for pattern in ("optim.Adam", ".backward(", ".step()"):
        users = sorted(module_name(p) for p in PKG.rglob("*.py") if pattern in p.read_text())
        assert users == ["noise2noise.training.fit"], (pattern, users)
    for name in ("adapt.py", "bursts/merge.py", "bursts/job.py", "job.py", "training/fit.py"):
        assert "tempfile" not in (PKG / name).read_text(), name


def forwarded_properties() -> list[str]:
    """Properties that only hand on another object's attribute (``return self.first.x``)."""
    found = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
            if is_property and len(body) == 1 and isinstance(body[0], ast.Return):
                v = body[0].value
                if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Attribute):
                    if isinstance(v.value.value, ast.Name) and v.value.value.id == "self":
                        found.append(f"{name}.{node.name}")
    return found


def test_no_denoiser_forwards_attributes_by_hand():
    """Every denoiser honours one contract (``inference.ImageDenoiser``); none impersonates another
    by handing on its attributes one by one."""
    assert forwarded_properties() == []
    from noise2noise.auto import AutoDenoiser
    from noise2noise.denoiser import Denoiser
    from noise2noise.ensemble import Ensemble, Strength
    from noise2noise.inference import ImageMethods

    for cls in (Denoiser, AutoDenoiser, Ensemble, Strength):
        assert issubclass(cls, ImageMethods), cls
        for method in ("run_array", "steps"):
            assert method in vars(cls), (cls, method)  # its own array method, not inherited
