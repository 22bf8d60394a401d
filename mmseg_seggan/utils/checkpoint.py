"""Safe checkpoint loading on torch >= 2.6 (``weights_only=True`` kept).

Nothing here changes mmengine or torch; the package's runner
(:class:`~mmseg_seggan.engine.runner.SegGANRunner`), its tools and the
``seggan://`` checkpoint scheme call these functions by name:

* :func:`load_checkpoint_file` always loads weights-only and turns failures
  into errors that name the file: :class:`UnsafeCheckpointError` for files
  carrying pickled code, :class:`CorruptCheckpointError` for truncated or
  damaged ones.
* mmengine's message hub stores :class:`~mmengine.logging.HistoryBuffer`
  objects whose default pickle form needs numpy internals and the builtin
  ``getattr``. :func:`plain_message_hub` writes them as plain lists and
  numbers (what any weights-only loader reads, torch's default included),
  :func:`restore_message_hub` rebuilds them. Checkpoints written before
  that (a ``HistoryBuffer`` pickled by class) load with ``HistoryBuffer``
  and numpy's data-only reconstructors allowed for that one
  ``torch.load`` call; ``getattr`` is never allowed.

This module imports none of its siblings: :mod:`.checkpoint_shapes` and
:mod:`.resume` build on it.
"""
import os.path as osp
import pickle
import pickletools
import zipfile
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class CheckpointError(RuntimeError):
    """Base class for checkpoint files that cannot be loaded."""


class UnsafeCheckpointError(CheckpointError):
    """The file holds pickled objects outside the weights-only allow-list."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, damaged or not a torch checkpoint at all."""


def _numpy_data_types() -> list:
    """numpy's data-only reconstructors (scalars and arrays of numbers).

    mmengine keeps numpy scalars in the runtime info (e.g. ``eta``). These
    functions build a number or an array from a dtype and raw bytes and run
    no other code. ``getattr`` and friends are never allowed.
    """
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [
        type(np.dtype(t))
        for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                  np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                  np.float64)
    ]
    return [scalar, _reconstruct, np.ndarray, np.dtype] + dtypes


# The file most recently read by the safe loader, named in errors raised
# later on the loading path (e.g. shape mismatches), which only see tensors.
_last_loaded_file: Optional[str] = None


