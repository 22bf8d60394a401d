"""Phase 2 with G's and D's BN folded: same losses, same segmentor
gradients, and checkpoints that still hold the unfolded G and D."""
import copy

import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from seggan_testing import TINY_SEGGAN, build_optim, make_batch
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_seggan.models.utils import unwrap


def build(fuse, phase=2):
    cfg = copy.deepcopy(Config.fromfile(TINY_SEGGAN).model)
    cfg.update(phase=phase, fuse_frozen_bn=fuse)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    g = torch.Generator().manual_seed(0)
    for net in (model.generator, model.discriminator):
        for m in net.modules():  # statistics as after phase 1
            if isinstance(m, _BatchNorm):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(
                    torch.rand(m.num_features, generator=g) + 0.5)
    return model.train()


def phase2_losses_and_grads(model):
    data = model.data_preprocessor(make_batch(), True)
    x = model.extract_feat(data['inputs'])
    logits = unwrap(model.decode_head)(x)
    terms = model.frozen_gan_losses(data['inputs'], data['data_samples'],
                                    logits)
    loss = terms['loss_content'] + terms['loss_adv']
    params = [p for p in model.decode_head.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [logits] + params)
    return terms, grads


def test_folded_phase2_gives_the_same_losses_and_segmentor_gradients():
    """Bugs: the folded G/D compute another function (wrong fold axis, BN
    statistics not those of the checkpoint), or the gradient stops at the
    folded copy (the segmentor would learn nothing from G and D)."""
    plain, fused = build(fuse=False), build(fuse=True)
    fused.load_state_dict(plain.state_dict())
    torch.manual_seed(1)  # the same dropout masks in the head
    t_a, g_a = phase2_losses_and_grads(plain)
    torch.manual_seed(1)
    t_b, g_b = phase2_losses_and_grads(fused)
    assert fused._fused_gan['generator'].folded == 6
    assert fused._fused_gan['discriminator'].folded == 2
    for key in ('loss_content', 'loss_adv'):
        assert torch.allclose(t_b[key], t_a[key], rtol=1e-5, atol=0)
    # The logits' gradient (what G and D send back), then the head's (all
    # together: a few of them are ~0, where a relative error means little).
    for a, b in ((g_a[0], g_b[0]), (torch.cat([g.flatten() for g in g_a[1:]]),
                                    torch.cat([g.flatten()
                                               for g in g_b[1:]]))):
        assert a.abs().max() > 0
        # 1e-3: the gradients are ~1e-9 and float32 sums in another order
        # (2 threads) differ by ~1e-4 of them; a wrong fold is off by O(1)
        assert (b - a).abs().max() <= 1e-3 * a.abs().max()


def test_phase2_checkpoint_keeps_unfolded_gan_and_loads_into_plain_model():
    """Bug: folded weights (or their extra bias keys) leaking into the
    state dict: a phase-2 checkpoint would not load into an unfolded
    model, nor hold G's real BN."""
    model = build(fuse=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train_step(make_batch(), build_optim(model))
    state = model.state_dict()
    assert list(state) == list(before)
    for k in before:  # G and D frozen: bit-identical, BN buffers included
        if k.startswith(('generator.', 'discriminator.')):
            assert torch.equal(state[k], before[k]), k
    plain = build(fuse=False, phase=1)
    plain.load_state_dict(state, strict=True)
