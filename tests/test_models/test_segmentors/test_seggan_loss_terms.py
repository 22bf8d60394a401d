"""SegGAN's losses through the real ``train_step``: each term's direction,
its weight, the pixels it counts and the path its gradient takes.

The tests tap the networks' inputs, outputs and the gradients that reach
those outputs during one real training step, and compare them with the loss
written out by hand: binary cross-entropy as ``softplus``, the content loss
as a sum over valid pixels, the real image from the raw uint8 batch. They
never call the package's own loss functions, so a wrong target, weight,
mask, softmax axis, image scaling or a cut gradient path shows up as a
mismatch. Weights are off their defaults so that a hard-coded 100 / 1 / 0.1
cannot pass.
"""
import copy
import functools

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import MODEL_WRAPPERS
from mmseg.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from seggan_testing import TINY_SEGGAN, make_batch

C = 6
SIZE = (32, 48)  # the tiny config pads every batch to this size
RAW = (28, 44)  # images of the batches here: padding on two sides
WEIGHTS = dict(
    phase1_content_loss=dict(loss_weight=7.0),
    phase1_adv_loss=dict(loss_weight=3.0),
    phase2_content_loss=dict(loss_weight=0.3),
    phase2_adv_loss=dict(loss_weight=0.2))


def phase2(content, adv):
    """The phase-2 loss weights as config keys."""
    return dict(
        phase2_content_loss=dict(loss_weight=content),
        phase2_adv_loss=dict(loss_weight=adv))


@functools.lru_cache(maxsize=None)
def _cfg():
    return Config.fromfile(TINY_SEGGAN)


def build_model(phase, conditional=False, init_std=0.1, **overrides):
    """The tiny SegGAN with the weights above.

    G and D start from N(0, 0.1) rather than the paper's N(0, 0.02): through
    eight layers of N(0, 0.02) the gradient G passes back to the logits is
    1e-5 of cross-entropy's, too small to tell a cut path from float error;
    at 0.1 it is of the order of a trained G's.

    BN folding is off: the taps are hooks on G and D themselves, which the
    folded copies bypass (test_seggan_fused_bn.py shows they are equal).
    """
    cfg = copy.deepcopy(_cfg().model)
    cfg.update(WEIGHTS)
    cfg.update(phase=phase, fuse_frozen_bn=False)
    cfg.update(overrides)
    cfg.discriminator.conditional = conditional
    cfg.generator.init_std = cfg.discriminator.init_std = init_std
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def build_optim(model) -> OptimWrapperDict:
    cfg = dict(copy.deepcopy(_cfg().optim_wrapper))
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=cfg.pop('constructor'), optim_wrapper_cfg=cfg))(
            model)


def plain(module):
    """The module inside a DDP wrapper, if any."""
    return module.module if is_model_wrapper(module) else module


class Tap:
    """Records a module's inputs and outputs in every forward call, and every
    gradient that reaches each output in backward."""

    def __init__(self, module):
        self.inputs, self.outputs, self.grads = [], [], []
        self._handle = module.register_forward_hook(self._hook)

    def _hook(self, module, args, out):
        i = len(self.outputs)
        self.inputs.append(
            [a.detach().clone() if torch.is_tensor(a) else a for a in args])
        self.outputs.append(out.detach().clone())
        self.grads.append([])
        if out.requires_grad:
            out.register_hook(lambda g: self.grads[i].append(g.clone()))

    def grad(self, i=0):
        """The one gradient that reached output ``i``."""
        assert len(self.grads[i]) == 1, \
            f'{len(self.grads[i])} backward passes reached output {i}'
        return self.grads[i][0]

    def remove(self):
        self._handle.remove()


def close(actual, expected, rtol=1e-4):
    """Equal up to float error relative to the largest expected entry (so
    that tiny gradients are not waved through by an absolute tolerance)."""
    scale = expected.detach().abs().max().item()
    assert scale > 0
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=rtol * scale)


