"""Crash-safe checkpoint writes: a final name never holds a half-written file.

mmengine writes a checkpoint by opening ``iter_N.pth`` and streaming the
bytes into it, then rewrites ``<work_dir>/last_checkpoint`` the same way. A
run killed in between (``kill -9``, out of memory, a pre-empted node) leaves
a truncated ``iter_N.pth`` or an empty ``last_checkpoint``, and ``--resume``
then fails on it. Here both are written the way databases do it::

    write  .<name>.tmp  (same directory)  ->  flush + fsync
    os.replace(.<name>.tmp, <name>)       ->  atomic on POSIX and Windows
    fsync(directory)                      ->  the rename survives power loss

so a reader sees either the old complete file or the new complete one. A
temporary file left by a killed run is harmless: nothing looks for it, the
next save of the same name overwrites it, and ``--resume`` removes it. A
write that fails (a full disk, most often) removes its temporary file and
raises :class:`CheckpointWriteError`, which names the file, says that
nothing was lost and what to do.

Two places are changed, both only while :mod:`mmseg_seggan` is imported:

* :meth:`mmengine.fileio.LocalBackend.put` for checkpoint files (``.pth``,
  ``.pt``): ``Runner.save_checkpoint`` -> ``save_checkpoint`` -> ``put``.
  Other files (logs, results, images) are written as before.
* the ``open`` that :class:`~mmengine.hooks.CheckpointHook` uses to write
  ``last_checkpoint`` (a module-level name of ``mmengine.hooks.
  checkpoint_hook``; every other file that module opens, and ``open``
  everywhere else, is the builtin one).
"""
import builtins
import errno
import os
import os.path as osp
from typing import IO, Any, Union

from mmengine.fileio.backends.local_backend import LocalBackend

CHECKPOINT_SUFFIXES = ('.pth', '.pt')
LAST_CHECKPOINT = 'last_checkpoint'
TMP_SUFFIX = '.tmp'


def temp_path_for(path: str) -> str:
    """The temporary file that :class:`AtomicFile` writes before ``path``.

    Hidden (leading dot) and with another suffix, so that mmengine's and
    our own searches for ``iter_*.pth`` never see it.
    """
    directory, name = osp.split(osp.abspath(path))
    return osp.join(directory, f'.{name}{TMP_SUFFIX}')


