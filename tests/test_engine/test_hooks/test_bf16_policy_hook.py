"""The CPU precision policy of ``--amp`` (BF16PolicyHook + enable_amp)."""
import logging
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from seggan_testing import TINY_SEGGAN, make_batch, tiny_seggan

from mmseg_seggan.engine.hooks import BF16PolicyHook, enable_amp
from mmseg_seggan.engine.optimizers import BF16AutocastOptimWrapper
from mmseg_seggan.utils import cpu_features

CL = torch.channels_last


def _runner(model):
    return SimpleNamespace(model=model, logger=logging.getLogger('bf16'))


@pytest.fixture
def native(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(cpu_features, 'cpu_flags',
                        lambda: frozenset({'avx512f', 'avx512_bf16'}))


@pytest.fixture
def emulated(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(cpu_features, 'cpu_flags',
                        lambda: frozenset({'avx2', 'fma'}))


def test_amp_with_native_bf16_names_the_policy_in_the_config(native):
    """Bugs: the policy applied behind the config's back (nothing in the
    dumped config says bf16), one of SegGAN's wrappers left fp32."""
    cfg = Config.fromfile(TINY_SEGGAN)
    enable_amp(cfg)
    for net in ('segmentor', 'generator', 'discriminator'):
        assert cfg.optim_wrapper[net]['type'] == 'BF16AutocastOptimWrapper'
        assert 'loss_scale' not in cfg.optim_wrapper[net]  # fp16's only
    hooks = [h for h in cfg.custom_hooks if h['type'] == 'BF16PolicyHook']
    assert hooks == [dict(type='BF16PolicyHook', allow_emulated_bf16=False)]
    enable_amp(cfg)  # twice: still one hook
    assert [h['type'] for h in cfg.custom_hooks].count('BF16PolicyHook') == 1


def test_amp_with_emulated_bf16_is_refused_and_names_the_override(emulated):
    """Bug: --amp on an AVX2 CPU trains several times slower than fp32,
    said only in the log."""
    cfg = Config.fromfile(TINY_SEGGAN)
    with pytest.raises(RuntimeError, match='no native bf16') as e:
        enable_amp(cfg)
    assert '--cfg-options allow_emulated_bf16=True' in str(e.value)
    assert cfg.optim_wrapper.segmentor.get('type') != \
        'BF16AutocastOptimWrapper'
    with pytest.raises(RuntimeError, match='allow_emulated_bf16'):
        BF16PolicyHook()  # named in a config by hand: refused too
    cfg.allow_emulated_bf16 = True
    enable_amp(cfg)
    hook = cfg.custom_hooks[-1]
    assert hook == dict(type='BF16PolicyHook', allow_emulated_bf16=True)
    BF16PolicyHook(allow_emulated_bf16=True)


@pytest.mark.parametrize('cuda', [False, True])
def test_amp_on_the_drop_in_form_sets_the_shared_wrapper(
        native, monkeypatch, cuda):
    """Bug: ``--amp`` on the README's drop-in (the segmentor config's own
    ``optim_wrapper`` plus the constructor) died with ``KeyError:
    'segmentor'``; its one wrapper type is what G and D take."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.01),
                constructor='SegGANOptimWrapperConstructor')))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == ('AmpOptimWrapper'
                                      if cuda else 'BF16AutocastOptimWrapper')


class Net(nn.Module):
    """A backbone with a depthwise conv between 1x1 ones, and a G."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 1), nn.Conv2d(8, 8, 3, padding=1, groups=8),
            nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1))
        self.generator = nn.Sequential(nn.Conv2d(4, 3, 1))

    def forward(self, x):
        return self.generator(self.backbone(x))


def _dtypes(net, x):
    """The dtype each conv computes in (before the islands' cast back)."""
    seen = {}
    handles = [
        m.register_forward_hook(
            lambda m, a, o, n=n: seen.__setitem__(n, o.dtype), prepend=True)
        for n, m in net.named_modules() if isinstance(m, nn.Conv2d)
    ]
    out = net(x)
    for h in handles:
        h.remove()
    return seen, out


