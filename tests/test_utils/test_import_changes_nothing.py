"""``import mmseg_seggan`` registers and replaces nothing (issue 19).

A fresh interpreter imports mmengine, torch, mmseg (and mmcv) in full,
takes a snapshot of every module global of those packages (functions,
classes and their attributes, dict entries, torch's safe globals), imports
the plugin, and compares: an existing name bound to another object is a
global patch. New names (registrations, the ``seggan://`` scheme, the
``mmseg_seggan`` config scope) are allowed.
"""
import json
import subprocess
import sys

from seggan_testing import REPO

SNAPSHOT = r'''
import importlib, json, pkgutil, sys, types, warnings
warnings.filterwarnings('ignore')
PACKAGES = ('mmengine', 'torch', 'mmseg', 'mmcv')
import mmengine.runner, mmengine.hooks, mmengine.fileio, mmengine.logging
import mmengine.config, mmengine.model, torch, torch.serialization
import mmseg.apis, mmseg.models, mmseg.datasets, mmseg.engine

def snapshot():
    seen = {}
    for name, mod in list(sys.modules.items()):
        if not isinstance(mod, types.ModuleType) or \
                name.split('.')[0] not in PACKAGES:
            continue
        for key, value in list(vars(mod).items()):
            # a submodule imported later is no patch; any other new name is
            seen[f'{name}:{key}'] = ('module' if isinstance(
                value, types.ModuleType) else id(value))
            if isinstance(value, type) and \
                    value.__module__.split('.')[0] in PACKAGES:
                for attr, member in list(vars(value).items()):
                    if isinstance(member, dict):  # a registry: by entry
                        for k, v in list(member.items()):
                            seen[f'{name}:{key}.{attr}[{k!r}]'] = id(v)
                    else:
                        seen[f'{name}:{key}.{attr}'] = id(member)
            elif isinstance(value, dict) and len(value) < 10000:
                for k, v in list(value.items()):
                    seen[f'{name}:{key}[{k!r}]'] = id(v)
    seen['torch safe globals'] = sorted(
        map(str, torch.serialization.get_safe_globals()))
    return seen

before = snapshot()
import mmseg_seggan  # noqa
after = snapshot()
replaced = sorted(k for k, v in before.items() if after.get(k, v) != v)
removed = sorted(k for k in before if k not in after)
# New attributes of existing classes, new non-module globals of existing
# modules (e.g. a module-level ``open`` or a class's ``__reduce__``).
modules = {k.split(':')[0] for k in before}


def is_addition(key, value):
    mod, _, rest = key.partition(':')
    if key in before or mod not in modules or value == 'module' or '[' in rest:
        return False
    owner = rest.split('.', 1)[0]  # a class attribute: its class existed
    return '.' not in rest or f'{mod}:{owner}' in before


added = sorted(k for k, v in after.items() if is_addition(k, v))
print(json.dumps(dict(replaced=replaced, removed=removed, added=added,
                      checked=len(before))))
'''


def _run(code):
    res = subprocess.run([sys.executable, '-c', code],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_import_replaces_no_global_of_mmengine_torch_mmseg():
    """Bug: the import replaced 8 globals (CheckpointLoader's '' scheme,
    HistoryBuffer.__reduce__, LocalBackend.put, Runner.register_default_
    hooks, load_state_dict twice, find_latest_checkpoint, torch's safe
    globals), changing every Runner of the process."""
    result = _run(SNAPSHOT)
    assert result['checked'] > 10000  # the snapshot saw the packages
    assert result['replaced'] == [] and result['removed'] == []
    assert result['added'] == []


def test_the_check_finds_a_patch():
    """The same check, with a patch of the old kind added: it is found."""
    patched = SNAPSHOT.replace(
        'import mmseg_seggan  # noqa', 'import mmseg_seggan  # noqa\n'
        'from mmengine.fileio import LocalBackend\n'
        'LocalBackend.put = lambda *a: None\n'
        'from mmengine.runner import CheckpointLoader\n'
        "CheckpointLoader.register_scheme('', lambda *a: None, force=True)\n"
        'torch.serialization.add_safe_globals([getattr])\n'
        'from mmengine.logging import HistoryBuffer\n'
        'HistoryBuffer.__reduce__ = lambda self: None\n'
        'from mmengine.hooks import checkpoint_hook\n'
        'checkpoint_hook.open = open')
    result = _run(patched)
    assert 'mmengine.fileio.backends.local_backend:LocalBackend.put' in \
        result['replaced']
    assert 'torch safe globals' in result['replaced']
    assert "mmengine.runner.checkpoint:CheckpointLoader._schemes['']" in \
        result['replaced']
    assert 'mmengine.hooks.checkpoint_hook:open' in result['added']
    assert ('mmengine.logging.history_buffer:HistoryBuffer.__reduce__'
            in result['added'])
