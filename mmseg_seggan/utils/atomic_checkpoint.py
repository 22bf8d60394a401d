"""Crash-safe checkpoint writes: a final name never holds a half-written file.

mmengine writes a checkpoint by opening ``iter_N.pth`` and streaming the
bytes into it. A run killed meanwhile (``kill -9``, out of memory, a
pre-empted node) leaves a truncated ``iter_N.pth``, and ``--resume`` then
fails on it. :class:`AtomicFile` writes the way databases do it::

    create .<name>.<pid>-<random>.tmp  (same directory, O_EXCL)
    write, flush + fsync
    os.replace(temp, <name>)           ->  atomic on POSIX and Windows
    fsync(directory)                   ->  the rename survives power loss

so a reader sees either the old complete file or the new complete one.
The temporary name is unique to its writer (created with ``O_EXCL``): two
processes saving the same name never write into one file. A temporary
file left by a killed run is harmless: nothing looks for it, and
``--resume`` removes it. A write that fails (a full disk, most often)
removes its temporary file and raises :class:`CheckpointWriteError`, which
names the file, says that nothing was lost and what to do.

Nothing in mmengine is changed: :class:`~mmseg_seggan.engine.runner.
SegGANRunner` saves through :func:`atomic_save`, the export converter
through :func:`atomic_write`.
"""
import errno
import os
import os.path as osp
import re
import secrets
from typing import IO, Any, Callable, List, Union

CHECKPOINT_SUFFIXES = ('.pth', '.pt')
LAST_CHECKPOINT = 'last_checkpoint'
TMP_SUFFIX = '.tmp'


def temp_path_for(path: str) -> str:
    """A new, unique name for the temporary file written before ``path``.

    Hidden (leading dot) and with another suffix, so that mmengine's and
    our own searches for ``iter_*.pth`` never see it; the process id and
    a random token make it unique to its writer.
    """
    directory, name = osp.split(osp.abspath(path))
    token = f'{os.getpid()}-{secrets.token_hex(4)}'
    return osp.join(directory, f'.{name}.{token}{TMP_SUFFIX}')


# ``.<name>.<pid>-<hex>.tmp``, and ``.<name>.tmp`` of earlier versions.
_TEMP_NAME = re.compile(r'^\.(?P<target>.+?)(?:\.\d+-[0-9a-f]+)?\.tmp$')


def temp_target(name: str) -> Union[str, None]:
    """The final name a temporary file of :class:`AtomicFile` was for."""
    m = _TEMP_NAME.match(name)
    return m.group('target') if m else None


_WRITER = re.compile(r'\.(\d+)-[0-9a-f]+\.tmp$')


def remove_stale_temps(path: str) -> List[str]:
    """Remove temporary files for ``path`` left by writers that are gone.

    A temporary file names its writer's process id; one whose process is no
    longer running (a killed save) is removed, one of a live writer never.

    Returns:
        list[str]: The files removed.
    """
    directory, name = osp.split(osp.abspath(path))
    removed = []
    for entry in os.listdir(directory):
        if temp_target(entry) != name:
            continue
        m = _WRITER.search(entry)
        if m is not None and _running(int(m.group(1))):
            continue
        try:
            os.remove(osp.join(directory, entry))
        except FileNotFoundError:
            continue
        removed.append(osp.join(directory, entry))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_temp_checkpoint(name: str) -> bool:
    """Whether a file name is a temporary file of :class:`AtomicFile`."""
    return temp_target(name) is not None


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
        try:
            fd = os.open(self.tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                         0o644)
        except OSError as e:
            raise _write_error(self.path, e) from e
        if 'b' in mode:
            self._file: IO = os.fdopen(fd, 'wb')
        else:
            self._file = os.fdopen(fd, 'w', encoding=encoding or 'utf-8')

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


def atomic_save(path: str, write: Callable[[str], Any]) -> None:
    """Let ``write(temp_path)`` write a file, then commit it as ``path``.

    For writers that take a file name (mmengine's ``save_checkpoint``):
    the temporary file is created first (``O_EXCL``, unique name), then
    ``write`` fills it, then it is synced and renamed over ``path``.

    Args:
        path (str): The final file name.
        write (callable): Writes the whole file to the name it is given.

    Raises:
        CheckpointWriteError: The write, the sync or the rename failed;
            the temporary file is removed and ``path`` is as it was.
    """
    f = AtomicFile(path, 'wb')
    f._file.close()  # ``write`` opens the name itself
    try:
        write(f.tmp_path)
        fd = os.open(f.tmp_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(f.tmp_path, f.path)
    except BaseException as e:
        f.discard()
        if isinstance(e, OSError) and not isinstance(e, CheckpointWriteError):
            raise _write_error(f.path, e) from e
        raise
    _fsync_dir(osp.dirname(f.path))