# ------------------------------------------------------------ hand references
def real_image(batch):
    """The batch as the GAN sees it: RGB (the raw images are BGR), scaled
    to [-1, 1]; the padding is left at 0 (never counted)."""
    img = torch.stack(batch['inputs']).float()[:, [2, 1, 0]] / 127.5 - 1
    return F.pad(img, (0, SIZE[1] - img.shape[-1], 0, SIZE[0] - img.shape[-2]))


def labels(batch):
    """(N, H, W) labels, padding marked void (255) like the preprocessor."""
    gt = torch.stack([s.gt_sem_seg.data[0] for s in batch['data_samples']])
    return F.pad(
        gt, (0, SIZE[1] - gt.shape[-1], 0, SIZE[0] - gt.shape[-2]), value=255)


def one_hot(gt):
    """One channel per class; void pixels are all-zero."""
    return torch.stack([(gt == c) for c in range(C)], 1).float()


def content(fake, real, valid):
    """Mean squared error over valid pixels and the 3 colour channels."""
    valid = valid.float()
    return ((fake - real)**2 * valid).sum() / (valid.sum() * 3)


def bce(logits, target_real):
    """-log sigmoid(x) for target "real", -log(1 - sigmoid(x)) for "fake"."""
    return F.softplus(-logits if target_real else logits).mean()


# -------------------------------------------------------------------- phase 1
@pytest.mark.parametrize('conditional', [False, True])
def test_phase1_d_labels_g_target_weights_and_void(conditional):
    model = build_model(1, conditional)
    optim = build_optim(model)
    batch = make_batch(size=RAW)
    gen, disc = Tap(model.generator), Tap(model.discriminator)
    log_vars = model.train_step(batch, optim)
    gen.remove()
    disc.remove()
    gt = labels(batch)
    valid = (gt != 255).unsqueeze(1)
    real, onehot, n = real_image(batch), one_hot(gt), gt.shape[0]
    assert (~valid).sum() > 0.2 * valid.numel()  # void corner + padding

    # G paints once, from the one-hot ground truth; void pixels all-zero.
    assert len(gen.outputs) == 1
    assert torch.equal(gen.inputs[0][0], onehot)
    fake = gen.outputs[0]

    # D step: D sees [real, fake] and learns real -> 1, fake -> 0.
    assert len(disc.outputs) == 2  # D step, then G step
    pair = disc.inputs[0][0]
    h, w = RAW
    close(pair[:n, :, :h, :w], real[..., :h, :w])
    assert torch.equal(pair[n:], fake)
    if conditional:
        assert torch.equal(disc.inputs[0][1], torch.cat([onehot, onehot]))
    out_d = disc.outputs[0]
    close(log_vars['loss_d'],
          0.5 * (bce(out_d[:n], True) + bce(out_d[n:], False)))
    half = out_d[:n].numel()
    close(
        disc.grad(0), 0.5 *
        torch.cat([torch.sigmoid(out_d[:n]) - 1,
                   torch.sigmoid(out_d[n:])]) / half)

    # G step: D (already updated) judges the same fake against "real".
    assert torch.equal(disc.inputs[1][0], fake)
    if conditional:
        assert torch.equal(disc.inputs[1][1], onehot)
    out_g = disc.outputs[1]
    close(log_vars['loss_adv'], 3.0 * bce(out_g, True))
    close(disc.grad(1), 3.0 * (torch.sigmoid(out_g) - 1) / out_g.numel())
    mse = content(fake, real, valid)
    close(log_vars['recon_mse'], mse)
    close(log_vars['loss_content'], 7.0 * mse)

    # What reaches G's output: 7 x content gradient on valid pixels only,
    # plus the adversarial gradient back through D; nothing from D's step.
    fake_ref = fake.clone().requires_grad_(True)
    (7.0 * content(fake_ref, real, valid)).backward()
    from_content = fake_ref.grad.clone()
    assert torch.equal(from_content * ~valid, torch.zeros_like(fake))
    fake_ref.grad = None
    model.discriminator(fake_ref, onehot if conditional else None).backward(
        disc.grad(1))
    from_adv = fake_ref.grad
    for g in (from_content, from_adv):  # both far above float error
        assert g.abs().max() > 1e-2 * (from_content + from_adv).abs().max()
    close(gen.grad(0), from_content + from_adv)


