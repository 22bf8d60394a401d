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


def test_left_out_gan_networks_get_the_papers_adam():
    optim = SegGANOptimWrapperConstructor(
        dict(segmentor=adam(1), generator=adam(1)))(Toy())
    group = optim['discriminator'].optimizer.param_groups[0]
    assert type(optim['discriminator'].optimizer).__name__ == 'Adam'
    assert (group['lr'], group['betas']) == (1e-3, (0.9, 0.999))


def test_drop_in_keeps_the_segmentor_configs_own_optimizer():
    """Bug (issue 32): the drop-in replaced SegFormer's AdamW with its
    paramwise rules (and PSPNet's SGD) by Adam 1e-4."""
    own = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=6e-5, weight_decay=0.01),
        clip_grad=dict(max_norm=1.))
    optim = SegGANOptimWrapperConstructor(
        own, paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.)}))(
            Toy())
    seg = optim['segmentor']
    assert type(seg.optimizer).__name__ == 'AdamW'
    assert sorted({g["lr"] for g in seg.optimizer.param_groups}) == \
        pytest.approx([6e-5, 6e-4])
    assert seg.clip_grad_kwargs == dict(max_norm=1.)
    for net in ('generator', 'discriminator'):
        opt = optim[net].optimizer
        assert type(opt).__name__ == 'Adam'
        assert opt.param_groups[0]['lr'] == 1e-3
        assert not optim[net].clip_grad_kwargs
    with pytest.raises(ValueError, match='in one place'):
        SegGANOptimWrapperConstructor(dict(own, segmentor=adam(1)))
    with pytest.raises(ValueError, match='names no optimizer'):
        SegGANOptimWrapperConstructor(dict(type='OptimWrapper'))


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