def test_depthwise_convs_run_fp32_while_the_rest_runs_bf16(native):
    """Bugs: the depthwise conv autocast to bf16 (slower than fp32 there),
    autocast left off after an island (every later conv fp32), or the
    island's gradient not reaching the weights."""
    MMLogger.get_instance('bf16-policy')
    net = Net()
    BF16PolicyHook().before_run(_runner(net))
    assert net.backbone[0].weight.is_contiguous(memory_format=CL)
    wrapper = BF16AutocastOptimWrapper(
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    depthwise = net.backbone[1].weight.detach().clone()
    bn_input = []
    net.backbone[2].register_forward_pre_hook(
        lambda m, a: bn_input.append(a[0].dtype))
    with wrapper.optim_context(net):
        seen, out = _dtypes(net, torch.randn(2, 3, 8, 8))
    assert seen == {
        'backbone.0': torch.bfloat16,
        'backbone.1': torch.float32,  # depthwise
        'backbone.3': torch.bfloat16,
        'generator.0': torch.bfloat16
    }
    assert bn_input == [torch.bfloat16]  # the island's output cast back
    wrapper.update_params(out.float().square().mean())
    assert not torch.equal(net.backbone[1].weight, depthwise)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    # Outside autocast (validation) the islands change nothing.
    seen, _ = _dtypes(net, torch.randn(2, 3, 8, 8))
    assert set(seen.values()) == {torch.float32}
    # An exception inside an island does not leave autocast off.
    with torch.autocast('cpu', dtype=torch.bfloat16):
        with pytest.raises(RuntimeError):
            net.backbone[1](torch.randn(2, 5, 8, 8))
        assert torch.is_autocast_enabled('cpu')


def test_fp32_names_children_and_refuses_unknown_ones(native):
    net = Net()
    BF16PolicyHook(fp32=('depthwise', 'generator')).before_run(_runner(net))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        seen, _ = _dtypes(net, torch.randn(2, 3, 8, 8))
    assert seen['generator.0'] == torch.float32
    assert seen['backbone.0'] == torch.bfloat16
    with pytest.raises(ValueError, match="'gan'.*'backbone', 'generator'"):
        BF16PolicyHook(fp32=('gan', )).before_run(_runner(Net()))


def test_checkpoints_stay_fp32_and_load_either_way(native):
    """Save under the policy, load in fp32, and the reverse. Bugs: weights
    saved channels-last (strides differ from an fp32 run's file) or in
    bf16; a policy run's layout lost when fp32 weights are loaded."""
    policy = tiny_seggan()
    hook = BF16PolicyHook()
    hook.before_run(_runner(policy))
    conv = policy.backbone.stem[0].weight
    assert conv.is_contiguous(memory_format=CL) and not conv.is_contiguous()
    checkpoint = dict(state_dict=policy.state_dict())
    hook.before_save_checkpoint(_runner(policy), checkpoint)
    state = checkpoint['state_dict']
    assert all(v.is_contiguous() for v in state.values())
    assert {v.dtype for v in state.values() if v.is_floating_point()} == \
        {torch.float32}
    fp32 = tiny_seggan()
    torch.nn.init.normal_(fp32.backbone.stem[0].weight)
    fp32.load_state_dict(state)
    for k, v in fp32.state_dict().items():
        assert torch.equal(v, state[k]), k
    # The reverse: fp32 weights into the policy's model keep its layout.
    torch.nn.init.normal_(fp32.backbone.stem[0].weight)
    policy.load_state_dict(fp32.state_dict())
    assert conv.is_contiguous(memory_format=CL)
    data = fp32.data_preprocessor(make_batch(classes=4), False)
    with torch.no_grad():
        a = fp32(data['inputs'], mode='tensor')
        b = policy(data['inputs'], mode='tensor')
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('kernel,dilation,bias', [(5, 2, False), (3, 2, True),
                                                  (3, (2, 3), False)])
@pytest.mark.parametrize('layout', [torch.contiguous_format, CL])
def test_flipped_input_grad_equals_autograd(kernel, dilation, bias, layout):
    """Bugs: the kernel not flipped (asymmetric random weights), the wrong
    padding for a non-square dilation, the weight gradient or bias lost."""
    from mmseg_seggan.engine.hooks.bf16_policy_hook import \
        DilatedDepthwiseConv2d
    torch.manual_seed(0)
    d = (dilation, ) * 2 if isinstance(dilation, int) else dilation
    pad = tuple(x * (kernel - 1) // 2 for x in d)
    ref = nn.Conv2d(6, 6, kernel, 1, pad, d, groups=6, bias=bias)
    fast = DilatedDepthwiseConv2d(6, 6, kernel, 1, pad, d, groups=6, bias=bias)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 6, 11, 14).contiguous(memory_format=layout)
    grads = []
    for conv in (ref, fast):
        xx = x.clone().requires_grad_()
        y = conv(xx)
        y.backward(torch.linspace(-1, 1, y.numel()).view_as(y))
        grads.append([y, xx.grad] + [p.grad for p in conv.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)


def test_flip_dilated_grads_swaps_only_dilated_depthwise(native):
    """Bugs: plain or strided depthwise convs swapped, the parameters
    copied (the optimizer would update orphans), the state dict renamed."""
    net = nn.Sequential(
        nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4),
        nn.Conv2d(4, 4, 3, padding=1, groups=4),
        nn.Conv2d(4, 4, 3, stride=2, padding=2, dilation=2, groups=4),
        nn.Conv2d(4, 8, 3, padding=2, dilation=2))
    params = list(net.parameters())
    keys = list(net.state_dict())
    hook = BF16PolicyHook(flip_dilated_grads=True)
    hook.before_run(_runner(net))
    assert [type(m).__name__ for m in net
            ] == ['DilatedDepthwiseConv2d', 'Conv2d', 'Conv2d', 'Conv2d']
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert list(net.state_dict()) == keys
    x = torch.randn(1, 4, 9, 9, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        net[0](x).float().sum().backward()  # the island: fp32 inside
    assert x.grad.dtype == torch.float32 and params[0].grad is not None


def test_flipped_input_grad_under_autocast_matches_conv2d():
    """Bug: under autocast (no fp32 island) the swapped conv returned fp32
    where ``nn.Conv2d`` returns bf16, or its gradients came back bf16."""
    from mmseg_seggan.engine.hooks.bf16_policy_hook import \
        DilatedDepthwiseConv2d
    ref = nn.Conv2d(4, 4, 3, 1, 2, 2, groups=4)
    fast = DilatedDepthwiseConv2d(4, 4, 3, 1, 2, 2, groups=4)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 9, 9)
    out = []
    for conv in (ref, fast):
        xx = x.clone().requires_grad_()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            y = conv(xx)
        y.float().sum().backward()
        out.append([y, xx.grad, conv.weight.grad, conv.bias.grad])
    for a, b in zip(*out):
        assert a.dtype == b.dtype
        assert torch.allclose(a.float(), b.float(), rtol=2e-2, atol=2e-2)


def test_cast_back_off_keeps_the_island_output_fp32(native):
    """The policy before ``cast_back``: what follows an island sees fp32.
    Bug: the option ignored (the old policy not reproducible)."""
    net = Net()
    BF16PolicyHook(cast_back=False).before_run(_runner(net))
    bn_input = []
    net.backbone[2].register_forward_pre_hook(
        lambda m, a: bn_input.append(a[0].dtype))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        net(torch.randn(2, 3, 8, 8))
    assert bn_input == [torch.float32]
