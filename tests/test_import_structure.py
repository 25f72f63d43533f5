"""The package's import graph, read with ``ast`` (nothing is imported): no circles, and
no layer imports a layer above it (``functional/`` under ``models/`` under ``search/``;
``search/structures.py`` and ``search/errors.py`` as the ground floor of the engine).
Every import counts, also one inside a function."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'mmautoloss'

#: a module of the first layer may not import any module of the second
FORBIDDEN = [
    ('mmautoloss.functional', ('mmautoloss.models', 'mmautoloss.search', 'mmautoloss.engine',
                               'mmautoloss.datasets', 'mmautoloss.evaluation')),
    ('mmautoloss.models', ('mmautoloss.search', )),
    ('mmautoloss.engine', ('mmautoloss.search', )),
    ('mmautoloss.search.structures', ('mmautoloss.search', )),
    ('mmautoloss.search.errors', ('mmautoloss', )),
]


#: the floors of ``mmautoloss/search/`` (``docs/design.md``): a module imports only from
#: floors below its own (a sub-package counts as one room)
SEARCH_FLOORS = {
    'structures': 1, 'errors': 1, 'journal': 1, 'plots': 1, 'variation': 1,
    'paired_statistics': 1, 'data_check': 1,
    'searchers': 2, 'spaces': 2, 'filters': 2, 'trial': 2, 'baseline_tuning': 2,
    'events': 3, 'early_stopping': 3, 'slot_check': 3, 'perturbation': 3,
    'executors': 4, 'report': 4, 'retraining': 4, 'hooks': 4,
    'console': 5, 'settings': 5, 'optuna_study': 5, 'visualizer_hook': 5,
    'best': 6, 'builders': 6,
    'search_loop': 7, 'validation': 7,
    'planning': 8,
}


def search_room(module: str) -> str | None:
    """The room of ``mmautoloss.search`` a module belongs to (None: not in the engine,
    or the package's own ``__init__``)."""
    parts = module.split('.')
    return parts[2] if len(parts) > 2 and parts[:2] == ['mmautoloss', 'search'] else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a name imported from a package
    counts as its submodule when there is one, else as the package)."""
    modules = {module_name(p): p for p in PACKAGE.rglob('*.py')}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == '__init__.py' else name.rpartition('.')[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.split('.')
                base = base[:len(base) - node.level + 1] if node.level else []
                source = '.'.join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f'{source}.{alias.name}'
                    targets.add(sub if sub in modules else source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_a_circle_and_a_relative_import():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
    assert circles(graph) == [['a', 'b', 'c']]
    real = import_graph()
    assert 'mmautoloss.search.structures' in real['mmautoloss.search.search_loop']
    assert 'mmautoloss.search.errors' in real['mmautoloss.search.validation']


def test_the_package_has_no_import_circle():
    assert circles(import_graph()) == []


def test_no_layer_imports_a_layer_above_it():
    graph = import_graph()
    upward = [f'{module} -> {target}' for lower, higher in FORBIDDEN
              for module, targets in graph.items()
              if module == lower or module.startswith(lower + '.')
              for target in sorted(targets)
              if any(target == h or target.startswith(h + '.') for h in higher)]
    assert upward == []


def test_every_room_of_the_engine_has_a_floor():
    rooms = {search_room(m) for m in import_graph()} - {None}
    assert rooms == set(SEARCH_FLOORS)


def test_the_engine_imports_only_downward():
    upward = []
    for module, targets in import_graph().items():
        room = search_room(module)
        for target in sorted(targets):
            other = search_room(target)
            if room and other and other != room and \
                    SEARCH_FLOORS[other] >= SEARCH_FLOORS[room]:
                upward.append(f'{module} (floor {SEARCH_FLOORS[room]}) -> {target} '
                              f'(floor {SEARCH_FLOORS[other]})')
    assert upward == []