def last_loaded_checkpoint_file() -> Optional[str]:
    """Path of the checkpoint file the safe loader read most recently."""
    return _last_loaded_file


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = 'cpu',
                         fix: Optional[str] = None) -> Any:
    """Load a local checkpoint with the weights-only unpickler.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: Passed to :func:`torch.load`.
        fix (str, optional): What to do about a damaged file, when it is
            not a checkpoint of a run (e.g. reinstall the wheel it is from).

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
    try:
        checkpoint = _torch_load_weights_only(filename, map_location)
    except pickle.UnpicklingError as e:
        msg = str(e)
        detail = _first_reason(msg)
        if not any(marker in msg for marker in _CODE_MARKERS):
            # torch reads a non-zip file as legacy format and may stop at
            # an opcode it does not know before reaching any callable: look
            # for callables without running anything.
            names = _pickled_callables(filename)
            if names:
                msg, detail = 'Unsupported global', 'pickled callables: ' \
                    + ', '.join(names[:5])
        if any(marker in msg for marker in _CODE_MARKERS):
            raise UnsafeCheckpointError(
                f'{filename} is not a plain checkpoint: it holds pickled '
                f'Python objects that are not tensors or plain data '
                f'({detail}). It was NOT loaded, because loading it could '
                'run arbitrary code. Only load checkpoints written by '
                'mmengine/mmseg_seggan or converted with '
                '`tools/model_converters/seggan2deeplabv3.py`; if you trust '
                'the file, re-save its state_dict as plain tensors.') from None
        raise CorruptCheckpointError(
            f'{filename} is truncated or corrupt, or not a checkpoint at all '
            f'({detail}). ' + (fix or 'Use an earlier checkpoint, or '
                               're-download / re-train.')) from None
    except Exception as e:  # anything else means damaged bytes
        # (RuntimeError from the zip reader, EOFError, KeyError/IndexError
        # from a pickle stream that is garbage, ...). Nothing was run: the
        # weights-only unpickler refuses callables before these can occur.
        # torch's first sentence says what failed; the rest is advice.
        first = str(e).splitlines()[0].split('. ')[0] if str(e) else ''
        raise CorruptCheckpointError(
            f'{filename} is truncated or corrupt and cannot be loaded '
            f'({type(e).__name__}: {first}). ' +
            (fix or 'Use an earlier checkpoint (e.g. the previous '
             '`iter_*.pth` in the work dir).')) from None
    global _last_loaded_file
    _last_loaded_file = filename
    return checkpoint


# What torch's weights-only unpickler says when a file asks for a callable
# or a class outside the allow-list (as opposed to bytes that are not a
# pickle at all, e.g. ``Unsupported operand``, which mean a damaged file).
_CODE_MARKERS = ('Unsupported global', 'unsupported GLOBAL',
                 'Trying to call reduce', 'Can only create new object',
                 'Can only build')

_STRING_OPS = ('SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8', 'UNICODE',
               'SHORT_BINSTRING', 'BINSTRING', 'STRING')
_CALL_OPS = ('REDUCE', 'INST', 'OBJ', 'NEWOBJ', 'NEWOBJ_EX', 'BUILD')


def _pickled_callables(filename: str, limit: int = 1 << 26) -> List[str]:
    """Globals a raw pickle would import, found by reading its opcodes.

    :mod:`pickletools` only decodes; nothing is imported or called. Used
    for files that torch could not classify (not a zip, unknown opcodes).
    """
    try:
        if zipfile.is_zipfile(filename):
            return []
        with open(filename, 'rb') as f:
            data = f.read(limit)
    except OSError:
        return []
    names, strings, memo, calls = [], [], {}, False
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in _STRING_OPS:
                strings.append(arg)
            elif op.name == 'MEMOIZE' and strings:
                memo[len(memo)] = strings[-1]
            elif op.name in ('BINGET', 'LONG_BINGET', 'GET') and arg in memo:
                strings.append(memo[arg])
            elif op.name == 'GLOBAL':
                names.append(str(arg).replace(' ', '.'))
            elif op.name == 'STACK_GLOBAL':
                names.append('.'.join(strings[-2:]) or 'unknown')
            calls = calls or op.name in _CALL_OPS
    except Exception:  # the damaged rest of the file; keep what was read
        pass
    return names if (names and calls) else []


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


def _torch_load_weights_only(filename: str, map_location: Any) -> Any:
    """``torch.load(weights_only=True)``; older files of this package too.

    Checkpoints written before :func:`plain_message_hub` pickled each
    ``HistoryBuffer`` by class (with plain lists as arguments) and numpy
    scalars in the runtime info. Those types, and only for this call, are
    allowed when the plain load names one of them.
    """
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        legacy = _legacy_safe_types()
        names = {f'{t.__module__}.{t.__qualname__}' for t in legacy}
        asked = str(e)
        if not hasattr(torch.serialization, 'safe_globals') or not any(
                f'GLOBAL {n}' in asked or f'global: {n}' in asked
                or f'{n} was not an allowed global' in asked for n in names):
            raise
    with torch.serialization.safe_globals(legacy):
        return torch.load(
            filename, map_location=map_location, weights_only=True)


def _legacy_safe_types() -> list:
    return [HistoryBuffer] + _numpy_data_types()


# How :func:`plain_message_hub` marks a HistoryBuffer written as plain data.
_BUFFER_TAG = '__history_buffer__'


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists (exact)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return type(value)((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def plain_message_hub(state: dict) -> dict:
    """A message hub ``state_dict`` that weights-only loading reads.

    Args:
        state (dict): ``MessageHub.state_dict()`` (``log_scalars`` of
            ``HistoryBuffer``, ``runtime_info``, ``resumed_keys``).

    Returns:
        dict: The same content as plain containers and numbers.
    """
    state = dict(state)
    scalars = state.get('log_scalars') or {}
    state['log_scalars'] = type(scalars)(
        (key, {
            _BUFFER_TAG: 1,
            'log_history': buf._log_history.tolist(),
            'count_history': buf._count_history.tolist(),
            'max_length': buf.max_length
        } if isinstance(buf, HistoryBuffer) else _plain(buf))
        for key, buf in scalars.items())
    if 'runtime_info' in state:
        state['runtime_info'] = _plain(state['runtime_info'])
    return state


def restore_message_hub(state: dict) -> dict:
    """The inverse of :func:`plain_message_hub` (other input unchanged)."""
    scalars = state.get('log_scalars')
    if not scalars:
        return state
    state = dict(state)
    state['log_scalars'] = type(scalars)(
        (key,
         HistoryBuffer(
             buf['log_history'], buf['count_history'], buf['max_length']
         ) if isinstance(buf, dict) and buf.get(_BUFFER_TAG) else buf)
        for key, buf in scalars.items())
    return state


SCHEME = 'seggan://'


def load_seggan_scheme(filename: str, map_location=None) -> Any:
    """mmengine ``CheckpointLoader`` for ``seggan://<local path>``.

    For loaders that take a checkpoint name but no loader (mmseg's
    ``init_model``, ``MMSegInferencer``, ``init_cfg=dict(type=
    'Pretrained')``): ``seggan://work_dirs/x/iter_4.pth`` reads that file
    with :func:`load_checkpoint_file`.
    """
    return load_checkpoint_file(filename[len(SCHEME):], map_location)


def register_seggan_scheme() -> None:
    """Register ``seggan://`` (a new prefix; no other scheme is touched)."""
    if SCHEME not in CheckpointLoader._schemes:
        CheckpointLoader.register_scheme(
            prefixes=SCHEME, loader=load_seggan_scheme)


register_seggan_scheme()
