"""``mmseg_seggan.datasets`` stands in layers: no module imports one that
imports it back, not even inside a function (a lazy import only hides a
cycle until someone moves it)."""
import ast
import os
import os.path as osp

import mmseg_seggan.datasets as datasets_pkg

PKG_DIR = osp.dirname(datasets_pkg.__file__)
PKG = 'mmseg_seggan.datasets'


def _module_name(path):
    rel = osp.relpath(path, PKG_DIR)[:-len('.py')].replace(os.sep, '.')
    if rel.endswith('__init__'):
        rel = rel[:-len('__init__')].rstrip('.')
    return PKG + ('.' + rel if rel else '')


def _package_of(name, path):
    return name if path.endswith('__init__.py') else name.rsplit('.', 1)[0]


def _import_graph():
    """``{module: {modules of the package it imports, anywhere in it}}``."""
    graph = {}
    for root, _, files in os.walk(PKG_DIR):
        for f in files:
            if not f.endswith('.py'):
                continue
            path = osp.join(root, f)
            name = _module_name(path)
            package = _package_of(name, path)
            deps = set()
            for node in ast.walk(ast.parse(open(path).read())):
                if isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = package.split('.')
                        base = base[:len(base) - node.level + 1]
                        target = '.'.join(
                            base + ([node.module] if node.module else []))
                    else:
                        target = node.module or ''
                    targets = [target
                               ] + [f'{target}.{a.name}' for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                deps.update(t for t in targets if t.startswith(PKG))
            graph[name] = deps
    # Keep only edges to modules (``from .x import Name`` also lists x.Name).
    return {
        m: {d
            for d in deps if d in graph and d != m}
        for m, deps in graph.items()
    }


def _find_cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = 'open'
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 'open':
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        state[m] = 'done'
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_datasets_package_has_no_import_cycle():
    # Bug: validation -> transforms -> transforms.loading ->
    # stanford_background -> validation (the checks imported the loaders
    # that import the checks).
    graph = _import_graph()
    cycle = _find_cycle(graph)
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


def test_layers_bottom_up():
    graph = _import_graph()
    # The checks and the readers import nothing of the package but what is
    # below them.
    assert graph[PKG + '.validation'] == set()
    assert graph[PKG + '.regions'] == {PKG + '.validation'}
    assert PKG + '.checked_dataset' not in graph[PKG + '.transforms.loading']
