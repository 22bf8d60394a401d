"""DirLock: one owner per folder, stale locks of dead processes replaced."""
import json
import os
import socket
import subprocess
import sys

import pytest

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
    # the holder is dead now: its lock is stale and is replaced
    lock = DirLock(str(tmp_path)).acquire()
    assert lock.replaced['pid'] == child.pid
    assert _holder(lock.path)['pid'] == os.getpid()
    lock.release()
    assert not os.path.exists(lock.path)


def test_same_process_twice_is_refused(tmp_path):
    with DirLock(str(tmp_path)):
        with pytest.raises(DirLockError, match='already held by this'):
            DirLock(str(tmp_path)).acquire()


def test_reused_pid_is_stale(tmp_path):
    """A pid that now belongs to another process (other start time)."""
    lock = DirLock(str(tmp_path))
    with open(lock.path, 'w') as f:
        json.dump(
            dict(
                pid=os.getppid(),
                host=socket.gethostname(),
                process_start='1',
                cmd='old'), f)
    lock.acquire()
    assert lock.replaced['cmd'] == 'old'
    lock.release()


def test_lock_of_another_host_is_never_taken(tmp_path):
    lock = DirLock(str(tmp_path))
    with open(lock.path, 'w') as f:
        json.dump(dict(pid=1, host='elsewhere', cmd='train'), f)
    with pytest.raises(DirLockError, match='delete .*lock'):
        lock.acquire()
    assert _holder(lock.path)['host'] == 'elsewhere'  # left as it was


def test_release_leaves_a_lock_that_is_not_ours(tmp_path):
    lock = DirLock(str(tmp_path)).acquire()
    with open(lock.path, 'w') as f:
        json.dump(dict(pid=1, host='elsewhere'), f)
    lock.release()
    assert _holder(lock.path)['host'] == 'elsewhere'
