"""mmseg must import on mmcv-lite; compiled ops must fail loudly; the
start-up hook acts only where asked and needed (issues 19, 31, 32)."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from seggan_testing import REPO

from mmseg_seggan.utils import MissingMMCVOpError, mmcv_ext_available
from mmseg_seggan.utils.mmcv_ext_stub import _ExtStub


def test_mmseg_models_import_after_mmseg_seggan():
    import mmseg.models  # noqa: F401  (fails on mmcv-lite without the stub)
    from mmseg.registry import MODELS
    assert MODELS.get('SegGAN') is not None
    assert MODELS.get('ASPPHead') is not None


def test_stub_op_error_names_op_and_fix():
    stub = _ExtStub('mmcv._ext')
    with pytest.raises(MissingMMCVOpError, match='`point_sample_forward`'):
        stub.point_sample_forward(1)
    with pytest.raises(MissingMMCVOpError, match='mmcv==2.1.0'):
        stub.nms(1)
    with pytest.raises(AttributeError):
        stub.__wrapped__  # noqa: B018  (inspect must keep working)


def test_compiled_op_error_only_on_mmcv_lite():
    """mmcv-lite: a clear error. Full mmcv: the real op, untouched."""
    from mmcv.ops import sigmoid_focal_loss
    args = (torch.zeros(2, 3), torch.zeros(2).long())
    if not mmcv_ext_available():
        with pytest.raises(MissingMMCVOpError, match='sigmoid_focal_loss'):
            sigmoid_focal_loss(*args)
    else:
        import sys
        assert not getattr(sys.modules['mmcv._ext'], 'is_seggan_stub', False)
        try:  # full mmcv has no CPU kernel for this op; its own error
            sigmoid_focal_loss(*args)
        except MissingMMCVOpError:  # pragma: no cover
            pytest.fail('the stand-in replaced a real mmcv._ext')
        except RuntimeError as e:
            assert 'not found' in str(e) or 'cpu' in str(e).lower()


def test_expected_mmcv_flavour():
    """tools/run_tests.sh says which mmcv each run must have (CI proves both).

    Without the variable (a plain ``pytest``) either flavour is fine.
    """
    import os
    expect = os.environ.get('SEGGAN_EXPECT_MMCV')
    if expect == 'full':
        assert mmcv_ext_available(), 'full mmcv expected, mmcv._ext missing'
        from mmcv.ops import nms
        boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30,
                                                               30]]).float()
        _, keep = nms(boxes, torch.tensor([.9, .8, .7]), 0.5)
        assert keep.tolist() == [0, 2]  # the compiled CPU kernel ran
    elif expect == 'lite':
        assert not mmcv_ext_available()
        with pytest.raises(MissingMMCVOpError, match='nms'):
            from mmcv.ops import nms
            nms(torch.zeros(1, 4), torch.ones(1), 0.5)
    else:
        assert expect is None, f'SEGGAN_EXPECT_MMCV={expect!r}: full or lite'


HARMLESS = r'''
import json, sys
import mmcv.utils
import mmengine.utils.dl_utils as dl
env = mmcv.utils.collect_env()
before = dl.mmcv_full_available()
import mmseg.models  # the hook's stand-in lets this import on mmcv-lite
print(json.dumps(dict(compiler=env.get('MMCV Compiler'), before=before,
                      after=dl.mmcv_full_available(),
                      plugin='mmseg_seggan' in sys.modules)))
'''


def test_start_up_hook_is_harmless_to_unrelated_code(tmp_path):
    """Bug (issue 19): with the start-up hook on mmcv-lite, code that never
    imports the plugin saw ``mmcv.utils.collect_env()`` crash
    (``MissingMMCVOpError ... get_compiler_version``),
    ``mmcv_full_available()`` return True, and an mmengine whose
    ``config/utils.py`` has no ``MODULE2PACKAGE`` fail to import."""
    import json
    import subprocess
    import sys
    res = subprocess.run([sys.executable, '-c', HARMLESS],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert not out['plugin']  # only the start-up hook ran
    real = mmcv_ext_available()
    assert out['before'] is real and out['after'] is real
    if not real:
        assert out['compiler'] == 'n/a'
    # an mmengine without the scope table: imports, table left alone
    fake = tmp_path / 'mmengine' / 'config'
    fake.mkdir(parents=True)
    (tmp_path / 'mmengine' / '__init__.py').write_text('')
    (fake / '__init__.py').write_text('')
    (fake / 'utils.py').write_text('VALUE = 1\n')
    res = subprocess.run([
        sys.executable, '-c', 'import mmengine.config.utils as u; '
        "print(u.VALUE, hasattr(u, 'MODULE2PACKAGE'))"
    ],
                         capture_output=True,
                         text=True,
                         cwd=str(tmp_path),
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == ['1', 'False']


def _hook_line():
    """The line setup.py writes into ``mmseg_seggan-hook.pth``."""
    import ast
    with open(osp.join(REPO, 'setup.py')) as f:
        for node in ast.parse(f.read()).body:
            if isinstance(node, ast.Assign) and \
                    getattr(node.targets[0], 'id', None) == 'HOOK_LINE':
                return ast.literal_eval(node.value)
    raise AssertionError('setup.py has no HOOK_LINE')


def _site(tmp_path, with_module=True):
    """A site folder as a wheel install leaves it: the .pth and the hook."""
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'mmseg_seggan-hook.pth').write_text(_hook_line())
    if with_module:
        shutil.copy(osp.join(REPO, '_mmseg_seggan_hook.py'), site)
    return str(site)


def _bare_python(code, cwd, no_hook=None):
    """A fresh interpreter without this venv's site (``-S``) that runs the
    .pth files of ``site.addsitedir``; ``-c`` puts the cwd first on
    ``sys.path``, as an empty ``PYTHONPATH`` entry does at start-up."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('MMSEG_SEGGAN_NO_HOOK', 'PYTHONPATH')
    }
    if no_hook is not None:
        env['MMSEG_SEGGAN_NO_HOOK'] = no_hook
    res = subprocess.run([sys.executable, '-S', '-c', code],
                         cwd=str(cwd),
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout.strip()


def test_off_switch_is_read_before_any_module_is_looked_for(tmp_path):
    """Bug (issue 31, defect 5): the .pth imported ``_mmseg_seggan_hook``
    from ``sys.path`` before reading the off switch, so a
    ``_mmseg_seggan_hook.py`` in the current directory ran in every
    interpreter even with ``MMSEG_SEGGAN_NO_HOOK=1``."""
    site = _site(tmp_path, with_module=False)
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    mark = tmp_path / 'ran'
    (cwd / '_mmseg_seggan_hook.py').write_text(
        f'open({str(mark)!r}, "w").close()\ninstall = lambda: None\n')
    code = f'import site; site.addsitedir({site!r})'
    _bare_python(code, cwd, no_hook='1')
    assert not mark.exists()
    _bare_python(code, cwd)  # the check can see it: on, the module runs
    assert mark.exists()


@pytest.mark.parametrize('value', ['0', 'true', '', None])
def test_only_the_exact_value_1_turns_the_hook_off(tmp_path, value):
    """Bug (issue 31, defect 5): ``MMSEG_SEGGAN_NO_HOOK=0`` turned it off."""
    site = _site(tmp_path)
    code = (f'import site, sys; site.addsitedir({site!r}); '
            "print(any(getattr(f, '__module__', '') == '_mmseg_seggan_hook' "
            'for f in sys.meta_path))')
    assert _bare_python(code, tmp_path, no_hook=value) == 'True'
    assert _bare_python(code, tmp_path, no_hook='1') == 'False'


DIRECT_EXT = r'''
import importlib.util, json, sys
import mmcv.ops, mmseg.models  # the stand-in, if needed, serves these
import mmengine.utils.dl_utils as dl
try:
    import mmcv._ext
    direct = type(mmcv._ext).__name__
except ModuleNotFoundError as e:
    direct = 'ModuleNotFoundError'
print(json.dumps(dict(direct=direct, in_modules='mmcv._ext' in sys.modules,
                      spec=importlib.util.find_spec('mmcv._ext') is not None,
                      full=dl.mmcv_full_available(),
                      finders=[getattr(f, '__name__', '') for f in
                               sys.meta_path if type(f) is type])))
'''


def test_code_asking_for_mmcv_ext_itself_never_gets_the_stand_in():
    """Bug (issue 31, defect 5): after ``import mmcv.ops``, unrelated code
    asking ``import mmcv._ext`` got the stand-in (and the onedl fork's
    ``mmcv_full_available()`` answered True)."""
    import json
    res = subprocess.run([sys.executable, '-c', DIRECT_EXT],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    real = mmcv_ext_available()
    assert out['direct'] == ('module' if real else 'ModuleNotFoundError')
    assert out['in_modules'] is real and out['spec'] is real
    assert out['full'] is real
    assert '_Finder' not in out['finders']  # the hook left sys.meta_path


@pytest.mark.parametrize('needs_ext', [False, True])
def test_stand_in_only_where_mmcv_ops_needs_it(tmp_path, needs_ext):
    """Bug (issue 32, item 7): the stand-in was put in place whenever no
    real ``mmcv._ext`` existed, also for an mmcv whose ``mmcv.ops`` imports
    without it (onedl-mmcv built without ops)."""
    ops = tmp_path / 'mmcv' / 'ops'
    ops.mkdir(parents=True)
    (tmp_path / 'mmcv' / '__init__.py').write_text('')
    (ops / '__init__.py').write_text(
        'import importlib, sys\n'
        "SAW = 'mmcv._ext' in sys.modules\n" +
        ("ext = importlib.import_module('mmcv._ext')\n" if needs_ext else ''))
    code = (f'import site, sys; site.addsitedir({_site(tmp_path)!r}); '
            'import mmcv.ops as ops; '
            "print(ops.SAW, 'mmcv._ext' in sys.modules, "
            "type(getattr(ops, 'ext', None)).__name__)")
    out = _bare_python(code, tmp_path).split()
    if needs_ext:  # served while mmcv.ops ran, gone after
        assert out == ['True', 'False', 'ExtStub']
    else:
        assert out == ['False', 'False', 'NoneType']


SCOPE = r'''
import sys
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.utils import get_installed_path
cfg = Config.fromfile(sys.argv[1])
print(get_installed_path(MODULE2PACKAGE['mmseg_seggan']))
print(len(cfg.keys()))
'''


def test_mmseg_seggan_scope_resolves_in_this_install(tmp_path):
    """Bug (issue 32, item 3): in an editable install (this clone's venv)
    an ``mmseg_seggan::`` base failed: ``FileNotFoundError: .../site-
    packages/_mmseg_seggan_hook/.mim/model-index.yml`` (mmengine took the
    first line of ``top_level.txt``)."""
    cfg = tmp_path / 'my.py'
    cfg.write_text("_base_ = ['mmseg_seggan::_base_/seggan_defaults.py']\n")
    res = subprocess.run(
        [sys.executable, '-c', SCOPE, str(cfg)],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    folder, keys = res.stdout.split()[-2:]
    import mmseg_seggan
    assert osp.samefile(folder, osp.dirname(mmseg_seggan.__file__))
    assert int(keys) > 0  # the package's base config was read


def test_mmseg_scope_follows_a_renamed_mmseg_distribution(monkeypatch):
    """Bug (issue 32, item 7): with the onedl fork (distribution
    ``onedl-mmsegmentation``) ``mmseg::`` bases failed: "mmsegmentation is
    not installed". The entry is changed only there."""
    from importlib import metadata

    import _mmseg_seggan_hook as hook
    table = {'mmseg': 'mmsegmentation'}
    hook.add_scope(table)  # this stack: mmsegmentation is installed
    assert table == {
        'mmseg': 'mmsegmentation',
        'mmseg_seggan': hook.SCOPE_PACKAGE
    }

    def distribution(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, 'distribution', distribution)
    monkeypatch.setattr(metadata, 'packages_distributions',
                        lambda: {'mmseg': ['onedl-mmsegmentation']})
    table = {'mmseg': 'mmsegmentation'}
    hook.add_scope(table)
    assert table['mmseg'] == 'onedl-mmsegmentation'
    table = {'mmseg': 'onedl-mmsegmentation-own'}  # the fork knows itself
    hook.add_scope(table)
    assert table['mmseg'] == 'onedl-mmsegmentation-own'
    monkeypatch.setattr(metadata, 'packages_distributions', lambda: {})
    table = {'mmseg': 'mmsegmentation'}  # no mmseg at all: left alone
    hook.add_scope(table)
    assert table['mmseg'] == 'mmsegmentation'
