"""Two training runs in one ``--work-dir``: the second is refused (issue 20).

Seen before: ``tools/train.py tests/data/configs/tiny_seggan.py --work-dir
W`` started twice at once (seeds 1 and 2) overwrote each other's
``iter_*.pth``, wrote one log folder and ``last_checkpoint`` named the
wrong run's file; one run then failed on the shared temporary file.
``SegGANRunner`` takes ``W/.seggan_run.lock`` (a kernel-held ``flock``)
before it writes anything.
"""
import errno
import importlib.util
import json
import os
import os.path as osp
import signal
import socket
import sys

import pytest
from seggan_testing import REPO, data_root_cli, run_tool, toy_runner

from mmseg_seggan.engine.runner.seggan_runner import WORK_DIR_LOCK
from mmseg_seggan.utils import DirLockError

TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seggan.py')


def _kill_resume_module():
    path = osp.join(REPO, 'tests', 'test_reliability', 'test_kill_resume.py')
    spec = importlib.util.spec_from_file_location('_kill_resume', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(work):
    with open(osp.join(work, WORK_DIR_LOCK)) as f:
        return f.read()


def _log_folders(work):
    return [d for d in os.listdir(work) if d[:8].isdigit()]


def test_second_run_is_refused_naming_the_first_then_takes_a_stale_lock(
        toy_root, tmp_path):
    work = str(tmp_path / 'W')
    Run = _kill_resume_module().Run
    # run 1 holds the work dir, paused at its phase switch (mid-training)
    first = Run(
        str(tmp_path),
        'first',
        work,
        toy_root,
        resume=False,
        killpoint='phase_switch')
    first.wait_for(lambda: osp.exists(first.marker), 'run 1 mid-training')
    holder = json.load(open(osp.join(work, WORK_DIR_LOCK)))
    assert holder['pid'] == first.proc.pid
    files_before = sorted(os.listdir(work))

    second = run_tool(
        ['tools/train.py', TINY, '--work-dir', work, '--cfg-options'] +
        data_root_cli(toy_root) + ['randomness.seed=2'],
        timeout=300)
    assert second.returncode != 0
    assert 'DirLockError' in second.stderr
    assert f'is in use by process {first.proc.pid}' in second.stderr
    assert 'reliability_seggan.py' in second.stderr  # the holder's command
    assert 'another --work-dir' in second.stderr
    # run 2 wrote nothing: no log folder, no config, no checkpoint
    assert sorted(os.listdir(work)) == files_before
    assert len(_log_folders(work)) == 1

    # run 1 dies: its lock is stale; the next run takes it over
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=30)
    assert osp.exists(osp.join(work, WORK_DIR_LOCK))
    third = Run(str(tmp_path), 'third', work, toy_root, resume=True)
    third.finish()
    assert (f'Took over the work dir lock of process {first.proc.pid}'
            in third.text())
    assert _record(work) == ''  # released: no record of a live run stays


def test_a_training_runner_holds_the_lock_until_train_ends(tmp_path):
    work = str(tmp_path)
    runner = toy_runner(work)
    holder = json.load(open(osp.join(work, WORK_DIR_LOCK)))
    assert holder['pid'] == os.getpid() and holder['cmd']
    try:
        toy_runner(work)
    except DirLockError as e:
        assert f'is in use by process {os.getpid()} ' in str(e)
    else:
        raise AssertionError('a second runner got the same work dir')
    runner.train()
    assert _record(work) == ''
    toy_runner(work).release_work_dir()  # free again


def test_a_run_restarted_in_a_new_container_takes_its_old_lock(tmp_path):
    """Bug (issue 31, defect 3): killed and restarted in a new PID namespace
    (PID 1 again, same host name, same volume), a run found its own pid in
    the lock it had left and refused forever: "already held by this
    process", with no word on removing the lock."""
    work = str(tmp_path)
    with open(osp.join(work, WORK_DIR_LOCK), 'w') as f:
        json.dump(
            dict(pid=os.getpid(), host=socket.gethostname(), cmd='train'), f)
    runner = toy_runner(work)
    assert json.loads(_record(work))['cmd'] != 'train'  # now ours
    runner.release_work_dir()


def test_a_read_only_work_dir_is_named(tmp_path, monkeypatch):
    """Bug (issue 31, defect 4): a read-only work dir gave a bare OSError."""
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(WORK_DIR_LOCK):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', read_only)
    with pytest.raises(DirLockError) as err:
        toy_runner(str(tmp_path))
    assert osp.join(str(tmp_path), WORK_DIR_LOCK) in str(err.value)
    assert 'Read-only file system' in str(err.value)


def test_testing_takes_no_lock(tmp_path):
    """A test run beside a training run in its work dir is not refused."""
    work = str(tmp_path)
    runner = toy_runner(work)  # a training run holds the dir
    tester = toy_runner(
        work,
        train_dataloader=None,
        train_cfg=None,
        optim_wrapper=None,
        default_hooks=None)
    assert tester._work_dir_lock is None
    runner.release_work_dir()


def test_mmengine_runner_takes_no_lock(tmp_path):
    """Only the runner a config names locks: mmengine's Runner, as ever."""
    toy_runner(str(tmp_path), runner_type=None)
    assert WORK_DIR_LOCK not in os.listdir(tmp_path)
    assert sys.modules['mmengine.runner'].Runner.__init__.__module__ == \
        'mmengine.runner.runner'
