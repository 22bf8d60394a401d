"""Optional extra: an mmpretrain backbone inside SegGAN (cross-scope build).

The only test allowed to skip: it needs mmpretrain, which needs an
importable torchvision. PyPI's torchvision does not import beside the CPU
torch 2.13.0 this project pins ('operator torchvision::nms does not exist');
the torch 2.14.1 + torchvision 0.29.1 pair does (README, "Optional").
"""
import os.path as osp

import pytest
import torch
from seggan_testing import REPO


def _mmpretrain_importable():
    try:
        import mmpretrain.models  # noqa: F401
        import torchvision  # noqa: F401
    except Exception as e:  # noqa: BLE001  (any import failure: say which)
        return f'{type(e).__name__}: {e}'
    return None


WHY = _mmpretrain_importable()
CONFIG = osp.join(
    REPO, 'configs', 'mmpretrain',
    'seggan_mmpretrain-resnetv1c18-d16_1xb8-300+300it_toy-96x128.py')


@pytest.mark.skipif(
    WHY is not None,
    reason=f'mmpretrain/torchvision not importable here ({WHY}); install '
    "the '.[mmpretrain]' extra with torch 2.14.1 + torchvision 0.29.1")
def test_mmpretrain_backbone_builds_and_trains_both_phases():
    from mmengine.config import Config
    from mmseg.registry import MODELS
    from seggan_testing import build_optim, make_batch
    cfg = Config.fromfile(CONFIG)
    cfg.model.decode_head.num_classes = 6
    cfg.model.auxiliary_head.num_classes = 6
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.backbone).__module__.startswith('mmpretrain')
    optim = build_optim(model)
    model.train()
    model.set_phase(1)
    assert 'loss_d' in model.train_step(make_batch(), optim)
    before = model.backbone.conv1.weight.detach().clone() if hasattr(
        model.backbone, 'conv1') else next(
            model.backbone.parameters()).clone()
    model.set_phase(2)
    model.train()
    log_vars = model.train_step(make_batch(), optim)
    assert 'decode.loss_ce' in log_vars and 'loss_adv' in log_vars
    after = model.backbone.conv1.weight if hasattr(
        model.backbone, 'conv1') else next(model.backbone.parameters())
    assert not torch.equal(before, after)
