import pytest
import torch
import torch.nn as nn

from mmseg_seggan.models import SegGANGenerator


@pytest.mark.parametrize('size', [(32, 48), (37, 50), (16, 16)])
def test_output_is_an_image_of_the_input_size_in_tanh_range(size):
    g = SegGANGenerator(num_classes=5, base_channels=4)
    g.init_weights()
    out = g(torch.rand(2, 5, *size).softmax(1))
    assert out.shape == (2, 3, *size)
    assert out.abs().max() <= 1


def test_architecture_is_4_conv_plus_4_deconv_with_dropout():
    g = SegGANGenerator(num_classes=5, base_channels=4)
    convs = [m for m in g.modules() if type(m) is nn.Conv2d]
    deconvs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    drops = [m for m in g.modules() if isinstance(m, nn.Dropout)]
    assert len(convs) == 4 and len(deconvs) == 4
    assert drops and all(d.p == 0.5 for d in drops)
    assert g.encoder[0].conv.in_channels == 5


def test_normal_init_std_002():
    torch.manual_seed(0)
    g = SegGANGenerator(num_classes=5, base_channels=64)
    g.init_weights()
    w = g.encoder[2].conv.weight
    assert abs(w.mean().item()) < 1e-3
    assert abs(w.std().item() - 0.02) < 1e-3


def test_wrong_channel_count_is_a_clear_error():
    g = SegGANGenerator(num_classes=5, base_channels=4)
    with pytest.raises(ValueError, match='expects 5 mask channels'):
        g(torch.rand(1, 6, 16, 16))


def test_channels_last_is_the_same_function():
    """The channels-last layout (default, faster on CPUs) paints what the
    plain layout paints with the same weights, and keeps its weights in
    that layout, also after loading a plain state dict."""
    import torch

    from mmseg_seggan.models import SegGANGenerator
    torch.manual_seed(0)
    plain = SegGANGenerator(
        num_classes=5, base_channels=8, channels_last=False).eval()
    plain.init_weights()
    fast = SegGANGenerator(num_classes=5, base_channels=8).eval()
    fast.load_state_dict(plain.state_dict())
    conv = fast.encoder[1].conv.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 5, 40, 56).softmax(1)
    torch.testing.assert_close(fast(x), plain(x), atol=1e-5, rtol=1e-5)
    assert fast(x).shape == (2, 3, 40, 56)


def test_one_small_mask_in_training_is_refused_with_the_fix():
    """Bug (issue 33): a single mask of at most 16x16 px in training gave
    BN's raw ``Expected more than 1 value per channel when training``."""
    g = SegGANGenerator(num_classes=5, base_channels=4).train()
    with pytest.raises(ValueError,
                       match=r'larger than 16x16 px or a batch of 2'):
        g(torch.rand(1, 5, 12, 16))
    assert g(torch.rand(2, 5, 12, 16)).shape == (2, 3, 12, 16)
    assert g.eval()(torch.rand(1, 5, 12, 16)).shape == (1, 3, 12, 16)
