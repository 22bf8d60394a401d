"""Checkpoint writes are atomic: a final name never holds a partial file.

``SegGANRunner.save_checkpoint`` writes through :func:`atomic_save`; the
export converter through :func:`atomic_write`. mmengine's own writers are
not changed (``test_import_changes_nothing.py``).
"""
import builtins
import errno
import os
import os.path as osp
import re
import stat

import pytest
import torch
from mmengine.runner.checkpoint import save_checkpoint
from seggan_testing import toy_runner

from mmseg_seggan.utils import (AtomicFile, atomic_save, atomic_write,
                                load_checkpoint_file)
from mmseg_seggan.utils.atomic_checkpoint import temp_path_for, temp_target

TEMP = re.compile(r'^\.iter_4\.pth\.\d+-[0-9a-f]{8}\.tmp$')


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
    """What SegGANRunner does: mmengine's writer into a temp, then commit."""
    atomic_save(
        path, lambda tmp: save_checkpoint(
            dict(state_dict={'w': torch.full((2, ), value)}), tmp))


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    atomic_write(path, b'old complete checkpoint')
    with pytest.raises(RuntimeError, match='disk died'):
        with AtomicFile(path, 'wb') as f:
            f.write(b'new, half')
            raise RuntimeError('disk died')
    with open(path, 'rb') as f:
        assert f.read() == b'old complete checkpoint'
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_runner_checkpoint_save_is_temp_then_rename(tmp_path, replaces):
    """Bug: SegGANRunner (or mmengine) streaming into ``iter_4.pth``."""
    runner = toy_runner(str(tmp_path))
    runner.save_checkpoint(str(tmp_path), 'iter_4.pth', by_epoch=False)
    assert len(replaces) == 1 and replaces[0][1] == 'iter_4.pth'
    assert TEMP.match(replaces[0][0]), replaces
    ckpt = load_checkpoint_file(str(tmp_path / 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 1
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def test_plain_runner_writes_as_before(tmp_path, replaces):
    """Only the runner a config names writes atomically: mmengine's own
    Runner in the same process streams into the name, as without the
    plugin."""
    runner = toy_runner(str(tmp_path), runner_type=None)
    runner.save_checkpoint(str(tmp_path), 'iter_4.pth', by_epoch=False)
    assert replaces == []


def test_temp_files_are_unique_per_writer(tmp_path):
    """Bug (issue 20): two runs saving ``iter_1.pth`` in one folder wrote
    into one fixed ``.iter_1.pth.tmp``; the file mixed both runs' bytes and
    one run failed. Each writer now has its own file (O_EXCL)."""
    path = str(tmp_path / 'iter_1.pth')
    first, second = AtomicFile(path), AtomicFile(path)
    assert first.tmp_path != second.tmp_path
    first.write(b'run 1')
    second.write(b'run 2 ' * 100)
    first.commit()
    assert open(path, 'rb').read() == b'run 1'
    second.commit()
    assert open(path, 'rb').read() == b'run 2 ' * 100
    assert os.listdir(tmp_path) == ['iter_1.pth']
    assert temp_target(osp.basename(temp_path_for(path))) == 'iter_1.pth'
    assert temp_target('.iter_1.pth.tmp') == 'iter_1.pth'  # older runs


def test_an_existing_temp_name_is_never_shared(tmp_path, monkeypatch):
    """O_EXCL: if the name exists (another writer's), the write fails
    instead of truncating that writer's file."""
    path = str(tmp_path / 'iter_1.pth')
    taken = str(tmp_path / '.iter_1.pth.taken.tmp')
    with open(taken, 'wb') as f:
        f.write(b'another writer')
    from mmseg_seggan.utils import atomic_checkpoint
    monkeypatch.setattr(atomic_checkpoint, 'temp_path_for', lambda p: taken)
    with pytest.raises(OSError, match='Could not write'):
        AtomicFile(path)
    assert open(taken, 'rb').read() == b'another writer'


def test_data_and_rename_are_fsynced(tmp_path, monkeypatch):
    """docs/reliability.md: the temp file is fsynced before the rename and
    the folder after it (else a power cut can lose the rename or leave the
    new name pointing at unwritten blocks)."""
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
        real_open = builtins.open

        class FullDisk:

            def __init__(self, f):
                self._f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self._f.close()

            def __getattr__(self, name):
                return getattr(self._f, name)

            def write(self, data):
                _disk_full()

        def open_on_full_disk(file, mode='r', *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            return FullDisk(f) if 'w' in mode else f

        monkeypatch.setattr(builtins, 'open', open_on_full_disk)
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
    assert str(tmp_path / 'iter_4.pth') in str(e.value)
    assert not [n for n in os.listdir(tmp_path) if 'iter_4' in n]
