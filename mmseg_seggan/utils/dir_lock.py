"""One owner per folder: a lock file that names its holder.

Two training runs in one work dir, or two protocol runs on one work root,
overwrite each other's checkpoints, logs and records without a word. A
:class:`DirLock` makes the second one stop before it writes anything, with
a message that names the holder (process, host, start time, command).

The lock is a file created with ``O_CREAT | O_EXCL``, so of two processes
that try at once exactly one gets it. A lock left behind by a process that
is gone (killed, crashed, the machine rebooted) is recognised as stale on
the same host (the process id is not running, or runs another program
since: its start time differs) and replaced; a lock of another host is
never taken over, because nothing here can tell whether that run is alive.
"""
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

# A lock file that is still empty after this long was left by a process
# that died between creating it and writing its holder.
EMPTY_LOCK_GRACE_S = 10.0


class DirLockError(RuntimeError):
    """The folder is held by another live process."""


def _process_start(pid: int) -> Optional[str]:
    """The start time of a process (clock ticks since boot), if known.

    Together with the pid it identifies one process: a pid reused by a
    later process has another start time.
    """
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces; fields after it do not
    return stat.rsplit(')', 1)[1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _holder_info() -> dict:
    pid = os.getpid()
    return dict(
        pid=pid,
        host=socket.gethostname(),
        process_start=_process_start(pid),
        started=time.strftime('%Y-%m-%dT%H:%M:%S'),
        cmd=' '.join(sys.argv))


class DirLock:
    """An exclusive, self-describing lock on a folder.

    Args:
        directory (str): The folder to own (created when missing).
        name (str): The lock file's name inside it.
        what (str): What the folder is, for the messages ("work dir").
        hint (str): What a user whose run was refused should do.

    Use as a context manager, or :meth:`acquire` / :meth:`release`.
    """

    def __init__(self,
                 directory: str,
                 name: str = '.lock',
                 what: str = 'folder',
                 hint: str = 'wait for it to finish, or use another folder'):
        self.directory = osp.abspath(directory)
        self.path = osp.join(self.directory, name)
        self.what = what
        self.hint = hint
        self.held = False
        self.replaced: Optional[dict] = None  # the stale holder, if any

    def read_holder(self) -> Optional[dict]:
        """The holder recorded in the lock file; ``{}`` if unreadable."""
        try:
            with open(self.path) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return {}

    def _is_stale(self, holder: dict) -> bool:
        if not holder:  # empty: the writer died right after creating it
            try:
                age = time.time() - os.stat(self.path).st_mtime
            except FileNotFoundError:
                return False
            return age > EMPTY_LOCK_GRACE_S
        if holder.get('host') != socket.gethostname():
            return False
        pid = int(holder.get('pid', -1))
        if pid == os.getpid():
            return False
        if pid <= 0 or not _alive(pid):
            return True
        start = holder.get('process_start')
        return start is not None and _process_start(pid) not in (None, start)

    def acquire(self) -> 'DirLock':
        os.makedirs(self.directory, exist_ok=True)
        info = _holder_info()
        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                             0o644)
            except FileExistsError:
                holder = self.read_holder()
                if holder is None:
                    continue  # released meanwhile: try again
                if holder.get('pid') == os.getpid() and \
                        holder.get('host') == info['host']:
                    raise DirLockError(
                        f'{self.path} is already held by this process '
                        f'({holder.get("cmd")!r}); one {self.what} serves '
                        'one run at a time.')
                if not self._is_stale(holder):
                    raise DirLockError(self._refusal(holder))
                self._remove_stale(holder)
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump(info, f)
                f.flush()
                os.fsync(f.fileno())
            self.held = True
            return self
        raise DirLockError(f'Could not take {self.path}: it keeps changing '
                           'hands (another process is retrying too).')

    def _remove_stale(self, holder: dict) -> None:
        """Move a stale lock aside; put it back if it changed meanwhile."""
        aside = f'{self.path}.stale.{os.getpid()}'
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            with open(aside) as f:
                moved = json.loads(f.read() or '{}')
        except (OSError, ValueError):
            moved = {}
        if moved != holder and moved:
            # another process took the stale lock over between our read
            # and the rename: that lock is live, restore it
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        else:
            self.replaced = holder
        os.remove(aside)

    def _refusal(self, holder: dict) -> str:
        who = (f'process {holder.get("pid")} on {holder.get("host")}, '
               f'started {holder.get("started")}: {holder.get("cmd")!r}'
               if holder else 'a process that is writing the lock now')
        other_host = holder and holder.get('host') != socket.gethostname()
        tail = (f' If that run is dead (it ran on another machine, so this '
                f'one cannot tell), delete {self.path}.' if other_host else '')
        return (f'The {self.what} {self.directory} is in use by {who}. Two '
                f'runs in one {self.what} overwrite each other\'s files; '
                f'{self.hint}.{tail}')

    def release(self) -> None:
        if not self.held:
            return
        holder = self.read_holder()
        if holder and holder.get('pid') == os.getpid():
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
        self.held = False

    def __enter__(self) -> 'DirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
