"""File backend ``seggan_atomic``: write a temporary file, fsync, rename it
over the name, so a killed save never leaves a truncated checkpoint."""
import errno
import os
import os.path as osp
import re
import secrets
from pathlib import Path
from typing import Optional, Union

from mmengine.fileio import LocalBackend, register_backend

BACKEND = 'seggan_atomic'


def temp_target(name: str) -> Optional[str]:
    """The file a temporary file of :func:`atomic_write` was for."""
    m = re.match(r'\.(.+?)\.\d+-[0-9a-f]+\.tmp$', name)
    return m[1] if m else None


class CheckpointWriteError(OSError):
    """A write failed (disk full, quota, I/O error); keeps the ``errno``."""


def _write_error(path: str, error: OSError) -> CheckpointWriteError:
    directory = osp.dirname(path)
    if error.errno in (errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)):
        fix = (f'Free space on the disk of {directory} (e.g. delete old '
               'iter_*.pth there, or keep fewer with '
               '`--cfg-options default_hooks.checkpoint.max_keep_ckpts=2`, '
               'or train into another --work-dir)')
    else:
        fix = f'Check that {directory} is writable and its disk healthy'
    return CheckpointWriteError(
        error.errno, f'Could not write {path} ({error.strerror or error}). '
        'Nothing was lost: the partial file was removed, every file in the '
        'folder is as it was before this save, and `last_checkpoint` names '
        f'a complete checkpoint. {fix}, then run the same command with '
        '--resume to continue from the last complete checkpoint.')


def atomic_write(path: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (no temporary file is left)."""
    path = osp.abspath(os.fspath(path))
    directory, name = osp.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = osp.join(directory,
                   f'.{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp')
    fd = None
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if fd is not None and osp.exists(tmp):  # ours, never another's
            os.remove(tmp)
        if isinstance(e, OSError):
            raise _write_error(path, e) from e
        raise
    if hasattr(os, 'O_DIRECTORY'):  # the rename, durable (not on Windows)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@register_backend(BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj.encode(encoding))
