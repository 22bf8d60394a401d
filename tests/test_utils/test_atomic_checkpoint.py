"""Checkpoint writes are atomic: a final name never holds a partial file.

``SegGANRunner.save_checkpoint`` hands mmengine's saver the ``seggan_atomic``
file backend; mmengine's own ``LocalBackend`` is not changed
(``test_import_changes_nothing.py``).
"""
import errno
import os
import os.path as osp
import re
import stat

import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner.checkpoint import save_checkpoint
from seggan_testing import toy_runner

from mmseg_seggan.utils import (AtomicLocalBackend, CheckpointWriteError,
                                atomic_write, load_checkpoint_file)
from mmseg_seggan.utils.atomic_checkpoint import temp_target

TEMP = re.compile(r'^\.iter_4\.pth\.\d+-[0-9a-f]{8}\.tmp$')
ATOMIC = dict(backend='seggan_atomic')


@pytest.fixture
def replaces(monkeypatch):
    """Record every os.replace (the atomic commit)."""
    calls = []
    real = os.replace

    def replace(src, dst):
        calls.append((osp.basename(src), osp.basename(dst)))
        real(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    return calls


def _save(path, value=1.0):
    """mmengine's own saver, through the backend selected by name."""
    save_checkpoint(
        dict(state_dict={'w': torch.full((2, ), value)}),
        path,
        backend_args=ATOMIC)


def test_backend_is_registered_by_name_beside_local():
    assert isinstance(get_file_backend('x', backend_args=ATOMIC),
                      AtomicLocalBackend)
    assert type(get_file_backend('x')) is LocalBackend  # mmengine's default


def test_runner_checkpoint_save_is_temp_then_rename(tmp_path, replaces):
    """Bug: SegGANRunner (or mmengine) streaming into ``iter_4.pth``."""
    runner = toy_runner(str(tmp_path))
    runner.save_checkpoint(str(tmp_path), 'iter_4.pth', by_epoch=False)
    runner.release_work_dir()
    assert len(replaces) == 1 and replaces[0][1] == 'iter_4.pth'
    assert TEMP.match(replaces[0][0]), replaces
    assert temp_target(replaces[0][0]) == 'iter_4.pth'
    ckpt = load_checkpoint_file(str(tmp_path / 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 1
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def test_plain_runner_writes_as_before(tmp_path, replaces):
    """Only the runner a config names writes atomically: mmengine's own
    Runner in the same process streams into the name."""
    runner = toy_runner(str(tmp_path), runner_type=None)
    runner.save_checkpoint(str(tmp_path), 'iter_4.pth', by_epoch=False)
    assert replaces == []


def test_backend_args_of_the_config_win(tmp_path, replaces):
    runner = toy_runner(str(tmp_path))
    runner.save_checkpoint(
        str(tmp_path), 'iter_4.pth', by_epoch=False,
        backend_args=dict(backend='local'))
    runner.release_work_dir()
    assert replaces == []


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = str(tmp_path / 'iter_2.pth')
    atomic_write(path, b'old complete checkpoint')

    def killed(*args):
        raise KeyboardInterrupt  # e.g. Ctrl-C between write and rename

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, b'new')
    monkeypatch.undo()
    assert open(path, 'rb').read() == b'old complete checkpoint'
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_temp_names_are_unique_and_never_shared(tmp_path, monkeypatch):
    """Bug (issue 20): two runs saving ``iter_1.pth`` in one folder wrote
    into one fixed ``.iter_1.pth.tmp``. Each write has its own name, and
    an existing name is never opened (O_EXCL)."""
    path = str(tmp_path / 'iter_1.pth')
    import secrets
    monkeypatch.setattr(secrets, 'token_hex', lambda n: 'abcd1234')
    taken = tmp_path / f'.iter_1.pth.{os.getpid()}-abcd1234.tmp'
    taken.write_bytes(b'another writer')
    with pytest.raises(CheckpointWriteError, match='Could not write'):
        atomic_write(path, b'mine')
    assert taken.read_bytes() == b'another writer'
    assert not osp.exists(path)


def test_data_and_rename_are_fsynced(tmp_path, monkeypatch):
    """The temp file is fsynced before the rename and the folder after it
    (else a power cut can lose the rename or leave the new name pointing at
    unwritten blocks)."""
    synced = []
    real = os.fsync

    def fsync(fd):
        st = os.fstat(fd)
        synced.append((stat.S_ISDIR(st.st_mode), st.st_ino))
        real(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    path = str(tmp_path / 'iter_2.pth')
    _save(path)
    # The rename keeps the inode: the file synced is the final file.
    assert synced == [(False, os.stat(path).st_ino),
                      (True, os.stat(tmp_path).st_ino)]


def _disk_full(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize('where', ['write', 'fsync'])
def test_disk_full_names_the_file_and_says_nothing_was_lost(
        tmp_path, monkeypatch, where):
    """Bug: a full disk gave a bare ``OSError: [Errno 28] No space left on
    device``, naming neither the file nor what to do."""
    work = tmp_path / 'work_dir'
    path = str(work / 'iter_4.pth')
    _save(path)
    before = open(path, 'rb').read()
    if where == 'fsync':
        monkeypatch.setattr(os, 'fsync', _disk_full)
    else:
        real_fdopen = os.fdopen

        def fdopen(fd, *args, **kwargs):
            f = real_fdopen(fd, *args, **kwargs)
            f.write = _disk_full
            return f

        monkeypatch.setattr(os, 'fdopen', fdopen)
    with pytest.raises(OSError) as e:
        _save(path, 0.0)
    monkeypatch.undo()
    msg = str(e.value)
    assert e.value.errno == errno.ENOSPC  # still an OSError 28 for callers
    assert path in msg and 'No space left on device' in msg
    assert 'Nothing was lost' in msg and '--resume' in msg
    assert 'max_keep_ckpts' in msg
    assert open(path, 'rb').read() == before  # the old file, untouched
    assert os.listdir(work) == ['iter_4.pth']  # no partial temp file


def test_disk_full_through_the_runner(tmp_path, monkeypatch):
    runner = toy_runner(str(tmp_path))
    monkeypatch.setattr(os, 'fsync', _disk_full)
    with pytest.raises(OSError, match='Nothing was lost') as e:
        runner.save_checkpoint(str(tmp_path), 'iter_4.pth', by_epoch=False)
    monkeypatch.undo()
    runner.release_work_dir()
    assert str(tmp_path / 'iter_4.pth') in str(e.value)
    assert not [n for n in os.listdir(tmp_path) if 'iter_4' in n]
