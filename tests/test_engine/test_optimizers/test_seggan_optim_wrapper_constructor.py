import pytest
import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from mmseg_seggan.engine import SegGANOptimWrapperConstructor


class Toy(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 1)
        self.decode_head = nn.Conv2d(4, 2, 1)
        self.generator = nn.Conv2d(2, 3, 1)
        self.discriminator = nn.Conv2d(3, 1, 1)

    @property
    def segmentor_modules(self):
        return dict(backbone=self.backbone, decode_head=self.decode_head)


def adam(lr):
    return dict(optimizer=dict(type='Adam', lr=lr))


def test_one_optimizer_per_network_with_disjoint_params():
    model = Toy()
    optim = SegGANOptimWrapperConstructor(
        dict(
            segmentor=dict(
                adam(1e-4),
                paramwise_cfg=dict(
                    custom_keys={'decode_head': dict(lr_mult=10.)})),
            generator=adam(1e-3),
            discriminator=adam(2e-3)))(
                model)
    assert isinstance(optim, OptimWrapperDict)
    params = {
        name: {id(p)
               for g in w.optimizer.param_groups
               for p in g['params']}
        for name, w in optim.items()
    }
    assert params['generator'] == {id(p) for p in model.generator.parameters()}
    assert params['discriminator'] == {
        id(p)
        for p in model.discriminator.parameters()
    }
    seg = {
        id(p)
        for m in model.segmentor_modules.values()
        for p in m.parameters()
    }
    assert params['segmentor'] == seg
    lrs = sorted(g['lr'] for g in optim['segmentor'].optimizer.param_groups)
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(1e-3)
    assert optim['discriminator'].optimizer.param_groups[0]['lr'] == 2e-3


def test_missing_network_named():
    with pytest.raises(ValueError, match=r"missing \['discriminator'\]"):
        SegGANOptimWrapperConstructor(
            dict(segmentor=adam(1), generator=adam(1)))


def _build(model):
    return SegGANOptimWrapperConstructor(
        dict(
            segmentor=adam(1e-4),
            generator=adam(1e-3),
            discriminator=adam(1e-3)))(
                model)


def test_resuming_a_plain_optimizer_state_is_explained():
    """Bug: a plain DeepLabV3 checkpoint's optimizer (one optimizer:
    ``state``, ``param_groups``) failed deep in mmengine with
    ``AssertionError: Mismatched `state_dict`! cannot found state``."""
    optim = _build(Toy())
    plain = _build(Toy())['segmentor'].state_dict()
    with pytest.raises(ValueError) as e:
        optim.load_state_dict(plain)
    msg = str(e.value)
    assert 'one optimizer' in msg and 'segmentor, generator, discriminator' \
        in msg
    assert 'load_from' in msg and 'without --resume' in msg
    optim.load_state_dict(_build(Toy()).state_dict())  # SegGAN's own: fine
