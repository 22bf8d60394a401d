"""mmseg must import on mmcv-lite; compiled ops must fail loudly."""
import pytest
import torch

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
    res = subprocess.run(
        [
            sys.executable, '-c', 'import mmengine.config.utils as u; '
            "print(u.VALUE, hasattr(u, 'MODULE2PACKAGE'))"
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == ['1', 'False']
