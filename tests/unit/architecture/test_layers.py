"""The shape of the house, checked on the source: packages depend one way only, routers do not
import routers, other packages use only a package's public names, and no module grows past 400
lines. The order (README, "Layout"): core → keys, adapters → audit → consent → identity →
attestations → rights → service."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# rank per package: a module may import only packages of a lower rank (keys and adapters share
# a rank and may not import each other)
ORDER = {
    "core": 0,
    "keys": 1,
    "adapters": 1,
    "audit": 2,
    "consent": 3,
    "identity": 4,
    "attestations": 5,
    "rights": 6,
    "service": 7,
}
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted module name imported from
    names: tuple[str, ...]  # names taken from it (empty for `import x.y`)
    line: int


def package_of(module: str) -> str:
    return module.split(".")[0]


def modules() -> dict[str, Path]:
    found = {}
    for package in ORDER:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path) -> list[Import]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = tuple(alias.name for alias in node.names)
            found.append(Import(module, node.module, names, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, (), node.lineno) for alias in node.names)
    return [i for i in found if package_of(i.target) in ORDER]


MODULES = modules()
IMPORTS = [i for module, path in MODULES.items() for i in imports_of(module, path)]
CROSS = [i for i in IMPORTS if package_of(i.importer) != package_of(i.target)]


def public_names(package: str) -> set[str]:
    """The names a package's `__init__.py` lists in `__all__`."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(e) for e in node.value.elts}  # type: ignore[attr-defined]
    return set()


def is_router_module(module: str) -> bool:
    return module.split(".")[-1].startswith("routes")


def test_the_walk_finds_the_packages_and_their_imports() -> None:
    # guards the checks below against passing on nothing
    assert {package_of(m) for m in MODULES} == set(ORDER)
    assert len(MODULES) > 150
    assert len(CROSS) > 100


def test_packages_import_only_packages_below_them() -> None:
    upward = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in CROSS
        if ORDER[package_of(i.target)] >= ORDER[package_of(i.importer)]
    ]
    assert upward == []


def test_other_packages_use_only_public_names() -> None:
    public = {package: public_names(package) for package in ORDER}
    private = [
        f"{i.importer}:{i.line} imports {i.target} {', '.join(i.names)}"
        for i in CROSS
        if i.target != package_of(i.target)
        or not i.names
        or not set(i.names) <= public[package_of(i.target)]
    ]
    assert private == []


@pytest.mark.parametrize("package", sorted(ORDER))
def test_public_names_exist(package: str) -> None:
    module = __import__(package)
    assert [name for name in sorted(public_names(package)) if not hasattr(module, name)] == []


def test_routers_do_not_import_routers() -> None:
    crossing = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in IMPORTS
        if is_router_module(i.importer)
        and (
            is_router_module(i.target)
            or any(is_router_module(f"{i.target}.{name}") for name in i.names)
        )
    ]
    assert crossing == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        module: n
        for module, path in MODULES.items()
        if not module.split(".")[-1].startswith("messages")
        and (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