# -------------------------------------------------------------------- phase 2
def phase2_step(model, batch, wrapper=None, lr=None):
    """One real phase-2 ``train_step`` (through ``wrapper`` if given; with
    the segmentor's learning rate ``lr`` if given).

    Returns:
        tuple: log_vars, the decode head's logits and the gradient that
        reached them, and the taps on G and D.
    """
    optim = build_optim(wrapper or model)
    if lr is not None:
        optim['segmentor'].optimizer.param_groups[0]['lr'] = lr
    head = Tap(plain(model.decode_head))
    gen, disc = Tap(plain(model.generator)), Tap(plain(model.discriminator))
    torch.manual_seed(1)  # the same dropout in the decode head every time
    log_vars = (wrapper or model).train_step(batch, optim)
    for tap in (head, gen, disc):
        tap.remove()
    assert len(head.outputs) == 1
    return log_vars, head.outputs[0], head.grad(0), gen, disc


def gan_reference(model, batch, logits):
    """l_C and -log D(G(softmax(p))) of the logits, by hand through the
    frozen G and D; and G's input."""
    gt = labels(batch)
    prob = F.interpolate(
        logits, size=SIZE, mode='bilinear', align_corners=False).softmax(1)
    gen, disc = plain(model.generator), plain(model.discriminator)
    fake = gen(prob)
    mse = content(fake, real_image(batch), (gt != 255).unsqueeze(1))
    adv = bce(disc(fake, prob if disc.conditional else None), True)
    return mse, adv, prob


def ce_reference(model, batch, logits):
    samples = model.data_preprocessor(copy.deepcopy(batch),
                                      True)['data_samples']
    return plain(model.decode_head).loss_by_feat(logits, samples)['loss_ce']


@pytest.mark.parametrize('content_weight,adv_weight,conditional', [
    (0.3, 0.2, False),
    (0.3, 0.0, False),
    (0.0, 0.2, False),
    (0.3, 0.2, True),
])
def test_phase2_logit_gradient_is_ce_plus_weighted_gan_terms(
        content_weight, adv_weight, conditional):
    model = build_model(2, conditional, **phase2(content_weight, adv_weight))
    batch = make_batch(size=RAW)
    log_vars, logits, grad, gen, disc = phase2_step(model, batch)

    ref = logits.clone().requires_grad_(True)
    mse, adv, prob = gan_reference(model, batch, ref)
    parts = [ce_reference(model, batch, ref)]
    parts += [content_weight * mse] if content_weight else []
    parts += [adv_weight * adv] if adv_weight else []
    grads = [torch.autograd.grad(p, ref, retain_graph=True)[0] for p in parts]
    expected = sum(grads)
    # Each term moves the logits far above float error: none can go missing
    # (a detach, no_grad, wrong sign or weight) without a mismatch.
    for g in grads:
        assert g.abs().max() > 1e-2 * expected.abs().max()
    close(grad, expected)

    # G painted from the class probabilities (softmax over the classes).
    assert len(gen.outputs) == 1
    close(gen.inputs[0][0], prob.detach())
    close(gen.inputs[0][0].sum(1), torch.ones(2, *SIZE))
    close(log_vars['recon_mse'], mse.detach())
    if content_weight:
        close(log_vars['loss_content'], content_weight * mse.detach())
    else:
        assert 'loss_content' not in log_vars
    if adv_weight:
        out = disc.outputs[0]
        close(log_vars['loss_adv'], adv_weight * bce(out, True))
        close(
            disc.grad(0),
            adv_weight * (torch.sigmoid(out) - 1) / out.numel())
    else:
        assert 'loss_adv' not in log_vars


