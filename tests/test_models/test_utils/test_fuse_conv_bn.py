"""BN of frozen G and D folded into their convolutions: same function."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_seggan.models import SegGANDiscriminator, SegGANGenerator
from mmseg_seggan.models.utils import FrozenFusedCopy, fuse_conv_bn

C = 5


def randomize_bn(net, seed=0):
    """BN statistics and affine far from the identity, as after training."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g))
            m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.2)
            m.weight.data.copy_(torch.randn(n, generator=g))
            m.bias.data.copy_(torch.randn(n, generator=g))
    return net


def frozen(net):
    net.init_weights()
    randomize_bn(net)
    net.eval().requires_grad_(False)
    return net


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def out_and_input_grad(net, x, *extra):
    x = x.detach().clone().requires_grad_(True)
    out = net(x, *extra)
    # A fixed random projection: gradient of a generic scalar of the output.
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    (out * w).sum().backward()
    return out.detach(), x.grad


@pytest.mark.parametrize('channels_last', [True, False])
def test_folded_generator_matches_outputs_and_input_gradients(channels_last):
    """Bugs: a transposed conv folded like a plain one (its weight is
    (in, out, k, k): the BN scale lands on the wrong axis), BN left in
    place (nothing folded), or the copy's weights in another layout."""
    torch.manual_seed(0)
    gen = frozen(
        SegGANGenerator(C, base_channels=8, channels_last=channels_last))
    fused, folded = fuse_conv_bn(gen)
    assert folded == 6  # 3 encoder ConvModules + 3 decoder transposed convs
    assert not any(isinstance(m, _BatchNorm) for m in fused.modules())
    # 45 x 60: not a multiple of 16, so the replicate padding runs too.
    x = torch.randn(2, C, 45, 60).softmax(1)
    out_a, grad_a = out_and_input_grad(gen, x)
    out_b, grad_b = out_and_input_grad(fused, x)
    assert rel_err(out_b, out_a) < 1e-5
    assert rel_err(grad_b, grad_a) < 1e-5
    if channels_last:
        conv = fused.encoder[1].conv
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('conditional', [False, True])
def test_folded_discriminator_matches_outputs_and_input_gradients(conditional):
    torch.manual_seed(0)
    disc = frozen(
        SegGANDiscriminator(
            base_channels=8, num_classes=C, conditional=conditional))
    fused, folded = fuse_conv_bn(disc)
    assert folded == 2
    img = torch.randn(2, 3, 48, 64).tanh()
    mask = torch.randn(2, C, 48, 64).softmax(1) if conditional else None
    out_a, grad_a = out_and_input_grad(disc, img, mask)
    out_b, grad_b = out_and_input_grad(fused, img, mask)
    assert rel_err(out_b, out_a) < 1e-5
    assert rel_err(grad_b, grad_a) < 1e-5


def test_original_network_and_its_state_dict_are_untouched():
    """Bug: folding in place would save folded weights without BN keys
    into every phase-2 checkpoint (it would no longer load into G)."""
    gen = frozen(SegGANGenerator(C, base_channels=8))
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    fuse_conv_bn(gen)
    after = gen.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[k], before[k]) for k in before)
    assert any(isinstance(m, _BatchNorm) for m in gen.modules())


def test_cached_copy_is_reused_and_rebuilt_when_the_weights_change():
    """Bugs: a stale copy after a checkpoint is loaded (a resumed phase 2
    would paint with the initial G), or a copy rebuilt every step."""
    gen = frozen(SegGANGenerator(C, base_channels=8))
    cache = FrozenFusedCopy()
    first = cache.get(gen)
    assert cache.get(gen) is first
    other = frozen(SegGANGenerator(C, base_channels=8))
    randomize_bn(other, seed=3)
    gen.load_state_dict(other.state_dict())
    second = cache.get(gen)
    assert second is not first
    x = torch.randn(1, C, 32, 32).softmax(1)
    with torch.no_grad():
        assert rel_err(second(x), other(x)) < 1e-5


def test_trainable_or_train_mode_network_is_not_folded():
    """In phase 1 G and D train (BN uses batch statistics): no folding."""
    gen = SegGANGenerator(C, base_channels=8)
    cache = FrozenFusedCopy()
    assert cache.get(gen.train()) is gen
    assert cache.get(gen.eval()) is gen  # eval but still trainable
    gen.requires_grad_(False)
    assert cache.get(gen) is not gen
