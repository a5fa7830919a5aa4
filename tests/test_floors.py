"""The house has floors (README, «Layout»): an app imports from its own floor or below, never from above, and no
module imports itself back through others. Read from the source, so a new import that breaks the plan fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = {"config": 0, "municipalities": 0, "assessment": 1, "surveys": 1, "reports": 2, "fixtures": 3}
# The URL wiring sits above every app: it names each app's views.
WIRING = {"config/urls.py", "config/api_urls.py"}


def _modules():
    for app in FLOOR:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" not in rel.parts:
                yield rel, ".".join(rel.with_suffix("").parts).removesuffix(".__init__")


def _imports(path):
    """(line, module) of every import, at module level or inside a function."""
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _graph():
    modules = dict(_modules())
    known = set(modules.values())
    graph, upward = {}, []
    for rel, name in modules.items():
        app = "fixtures" if str(rel) in WIRING else rel.parts[0]
        targets = set()
        for line, imported in _imports(rel):
            top = imported.split(".")[0]
            if top in FLOOR and FLOOR[top] > FLOOR[app]:
                upward.append(f"{rel}:{line} imports {imported}")
            if imported in known and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph, upward


def _cycles(graph):
    """Every module that can reach itself again (Tarjan's strongly connected components of more than one)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_app_imports_from_a_floor_above():
    _graph_, upward = _graph()

    assert upward == []


def test_no_module_imports_itself_back():
    graph, _upward = _graph()

    assert _cycles(graph) == []


def test_the_check_sees_an_upward_import_and_a_cycle():
    """The two checks above would fail on what they look for (a test that cannot fail proves nothing)."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _cycles(graph) == [["a", "b", "c"]]
    assert FLOOR["municipalities"] < FLOOR["reports"]
    imports = dict(_imports(Path("reports/home.py")))
    assert any(name.startswith("surveys") for name in imports.values())  # the top floor does see the middle