def ce_off(model):
    model.decode_head.loss_decode.loss_weight = 0.0
    model.auxiliary_head.loss_decode.loss_weight = 0.0
    return model


@pytest.mark.parametrize('term', ['phase2_content_loss', 'phase2_adv_loss'])
def test_phase2_doubling_a_weight_doubles_its_gradient(term):
    batch = make_batch(size=RAW)
    grads = []
    for weight in (0.2, 0.4):
        weights = phase2(0.0, 0.0)
        weights[term] = dict(loss_weight=weight)
        model = ce_off(build_model(2, **weights))
        grads.append(phase2_step(model, batch)[2])
    assert grads[0].abs().max() > 1e-4  # not a zero gradient doubled
    close(grads[1], 2 * grads[0])


def d_logit_of_prediction(model, batch):
    """Mean logit D gives G's painting of the segmentor's prediction (what
    the phase-2 adversarial term raises), with the dropout of the step."""
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    torch.manual_seed(1)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(data['inputs']))
        prob = F.interpolate(
            logits, size=SIZE, mode='bilinear', align_corners=False).softmax(1)
        return model.discriminator(model.generator(prob)).mean().item()


def test_phase2_adversarial_step_makes_the_painting_look_real_to_d():
    model = ce_off(build_model(2, **phase2(0.0, 1.0)))
    batch = make_batch(size=RAW)
    before = d_logit_of_prediction(model, batch)
    phase2_step(model, batch, lr=1e-3)
    after = d_logit_of_prediction(model, batch)
    assert after > before + 5e-3, (before, after)


def test_phase2_content_step_brings_the_painting_closer_to_the_image():
    model = ce_off(build_model(2, **phase2(1.0, 0.0)))
    batch = make_batch(size=RAW)
    before = phase2_step(model, batch, lr=1e-3)[0]['recon_mse']
    after = phase2_step(model, batch, lr=1e-3)[0]['recon_mse']
    assert after < before - 5e-4, (before, after)


@pytest.mark.parametrize('wrapped', [False, True])
def test_phase2_gan_terms_reach_the_backbone_through_train_step(
        wrapped, request):
    """Through the whole ``train_step``, plain and under the DDP wrapper the
    runner uses: SegGAN's gradient on the logits is the CE-only control's
    plus the weighted GAN terms', and it reaches the backbone."""
    batch = make_batch(size=RAW)
    runs = {}
    for name, weights in (('control', phase2(0.0, 0.0)), ('seggan', {})):
        model = build_model(1, **weights)  # phase 1 when the runner wraps
        wrapper = None
        if wrapped:
            wrapper = MODEL_WRAPPERS.build(
                dict(request.getfixturevalue('ddp_wrapper_cfg'), module=model))
            assert is_model_wrapper(model.decode_head)
            assert is_model_wrapper(model.backbone)
        model.set_phase(2)
        (wrapper or model).train()
        stem = plain(model.backbone).stem[0].weight
        stem_grads = []
        stem.register_hook(lambda g: stem_grads.append(g.clone()))
        log_vars, logits, grad, _, _ = phase2_step(model, batch, wrapper)
        assert len(stem_grads) == 1
        runs[name] = (model, logits, grad, stem_grads[0], log_vars)

    model, logits, grad, stem_grad, log_vars = runs['seggan']
    _, logits0, grad0, stem_grad0, log_vars0 = runs['control']
    assert torch.equal(logits, logits0)  # same weights, data and dropout
    assert 'loss_adv' not in log_vars0 and 'loss_adv' in log_vars
    ref = logits.clone().requires_grad_(True)
    mse, adv, _ = gan_reference(model, batch, ref)
    expected, = torch.autograd.grad(0.3 * mse + 0.2 * adv, ref)
    close(grad - grad0, expected, rtol=1e-3)
    assert (stem_grad - stem_grad0).norm() > 0.1 * stem_grad0.norm()
