"""The U-Net generator (pix2pix's, which the paper cites)."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmseg.registry import MODELS
from seggan_testing import TINY_SEGGAN, build_optim, make_batch

from mmseg_seggan.models import SegGANGenerator, SegGANUNetGenerator


@pytest.mark.parametrize('size', [(32, 48), (37, 50), (16, 16)])
def test_output_is_an_image_of_the_input_size_in_tanh_range(size):
    g = SegGANUNetGenerator(num_classes=5, base_channels=4)
    g.init_weights()
    out = g(torch.rand(2, 5, *size).softmax(1))
    assert out.shape == (2, 3, *size)
    assert out.abs().max() <= 1


def test_same_layers_as_the_plain_generator_plus_skips():
    """4 conv + 4 deconv, dropout 0.5; decoder layers 2-4 get the mirrored
    encoder output concatenated (their inputs are twice as wide, at the
    encoder layer's resolution)."""
    g = SegGANUNetGenerator(num_classes=5, base_channels=4).eval()
    convs = [m for m in g.modules() if type(m) is nn.Conv2d]
    deconvs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    drops = [m for m in g.modules() if isinstance(m, nn.Dropout)]
    assert len(convs) == 4 and len(deconvs) == 4
    assert len(drops) == 3 and all(d.p == 0.5 for d in drops)
    seen = []
    for layer in g.decoder:
        layer.register_forward_hook(
            lambda m, args, out: seen.append(tuple(args[0].shape[1:])))
    g(torch.rand(1, 5, 32, 48))
    assert seen == [(32, 2, 3), (32, 4, 6), (16, 8, 12), (8, 16, 24)]
    # the plain generator: no skips, the bottleneck alone
    plain = SegGANGenerator(num_classes=5, base_channels=4).eval()
    seen.clear()
    for layer in plain.decoder:
        layer.register_forward_hook(
            lambda m, args, out: seen.append(tuple(args[0].shape[1:])))
    plain(torch.rand(1, 5, 32, 48))
    assert seen == [(32, 2, 3), (16, 4, 6), (8, 8, 12), (4, 16, 24)]


def test_skips_carry_full_resolution_detail_past_the_bottleneck():
    """Two masks that differ in one pixel: with the bottleneck cut (its
    output zeroed) the plain generator paints both the same, the U-Net
    still paints the difference at that pixel."""
    torch.manual_seed(0)
    mask = torch.zeros(1, 5, 32, 48)
    mask[:, 0] = 1
    other = mask.clone()
    other[0, :, 17, 21] = torch.tensor([0., 0., 1., 0., 0.])
    for cls, differs in ((SegGANGenerator, False), (SegGANUNetGenerator,
                                                    True)):
        g = cls(num_classes=5, base_channels=4).eval()
        g.init_weights()
        g.encoder[3].register_forward_hook(lambda m, a, out: out * 0)
        diff = (g(mask) - g(other)).abs()[0].sum(0)
        assert bool(diff.max() > 0) is differs, cls.__name__
        if differs:
            assert diff[15:20, 19:24].sum() > 0.5 * diff.sum()


def test_seggan_with_unet_generator_sees_the_mask_only_and_trains():
    cfg = copy.deepcopy(Config.fromfile(TINY_SEGGAN).model)
    cfg.generator.type = 'SegGANUNetGenerator'
    for phase in (1, 2):
        torch.manual_seed(0)
        model = MODELS.build(dict(cfg, phase=phase))
        model.init_weights()
        model.train()
        assert isinstance(model.generator, SegGANUNetGenerator)
        inputs = []
        model.generator.register_forward_hook(
            lambda m, args, out: inputs.append(args[0].shape[1]))
        before = {
            k: v.clone()
            for k, v in model.generator.state_dict().items()
        }
        log_vars = model.train_step(make_batch(), build_optim(model))
        assert inputs and set(inputs) == {model.num_classes}
        assert torch.isfinite(log_vars['loss_content'])
        changed = any(not torch.equal(before[k], v)
                      for k, v in model.generator.state_dict().items())
        assert changed is (phase == 1)
