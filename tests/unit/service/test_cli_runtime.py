"""The CLI hands each command group one object (`service.cli.CliRuntime`); every group says in
a `…Runtime` Protocol what it reads from it. CliRuntime must offer all of that: a member a
group needs but CliRuntime lacks fails only when an operator runs the command (`kluis letters
generate` did, with AttributeError: 'letters')."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from service.cli import CliRuntime

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("keys", "audit", "identity", "attestations", "rights", "service")


def runtime_protocols() -> dict[str, set[str]]:
    """`…Runtime(Protocol)` classes of the CLI modules and the members they declare."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*cli.py"):
            for node in ast.parse(path.read_text()).body:
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name.endswith("Runtime")
                    and any(getattr(b, "id", "") == "Protocol" for b in node.bases)
                ):
                    members = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                    members |= {
                        n.target.id
                        for n in node.body
                        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                    }
                    found[f"{path.relative_to(ROOT)}:{node.name}"] = members
    return found


PROTOCOLS = runtime_protocols()


def test_the_scan_finds_the_command_groups() -> None:
    assert len(PROTOCOLS) >= 10
    assert any(name.endswith("LettersRuntime") for name in PROTOCOLS)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_the_cli_runtime_offers_what_each_command_group_reads(protocol: str) -> None:
    offered = {name for name, _ in inspect.getmembers(CliRuntime) if not name.startswith("_")}
    assert PROTOCOLS[protocol] - offered == set()
