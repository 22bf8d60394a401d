"""What a SegGAN config may say: the loss modules, the keys of older
configs and checkpoints, and the settings refused when the model is built."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS
from seggan_testing import TINY_SEGGAN

from mmseg_seggan.models import (PseudoLabelLoss, SegGANAdvLoss,
                                 SegGANContentLoss)

MANIFEST = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
    'checkpoints', 'tiny_seggan_0c9a8b5.keys')
LOSS_KEYS = ('phase1_content_loss', 'phase1_adv_loss', 'phase2_content_loss',
             'phase2_adv_loss')


def _model_cfg(**overrides):
    cfg = copy.deepcopy(Config.fromfile(TINY_SEGGAN).model)
    cfg.update(overrides)
    return cfg


def _old_style_cfg():
    """The tiny SegGAN as configs wrote it before the loss modules."""
    cfg = _model_cfg(
        gan_content_weight=7.0,
        gan_adv_weight=3.0,
        content_weight=0.3,
        adv_weight=0.2,
        pseudo_label_weight=0.5,
        pseudo_label_threshold=0.8)
    for key in LOSS_KEYS:
        cfg.pop(key)
    cfg.discriminator.conditional = True
    return cfg


def test_losses_are_modules_named_in_the_config():
    model = MODELS.build(_model_cfg())
    weights = {key: getattr(model, key).loss_weight for key in LOSS_KEYS}
    assert weights == dict(
        phase1_content_loss=100.0,
        phase1_adv_loss=1.0,
        phase2_content_loss=0.1,
        phase2_adv_loss=0.1)
    assert isinstance(model.phase1_content_loss, SegGANContentLoss)
    assert isinstance(model.phase2_adv_loss, SegGANAdvLoss)
    assert model.pseudo_label_loss is None
    assert not any('_loss' in k for k in model.state_dict())
    # The optimizer and the non-finite snapshot see the segmentor only.
    assert not any(k.endswith('_loss') for k in model.segmentor_modules)


def test_old_style_config_and_checkpoint_still_load(tmp_path):
    """Bugs: the old scalar keys are dropped or refused (every config and
    ``--cfg-options model.adv_weight=0`` of earlier runs), or the loss
    modules change the state dict (a buffer, G/D moved under a loss), so
    a checkpoint saved before the loss modules no longer loads."""
    with pytest.warns(DeprecationWarning, match='model.adv_weight, model.co'):
        model = MODELS.build(_old_style_cfg())
    assert [getattr(model, k).loss_weight
            for k in LOSS_KEYS] == [7.0, 3.0, 0.3, 0.2]
    assert isinstance(model.pseudo_label_loss, PseudoLabelLoss)
    assert (model.pseudo_label_loss.loss_weight,
            model.pseudo_label_loss.threshold) == (0.5, 0.8)
    # A checkpoint with the state dict of the model before the refactor.
    g = torch.Generator().manual_seed(0)
    state = {}
    with open(MANIFEST) as f:
        for line in f:
            if line.startswith('#'):
                continue
            name, dtype, shape = line.split()
            shape = () if shape == '-' else tuple(map(int, shape.split('x')))
            state[name] = (torch.rand(shape, generator=g) * 10).to(
                getattr(torch, dtype))
    path = str(tmp_path / 'old.pth')
    torch.save(dict(meta=dict(seggan=dict(gan_iters=2)), state_dict=state),
               path)
    load_checkpoint(model, path, map_location='cpu', strict=True)
    loaded = model.state_dict()
    assert list(loaded) == list(state)
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_an_old_key_on_the_command_line_overrides_the_new_config():
    """``--cfg-options model.adv_weight=0`` on a config with the loss
    modules (protocol variants, tools) still switches the term off."""
    with pytest.warns(DeprecationWarning):
        model = MODELS.build(_model_cfg(adv_weight=0, content_weight=0.0))
    assert model.phase2_adv_loss.loss_weight == 0
    assert model.phase2_content_loss.loss_weight == 0
    assert not model._with_frozen_gan  # the control: G and D never run


def test_a_loss_dict_without_type_changes_only_the_weight():
    model = MODELS.build(_model_cfg(phase2_adv_loss=dict(loss_weight=0.5)))
    assert isinstance(model.phase2_adv_loss, SegGANAdvLoss)
    assert model.phase2_adv_loss.loss_weight == 0.5


def test_unknown_keys_are_still_refused():
    with pytest.raises(TypeError, match='adv_wieght'):
        MODELS.build(_model_cfg(adv_wieght=0.0))


def test_conditional_discriminator_class_count_is_checked():
    """Bug (issue 33): a conditional D with another ``num_classes`` than
    the segmentor failed at the first step with a raw conv error."""
    cfg = _model_cfg()
    cfg.discriminator.update(conditional=True, num_classes=5)
    with pytest.raises(ValueError,
                       match=r'model\.discriminator\.num_classes=5 but '
                       r'model\.decode_head\.num_classes=6'):
        MODELS.build(cfg)
    cfg.discriminator.update(conditional=False)  # unused then: no error
    MODELS.build(cfg)


def test_cascade_segmentor_is_refused_with_advice():
    """Bug (issue 32): an OCRNet config (CascadeEncoderDecoder) with
    ``type='SegGAN'`` gave ``TypeError: SegGAN.__init__() got an unexpected
    keyword argument 'num_stages'``."""
    cfg = _model_cfg(num_stages=2)
    cfg.decode_head = [cfg.decode_head, copy.deepcopy(cfg.decode_head)]
    with pytest.raises(ValueError, match='cascade.*single-head'):
        MODELS.build(cfg)
