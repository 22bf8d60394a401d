"""--resume picks the newest loadable checkpoint, and says so."""
import os
import os.path as osp

import pytest
import torch
from mmengine.runner import runner as runner_module
from seggan_testing import Payload, toy_runner

from mmseg_seggan.utils import (CorruptCheckpointError, UnsafeCheckpointError,
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


def _truncate(path):
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 3)


def test_seggan_runner_resumes_through_it(tmp_path):
    """Bug: ``--resume`` with a truncated latest checkpoint failed instead of
    falling back. SegGANRunner.load_or_resume looks up the file with
    find_resumable_checkpoint; mmengine's own name is left as it is."""
    work = str(tmp_path)
    runner = toy_runner(work)
    runner.save_checkpoint(work, 'iter_1.pth', by_epoch=False)
    runner.train_loop._iter = 1
    runner.save_checkpoint(work, 'iter_2.pth', by_epoch=False)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_2.pth'))
    _truncate(osp.join(work, 'iter_2.pth'))
    runner.release_work_dir()  # what the end of train() does
    resumed = toy_runner(work, resume=True)
    resumed.load_or_resume()
    assert resumed.iter == 1
    assert runner_module.find_latest_checkpoint is not \
        find_resumable_checkpoint


def test_good_latest_is_used_quietly(tmp_path, logs):
    work = str(tmp_path)
    _ckpt(work, 2)
    latest = _ckpt(work, 4)
    assert find_resumable_checkpoint(work) == latest
    assert logs == []


def test_corrupt_latest_falls_back_and_names_both(tmp_path, logs):
    work = str(tmp_path)
    good = _ckpt(work, 2)
    _ckpt(work, 4)
    bad = _ckpt(work, 6)
    _truncate(bad)
    _truncate(osp.join(work, 'iter_4.pth'))
    assert find_resumable_checkpoint(work) == good
    assert len(logs) == 1
    assert bad in logs[0] and good in logs[0]
    assert 'truncated or corrupt' in logs[0] and 'Falling back' in logs[0]


def test_missing_latest_falls_back(tmp_path, logs):
    work = str(tmp_path)
    good = _ckpt(work, 2)
    gone = _ckpt(work, 4)
    os.remove(gone)
    assert find_resumable_checkpoint(work) == good
    assert gone in logs[0] and 'not found' in logs[0]


def test_weights_only_file_is_not_resumed_from(tmp_path, logs):
    work = str(tmp_path)
    good = _ckpt(work, 2)
    latest = _ckpt(work, 4)
    torch.save(dict(state_dict={}), latest)  # e.g. an exported model
    assert find_resumable_checkpoint(work) == good
    assert 'no `meta`' in logs[0]


@pytest.mark.parametrize('content', [None, ''])
def test_no_or_empty_last_checkpoint_uses_newest(tmp_path, logs, content):
    work = str(tmp_path)
    _ckpt(work, 2, last=False)
    newest = _ckpt(work, 10, last=False)
    if content is not None:
        open(osp.join(work, 'last_checkpoint'), 'w').write(content)
    assert find_resumable_checkpoint(work) == newest
    assert 'missing or empty' in logs[0]


def test_half_written_last_checkpoint_uses_newest(tmp_path, logs):
    """mmengine's CheckpointHook rewrites ``last_checkpoint`` in place; a
    kill in the middle leaves part of a path: the newest complete
    checkpoint is resumed from."""
    work = str(tmp_path)
    _ckpt(work, 2, last=False)
    newest = _ckpt(work, 4)
    open(osp.join(work, 'last_checkpoint'), 'w').write(newest[:-6])
    assert find_resumable_checkpoint(work) == newest
    assert 'Falling back' in logs[0]


def test_nothing_to_resume_is_none(tmp_path, logs):
    assert find_resumable_checkpoint(str(tmp_path)) is None


def test_all_corrupt_is_an_error_listing_them(tmp_path, logs):
    work = str(tmp_path)
    a = _ckpt(work, 2)
    b = _ckpt(work, 4)
    _truncate(a)
    _truncate(b)
    with pytest.raises(
            CorruptCheckpointError, match='no loadable checkpoint') as e:
        find_resumable_checkpoint(work)
    assert a in str(e.value) and b in str(e.value)


@pytest.mark.parametrize('where', ['latest', 'fallback'])
def test_payload_is_refused_never_skipped(tmp_path, logs, where):
    work = str(tmp_path)
    sentinel = str(tmp_path / 'PWNED')
    older = _ckpt(work, 2)
    latest = _ckpt(work, 4)
    evil = latest if where == 'latest' else older
    if where == 'fallback':
        _truncate(latest)
    torch.save(dict(meta=Payload(sentinel), state_dict={}), evil)
    with pytest.raises(
            UnsafeCheckpointError, match='is not a plain checkpoint'):
        find_resumable_checkpoint(work)
    assert not osp.exists(sentinel)


def test_unfinished_writes_are_removed(tmp_path, logs):
    work = str(tmp_path)
    latest = _ckpt(work, 2)
    for name in ('.iter_4.pth.tmp', '.last_checkpoint.tmp',
                 '.iter_6.pth.1234-89abcdef.tmp'):
        open(osp.join(work, name), 'wb').write(b'half')
    open(osp.join(work, '.mine.tmp'), 'w').write('not ours')
    assert find_resumable_checkpoint(work) == latest
    assert sorted(
        os.listdir(work)) == ['.mine.tmp', 'iter_2.pth', 'last_checkpoint']
    assert len(logs) == 3 and 'unfinished checkpoint write' in logs[0]


def test_temp_files_of_another_run_are_never_touched(tmp_path, logs):
    """Bug: a work dir copied from another run names that run's checkpoint
    in ``last_checkpoint``; ``--resume`` deleted the ``.tmp`` files in *that*
    folder, i.e. the half-written checkpoint of a run still saving there."""
    other, mine = str(tmp_path / 'other_run'), str(tmp_path / 'copy')
    os.makedirs(other)
    os.makedirs(mine)
    latest = _ckpt(other, 2)  # other/last_checkpoint names other/iter_2.pth
    with open(osp.join(mine, 'last_checkpoint'), 'w') as f:
        f.write(latest)  # what copying the work dir gives
    theirs = [
        osp.join(other, name)
        for name in ('.iter_4.pth.tmp', '.last_checkpoint.tmp')
    ]
    for path in theirs + [osp.join(mine, '.iter_4.pth.tmp')]:
        with open(path, 'wb') as f:
            f.write(b'being written')
    assert find_resumable_checkpoint(mine) == latest
    assert all(osp.exists(p) for p in theirs)
    assert os.listdir(mine) == ['last_checkpoint']  # ours: removed
    assert len(logs) == 1 and mine in logs[0]
