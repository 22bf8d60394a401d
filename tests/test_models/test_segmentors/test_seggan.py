"""SegGAN training semantics: what each phase may and may not change.

The values and gradients of the loss terms are pinned in
``test_seggan_loss_terms.py``.
"""
import copy
import functools

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS
from mmseg.registry import MODELS
from seggan_testing import TINY_SEGGAN, build_optim, make_batch

from mmseg_seggan.models import NonFiniteLossError, SegGAN

C = 6
CONTROL = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
LOSS_KEYS = ('phase1_content_loss', 'phase1_adv_loss', 'phase2_content_loss',
             'phase2_adv_loss')


@functools.lru_cache(maxsize=None)
def _tiny_cfg():
    return Config.fromfile(TINY_SEGGAN)


def build_model(**overrides) -> SegGAN:
    model_cfg = copy.deepcopy(_tiny_cfg().model)
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


def _phase1_step(batch):
    """One phase-1 step of the same model (same G dropout); G's input and
    the log variables."""
    model = build_model(phase=1).train()
    inputs = []
    model.generator.register_forward_hook(
        lambda m, args, out: inputs.append(args[0].detach()))
    torch.manual_seed(1)
    log_vars = model.train_step(batch, build_optim(model))
    return inputs[0], log_vars


def test_phase1_void_pixels_are_blank_for_g_and_not_counted():
    # Void pixels (label 255) in the image corner and, after padding to the
    # preprocessor's 32x48, right and bottom margins.
    batch = make_batch(size=(28, 44))
    onehot, log_vars = _phase1_step(batch)
    gt = batch['data_samples'][0].gt_sem_seg.data[0]
    void = torch.ones(32, 48, dtype=torch.bool)
    void[:28, :44] = gt == 255
    assert void.sum() > 200
    assert torch.equal(onehot[0][:, void], torch.zeros(C, int(void.sum())))
    assert torch.equal(onehot[0][:, ~void].sum(0),
                       torch.ones(int((~void).sum())))
    torch.testing.assert_close(log_vars['loss_content'],
                               100 * log_vars['recon_mse'])
    # Whatever the image holds under void pixels, the content loss is the
    # same; what it holds under valid pixels changes it.
    for img in batch['inputs']:
        img[:, :4, :4] = 255 - img[:, :4, :4]
    assert torch.equal(
        _phase1_step(batch)[1]['recon_mse'], log_vars['recon_mse'])
    for img in batch['inputs']:
        img[:, 10:20, 10:20] = 255 - img[:, 10:20, 10:20]
    assert not torch.equal(
        _phase1_step(batch)[1]['recon_mse'], log_vars['recon_mse'])


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
    for net in (model.generator, model.discriminator):  # frozen, not only
        for p in net.parameters():  # left out of the optimizer
            assert not p.requires_grad and p.grad is None
    assert not same(seg0, segmentor_state(model))
    assert optim['generator'].optimizer.state == {}
    assert optim['discriminator'].optimizer.state == {}
    assert optim['segmentor'].optimizer.state


def test_phase2_gradients_reach_segmentor_through_generator():
    # CE off (loss_weight 0): any gradient reaching the segmentor in a real
    # train_step must come from the content/adversarial terms, i.e. through
    # G and D; the step then moves the decode head and the backbone.
    model = build_model(phase=2)
    model.decode_head.loss_decode.loss_weight = 0.0
    model.auxiliary_head.loss_decode.loss_weight = 0.0
    model.train()
    grads = {}
    for name in ('decode_head.conv_seg.weight', 'backbone.stem.0.weight'):
        model.get_parameter(name).register_hook(
            lambda g, name=name: grads.setdefault(name, g.clone()))
    seg0 = segmentor_state(model)
    log_vars = model.train_step(make_batch(), build_optim(model))
    assert log_vars['decode.loss_ce'] == 0 and log_vars['aux.loss_ce'] == 0
    for name, grad in grads.items():
        assert grad.abs().sum() > 0, name
    seg = segmentor_state(model)
    for name in grads:
        assert not torch.equal(seg0[name], seg[name]), name


def test_control_with_zero_weights_is_plain_cross_entropy():
    model = build_model(phase=2, **CONTROL)
    model.train()
    called = []
    model.generator.register_forward_hook(lambda *a: called.append('G'))
    model.discriminator.register_forward_hook(lambda *a: called.append('D'))
    log_vars = model.train_step(make_batch(), build_optim(model))
    assert 'loss_content' not in log_vars and 'loss_adv' not in log_vars
    ce = log_vars['decode.loss_ce'] + log_vars['aux.loss_ce']
    torch.testing.assert_close(log_vars['loss'], ce)
    assert called == []  # G and D never run in the control