def is_temp_checkpoint(name: str) -> bool:
    """Whether a file name is a temporary file of :class:`AtomicFile`."""
    return name.startswith('.') and name.endswith(TMP_SUFFIX)


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (disk full, quota, I/O error).

    Still an :class:`OSError` with the original ``errno``, so callers that
    look for ``ENOSPC`` keep working; the message names the file, says that
    nothing was lost and what to do.
    """


_NO_SPACE = (errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC))


def _write_error(path: str, error: OSError) -> CheckpointWriteError:
    """The error to raise when writing ``path`` failed with ``error``."""
    directory = osp.dirname(path)
    reason = error.strerror or str(error)
    if error.errno in _NO_SPACE:
        fix = (f'Free space on the disk of {directory} (e.g. delete old '
               'iter_*.pth there, or keep fewer with '
               '`--cfg-options default_hooks.checkpoint.max_keep_ckpts=2`, '
               'or train into another --work-dir)')
    else:
        fix = f'Check that {directory} is writable and its disk healthy'
    return CheckpointWriteError(
        error.errno, f'Could not write {path} ({reason}). Nothing was lost: '
        'the partial file was removed, every file in the folder is as it '
        'was before this save, and `last_checkpoint` names a complete '
        f'checkpoint. {fix}, then run the same command with --resume to '
        'continue from the last complete checkpoint.')


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not possible on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFile:
    """A file that appears under its name complete, or not at all.

    Use as a context manager: on a clean exit the data is synced and the
    temporary file renamed over ``path``; on an exception it is removed and
    ``path`` is left as it was.

    Args:
        path (str): The final file name.
        mode (str): ``'w'`` (text) or ``'wb'`` (bytes).
        encoding (str, optional): Text encoding (text mode only).
    """

    def __init__(self,
                 path: Union[str, os.PathLike],
                 mode: str = 'wb',
                 encoding: Union[str, None] = None):
        if mode not in ('w', 'wt', 'wb'):
            raise ValueError(f'AtomicFile writes only, got mode {mode!r}.')
        self.path = osp.abspath(os.fspath(path))
        self.tmp_path = temp_path_for(self.path)
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        if 'b' in mode:
            self._file: IO = builtins.open(self.tmp_path, mode)
        else:
            self._file = builtins.open(
                self.tmp_path, mode, encoding=encoding or 'utf-8')

    def write(self, data: Any) -> int:
        try:
            return self._file.write(data)
        except OSError as e:
            raise self._failed(e) from e

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as e:
            raise self._failed(e) from e

    def commit(self) -> None:
        """Sync the data, then rename it over the final name."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.tmp_path, self.path)
        except OSError as e:
            raise self._failed(e) from e
        _fsync_dir(osp.dirname(self.path))

    def discard(self) -> None:
        """Drop the temporary file; the final name is untouched."""
        try:
            self._file.close()
        except OSError:  # e.g. flushing the buffer onto a full disk
            pass
        try:
            os.remove(self.tmp_path)
        except FileNotFoundError:
            pass

    def _failed(self, error: OSError) -> OSError:
        """Discard the write; the error to raise instead of ``error``."""
        self.discard()
        if isinstance(error, CheckpointWriteError):
            return error
        return _write_error(self.path, error)

    def __enter__(self) -> 'AtomicFile':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def atomic_write(path: Union[str, os.PathLike],
                 data: Union[bytes, str],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring).

    Args:
        path (str | PathLike): Destination file.
        data (bytes | str): The whole content; ``str`` is written as text.
        encoding (str): Encoding of text data.
    """
    mode = 'wb' if isinstance(data, (bytes, bytearray, memoryview)) else 'w'
    with AtomicFile(path, mode, encoding=None if mode == 'wb' else encoding) \
            as f:
        f.write(data)


def is_checkpoint_path(path: Union[str, os.PathLike]) -> bool:
    return os.fspath(path).endswith(CHECKPOINT_SUFFIXES)


# The unpatched method, also when this module is imported again.
_original_put = getattr(LocalBackend.put, '__wrapped__', LocalBackend.put)


def _atomic_put(self: LocalBackend, obj: bytes,
                filepath: Union[str, os.PathLike]) -> None:
    """``LocalBackend.put``, atomic for checkpoint files."""
    if is_checkpoint_path(filepath):
        atomic_write(filepath, obj)
    else:
        _original_put(self, obj, filepath)


_atomic_put.__wrapped__ = _original_put  # type: ignore[attr-defined]


def _checkpoint_hook_open(file, mode: str = 'r', *args, **kwargs):
    """``open`` for ``mmengine.hooks.checkpoint_hook``.

    Writing ``last_checkpoint`` goes through :class:`AtomicFile`; anything
    else is the builtin ``open``.
    """
    if (isinstance(file, (str, os.PathLike))
            and osp.basename(os.fspath(file)) == LAST_CHECKPOINT
            and mode in ('w', 'wt', 'wb') and not args):
        return AtomicFile(file, mode, encoding=kwargs.get('encoding'))
    return builtins.open(file, mode, *args, **kwargs)


def install_atomic_checkpoint_saving() -> None:
    """Make mmengine's checkpoint and ``last_checkpoint`` writes atomic.

    Idempotent; called when :mod:`mmseg_seggan` is imported.
    """
    from mmengine.hooks import checkpoint_hook
    LocalBackend.put = _atomic_put
    checkpoint_hook.open = _checkpoint_hook_open
