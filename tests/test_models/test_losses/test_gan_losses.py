"""The two GAN terms on hand-computed numbers: what counts, and how it is
averaged."""
import math

import pytest
import torch

from mmseg.registry import MODELS

from mmseg_seggan.models.losses import (PseudoLabelLoss, gan_loss,
                                        masked_mse_loss)


def _two_images():
    """(N=2, 3, 1, 2) prediction, zero target, pixel (0, 1) of image 0 void.

    Squared errors over the three channels: image 0: 1+4+9 = 14 (valid) and
    300 (void); image 1: 1 and 4. Valid pixels: 3, so 9 values count.
    """
    pred = torch.zeros(2, 3, 1, 2)
    pred[0, :, 0, 0] = torch.tensor([1., 2., 3.])
    pred[0, :, 0, 1] = 10.
    pred[1, :, 0, 0] = torch.tensor([0., 0., 1.])
    pred[1, :, 0, 1] = torch.tensor([2., 0., 0.])
    valid = torch.ones(2, 1, 1, 2, dtype=torch.bool)
    valid[0, 0, 0, 1] = False
    return pred, torch.zeros_like(pred), valid


def test_masked_mse_is_the_mean_over_valid_pixels_and_channels():
    pred, target, valid = _two_images()
    # (14 + 1 + 4) / (3 valid pixels * 3 channels); not 19 / 12 (all
    # pixels in the denominator), 19 / 3 (pixels only), nor the mean of
    # per-image means (14/3 + 5/6) / 2.
    torch.testing.assert_close(
        masked_mse_loss(pred, target, valid), torch.tensor(19 / 9))


def test_masked_mse_with_all_pixels_valid_is_plain_mse():
    pred, target, _ = _two_images()
    valid = torch.ones(2, 1, 1, 2, dtype=torch.bool)
    torch.testing.assert_close(
        masked_mse_loss(pred, target + 0.5, valid),
        torch.nn.functional.mse_loss(pred, target + 0.5))


def test_masked_mse_void_pixels_get_no_gradient_and_any_value():
    pred, target, valid = _two_images()
    pred.requires_grad_(True)
    loss = masked_mse_loss(pred, target, valid)
    loss.backward()
    assert torch.equal(pred.grad[0, :, 0, 1], torch.zeros(3))
    # d/dpred (pred - target)^2 / 9 = 2 * pred / 9 on valid pixels.
    torch.testing.assert_close(pred.grad[0, :, 0, 0],
                               2 * torch.tensor([1., 2., 3.]) / 9)
    # Whatever the image holds under a void pixel, the loss is the same.
    other = target.clone()
    other[0, :, 0, 1] = -7.
    torch.testing.assert_close(
        masked_mse_loss(pred.detach(), other, valid), loss.detach())


def test_masked_mse_takes_a_float_mask_and_a_float64_target():
    pred, target, valid = _two_images()
    torch.testing.assert_close(
        masked_mse_loss(pred, target.double(), valid.float()),
        torch.tensor(19 / 9))


def test_masked_mse_without_valid_pixels_is_zero_with_gradient():
    pred, target, valid = _two_images()
    pred.requires_grad_(True)
    loss = masked_mse_loss(pred, target, torch.zeros_like(valid))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def _softplus(x):
    return math.log1p(math.exp(x))


LOGITS = torch.tensor([[[[0., 2.], [-1., math.log(3.)]]]])


@pytest.mark.parametrize('real,expected', [
    (True,
     [math.log(2), _softplus(-2),
      _softplus(1), math.log(4 / 3)]),
    (False,
     [math.log(2), _softplus(2),
      _softplus(-1), math.log(4)]),
])
def test_gan_loss_is_mean_bce_on_logits(real, expected):
    # target 1: -log sigmoid(x) = softplus(-x); target 0: softplus(x); mean
    # over every patch logit.
    torch.testing.assert_close(
        gan_loss(LOGITS, real),
        torch.tensor(sum(expected) / 4),
        rtol=1e-6,
        atol=1e-7)


def test_gan_loss_real_target_pushes_logits_up_fake_target_down():
    for real, sign in ((True, -1), (False, 1)):
        logits = LOGITS.clone().requires_grad_(True)
        gan_loss(logits, real).backward()
        # d/dx = (sigmoid(x) - target) / numel
        expected = (torch.sigmoid(LOGITS) - float(real)) / 4
        torch.testing.assert_close(logits.grad, expected)
        assert (torch.sign(logits.grad) == sign).all()


def test_gan_loss_is_finite_for_confident_wrong_logits():
    # BCE on logits, not log(sigmoid): -log sigmoid(-200) = 200 exactly.
    torch.testing.assert_close(
        gan_loss(torch.tensor([-200.]), True), torch.tensor(200.))
    torch.testing.assert_close(
        gan_loss(torch.tensor([200.]), False), torch.tensor(200.))


def test_loss_modules_weight_the_generator_side_only():
    """As mmagic's ``GANLoss``: ``loss_weight`` scales G's terms; D's own
    loss (``is_disc=True``) stays unweighted."""
    pred, target, valid = _two_images()
    content = MODELS.build(dict(type='SegGANContentLoss', loss_weight=2.5))
    assert content(pred, target, valid) == 2.5 * masked_mse_loss(
        pred, target, valid)
    adv = MODELS.build(dict(type='SegGANAdvLoss', loss_weight=3.0))
    logits = torch.tensor([[-1.0, 0.5]])
    assert adv(logits, True) == 3.0 * gan_loss(logits, True)
    assert adv(logits, False, is_disc=True) == gan_loss(logits, False)


def test_pseudo_label_loss_is_weighted_and_checks_its_threshold():
    logits = torch.tensor([[[[4.0, 0.0]], [[0.0, 0.1]]]])  # (1, 2, 1, 2)
    area = torch.ones(1, 1, 2, dtype=torch.bool)
    loss, ratio = PseudoLabelLoss(loss_weight=2.0, threshold=0.9)(
        logits, area, 255)
    assert ratio == 0.5  # only the first pixel is confident
    target = torch.tensor([[[0, 255]]])
    expected = torch.nn.functional.cross_entropy(
        logits, target, ignore_index=255)
    assert torch.isclose(loss, 2.0 * expected)
    with pytest.raises(ValueError, match='pseudo_label_loss.threshold=1.5'):
        PseudoLabelLoss(threshold=1.5)
