"""Safe checkpoint loading on torch >= 2.6 (``weights_only=True`` kept).

Two problems are solved here, both without ever unpickling arbitrary objects:

* mmengine's message hub stores :class:`~mmengine.logging.HistoryBuffer`
  objects whose default pickle form needs numpy internals and the builtin
  ``getattr``. We give ``HistoryBuffer`` a plain pickle form (its constructor
  called with lists of numbers) and allow-list only that class, so resume
  works with the weights-only unpickler. ``getattr`` is never allow-listed.
* mmengine's local checkpoint loader calls ``torch.load`` and lets its errors
  through bare. We replace it (``CheckpointLoader`` scheme ``''``) with one
  that always loads weights-only and turns failures into errors that name
  the file: :class:`UnsafeCheckpointError` for files carrying pickled code,
  :class:`CorruptCheckpointError` for truncated or damaged ones.

Every path that reads a local checkpoint through mmengine (``load_from``,
``--resume``, ``tools/test.py``, ``init_cfg=dict(type='Pretrained')``,
mmseg's ``init_model``) goes through :func:`load_from_local_safely` once
``mmseg_seggan`` is imported. This module imports none of its siblings:
:mod:`.checkpoint_shapes` and :mod:`.resume` build on it, and
:mod:`.safe_loading` installs all three.
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


def _history_buffer_reduce(self: HistoryBuffer):
    # Plain numbers only: loadable by torch's weights-only unpickler.
    return (HistoryBuffer, (self._log_history.tolist(),
                            self._count_history.tolist(), self.max_length))


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


def _register_safe_types() -> None:
    HistoryBuffer.__reduce__ = _history_buffer_reduce
    torch.serialization.add_safe_globals([HistoryBuffer] + _numpy_data_types())


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
        checkpoint = torch.load(
            filename, map_location=map_location, weights_only=True)
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


def load_from_local_safely(filename: str, map_location=None) -> Any:
    """mmengine ``CheckpointLoader`` backend for local paths."""
    return load_checkpoint_file(filename, map_location)


def install_weights_only_loader() -> None:
    """Load every local checkpoint read through mmengine weights-only.

    Installs the plain pickle form of ``HistoryBuffer`` with the numpy
    allow-list, and :func:`load_from_local_safely` as mmengine's loader for
    local paths. Idempotent. :func:`~.safe_loading.
    register_safe_checkpoint_loading` calls it with the other checks.
    """
    _register_safe_types()
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)
