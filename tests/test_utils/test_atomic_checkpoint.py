"""Checkpoint writes are atomic: a final name never holds a partial file."""
import builtins
import errno
import os
import os.path as osp
import stat

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.hooks import checkpoint_hook
from mmengine.runner.checkpoint import save_checkpoint

from mmseg_seggan.utils import AtomicFile, atomic_write, load_checkpoint_file
from mmseg_seggan.utils.atomic_checkpoint import temp_path_for


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


def test_mmengine_checkpoint_save_is_temp_then_rename(tmp_path, replaces):
    path = str(tmp_path / 'sub' / 'iter_4.pth')
    save_checkpoint(
        dict(state_dict={'w': torch.ones(3)}, meta=dict(iter=4)), path)
    assert replaces == [('.iter_4.pth.tmp', 'iter_4.pth')]
    assert load_checkpoint_file(path)['meta']['iter'] == 4
    assert not osp.exists(temp_path_for(path))


def test_other_files_are_written_as_before(tmp_path, replaces):
    backend = get_file_backend(str(tmp_path))
    backend.put(b'{}', str(tmp_path / 'results.json'))
    assert replaces == []
    assert (tmp_path / 'results.json').read_bytes() == b'{}'


def test_last_checkpoint_is_written_atomically(tmp_path, replaces):
    # CheckpointHook writes last_checkpoint with the `open` of its module.
    path = str(tmp_path / 'last_checkpoint')
    with checkpoint_hook.open(path, 'w') as f:
        assert isinstance(f, AtomicFile)
        f.write(str(tmp_path / 'iter_6.pth'))
        assert not osp.exists(path)  # nothing visible before the commit
    assert replaces == [('.last_checkpoint.tmp', 'last_checkpoint')]
    assert open(path).read() == str(tmp_path / 'iter_6.pth')
    # Any other file that module opens is the builtin open.
    with checkpoint_hook.open(str(tmp_path / 'other.txt'), 'w') as f:
        assert not isinstance(f, AtomicFile)


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
    save_checkpoint(dict(state_dict={'w': torch.ones(2)}), path)
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
    save_checkpoint(dict(state_dict={'w': torch.ones(2)}), path)
    before = open(path, 'rb').read()
    if where == 'fsync':
        monkeypatch.setattr(os, 'fsync', _disk_full)
    else:
        real_open = builtins.open

        class FullDisk:

            def __init__(self, f):
                self._f = f

            def __getattr__(self, name):
                return getattr(self._f, name)

            def write(self, data):
                _disk_full()

        def open_on_full_disk(file, mode='r', *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            return FullDisk(f) if 'w' in mode else f

        monkeypatch.setattr(builtins, 'open', open_on_full_disk)
    with pytest.raises(OSError) as e:
        save_checkpoint(dict(state_dict={'w': torch.zeros(2)}), path)
    monkeypatch.undo()
    msg = str(e.value)
    assert e.value.errno == errno.ENOSPC  # still an OSError 28 for callers
    assert path in msg and 'No space left on device' in msg
    assert 'Nothing was lost' in msg and '--resume' in msg
    assert 'max_keep_ckpts' in msg
    assert open(path, 'rb').read() == before  # the old file, untouched
    assert os.listdir(work) == ['iter_4.pth']  # no partial temp file


def test_disk_full_while_writing_last_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / 'last_checkpoint')
    atomic_write(path, 'iter_2.pth')
    monkeypatch.setattr(os, 'fsync', _disk_full)
    with pytest.raises(OSError, match='Nothing was lost') as e:
        with checkpoint_hook.open(path, 'w') as f:
            f.write('iter_4.pth')
    monkeypatch.undo()
    assert path in str(e.value)
    assert open(path).read() == 'iter_2.pth'
    assert os.listdir(tmp_path) == ['last_checkpoint']
