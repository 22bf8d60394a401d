"""Weights-only checkpoint loading, for every source a config or tool names.

Only what mmengine's message hub pickles is allowed: ``HistoryBuffer``, numpy
scalars and a stand-in ``getattr`` for the buffer's statistics methods."""
import os
import os.path as osp
import pickle
import pickletools
import re
import zipfile
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import apply_to


class CheckpointError(RuntimeError):
    """Base class for checkpoint files that cannot be loaded."""


class UnsafeCheckpointError(CheckpointError):
    """The file holds pickled objects outside the weights-only allow-list."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, damaged or not a torch checkpoint at all."""


def _statistics_method(owner: Any, name: Any) -> Any:
    """``builtins.getattr`` inside a checkpoint: HistoryBuffer statistics."""
    if owner is HistoryBuffer and name in ('min', 'max', 'mean', 'current'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported global: getattr({owner!r}, {name!r})')


def _allowed_for_one_load() -> list:
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    numbers = np.typecodes['AllInteger'] + np.typecodes['AllFloat'] + '?'
    dtypes = sorted({type(np.dtype(t)) for t in numbers}, key=str)
    return [
        HistoryBuffer, scalar, _reconstruct, np.ndarray, np.dtype,
        (_statistics_method, 'builtins.getattr'), *dtypes
    ]


_last_loaded_file: Optional[str] = None


def last_loaded_checkpoint_file() -> Optional[str]:
    """The file read most recently, for errors raised later on its path."""
    return _last_loaded_file


# The unpickler's words for a global outside the allow-list (not damage).
_CODE_MARKERS = ('Unsupported global', 'unsupported GLOBAL',
                 'Trying to call reduce', 'Can only create new object',
                 'Can only build')


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = 'cpu',
                         fix: Optional[str] = None,
                         source: Optional[str] = None) -> Any:
    """Load a local file weights-only; fix: advice if damaged, source: URL."""
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
    except Exception as e:
        msg, unpickling = str(e), isinstance(e, pickle.UnpicklingError)
        unsafe = unpickling and any(m in msg for m in _CODE_MARKERS)
        names = _pickled_callables(filename) if unpickling and not unsafe \
            else []
        detail = (f'pickled callables: {", ".join(names)}'
                  if names else _first_reason(msg) if unpickling else
                  f'{type(e).__name__}: {(msg.splitlines() or [""])[0]}')
        if unsafe or names:
            raise UnsafeCheckpointError(
                f'{name} is not a plain checkpoint: it holds pickled Python '
                f'objects that are not tensors or plain data ({detail}). It '
                'was NOT loaded, because loading it could run arbitrary '
                'code. If you trust the file, re-save its state_dict as '
                'plain tensors.') from None
        raise CorruptCheckpointError(
            f'{name} is truncated or corrupt, or not a checkpoint at all '
            f'({detail}). ' + (fix or 'Use an earlier checkpoint (e.g. the '
                               'previous `iter_*.pth` in the work dir), or '
                               're-download it.')) from None
    global _last_loaded_file
    _last_loaded_file = filename
    return checkpoint


def _pickled_callables(filename: str, limit: int = 1 << 26) -> List[str]:
    """Globals a raw (non-zip) pickle would import; imports nothing."""
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
    m = re.search(
        r'WeightsUnpickler error: (\S.*)|^\s*((?:Unsupported|Trying '
        r'to).*)', msg, re.M)
    if not m:
        return msg.splitlines()[0] if msg else 'unreadable pickle'
    reason = (m[1] or m[2] or '').strip()
    return reason.split(' was not an allowed global')[0].rstrip('.')


def load_url_weights_only(url: str,
                          model_dir: Optional[str] = None,
                          map_location: Optional[Any] = None,
                          **kwargs) -> Any:
    """mmengine's ``load_url``, weights-only; a refused file is uncached."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(
        model_dir,
        kwargs.get('file_name') or osp.basename(urlparse(url).path)
        or 'checkpoint.pth')
    if not osp.exists(cached):
        torch.hub.download_url_to_file(url, cached, progress=False)
    try:
        return load_checkpoint_file(cached, map_location, source=url)
    except CheckpointError:
        os.remove(cached)
        raise


@contextmanager
def weights_only_loading() -> Iterator[None]:
    """mmengine's local and URL loaders made weights-only; not thread-safe."""
    local = CheckpointLoader._schemes['']
    url = mmengine_checkpoint.load_url
    CheckpointLoader._schemes[''] = load_checkpoint_file
    mmengine_checkpoint.load_url = load_url_weights_only
    try:
        yield
    finally:
        CheckpointLoader._schemes[''] = local
        mmengine_checkpoint.load_url = url


_BUFFER_TAG = '__history_buffer__'  # a HistoryBuffer saved as a dict


def plain_message_hub(state: dict) -> dict:
    """``MessageHub.state_dict()`` in plain types, for weights-only loads."""

    def plain(value):
        return apply_to(value, lambda x: isinstance(x,
                                                    (np.generic, np.ndarray)),
                        lambda x: x.tolist())

    state = dict(state)
    state['log_scalars'] = {
        key: dict({_BUFFER_TAG: 1},
                  log_history=buf._log_history.tolist(),
                  count_history=buf._count_history.tolist(),
                  max_length=buf.max_length)
        if isinstance(buf, HistoryBuffer) else plain(buf)
        for key, buf in (state.get('log_scalars') or {}).items()
    }
    if 'runtime_info' in state:
        state['runtime_info'] = plain(state['runtime_info'])
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
    """``seggan://<path or URL>``: weights-only where only a name is given."""
    with weights_only_loading():
        return CheckpointLoader.load_checkpoint(filename[len(SCHEME):],
                                                map_location)
