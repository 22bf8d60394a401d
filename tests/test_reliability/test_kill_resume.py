"""kill -9 a real two-phase training run at chosen moments, then --resume.

One work dir, one run of ``tools/train.py`` (tiny SegGAN, 8 iterations:
4 of GAN pre-training, 4 of fine-tuning, a checkpoint every 2), killed with
SIGKILL five times and resumed each time with the same command plus
``--resume``:

1. mid-iteration 3 (phase 1: D updated, G not yet)      -> resumes at 2
2. half-way through writing ``iter_4.pth``               -> resumes at 2
3. at the phase switch (iteration 5 about to run)        -> resumes at 4
4. ``iter_6.pth`` complete, ``last_checkpoint`` not yet  -> resumes at 4
5. a random moment of the resumed run (held at iteration -> at most one
   8 if it gets there, so the kill always lands)           interval lost
6. run to the end.

After every kill ``last_checkpoint`` names a loadable checkpoint and every
``iter_*.pth`` in the work dir loads; after every resume the log shows the
checkpoint it loaded and the phase it continues in; at the end the final
checkpoint has the step counts of an uninterrupted run (iteration 8, Adam
steps G=D=4 and segmentor=4, scheduler at step 8, final learning rate).
"""
import os
import os.path as osp
import random
import re
import signal
import subprocess
import sys
import time

import pytest
from seggan_testing import REPO, data_root_cli

from mmseg_seggan.utils import load_checkpoint_file

CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'reliability_seggan.py')
LAUNCHER = osp.join(REPO, 'tests', 'test_reliability', 'killpoint_train.py')
MAX_ITERS, GAN_ITERS, INTERVAL = 8, 4, 2


class Run:
    """One ``tools/train.py`` process whose output goes to a log file."""

    def __init__(self, tmp, name, work_dir, root, resume, killpoint=None):
        self.log = osp.join(tmp, f'{name}.log')
        self.marker = osp.join(tmp, f'{name}.marker')
        env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
        env.pop('SEGGAN_KILLPOINT', None)
        if killpoint:
            env.update(
                SEGGAN_KILLPOINT=killpoint,
                SEGGAN_KILLPOINT_MARKER=self.marker)
        args = [sys.executable, LAUNCHER, CONFIG, '--work-dir', work_dir]
        args += ['--resume'] if resume else []
        args += ['--cfg-options'] + data_root_cli(root)
        with open(self.log, 'w') as log:
            self.proc = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        with open(self.log) as f:
            return f.read()

    def _fail(self, why):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        pytest.fail(f'{why}\n--- log tail ---\n{self.text()[-3000:]}')

    def wait_for(self, predicate, what, timeout=120):
        deadline = time.time() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                self._fail(f'process exited ({self.proc.returncode}) '
                           f'before {what}')
            if time.time() > deadline:
                self._fail(f'timed out waiting for {what}')
            time.sleep(0.05)

    def kill_at_marker(self) -> str:
        self.wait_for(lambda: osp.exists(self.marker), 'the kill point')
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL
        with open(self.marker) as f:
            return f.read()

    def kill(self) -> bool:
        """SIGKILL now; False if the run had already ended."""
        if self.proc.poll() is not None:
            return False
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return self.proc.returncode == -signal.SIGKILL

    def finish(self, timeout=300) -> None:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._fail('run did not finish')
        if rc != 0:
            self._fail(f'run failed with exit code {rc}')

    def resumed_iter(self) -> int:
        text = self.text()
        m = re.search(r'Auto resumed from the latest checkpoint (\S+)\.\n',
                      text)
        assert m, 'the resumed run did not say what it loaded'
        it = int(re.search(r'resumed epoch: \d+, iter: (\d+)', text)[1])
        assert m[1].endswith(f'iter_{it}.pth'), (m[1], it)
        return it

    def iterations_logged(self):
        return [
            int(i)
            for i in re.findall(r'Iter\(train\) \[\s*(\d+)/', self.text())
        ]


def checkpoint_iter(path: str) -> int:
    return load_checkpoint_file(path)['meta']['iter']


def assert_work_dir_consistent(work_dir: str) -> int:
    """last_checkpoint names a loadable file; no .pth is half written.

    Returns:
        int: The iteration ``last_checkpoint`` points to (0: none yet).
    """
    for name in os.listdir(work_dir):
        if re.fullmatch(r'iter_\d+\.pth', name):
            path = osp.join(work_dir, name)
            assert checkpoint_iter(path) == int(name[5:-4]), name
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(last):
        return 0
    with open(last) as f:
        named = f.read()
    if not named:  # mmengine writes the pointer with a plain open; a kill
        # there empties it, and --resume takes the newest checkpoint (C4)
        return max(int(n[5:-4]) for n in os.listdir(work_dir)
                   if re.fullmatch(r'iter_\d+\.pth', n))
    assert named.strip() == named, repr(named)
    return checkpoint_iter(named)


