"""--resume loads what ``last_checkpoint`` names, past an unusable pointer.

A torn checkpoint cannot happen (atomic writes: see
``test_reliability/test_kill_resume.py``, a kill half-way through a save
resumes from the previous checkpoint); what is left is the pointer, which
mmengine writes with a plain ``open``.
"""
import os.path as osp

import pytest
import torch
from seggan_testing import toy_runner

from mmseg_seggan.utils import (CorruptCheckpointError,
                                find_resumable_checkpoint)
from mmseg_seggan.utils import resume as resume_module


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(resume_module, 'print_log',
                        lambda msg, *a, **k: messages.append(msg))
    return messages


def _ckpt(work, it, last=True):
    path = osp.join(work, f'iter_{it}.pth')
    torch.save(dict(meta=dict(iter=it), state_dict={'w': torch.ones(2)}), path)
    if last:
        with open(osp.join(work, 'last_checkpoint'), 'w') as f:
            f.write(path)
    return path


def test_named_checkpoint_is_used_quietly(tmp_path, logs):
    work = str(tmp_path)
    _ckpt(work, 9, last=False)  # newer, but not the one named
    named = _ckpt(work, 2)
    assert find_resumable_checkpoint(work) == named
    assert logs == []


@pytest.mark.parametrize('pointer,why', [
    (b'', 'is empty'),
    (b'\xff\xfe/w\x00rk/iter_2.pth', 'cannot be read (UnicodeDecodeError'),
    (b'/gone/iter_8.pth', 'names /gone/iter_8.pth, which does not exist'),
])
def test_unusable_pointer_falls_back_to_the_newest(tmp_path, logs, pointer,
                                                   why):
    """Bug (issue 33): a non-UTF-8 ``last_checkpoint`` stopped ``--resume``
    with a bare ``UnicodeDecodeError``."""
    work = str(tmp_path)
    _ckpt(work, 2, last=False)
    newest = _ckpt(work, 10, last=False)  # by number, not by name
    (tmp_path / 'last_checkpoint').write_bytes(pointer)
    assert find_resumable_checkpoint(work) == newest
    assert len(logs) == 1 and why in logs[0]
    assert str(tmp_path / 'last_checkpoint') in logs[0] and newest in logs[0]


def test_missing_pointer_uses_the_newest_or_nothing(tmp_path, logs):
    work = str(tmp_path)
    assert find_resumable_checkpoint(work) is None and logs == []
    newest = _ckpt(work, 4, last=False)
    assert find_resumable_checkpoint(work) == newest


def test_unusable_pointer_and_nothing_to_resume_says_what_to_do(tmp_path):
    (tmp_path / 'last_checkpoint').write_bytes(b'\xff')
    with pytest.raises(CorruptCheckpointError) as e:
        find_resumable_checkpoint(str(tmp_path))
    msg = str(e.value)
    assert str(tmp_path / 'last_checkpoint') in msg
    assert 'Delete that file' in msg and 'load_from' in msg


def test_unfinished_writes_are_removed(tmp_path, logs):
    work = str(tmp_path)
    latest = _ckpt(work, 2)
    temp = tmp_path / '.iter_4.pth.123-0a1b2c3d.tmp'
    temp.write_bytes(b'half')
    assert find_resumable_checkpoint(work) == latest
    assert not temp.exists() and 'unfinished checkpoint write' in logs[0]


def test_seggan_runner_resumes_past_a_non_utf8_pointer(tmp_path):
    work = str(tmp_path)
    runner = toy_runner(work)
    runner.save_checkpoint(work, 'iter_1.pth', by_epoch=False)
    runner.release_work_dir()
    (tmp_path / 'last_checkpoint').write_bytes(b'\x80\x81')
    resumed = toy_runner(work, resume=True)
    resumed.load_or_resume()
    resumed.release_work_dir()
    assert resumed.iter == 1


def test_weights_only_file_is_not_resumed_from(tmp_path):
    # An exported (weights-only) file as the latest checkpoint: mmengine's
    # resume raised a bare KeyError: 'meta'.
    from mmseg_seggan.utils import CheckpointError
    work = str(tmp_path)
    runner = toy_runner(work)
    path = osp.join(work, 'iter_3.pth')
    torch.save(dict(state_dict=runner.model.state_dict()), path)
    runner.release_work_dir()
    resumed = toy_runner(work, resume=True)
    try:
        with pytest.raises(CheckpointError, match='weights only.*load_from='):
            resumed.load_or_resume()
    finally:
        resumed.release_work_dir()
