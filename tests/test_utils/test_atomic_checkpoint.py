"""Checkpoint writes are atomic: a final name never holds a partial file."""
import os
import os.path as osp

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