def test_predict_and_tensor_modes_match_encoder_decoder():
    model = build_model(phase=2).eval()
    cfg = Config.fromfile(TINY_SEGGAN).model
    plain_cfg = {
        k: v
        for k, v in cfg.items()
        if k not in ('generator', 'discriminator', 'gan_iters', 'phase') +
        LOSS_KEYS
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
    seg0, g0 = segmentor_state(model), snapshot(model.generator)
    assert 'loss_d' in model.train_step(make_batch(), optim)
    assert same(seg0, segmentor_state(model))  # BN statistics included
    assert not same(g0, snapshot(model.generator))
    model.set_phase(2)
    model.train()
    g0 = snapshot(model.generator)
    log_vars = model.train_step(make_batch(), optim)
    assert {'decode.loss_ce', 'aux.loss_ce', 'loss_adv'} <= set(log_vars)
    assert same(g0, snapshot(model.generator))
    assert not same(seg0, segmentor_state(model))


def _aux_heads(*in_channels_and_index):
    head = dict(_tiny_cfg().model.auxiliary_head)
    return [
        dict(head, in_channels=c, in_index=i) for c, i in in_channels_and_index
    ]


def test_several_auxiliary_heads_each_add_their_loss():
    model = build_model(
        phase=2, auxiliary_head=_aux_heads((32, 2), (16, 1))).train()
    assert len(model.auxiliary_head) == 2
    weights0 = [
        h.conv_seg.weight.detach().clone() for h in model.auxiliary_head
    ]
    log_vars = model.train_step(make_batch(), build_optim(model))
    assert {'aux_0.loss_ce', 'aux_1.loss_ce'} <= set(log_vars)
    assert 'aux.loss_ce' not in log_vars
    torch.testing.assert_close(
        log_vars['loss'],
        sum(log_vars[k]
            for k in ('decode.loss_ce', 'aux_0.loss_ce', 'aux_1.loss_ce',
                      'loss_content', 'loss_adv')))
    for head, w0 in zip(model.auxiliary_head, weights0):  # each one trained
        assert not torch.equal(head.conv_seg.weight, w0)


def test_several_auxiliary_heads_under_ddp_are_refused_with_advice(
        ddp_wrapper_cfg):
    model = build_model(phase=1, auxiliary_head=_aux_heads((32, 2), (16, 1)))
    wrapper = MODEL_WRAPPERS.build(dict(ddp_wrapper_cfg, module=model))
    model.set_phase(2)
    wrapper.train()
    with pytest.raises(
            NotImplementedError,
            match='Several auxiliary heads.*MMSeparateDistributedDataParallel'
            '.*use one auxiliary head'):
        wrapper.train_step(make_batch(), build_optim(wrapper))


def test_model_with_a_neck_trains_the_neck_in_phase2_only():
    cfg = copy.deepcopy(_tiny_cfg().model)
    cfg.neck = dict(
        type='FPN', in_channels=[8, 16, 32, 64], out_channels=8, num_outs=4)
    cfg.decode_head.in_channels = cfg.auxiliary_head.in_channels = 8
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    assert model.with_neck
    optim = build_optim(model)
    in_optimizer = {
        id(p)
        for group in optim['segmentor'].param_groups
        for p in group['params']
    }
    assert all(id(p) in in_optimizer for p in model.neck.parameters())
    model.train()
    neck0 = snapshot(model.neck)
    model.train_step(make_batch(), optim)
    assert same(neck0, snapshot(model.neck))
    model.set_phase(2)
    model.train()
    log_vars = model.train_step(make_batch(), optim)
    assert 'loss_adv' in log_vars
    changed = [
        k for k in neck0 if not torch.equal(neck0[k],
                                            model.neck.state_dict()[k])
    ]
    assert any(k.endswith('conv.weight') for k in changed), changed


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
    for n, p in model.named_parameters():  # NaN stays NaN, nothing moved
        torch.testing.assert_close(
            p, params0[n], rtol=0, atol=0, equal_nan=True, msg=n)
    assert optim['segmentor'].optimizer.state == {}


@pytest.mark.parametrize('step,term', [('d', 'loss_d'), ('g', 'loss_adv')])
def test_phase1_nonfinite_loss_raises_before_that_update(step, term):
    model = build_model(phase=1)
    model.train()
    optim = build_optim(model)
    calls = []

    def poison(module, args, out):  # D's output: call 1 D step, 2 G step
        calls.append(1)
        if (step == 'd') == (len(calls) == 1):
            return out * float('nan')

    model.discriminator.register_forward_hook(poison)
    g0 = {n: p.detach().clone() for n, p in model.generator.named_parameters()}
    d0 = snapshot(model.discriminator)
    with pytest.raises(NonFiniteLossError, match=rf'phase 1.*{term}=nan'):
        model.train_step(make_batch(), optim)
    for n, p in model.generator.named_parameters():
        assert torch.equal(p, g0[n]), n
    assert optim['generator'].optimizer.state == {}
    if step == 'd':  # D's update comes first; it did not happen either
        for k, v in snapshot(model.discriminator).items():
            if not k.endswith(('running_mean', 'running_var', 'tracked')):
                assert torch.equal(v, d0[k]), k
        assert optim['discriminator'].optimizer.state == {}


def test_nonfinite_loss_skipped_and_counted_when_configured():
    model = build_model(phase=2, nonfinite='skip')
    model.train()
    optim = build_optim(model)
    with torch.no_grad():
        model.decode_head.conv_seg.bias.fill_(float('inf'))
    state0 = snapshot(model)
    log_vars = model.train_step(make_batch(), optim)
    assert log_vars['skipped_steps'] == 1
    assert optim['segmentor'].optimizer.state == {}
    # The forward pass moved the segmentor's BN statistics; a skipped step
    # puts them back, so the model is exactly as before.
    for k, v in snapshot(model).items():
        torch.testing.assert_close(
            v, state0[k], rtol=0, atol=0, equal_nan=True, msg=k)
    # Finite again: the next step trains and moves those statistics.
    with torch.no_grad():
        model.decode_head.conv_seg.bias.zero_()
    log_vars = model.train_step(make_batch(), optim)
    assert log_vars['skipped_steps'] == 1
    assert not torch.equal(model.backbone.stem[1].running_mean,
                           state0['backbone.stem.1.running_mean'])


def test_skipped_phase1_step_restores_g_and_d_statistics():
    model = build_model(phase=1, nonfinite='skip')
    model.train()
    optim = build_optim(model)
    handle = model.generator.register_forward_hook(
        lambda m, args, out: out * float('nan'))
    state0 = snapshot(model)
    log_vars = model.train_step(make_batch(), optim)
    assert log_vars['skipped_steps'] == 2  # the D step and the G step
    assert optim['generator'].optimizer.state == {}
    assert optim['discriminator'].optimizer.state == {}
    for k, v in snapshot(model).items():  # BN statistics of G and D too
        assert torch.equal(v, state0[k]), k
    handle.remove()
    model.train_step(make_batch(), optim)
    assert not torch.equal(model.generator.encoder[1].bn.running_mean,
                           state0['generator.encoder.1.bn.running_mean'])


def test_train_step_needs_one_optimizer_per_network():
    from mmengine.optim import OptimWrapper
    model = build_model(phase=2)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='SegGANOptimWrapperConstructor'):
        model.train_step(make_batch(), wrapper)


