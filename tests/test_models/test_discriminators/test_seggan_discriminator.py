import pytest
import torch
import torch.nn as nn

from mmseg_seggan.models import SegGANDiscriminator


def test_four_convs_relu_between_patch_logits():
    d = SegGANDiscriminator(base_channels=4)
    d.init_weights()
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    relus = [m for m in d.modules() if isinstance(m, nn.ReLU)]
    assert len(convs) == 4 and len(relus) == 3
    out = d(torch.rand(3, 3, 64, 64) * 2 - 1)
    assert out.shape[:2] == (3, 1) and out.shape[-1] > 1
    assert (out < 0).any() and (out > 0).any()  # logits, no sigmoid


def test_conditional_needs_mask_and_classes():
    with pytest.raises(ValueError, match='num_classes'):
        SegGANDiscriminator(conditional=True)
    d = SegGANDiscriminator(base_channels=4, conditional=True, num_classes=4)
    with pytest.raises(ValueError, match='mask'):
        d(torch.rand(1, 3, 32, 32))
    assert d(torch.rand(1, 3, 32, 32), torch.rand(1, 4, 32, 32)).ndim == 4


def test_channels_last_is_the_same_function():
    import torch

    from mmseg_seggan.models import SegGANDiscriminator
    torch.manual_seed(0)
    plain = SegGANDiscriminator(base_channels=8, channels_last=False).eval()
    plain.init_weights()
    fast = SegGANDiscriminator(base_channels=8).eval()
    fast.load_state_dict(plain.state_dict())
    img = torch.rand(2, 3, 48, 64) * 2 - 1
    torch.testing.assert_close(fast(img), plain(img), atol=1e-5, rtol=1e-5)


def test_images_under_16_px_are_refused_naming_the_crop_size():
    """Bug (issue 33): crops under about 16 px gave a raw conv
    ``RuntimeError: Calculated padded input size per channel ...``."""
    d = SegGANDiscriminator(base_channels=4)
    with pytest.raises(ValueError, match=r'at least 16x16 px.*crop_size'):
        d(torch.rand(2, 3, 15, 40))
    assert d(torch.rand(2, 3, 16, 16)).shape == (2, 1, 1, 1)
