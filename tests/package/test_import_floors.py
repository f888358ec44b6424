"""Dependencies point down: no module of the package imports one on a higher floor.

The floors are those of the guide's "Layout" page (docs/guide/layout.md). Upward imports are
allowed only for the documented facades, and only inside a function (so they run when used, not
on import).
"""

from __future__ import annotations

import ast
import pathlib

import micrograd

PACKAGE = pathlib.Path(micrograd.__file__).parent

# Floor of each top-level module or subpackage; a module may import any module on a lower floor.
FLOORS = {
    "ops": 0,
    "numeric": 1,
    "files": 1,
    "grad_mode": 1,
    "lecture": 1,
    "autodiff": 2,
    "copying": 2,
    "engine": 3,
    "parameter": 4,
    "anomaly": 5,
    "clip_grad": 5,
    "data": 5,
    "explain": 5,
    "expr": 5,
    "functional": 5,
    "gradcheck": 5,
    "losses": 5,
    "optim": 5,
    "tape": 5,
    "viz": 5,
    "nn": 6,
    "interop": 7,
    "serialize": 7,
    "playground": 7,
    "cli": 8,
    "__main__": 9,
    "__init__": 9,
}
# (importer, imported): the documented facades, each lazily inside a method.
FACADES = {("engine", "viz"), ("nn", "serialize"), ("nn", "interop")}


def _unit(path: pathlib.Path) -> str:
    """The floor name of a file: its top-level module or subpackage."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(imported unit, line, inside a function) for each import of the package, not type-only."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: never executed
            lazy = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = []
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module == "micrograd":
                    names = [alias.name for alias in child.names]
                elif child.module.startswith("micrograd."):
                    names = [child.module.split(".")[1]]
            elif isinstance(child, ast.Import):
                names = [
                    a.name.split(".")[1] for a in child.names if a.name.startswith("micrograd.")
                ]
            found.extend((name, child.lineno, in_function) for name in names)
            visit(child, lazy)

    visit(tree, False)
    return found


def test_every_module_has_a_floor():
    units = {_unit(path) for path in PACKAGE.rglob("*.py")}
    assert units <= set(FLOORS), sorted(units - set(FLOORS))


def test_no_module_imports_one_above_it():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _unit(path)
        for imported, line, lazy in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if imported == importer or imported not in FLOORS:
                continue
            if FLOORS[imported] < FLOORS[importer]:
                continue
            if (importer, imported) in FACADES and lazy:
                continue
            upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert not upward, upward


def test_the_check_sees_an_upward_import():
    # The test above must be able to fail: a lazy import of functional from the engine is found.
    source = "def backward():\n    from micrograd.functional import grad\n"
    assert _imports(ast.parse(source)) == [("functional", 2, True)]
    assert FLOORS["functional"] > FLOORS["engine"] and ("engine", "functional") not in FACADES


def test_ops_imports_nothing_of_the_package():
    assert _imports(ast.parse((PACKAGE / "ops.py").read_text(encoding="utf-8"))) == []
