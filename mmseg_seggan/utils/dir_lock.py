"""One owner per folder: ``fcntl.flock`` on a file naming its holder.

The kernel drops the lock when its holder ends, so none is judged stale;
the file stays after a release, as waiters share one inode."""
import fcntl
import json
import os
import os.path as osp
import socket
import sys
import time


class DirLockError(RuntimeError):
    """The folder is held by a live process, or refuses a lock file."""


class DirLock:
    """An exclusive lock on ``directory``; ``replaced``: the record of a
    holder that ended without releasing."""

    def __init__(self,
                 directory: str,
                 name: str = '.lock',
                 what: str = 'folder',
                 hint: str = 'wait for it to finish, or use another folder'):
        self.directory = osp.abspath(directory)
        self.path = osp.join(self.directory, name)
        self.what, self.hint = what, hint
        self.replaced = None
        self._fd, self._pid = None, None

    def _record(self):
        try:  # whatever the file holds: a record, garbage, nothing
            with open(self.path, 'rb') as f:
                rec = json.loads(f.read(4096).decode('utf-8', 'replace'))
        except (OSError, ValueError):
            return None
        return rec if isinstance(rec, dict) and rec else None

    def acquire(self) -> 'DirLock':
        try:
            os.makedirs(self.directory, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                r = self._record()
                self.release()
                who = (f'process {r.get("pid")} on {r.get("host")}, started '
                       f'{r.get("started")}: {r.get("cmd")!r}'
                       if r else 'a process that has not recorded itself yet')
                raise DirLockError(
                    f'The {self.what} {self.directory} is in use by {who} (it '
                    f'holds {self.path}). Two runs in one {self.what} '
                    f"overwrite each other's files; {self.hint}.") from None
            self._pid, self.replaced = os.getpid(), self._record()
            rec = dict(
                pid=self._pid,
                host=socket.gethostname(),
                started=time.strftime('%Y-%m-%dT%H:%M:%S'),
                cmd=' '.join(sys.argv))
            os.ftruncate(self._fd, 0)
            os.write(self._fd, json.dumps(rec).encode())
        except OSError as e:
            self.release()
            raise DirLockError(
                f'Cannot lock the {self.what} {self.directory}: {self.path}: '
                f'{e.strerror} (errno {e.errno}). It must be on a writable '
                f'file system with free space; fix that or use another '
                f'{self.what}.') from e
        return self

    def release(self) -> None:
        """Give the folder up (a forked child only closes its copy)."""
        fd, pid, self._fd, self._pid = self._fd, self._pid, None, None
        if fd is not None:
            if pid == os.getpid():  # held: no record of a live run stays
                os.ftruncate(fd, 0)
            os.close(fd)

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()
