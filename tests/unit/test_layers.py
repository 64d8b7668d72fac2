"""The import layers of ARCHITECTURE.md ("Layers"), checked from the source.

Every module's imports are read with `ast` (module level, inside functions and
under TYPE_CHECKING alike: a lazy import is still a dependency). A package may
import its own modules and packages of lower layers only; packages of one layer
do not import each other. No two top-level packages may reach each other (no
cycle), and no modules of one package import each other in a circle.

What today's code still does against these rules is listed in ALLOWED_UP and
ALLOWED_CYCLES, each with the reason it is still there: the lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. The ground floor (core) imports nothing of the project.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # errors, settings, faults, logs, metrics, auth
    ("schemas",),  # contracts, pipeline types, topic declarations
    ("sinks",),  # ClickHouse/Redis stores, migrations, column and dimension rows
    ("streams",),  # the ingest loop, backfill, publish, topic admin
    ("agents",),  # the table of event topics and the reference wiring
    ("reconcile",),  # nightly files and the drop-directory timer
    ("reports",),  # report declarations, SQL, engine, tiers, exports
    ("web", "deploy", "synth"),  # HTTP surfaces; the local stack; synthetic traffic
    ("bench",),  # benchmarks (`statflow bench`)
    ("statflow",),  # the composition root and the CLI
    ("tests",),
)
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

# (importing module, imported module): why it is still allowed. Goal: empty.
ALLOWED_UP: dict[tuple[str, str], str] = {}

# Module circles inside a package, as sorted tuples of module names. Goal: empty.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}


def modules() -> Iterator[tuple[str, Path]]:
    for pkg in RANK:
        base = ROOT / pkg
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _is_module(dotted: str) -> bool:
    p = ROOT.joinpath(*dotted.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def imports_of(path: Path) -> set[str]:
    """Project modules a file imports (the module itself for `from m import name`,
    the submodule for `from package import module`)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [
                f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                for a in node.names
            ]
        else:
            continue
        out.update(n for n in names if n.split(".")[0] in RANK)
    return out


def graph() -> dict[str, set[str]]:
    return {mod: imports_of(path) for mod, path in modules()}


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    bad = []
    for mod, targets in edges.items():
        here = mod.split(".")[0]
        for t in targets:
            there = t.split(".")[0]
            if there != here and RANK[there] >= RANK[here]:
                bad.append((mod, t))
    return sorted(bad)


def cycles(nodes: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in nodes.get(v, ()):
            if w not in nodes:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(tuple(sorted(comp)))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_lower_layer_imports_a_higher_one() -> None:
    bad = [e for e in upward(graph()) if e not in ALLOWED_UP]
    assert not bad, "imports against the layers (ARCHITECTURE.md, Layers):\n" + "\n".join(
        f"  {a} -> {b}" for a, b in bad
    )


def test_no_cycle_between_packages() -> None:
    edges = graph()
    pkgs: dict[str, set[str]] = {p: set() for p in RANK}
    for mod, targets in edges.items():
        for t in targets:
            if (mod, t) not in ALLOWED_UP and t.split(".")[0] != mod.split(".")[0]:
                pkgs[mod.split(".")[0]].add(t.split(".")[0])
    assert not cycles(pkgs)


def test_no_module_cycle_inside_a_package() -> None:
    edges = graph()
    inner = {
        m: {t for t in ts if t.split(".")[0] == m.split(".")[0] and t != m}
        for m, ts in edges.items()
    }
    found = [c for c in cycles(inner) if c not in ALLOWED_CYCLES]
    assert not found, "module circles:\n" + "\n".join(f"  {' <-> '.join(c)}" for c in found)


def test_the_ground_floor_imports_nothing_of_the_project() -> None:
    for mod, targets in graph().items():
        if mod.split(".")[0] == "core":
            assert all(t.split(".")[0] == "core" for t in targets), (mod, targets)


def test_allow_lists_name_only_what_still_happens() -> None:
    """An entry whose import is gone must be deleted: the lists only shrink."""
    edges = graph()
    stale = [e for e in ALLOWED_UP if e[1] not in edges.get(e[0], set())]
    assert not stale, f"delete from ALLOWED_UP: {stale}"
    inner = {
        m: {t for t in ts if t.split(".")[0] == m.split(".")[0] and t != m}
        for m, ts in edges.items()
    }
    gone = [c for c in ALLOWED_CYCLES if c not in cycles(inner)]
    assert not gone, f"delete from ALLOWED_CYCLES: {gone}"


def test_the_check_sees_an_upward_import_and_a_cycle() -> None:
    """The checks themselves can fail (a test that cannot fail proves nothing)."""
    assert upward({"core.x": {"web.api"}}) == [("core.x", "web.api")]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [("a", "b")]


# Unit tests live under the package they test (tests/unit/<package>/...); the
# oracles' own tests beside them under oracle/. Left at the top: these checks of
# the whole project, and the test of the suite's own stack provider.
WHOLE_PROJECT = {"__init__.py", "test_layers.py", "test_services_provider.py"}


def test_unit_tests_mirror_the_packages() -> None:
    unit = ROOT / "tests" / "unit"
    stray = sorted(p.name for p in unit.glob("*.py") if p.name not in WHOLE_PROJECT)
    assert not stray, f"move these under tests/unit/<package>/: {stray}"
    folders = {p.name for p in unit.iterdir() if p.is_dir() and p.name != "__pycache__"}
    unknown = folders - set(RANK) - {"oracle"}
    assert not unknown, f"tests/unit/ folders that name no package: {sorted(unknown)}"
