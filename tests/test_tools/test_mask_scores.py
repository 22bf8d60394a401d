import math

import mmseg_seggan  # noqa: F401
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_seggan.models.utils import gan_view, unwrap_seggan
from seggan_testing import import_tool, tiny_seggan

scores = import_tool('tools/analysis_tools/mask_scores.py')
(AUDIT_SCORES, PREDICT_SCORES, compute_scores, high_frequency_energy,
 image_statistics, per_image_miou, precision_at_k, rank_worst_first,
 recall_at_k, spearman, _class_means) = (
     scores.AUDIT_SCORES, scores.PREDICT_SCORES, scores.compute_scores,
     scores.high_frequency_energy, scores.image_statistics,
     scores.per_image_miou, scores.precision_at_k, scores.rank_worst_first,
     scores.recall_at_k, scores.spearman, scores._class_means)

NUM_CLASSES = 4
COLORS = torch.tensor([[-1., -1., 1.], [1., -1., -1.], [-1., 1., -1.],
                       [1., 1., 1.]])  # class colours in [-1, 1], RGB


class ColourPainter(nn.Module):
    """A perfect G for images painted with COLORS: 1x1 conv of the mask."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(NUM_CLASSES, 3, 1, bias=False)
        self.conv.weight.data = COLORS.t().reshape(3, NUM_CLASSES, 1, 1)

    def forward(self, mask):
        return self.conv(mask)


def painted_batch(masks, ori_shape=None):
    """Images painted from masks with COLORS (stored BGR, like files)."""
    inputs, samples = [], []
    for i, mask in enumerate(masks):
        rgb = COLORS[torch.as_tensor(mask).long()].permute(2, 0, 1)
        img = ((rgb + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        inputs.append(img.flip(0))  # BGR
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.as_tensor(mask, dtype=torch.uint8)[None])
        h, w = mask.shape
        sample.set_metainfo(
            dict(
                img_path=f'img_{i}.png',
                img_shape=(h, w),
                ori_shape=ori_shape or (h, w)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def blocks_mask(h=32, w=48):
    mask = np.zeros((h, w), np.uint8)
    mask[h // 2:, :] = 1
    mask[:h // 2, w // 2:] = 2
    mask[h // 2:, w // 2:] = 3
    return mask


def test_per_image_miou():
    gt = np.array([[0, 0, 1, 1], [0, 0, 1, 255]])
    assert per_image_miou(gt, gt, 3) == 1.0
    pred = np.array([[0, 0, 1, 1], [0, 1, 1, 2]])  # last pixel ignored
    # class 0: inter 3, union 4; class 1: inter 3, union 4; class 2 absent.
    assert per_image_miou(pred, gt, 3) == pytest.approx(0.75)
    # A class only predicted counts with IoU 0.
    pred2 = np.array([[2, 0, 1, 1], [0, 0, 1, 1]])
    assert per_image_miou(pred2, gt, 3) == pytest.approx((0.75 + 1 + 0) / 3)
    assert math.isnan(per_image_miou(pred, np.full_like(gt, 255), 3))
    with pytest.raises(ValueError, match='differ in size'):
        per_image_miou(pred[:, :2], gt, 3)


def test_spearman_and_ranking_metrics():
    rho, _ = spearman([1, 2, 3, 4], [10, 20, 30, 45])
    assert rho == pytest.approx(1.0)
    rho, _ = spearman([1, 2, 3, 4, np.nan], [4, 3, 2, 1, 7])
    assert rho == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2], [1, 2])[0])

    quality = [0.9, -2.0, 0.5, -1.0, np.nan, 0.1]
    assert list(rank_worst_first(quality)) == [1, 3, 5, 2, 0, 4]
    flagged = [False, True, False, False, False, True]
    assert precision_at_k(quality, flagged, 2) == 0.5
    assert recall_at_k(quality, flagged, 2) == 0.5
    assert recall_at_k(quality, flagged, 3) == 1.0
    assert math.isnan(recall_at_k(quality, [False] * 6, 2))
    with pytest.raises(ValueError, match='positive'):
        precision_at_k(quality, flagged, 0)


def test_gan_view_shapes_padding_and_gt_resize():
    model = tiny_seggan(NUM_CLASSES, size_divisor=16)
    mask = blocks_mask(30, 40)
    # GT stored at the original size 60x80, image at 30x40 (as after a
    # test-pipeline Resize placed before LoadAnnotations).
    big = np.kron(mask, np.ones((2, 2), np.uint8))
    batch = painted_batch([mask], ori_shape=(60, 80))
    batch['data_samples'][0].gt_sem_seg = PixelData(
        data=torch.from_numpy(big)[None])
    view = gan_view(model, batch)
    assert view.image.shape == (1, 3, 32, 48)  # padded to /16
    assert view.prob.shape == (1, NUM_CLASSES, 32, 48)
    assert view.fake_pred.shape == view.fake_gt.shape == (1, 3, 32, 48)
    assert view.crop(0) == (30, 40)
    assert int(view.region.sum()) == 30 * 40
    assert (view.gt[0, :30, :40].numpy() == mask).all()
    assert (view.gt[0, 30:] == 255).all() and (view.gt[0, :, 40:] == 255).all()
    assert torch.allclose(view.prob.sum(1), torch.ones(1, 32, 48), atol=1e-5)
    # Deterministic in eval mode (dropout off): same view twice.
    again = gan_view(model, batch)
    assert torch.equal(view.fake_pred, again.fake_pred)
    stats = image_statistics(view)
    assert set(stats[0]) >= {
        'err_pred', 'err_hard', 'entropy', 'd_pred', 'err_gt',
        'err_hard_valid', 'disagree'
    }
    assert 0 <= stats[0]['entropy'] <= math.log(NUM_CLASSES) + 1e-5
    assert set(compute_scores(stats[0], PREDICT_SCORES)) == set(PREDICT_SCORES)
    assert set(compute_scores(stats[0], AUDIT_SCORES)) == set(AUDIT_SCORES)


def test_gan_view_without_gt_and_padding_excluded():
    model = tiny_seggan(NUM_CLASSES, size_divisor=16)
    batch = painted_batch([blocks_mask(30, 40)])
    del batch['data_samples'][0].gt_sem_seg
    view = gan_view(model, batch)
    assert view.gt is None and view.fake_gt is None
    stats = image_statistics(view)[0]
    assert 'err_gt' not in stats
    assert set(compute_scores(stats, AUDIT_SCORES)) == set()
    # Changing only padded pixels of G's output leaves the error unchanged.
    view.fake_pred[:, :, 30:, :] = 5.0
    assert image_statistics(view)[0]['err_pred'] == pytest.approx(
        stats['err_pred'])


def test_audit_score_prefers_the_true_mask():
    """With a G that paints masks perfectly, a corrupted GT scores lower."""
    model = tiny_seggan(NUM_CLASSES)
    model.generator = ColourPainter()
    mask = blocks_mask()
    wrong = mask.copy()
    wrong[:, :12] = 3  # a quarter of the image in the wrong class
    view = gan_view(model, painted_batch([mask, wrong]))
    # The images are painted from `mask` twice: restore image 1.
    view.image[1] = view.image[0]
    stats = image_statistics(view)
    assert stats[0]['err_gt'] == pytest.approx(0.0, abs=1e-4)
    assert stats[1]['err_gt'] > 0.1
    clean = compute_scores(stats[0], AUDIT_SCORES)
    bad = compute_scores(stats[1], AUDIT_SCORES)
    assert clean['audit_ratio'] > bad['audit_ratio']
    assert clean['audit_recon'] > bad['audit_recon']
    assert clean['audit_ratio_cb'] > bad['audit_ratio_cb']
    assert clean['disagreement_g'] == 0 >= bad['disagreement_g']


def test_class_balanced_statistics_weigh_each_region_once():
    x = torch.tensor([[1., 1., 1., 9.], [1., 1., 1., 9.]])
    labels = torch.tensor([[0, 0, 0, 2], [0, 0, 0, 2]])
    mask = torch.ones_like(labels, dtype=torch.bool)
    means = _class_means(x, labels, mask, 4)
    assert means.tolist() == [1.0, 9.0]  # class 1 and 3 absent
    mask[:, 3] = False
    assert _class_means(x, labels, mask, 4).tolist() == [1.0]


def test_high_frequency_energy_ranks_busy_images_higher():
    flat = torch.zeros(1, 3, 16, 24)
    ramp = torch.linspace(-1, 1, 24).expand(1, 3, 16, 24)
    checker = (torch.arange(24)[None, :] + torch.arange(16)[:, None]) % 2
    checker = (checker.float() * 2 - 1).expand(1, 3, 16, 24)
    energy = [
        float(high_frequency_energy(x).mean()) for x in (flat, ramp, checker)
    ]
    assert energy[0] == 0 and energy[1] < 0.01 < energy[2]
    assert high_frequency_energy(torch.rand(2, 3, 3, 5)).shape == (2, 3, 5)


def test_unwrap_seggan_rejects_plain_segmentor():
    with pytest.raises(TypeError, match="model.type='SegGAN'"):
        unwrap_seggan(nn.Conv2d(1, 1, 1))
