"""SegGAN training semantics: what each phase may and may not change."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from seggan_testing import TINY_SEGGAN, build_optim, make_batch

from mmseg_seggan.models import NonFiniteLossError, SegGAN

C = 6


def build_model(**overrides) -> SegGAN:
    cfg = Config.fromfile(TINY_SEGGAN)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.update(overrides)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def segmentor_state(model):
    return {
        k: v.detach().clone()
        for k, v in model.state_dict().items()
        if not k.startswith(('generator.', 'discriminator.'))
    }


def test_phase1_trains_gan_and_leaves_segmentor_bit_identical():
    model = build_model(phase=1)
    model.train()
    optim = build_optim(model)
    seg0, g0, d0 = (segmentor_state(model), snapshot(model.generator),
                    snapshot(model.discriminator))
    log_vars = model.train_step(make_batch(), optim)
    for key in ('loss_content', 'loss_adv', 'loss_d', 'recon_mse'):
        assert key in log_vars
    assert 'decode.loss_ce' not in log_vars
    assert same(seg0, segmentor_state(model))
    assert not same(g0, snapshot(model.generator))
    assert not same(d0, snapshot(model.discriminator))
    # Only the G and D optimizers have state.
    assert optim['segmentor'].optimizer.state == {}
    assert optim['generator'].optimizer.state
    assert optim['discriminator'].optimizer.state


def test_phase1_content_loss_is_weighted_100x_and_ignores_void():
    model = build_model(phase=1)
    model.train()
    log_vars = model.train_step(make_batch(), build_optim(model))
    torch.testing.assert_close(log_vars['loss_content'],
                               100 * log_vars['recon_mse'])


def test_phase2_freezes_gan_and_trains_segmentor_only():
    model = build_model(phase=2)
    model.train()
    assert not model.generator.training and not model.discriminator.training
    optim = build_optim(model)
    seg0, g0, d0 = (segmentor_state(model), snapshot(model.generator),
                    snapshot(model.discriminator))
    log_vars = model.train_step(make_batch(), optim)
    for key in ('decode.loss_ce', 'aux.loss_ce', 'loss_content', 'loss_adv'):
        assert key in log_vars
    torch.testing.assert_close(log_vars['loss_content'],
                               0.1 * log_vars['recon_mse'])
    assert same(g0, snapshot(model.generator))  # BN buffers included
    assert same(d0, snapshot(model.discriminator))
    assert not same(seg0, segmentor_state(model))
    assert optim['generator'].optimizer.state == {}
    assert optim['discriminator'].optimizer.state == {}
    assert optim['segmentor'].optimizer.state


def test_phase2_gradients_reach_segmentor_through_generator():
    # CE off (loss_weight 0): any gradient on the decode head must come from
    # the content/adversarial terms, i.e. through G and D.
    model = build_model(phase=2)
    model.decode_head.loss_decode.loss_weight = 0.0
    model.auxiliary_head.loss_decode.loss_weight = 0.0
    model.train()
    data = model.data_preprocessor(make_batch(), True)
    x = model.extract_feat(data['inputs'])
    logits = model.decode_head(x)
    terms = model._gan_terms(data['inputs'], data['data_samples'], logits)
    (terms['loss_content'] + terms['loss_adv']).backward()
    grad = model.decode_head.conv_seg.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert all(p.grad is None for p in model.generator.parameters())
    assert all(p.grad is None for p in model.discriminator.parameters())


def test_control_with_zero_weights_is_plain_cross_entropy():
    model = build_model(phase=2, content_weight=0.0, adv_weight=0.0)
    model.train()
    log_vars = model.train_step(make_batch(), build_optim(model))
    assert 'loss_content' not in log_vars and 'loss_adv' not in log_vars
    ce = log_vars['decode.loss_ce'] + log_vars['aux.loss_ce']
    torch.testing.assert_close(log_vars['loss'], ce)


def test_predict_and_tensor_modes_match_encoder_decoder():
    model = build_model(phase=2).eval()
    cfg = Config.fromfile(TINY_SEGGAN).model
    plain_cfg = {
        k: v
        for k, v in cfg.items()
        if k not in ('generator', 'discriminator', 'gan_content_weight',
                     'gan_adv_weight', 'content_weight', 'adv_weight', 'phase')
    }
    plain_cfg['type'] = 'EncoderDecoder'
    plain = MODELS.build(plain_cfg).eval()
    missing = plain.load_state_dict({
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith(('generator.', 'discriminator.'))
    })
    assert not missing.missing_keys and not missing.unexpected_keys
    called = []
    model.generator.register_forward_hook(lambda *a: called.append('G'))
    model.discriminator.register_forward_hook(lambda *a: called.append('D'))
    data = model.data_preprocessor(make_batch(), False)
    with torch.no_grad():
        out_a = model(data['inputs'], data['data_samples'], mode='tensor')
        out_b = plain(data['inputs'], data['data_samples'], mode='tensor')
        assert torch.equal(out_a, out_b)
        pa = model.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        pb = plain.predict(data['inputs'], copy.deepcopy(data['data_samples']))
    for a, b in zip(pa, pb):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
    assert called == []


def test_other_mmseg_model_with_aux_head_becomes_seggan():
    # PSPNet (PSPHead + FCN auxiliary head): same recipe, nothing ASPP-only.
    cfg = Config.fromfile(TINY_SEGGAN).model
    cfg.decode_head = dict(
        type='PSPHead',
        in_channels=64,
        in_index=3,
        channels=8,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=C,
        norm_cfg=dict(type='BN'),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    optim = build_optim(model)
    model.set_phase(1)
    model.train()
    assert 'loss_d' in model.train_step(make_batch(), optim)
    model.set_phase(2)
    model.train()
    g0 = snapshot(model.generator)
    log_vars = model.train_step(make_batch(), optim)
    assert {'decode.loss_ce', 'aux.loss_ce', 'loss_adv'} <= set(log_vars)
    assert same(g0, snapshot(model.generator))


def test_conditional_discriminator_sees_the_mask():
    model = build_model(
        phase=1,
        discriminator=dict(
            type='SegGANDiscriminator', base_channels=32, conditional=True))
    assert model.discriminator.layers[0].conv.in_channels == 3 + C
    model.train()
    optim = build_optim(model)
    assert 'loss_d' in model.train_step(make_batch(), optim)
    model.set_phase(2)
    model.train()
    assert 'loss_adv' in model.train_step(make_batch(), optim)


def test_wrong_generator_class_count_is_rejected():
    with pytest.raises(ValueError, match='generator.num_classes=5'):
        build_model(generator=dict(type='SegGANGenerator', num_classes=5))


def test_label_outside_classes_named_in_error():
    model = build_model(phase=1)
    model.train()
    batch = make_batch()
    batch['data_samples'][0].gt_sem_seg.data[0, 0, 10] = 11
    with pytest.raises(ValueError, match=r'\[11\]'):
        model.train_step(batch, build_optim(model))


def test_nonfinite_loss_raises_before_any_update():
    model = build_model(phase=2)
    model.train()
    optim = build_optim(model)
    with torch.no_grad():
        model.decode_head.conv_seg.bias.fill_(float('nan'))
    params0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    with pytest.raises(
            NonFiniteLossError, match=r'phase 2.*decode.loss_ce=nan'):
        model.train_step(make_batch(), optim)
    for n, p in model.named_parameters():
        assert torch.equal(params0[n], p) or torch.equal(
            params0[n].isnan(), p.isnan()), n
    assert optim['segmentor'].optimizer.state == {}


def test_nonfinite_loss_skipped_and_counted_when_configured():
    model = build_model(phase=2, nonfinite='skip')
    model.train()
    optim = build_optim(model)
    with torch.no_grad():
        model.decode_head.conv_seg.bias.fill_(float('inf'))
    log_vars = model.train_step(make_batch(), optim)
    assert log_vars['skipped_steps'] == 1
    assert optim['segmentor'].optimizer.state == {}


def test_train_step_needs_one_optimizer_per_network():
    from mmengine.optim import OptimWrapper
    model = build_model(phase=2)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='SegGANOptimWrapperConstructor'):
        model.train_step(make_batch(), wrapper)


@pytest.mark.parametrize(
    'key',
    ['gan_content_weight', 'gan_adv_weight', 'content_weight', 'adv_weight'])
@pytest.mark.parametrize('value', [-0.1, float('nan'), float('inf')])
def test_negative_or_nonfinite_loss_weight_is_rejected_with_its_key(
        key, value):
    """Bug: ``content_weight=-0.1`` was accepted and trained the segmentor
    to make G's reconstruction *worse*, without a word."""
    with pytest.raises(ValueError, match=rf'model\.{key}={value}.*>= 0'):
        build_model(**{key: value})
    build_model(**{key: 0.0})  # 0 switches a term off: the control
