"""``mmseg_seggan.utils`` has no import cycle between its modules.

A cycle (``checkpoint`` importing ``resume``, which imports ``checkpoint``)
works only as long as every such import stays inside a function; moving
one to the top of a file turns it into an ``ImportError`` of a partly
initialised module. Function-level imports count here too.
"""
import ast
import os
import os.path as osp

from seggan_testing import REPO

UTILS = osp.join(REPO, 'mmseg_seggan', 'utils')


def _local_imports(path):
    """Sibling modules of ``mmseg_seggan.utils`` that ``path`` imports."""
    siblings = {
        f[:-3]
        for f in os.listdir(UTILS) if f.endswith('.py') and f != '__init__.py'
    }
    with open(path) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module in siblings:
                found.add(node.module)
            elif node.module is None:
                found.update(a.name for a in node.names if a.name in siblings)
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith('mmseg_seggan.utils.'):
            name = node.module.rsplit('.', 1)[1]
            if name in siblings:
                found.add(name)
    return found


def _cycles(graph):
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 'open'
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 'open':
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 'done'

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_utils_modules_import_without_cycles():
    graph = {
        f[:-3]: _local_imports(osp.join(UTILS, f))
        for f in os.listdir(UTILS) if f.endswith('.py') and f != '__init__.py'
    }
    # The module that wires everything into mmengine imports the others.
    assert {'checkpoint', 'checkpoint_shapes', 'resume'} <= set(graph)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({'a': {'b'}, 'b': {'a'}, 'c': set()}) == [['a', 'b', 'a']]
