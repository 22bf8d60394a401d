"""Faults during a real training run: NaN/Inf losses, a damaged checkpoint.

* A loss term turns NaN (phase 1) or Inf (phase 2): the run stops with
  ``NonFiniteLossError`` naming the term, the iteration and the phase, and
  ``last_checkpoint`` still names the last good, finite checkpoint; with
  ``model.nonfinite='skip'`` the run goes on, the step is skipped (no
  optimizer step) and counted in ``skipped_steps``; the skipped step also
  leaves the BatchNorm running statistics of the networks that ran as they
  were, so no NaN survives into later iterations or phase 2.
* ``--resume`` with a truncated latest checkpoint falls back to the previous
  good one and says so in the log, naming both files.
"""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from seggan_testing import REPO, data_root_options

from mmseg_seggan.models.segmentors.seggan import NonFiniteLossError
from mmseg_seggan.utils import (CorruptCheckpointError, load_checkpoint_file,
                                restore_message_hub)
from seggan_launch import build_runner

CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'reliability_seggan.py')


@HOOKS.register_module(force=True)
class PoisonGeneratorHook(Hook):
    """Make G's output non-finite during the given (1-based) iterations.

    Weights stay untouched: only that iteration's losses become NaN/Inf,
    as with an overflow in the forward pass.
    """
    priority = 'LOW'

    def __init__(self, iters, value='nan'):
        self.iters = set(iters)
        self.value = float(value)
        self._handle = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if runner.iter + 1 in self.iters:
            value = self.value
            self._handle = model.generator.register_forward_hook(
                lambda m, i, out: out * value)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


def _runner(root, work, name, **options):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(data_root_options(root))
    cfg.merge_from_dict(options)
    cfg.work_dir = work
    cfg.experiment_name = name  # one log file per runner in this process
    return build_runner(cfg)


def _log(runner):
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


def _finite(state_dict):
    return all(
        torch.isfinite(v).all() for v in state_dict.values()
        if v.is_floating_point())


@pytest.mark.parametrize('at_iter,value,phase,term', [
    (3, 'nan', 1, 'loss_d=nan'),
    (7, 'inf', 2, 'loss_content=inf'),
])
def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(
        at_iter, value, phase, term, toy_root, tmp_path):
    work = str(tmp_path / 'work')
    name = f'nan_{at_iter}'
    hooks = Config.fromfile(CONFIG).custom_hooks + [
        dict(type='PoisonGeneratorHook', iters=[at_iter], value=value)
    ]
    runner = _runner(toy_root, work, name, custom_hooks=hooks)
    with pytest.raises(NonFiniteLossError) as e:
        runner.train()
    msg = str(e.value)
    assert f'iteration {at_iter}, phase {phase}' in msg and term in msg
    assert 'the last saved checkpoint is intact' in msg
    # last_checkpoint names the newest good checkpoint: finite, loadable.
    with open(osp.join(work, 'last_checkpoint')) as f:
        last = f.read()
    good = at_iter - 1 - (at_iter - 1) % 2
    assert last == osp.join(work, f'iter_{good}.pth')
    ckpt = load_checkpoint_file(last)
    assert ckpt['meta']['iter'] == good and _finite(ckpt['state_dict'])
    assert not [n for n in os.listdir(work) if n.endswith('.tmp')]
    assert not glob.glob(osp.join(work, f'iter_{good + 2}.pth'))


def _skip_run(root, work, name, iters):
    hooks = Config.fromfile(CONFIG).custom_hooks + [
        dict(type='PoisonGeneratorHook', iters=iters)
    ]
    runner = _runner(
        root, work, name, custom_hooks=hooks, **{'model.nonfinite': 'skip'})
    runner.train()
    assert runner.iter == 8
    final = load_checkpoint_file(osp.join(work, 'iter_8.pth'))
    steps = {
        name: {int(s['step'])
               for s in opt['state'].values()}
        for name, opt in final['optimizer'].items()
    }
    skipped = restore_message_hub(
        final['message_hub'])['log_scalars']['train/skipped_steps']
    return runner, final, steps, skipped.current()


def test_nonfinite_steps_skipped_and_counted_when_configured(
        toy_root, tmp_path):
    work = str(tmp_path / 'work')
    runner, final, steps, skipped = _skip_run(toy_root, work, 'skip', [7])
    assert _finite(final['state_dict'])
    # iteration 7 (phase 2) did not step the segmentor's optimizer
    assert steps == dict(generator={4}, discriminator={4}, segmentor={3})
    assert skipped == 1
    assert 'skipped_steps: ' in _log(runner)


def test_skipped_phase1_step_leaves_the_model_finite(toy_root, tmp_path):
    work = str(tmp_path / 'work')
    _, final, steps, skipped = _skip_run(toy_root, work, 'skip1', [3])
    # iteration 3 updated neither D nor G (both counted)
    assert steps['generator'] == {3} and steps['discriminator'] == {3}
    assert skipped == 2
    assert _finite(final['state_dict'])


def test_resume_from_a_damaged_latest_checkpoint_says_what_to_do(
        toy_root, tmp_path):
    """A checkpoint damaged from outside (atomic writes cannot tear one) is
    named with the fix; after it, --resume continues from the previous."""
    work = str(tmp_path / 'work')
    _runner(toy_root, work, 'first', **{
        'train_cfg.max_iters': 4,
        'model.gan_iters': 2,
    }).train()
    latest = osp.join(work, 'iter_4.pth')
    with open(latest, 'r+b') as f:
        f.truncate(os.path.getsize(latest) // 2)
    options = {'train_cfg.max_iters': 6, 'model.gan_iters': 2}
    with pytest.raises(CorruptCheckpointError) as e:
        _runner(toy_root, work, 'refused', resume=True, **options).train()
    assert latest in str(e.value) and f'delete {latest}' in str(e.value)
    os.remove(latest)
    runner = _runner(toy_root, work, 'resumed', resume=True, **options)
    runner.train()
    log = _log(runner)
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 3' in log
    assert runner.iter == 6
    assert load_checkpoint_file(latest)['meta']['iter'] == 4  # rewritten
