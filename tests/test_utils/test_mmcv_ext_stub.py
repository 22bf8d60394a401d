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
