"""No import cycles in `voicelab` and `api`, imports inside functions included.

A cycle means two modules that cannot be understood, tested or moved apart; the fix is to move
what both need down a layer (as `delivery.base` or `jobs.kinds`), not to hide an import inside
a function: grimp's graph, built here, counts those imports too.
"""

from __future__ import annotations

import grimp

PACKAGES = ("voicelab", "api")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan, iterative),
    each sorted, in module order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            step = next(imported, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step)))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """A cycle's modules and the imports that tie them, with file lines."""
    members = set(component)
    lines = [" <-> ".join(component)]
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"    {importer}:{detail['line_number']}: "
                             f"{detail['line_contents']}")
    return "\n".join(lines)


def test_the_packages_have_no_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(graph, c) for c in found)


def test_a_cycle_is_found_and_named() -> None:
    """The check itself: a cycle added to the real graph (as a function-level import would add
    one) is reported with its modules."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph.add_import(importer="voicelab.clock", imported="voicelab.store", line_number=1,
                     line_contents="from voicelab import store")
    (component,) = [c for c in cycles(graph) if "voicelab.clock" in c]
    assert {"voicelab.clock", "voicelab.store"} <= set(component)
    assert "voicelab.clock:1: from voicelab import store" in describe(graph, component)