def _temp_files(work):
    """What the unfinished saves in ``work`` were for."""
    from mmseg_seggan.utils.atomic_checkpoint import temp_target
    return sorted(filter(None, map(temp_target, os.listdir(work))))


def test_kill_and_resume_two_phase_run(toy_root, tmp_path):
    tmp = str(tmp_path)
    work = osp.join(tmp, 'work')

    # 1. Fresh run, killed between D's and G's update in iteration 3.
    run = Run(tmp, 'r1', work, toy_root, resume=False, killpoint='mid_iter:3')
    assert run.kill_at_marker() == 'mid_iter:3'
    assert assert_work_dir_consistent(work) == 2

    # 2. Resume from iter_2; killed half-way through writing iter_4.pth.
    run = Run(
        tmp, 'r2', work, toy_root, resume=True, killpoint='save:iter_4.pth')
    assert run.kill_at_marker().startswith('save:iter_4.pth')
    assert run.resumed_iter() == 2
    assert 'SegGAN phase 1 (gan_pretrain) from iteration 3' in run.text()
    assert _temp_files(work) == ['iter_4.pth']
    assert not osp.exists(osp.join(work, 'iter_4.pth'))
    assert assert_work_dir_consistent(work) == 2

    # 3. Resume from iter_2 again (the half-written save never became a
    #    checkpoint); killed right at the switch to phase 2.
    run = Run(tmp, 'r3', work, toy_root, resume=True, killpoint='phase_switch')
    assert run.kill_at_marker() == 'phase_switch at iteration 5'
    assert run.resumed_iter() == 2
    assert 'unfinished checkpoint write' in run.text()
    assert _temp_files(work) == []
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 5' in run.text()
    assert assert_work_dir_consistent(work) == 4

    # 4. Resume from iter_4 straight into phase 2; killed after iter_6.pth
    #    is complete but before last_checkpoint names it.
    run = Run(
        tmp,
        'r4',
        work,
        toy_root,
        resume=True,
        killpoint='last_checkpoint:iter_6.pth')
    assert run.kill_at_marker() == 'last_checkpoint:iter_6.pth'
    assert run.resumed_iter() == 4
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 5' in run.text()
    assert 'SegGAN phase 1' not in run.text()
    assert checkpoint_iter(osp.join(work, 'iter_6.pth')) == 6
    assert assert_work_dir_consistent(work) == 4

    # 5. Resume; killed at a random moment once training is under way. A
    #    fast machine could finish the run before the kill: a pause in the
    #    last iteration (after its update, before its log line and
    #    checkpoint) keeps the process there, so the kill always lands.
    run = Run(
        tmp,
        'r5',
        work,
        toy_root,
        resume=True,
        killpoint=f'mid_iter:{MAX_ITERS}')
    run.wait_for(lambda: 'Iter(train)' in run.text(), 'the first iteration')
    time.sleep(random.uniform(0, 1.5))
    assert run.kill(), 'the run ended before the kill'
    start = run.resumed_iter()
    assert start == 4
    reached = max(run.iterations_logged(), default=start)
    assert start < reached < MAX_ITERS, reached
    resumable = assert_work_dir_consistent(work)
    # at most one checkpoint interval of work lost
    assert resumable >= reached - INTERVAL, (resumable, reached)

    # 6. The same command with --resume runs to the end.
    run = Run(tmp, 'r6', work, toy_root, resume=True)
    run.finish()
    start = run.resumed_iter()
    assert start == resumable and GAN_ITERS <= start < MAX_ITERS
    assert run.iterations_logged()[0] == start + 1
    assert f'SegGAN phase 2 (seggan_finetune) from iteration {start + 1}' \
        in run.text()
    assert assert_work_dir_consistent(work) == MAX_ITERS

    # The final state has an uninterrupted run's step counts.
    final = load_checkpoint_file(osp.join(work, f'iter_{MAX_ITERS}.pth'))
    steps = {
        name: {int(s['step'])
               for s in opt['state'].values()}
        for name, opt in final['optimizer'].items()
    }
    assert steps == dict(
        generator={GAN_ITERS},
        discriminator={GAN_ITERS},
        segmentor={MAX_ITERS - GAN_ITERS})
    for name, scheds in final['param_schedulers'].items():
        lrs = [g['lr'] for g in final['optimizer'][name]['param_groups']]
        for sched in scheds:  # the config's schedule is the segmentor's
            assert sched['_global_step'] == MAX_ITERS, name
            assert sched['_last_value'] == pytest.approx(lrs), name
    assert [final['optimizer'][n]['param_groups'][0]['lr']
            for n in ('generator', 'discriminator')] == [1e-3, 1e-3]
    assert final['message_hub']['runtime_info']['seggan_phase'] == 2
