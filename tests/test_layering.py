"""The product does not depend on the demo: nothing in ioc/, layouts/ or data_adapters/ imports `simulator`.

The simulator is a top-level package for the demo and benchmarks. The one way the product reaches it is the
CLI's SIMULATOR_COMMANDS table, which names its module as a string for importlib; any other mention of a
simulator module name (an import statement, in a function or not, or a string handed to importlib) fails.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ioc.config import PROJECT_ROOT

PRODUCT = ("ioc", "layouts", "data_adapters")
SIMULATOR = "simulator"
# where the product may name the simulator: (module file, the table assigned there)
ALLOWED_TABLE = (Path("ioc/cli.py"), "SIMULATOR_COMMANDS")
MODULE_NAME = re.compile(rf"{SIMULATOR}(\.\w+)*")


def _is_simulator(module: str | None) -> bool:
    return module is not None and (module == SIMULATOR or module.startswith(f"{SIMULATOR}."))


def _table_strings(tree: ast.Module, name: str) -> set[int]:
    """ids of the string constants inside the module-level assignment to `name`."""
    allowed: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            allowed |= {id(n) for n in ast.walk(node.value) if isinstance(n, ast.Constant)}
    return allowed


def simulator_references(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """'<file>:<line>: <what>' for each import of the simulator (or its module name as a string) in a file."""
    relative = path.relative_to(root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
    allowed = _table_strings(tree, ALLOWED_TABLE[1]) if relative == ALLOWED_TABLE[0] else set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{relative}:{node.lineno}: import {a.name}" for a in node.names if _is_simulator(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_simulator(node.module):
            found.append(f"{relative}:{node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
              and MODULE_NAME.fullmatch(node.value)):
            found.append(f"{relative}:{node.lineno}: the module name {node.value!r} as a string")
    return found


def product_modules(root: Path = PROJECT_ROOT) -> list[Path]:
    return sorted(path for folder in PRODUCT for path in (root / folder).rglob("*.py"))


def test_product_code_does_not_import_the_simulator() -> None:
    modules = product_modules()
    assert len(modules) > 50  # the walk found the product, not an empty folder

    found = [line for path in modules for line in simulator_references(path)]

    assert not found, "product code imports the demo's simulator (only ioc/cli.py's SIMULATOR_COMMANDS may " \
                      "name it):\n" + "\n".join(found)


def test_the_check_sees_imports_anywhere_and_module_names_handed_to_importlib(tmp_path: Path) -> None:
    module = tmp_path / "ioc" / "example.py"
    module.parent.mkdir()
    module.write_text(
        "import importlib\n"
        "import simulator.server\n"
        "def later():\n"
        "    from simulator.city import SimCity\n"
        "    return importlib.import_module('simulator.feeds')\n"
        "from ioc import simulator_free\n"
        "HELP = 'simulator, adapters and dashboard'\n",
        encoding="utf-8",
    )

    assert simulator_references(module, tmp_path) == [
        "ioc/example.py:2: import simulator.server",
        "ioc/example.py:4: from simulator.city import ...",
        "ioc/example.py:5: the module name 'simulator.feeds' as a string",
    ]


def test_the_cli_table_is_the_one_exception() -> None:
    from ioc.cli import SIMULATOR_COMMANDS

    assert set(SIMULATOR_COMMANDS) == {"demo", "simulate", "backfill"}
    assert all(_is_simulator(module) for module in SIMULATOR_COMMANDS.values())
    assert simulator_references(PROJECT_ROOT / ALLOWED_TABLE[0]) == []
