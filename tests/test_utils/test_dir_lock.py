"""DirLock: one owner per folder, held by the kernel, never guessed stale."""
import errno
import fcntl
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time

import pytest

from mmseg_seggan.utils import dir_lock
from mmseg_seggan.utils.dir_lock import DirLock, DirLockError


def _holder(path):
    with open(path) as f:
        return json.load(f)


def test_second_holder_is_refused_naming_the_first(tmp_path):
    # a live process (not this one) holds the lock
    child = subprocess.Popen([
        sys.executable, '-c',
        'import sys, time; sys.path.insert(0, sys.argv[1]);'
        'from mmseg_seggan.utils.dir_lock import DirLock;'
        'lock = DirLock(sys.argv[2]).acquire(); print("held", flush=True);'
        'time.sleep(60)',
        os.getcwd(),
        str(tmp_path)
    ],
                             stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == 'held'
        with pytest.raises(DirLockError) as err:
            DirLock(str(tmp_path), what='work dir').acquire()
        msg = str(err.value)
        assert f'process {child.pid}' in msg and 'work dir' in msg
        assert socket.gethostname() in msg
    finally:
        child.kill()
        child.wait()
    # the holder is dead: the kernel dropped its lock; its record is kept
    lock = DirLock(str(tmp_path)).acquire()
    assert lock.replaced['pid'] == child.pid
    assert _holder(lock.path)['pid'] == os.getpid()
    lock.release()
    assert open(lock.path).read() == ''  # no record of a live run stays
    again = DirLock(str(tmp_path)).acquire()
    assert again.replaced is None
    again.release()


def test_same_process_twice_is_refused(tmp_path):
    with DirLock(str(tmp_path)):
        with pytest.raises(DirLockError, match=f'process {os.getpid()} '):
            DirLock(str(tmp_path)).acquire()
    DirLock(str(tmp_path)).acquire().release()  # free again


class _SlowJson:
    """``json`` whose writers pause: widens the window between creating a
    lock file and recording its holder, where the old race struck."""

    def __getattr__(self, name):
        real = getattr(json, name)
        if not name.startswith('dump'):
            return real

        def slow(*args, **kwargs):
            time.sleep(0.02)
            return real(*args, **kwargs)

        return slow


def _contend(path, start, done, wins):
    dir_lock.json = _SlowJson()  # in this child only
    start.wait()
    try:
        DirLock(path).acquire()  # held until this process exits
        wins.put(os.getpid())
    except DirLockError:
        pass
    done.wait()  # every contender has tried while the winner holds it


def test_many_contenders_for_a_left_lock_exactly_one_wins(tmp_path):
    """Bug (issue 31, defect 2): two runs both took over one stale lock (9
    of 400 trials): one moved aside the other's new, still empty lock."""
    ctx = multiprocessing.get_context('fork')
    dead = subprocess.run(
        [sys.executable, '-c', 'import os; print(os.getpid())'],
        capture_output=True,
        text=True).stdout.strip()
    n, trials = 4, 20
    for trial in range(trials):
        path = str(tmp_path / str(trial))
        os.makedirs(path)
        with open(os.path.join(path, '.lock'), 'w') as f:  # a dead holder's
            json.dump(dict(pid=int(dead), host=socket.gethostname()), f)
        start, done = ctx.Barrier(n), ctx.Barrier(n)
        wins = ctx.Queue()
        procs = [
            ctx.Process(target=_contend, args=(path, start, done, wins))
            for _ in range(n)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        winners = []
        while not wins.empty():
            winners.append(wins.get())
        assert len(winners) == 1, f'trial {trial}: {len(winners)} holders'


def test_a_left_lock_with_this_pid_is_taken(tmp_path):
    """Bug (issue 31, defect 3): a run restarted in a new PID namespace
    (a container restart: PID 1 again, same host name) found its own pid in
    the lock it left and could never start: "already held by this
    process"."""
    lock = DirLock(str(tmp_path))
    with open(lock.path, 'w') as f:
        json.dump(
            dict(pid=os.getpid(), host=socket.gethostname(), cmd='old'), f)
    lock.acquire()
    assert lock.replaced['cmd'] == 'old'  # said, not judged
    assert _holder(lock.path)['cmd'] != 'old'
    lock.release()


GARBAGE = [
    b'"abc"', b'5', b'null', b'[1, 2]', b'{"pid": "x"}', b'\xff\xfe\x00', b'',
    b'{"pid": 99999999999999999999999}'
]


@pytest.mark.parametrize('content', GARBAGE)
def test_any_lock_content_is_taken_or_named(tmp_path, content):
    """Bug (issue 31, defect 4): lock files holding ``"abc"``, ``5``,
    ``null`` or non-UTF-8 bytes raised ``AttributeError`` / ``ValueError`` /
    ``OverflowError`` / ``UnicodeDecodeError``; an empty one (its writer
    died, e.g. on a full disk) refused every run for 10 s."""
    lock = DirLock(str(tmp_path))
    with open(lock.path, 'wb') as f:
        f.write(content)
    # held by a live process: refused with a message naming the file
    fd = os.open(lock.path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    with pytest.raises(DirLockError, match=str(tmp_path)):
        DirLock(str(tmp_path)).acquire()
    os.close(fd)
    # no holder: taken at once, whatever the file says
    lock.acquire()
    assert _holder(lock.path)['pid'] == os.getpid()
    lock.release()


def _disk_full(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize('code', [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_a_refusing_file_system_is_named(tmp_path, monkeypatch, code):
    """Bug (issue 31, defect 4): a read-only work dir gave a bare
    ``OSError``; a full disk left an empty lock behind."""
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith('.lock'):
            raise OSError(code, os.strerror(code), path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', refuse)
    lock = DirLock(str(tmp_path), what='work dir')
    with pytest.raises(DirLockError) as err:
        lock.acquire()
    assert lock.path in str(err.value) and os.strerror(code) in str(err.value)
    monkeypatch.undo()
    # the disk is full while the holder is written: named, nothing left held
    monkeypatch.setattr(dir_lock.os, 'write', _disk_full)
    with pytest.raises(DirLockError, match='No space left'):
        DirLock(str(tmp_path)).acquire()
    monkeypatch.undo()
    DirLock(str(tmp_path)).acquire().release()  # the next run: at once


def test_release_leaves_a_lock_that_is_not_ours(tmp_path):
    lock = DirLock(str(tmp_path)).acquire()
    os.remove(lock.path)  # deleted by hand; another run took the folder
    with open(lock.path, 'w') as f:
        json.dump(dict(pid=1, host='elsewhere'), f)
    lock.release()
    assert _holder(lock.path)['host'] == 'elsewhere'
