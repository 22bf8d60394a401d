"""Semi-supervised phase 2: unlabeled samples get no cross-entropy, the GAN
terms reach the segmentor from them, pseudo-labels are thresholded."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from seggan_testing import build_optim, tiny_seggan

from mmseg_seggan.models import PseudoLabelLoss, content_mask

H, W = 32, 48


@pytest.fixture(autouse=True)
def fresh_message_hub():
    """A message hub of this test alone: SegGAN logs NaN for the CE keys
    that the current hub already holds when a step has no labeled sample,
    and other tests of the session leave theirs in the global one."""
    import uuid

    from mmengine.logging import MessageHub
    return MessageHub.get_instance(f'test-seggan-semi-{uuid.uuid4()}')


def _batch(num_labeled, num_unlabeled, seed=0, unlabeled_size=(H, W)):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(num_labeled + num_unlabeled):
        size = (H, W) if i < num_labeled else unlabeled_size
        inputs.append(
            torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8))
        s = SegDataSample()
        if i < num_labeled:
            s.gt_sem_seg = PixelData(
                data=torch.randint(0, 4, (1, H, W), generator=g))
        s.set_metainfo(dict(img_shape=size, ori_shape=size))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _model(content=0.1, adv=0.1, pseudo_label_threshold=None):
    torch.manual_seed(0)
    model = tiny_seggan()
    model.data_preprocessor.size = (H, W)  # pad smaller unlabeled images
    model.phase2_content_loss.loss_weight = content
    model.phase2_adv_loss.loss_weight = adv
    if pseudo_label_threshold is not None:
        model.pseudo_label_loss = PseudoLabelLoss(
            loss_weight=1.0, threshold=pseudo_label_threshold)
    model.set_phase(2)
    model.train()
    return model


def _segmentor_state(model):
    return {
        k: v.clone()
        for k, v in model.state_dict().items()
        if not k.startswith(('generator.', 'discriminator.'))
    }


def test_cross_entropy_sees_only_the_labeled_samples(monkeypatch):
    model = _model()
    seen = []
    real = type(model.decode_head).loss_by_feat

    def spy(head, seg_logits, data_samples):
        seen.append((seg_logits.shape[0], len(data_samples)))
        assert all('gt_sem_seg' in s for s in data_samples)
        return real(head, seg_logits, data_samples)

    monkeypatch.setattr(type(model.decode_head), 'loss_by_feat', spy)
    log = model.train_step(_batch(2, 3), build_optim(model))
    assert seen == [(2, 2)]
    for key in ('recon_mse_labeled', 'recon_mse_unlabeled', 'adv_labeled',
                'adv_unlabeled'):
        assert key in log  # logged per source


def test_unlabeled_images_do_not_change_the_cross_entropy():
    # With BN in eval mode the labeled logits do not depend on the others:
    # the CE of a mixed batch is the CE of its labeled part, however
    # different the unlabeled images are.
    losses = []
    for seed in (1, 2):
        model = _model(content=0., adv=0.)
        model.eval()  # no batch statistics across samples
        batch = _batch(2, 2, seed=0)
        other = _batch(2, 2, seed=seed)
        batch['inputs'][2:] = other['inputs'][2:]
        data = model.data_preprocessor(batch, True)
        x = model.extract_feat(data['inputs'])
        loss, _ = model._head_losses(model.decode_head, 'decode', x,
                                     data['data_samples'], [0, 1])
        losses.append(loss['decode.loss_ce'])
    assert torch.equal(losses[0], losses[1])


def test_gan_terms_reach_the_segmentor_from_unlabeled_images_only():
    model = _model()
    before = _segmentor_state(model)
    gan_before = {
        k: v.clone()
        for k, v in model.state_dict().items()
        if k.startswith(('generator.', 'discriminator.'))
    }
    log = model.train_step(_batch(0, 4), build_optim(model))
    assert 'decode.loss_ce' not in log and log['loss_content'] > 0
    after = model.state_dict()
    assert not torch.equal(before['decode_head.conv_seg.weight'],
                           after['decode_head.conv_seg.weight'])
    assert not torch.equal(before['backbone.stem.0.weight'],
                           after['backbone.stem.0.weight'])
    for k, v in gan_before.items():
        assert torch.equal(v, after[k]), k  # G and D stay frozen


def test_unlabeled_padding_is_left_out_of_the_content_loss():
    model = _model()
    batch = _batch(0, 2, unlabeled_size=(H, W // 2))
    data = model.data_preprocessor(batch, True)
    mask = content_mask(data['inputs'], data['data_samples'],
                        model.ignore_index)
    assert mask.shape == (2, 1, H, W)
    assert mask[..., :W // 2].all() and not mask[..., W // 2:].any()


def test_no_labeled_sample_and_no_unlabeled_loss_is_an_error():
    model = _model(content=0., adv=0.)
    with pytest.raises(ValueError, match='nothing to train'):
        model.train_step(_batch(0, 2), build_optim(model))


def test_phase_1_refuses_unlabeled_samples():
    model = _model()
    model.set_phase(1)
    with pytest.raises(ValueError, match='labeled split'):
        model.train_step(_batch(2, 1), build_optim(model))


@pytest.mark.parametrize('threshold,ratio_is_zero', [(1.0, True),
                                                     (0.05, False)])
def test_pseudo_labels_follow_the_threshold(threshold, ratio_is_zero):
    model = _model(content=0., adv=0., pseudo_label_threshold=threshold)
    before = _segmentor_state(model)
    log = model.train_step(_batch(2, 2), build_optim(model))
    assert (log['pseudo_ratio'] == 0) == ratio_is_zero
    assert (log['loss_pseudo'] == 0) == ratio_is_zero
    assert not torch.equal(before['decode_head.conv_seg.weight'],
                           model.state_dict()['decode_head.conv_seg.weight'])


def test_pseudo_label_settings_are_checked():
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match='pseudo_label_loss.threshold=0.0'):
        model = tiny_seggan()
        type(model)(
            backbone=dict(type='ResNetV1c', depth=18),
            decode_head=dict(
                type='FCNHead', in_channels=8, channels=8, num_classes=4),
            generator=dict(type='SegGANGenerator'),
            discriminator=dict(type='SegGANDiscriminator'),
            pseudo_label_loss=dict(type='PseudoLabelLoss', threshold=0.))


def test_a_step_without_labeled_samples_logs_no_stale_cross_entropy(
        fresh_message_hub):
    # Bug: the CE keys were missing from such a step's log variables, so
    # mmengine's logger printed the last labeled step's CE as this step's.
    hub = fresh_message_hub
    model = _model()
    optim = build_optim(model)
    for batch in (_batch(2, 2), _batch(0, 4, seed=1)):
        log = model.train_step(batch, optim)
        for k, v in log.items():  # as mmengine's RuntimeInfoHook does
            hub.update_scalar(f'train/{k}', v)
    assert torch.isnan(log['decode.loss_ce']) and torch.isnan(
        log['decode.acc_seg'])
    assert np.isnan(hub.get_scalar('train/decode.acc_seg').current())
    assert torch.isfinite(log['loss']) and log['loss_content'] > 0


def test_pseudo_labels_leave_the_padding_of_a_smaller_image_out():
    # The two unlabeled images are half as wide as the batch, which pads
    # them: the padding must get no pseudo-label (it would train the model
    # to predict whatever it sees in the zeros).
    from mmseg.models.utils import resize
    model = _model(content=0., adv=0.,
                   pseudo_label_threshold=1e-6)  # every pixel is confident
    data = model.data_preprocessor(
        _batch(2, 2, unlabeled_size=(H, W // 2)), True)
    torch.manual_seed(1)  # the head's dropout, as in the step below
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(data['inputs']))
    up = resize(logits[2:], (H, W), mode='bilinear', align_corners=False)
    target = up.argmax(dim=1)
    everywhere = F.cross_entropy(up, target)
    target[..., W // 2:] = 255
    inside = F.cross_entropy(up, target, ignore_index=255)
    assert not torch.isclose(inside, everywhere)
    torch.manual_seed(1)
    log = model.train_step(
        _batch(2, 2, unlabeled_size=(H, W // 2)), build_optim(model))
    assert torch.isclose(log['loss_pseudo'], inside, rtol=1e-4)
    assert log['pseudo_ratio'] == 1  # of the image pixels, not the padding