@pytest.mark.parametrize('key', LOSS_KEYS)
@pytest.mark.parametrize('value', [-0.1, float('nan'), float('inf')])
def test_negative_or_nonfinite_loss_weight_is_rejected_with_its_key(
        key, value):
    """Bug: ``content_weight=-0.1`` was accepted and trained the segmentor
    to make G's reconstruction *worse*, without a word."""
    with pytest.raises(ValueError,
                       match=rf'model\.{key}\.loss_weight={value}.*>= 0'):
        build_model(**{key: dict(loss_weight=value)})
    build_model(**{key: dict(loss_weight=0.0)})  # 0: the control


@pytest.mark.parametrize(
    'key',
    ['gan_content_weight', 'gan_adv_weight', 'content_weight', 'adv_weight'])
def test_old_weight_keys_are_checked_too(key):
    with pytest.raises(ValueError, match=rf'model\.{key}=-0.1.*>= 0'):
        build_model(**{key: -0.1})


@pytest.mark.parametrize('value', ['0.9', None, 0, 1.5, float('nan')])
def test_bad_pseudo_label_threshold_names_the_key(value):
    """Bug (issue 20): ``pseudo_label_threshold='0.9'`` (a string from a
    config or --cfg-options) failed with a bare ``TypeError: '<' not
    supported between instances of 'int' and 'str'``."""
    with pytest.raises(ValueError, match='model.pseudo_label_threshold='):
        build_model(pseudo_label_threshold=value)
    build_model(pseudo_label_threshold=0.9)
    with pytest.raises(ValueError,
                       match='model.pseudo_label_loss.threshold='):
        build_model(
            pseudo_label_loss=dict(type='PseudoLabelLoss', threshold=value))


@pytest.mark.parametrize('gan_iters,phase', [(0, 2), (5, 1), (None, 1)])
def test_model_gan_iters_sets_the_starting_phase(gan_iters, phase):
    """``model.gan_iters=0`` is a fine-tuning run: G and D are frozen when
    the model is built (before DDP wraps it), with no second key."""
    model = build_model(gan_iters=gan_iters)
    assert model.phase == phase
    assert all(p.requires_grad == (phase == 1)
               for p in model.generator.parameters())


@pytest.mark.parametrize('value', [-1, 1.5, '300', True])
def test_bad_gan_iters_names_the_key(value):
    with pytest.raises(ValueError, match='model.gan_iters='):
        build_model(gan_iters=value)
