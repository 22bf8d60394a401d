"""The phase hook: right phase every iteration, also after a resume."""
import glob
import os.path as osp
from unittest.mock import MagicMock

import pytest
import torch
from mmengine.runner import Runner
from seggan_testing import TINY_SEGGAN, load_tiny_cfg

from mmseg_seggan.engine import SegGANPhaseHook
from mmseg_seggan.utils import load_checkpoint_file


def mock_runner(iteration, max_iters=10):
    runner = MagicMock()
    runner.iter = iteration
    runner.max_iters = max_iters
    model = MagicMock(spec=['set_phase', 'train'])
    runner.model = model
    runner.message_hub.log_scalars = {
        'train/loss_d': 1,
        'train/generator.lr': 1,
        'train/time': 1
    }
    return runner, model


@pytest.mark.parametrize('iteration,phase', [(0, 1), (3, 1), (4, 2), (9, 2)])
def test_phase_from_iteration(iteration, phase):
    hook = SegGANPhaseHook(gan_iters=4)
    runner, model = mock_runner(iteration)
    hook.before_train_iter(runner, 0)
    model.set_phase.assert_called_once_with(phase)
    runner.message_hub.update_info.assert_called_with('seggan_phase', phase)


def test_switch_drops_phase1_scalars_keeps_lr_and_time():
    hook = SegGANPhaseHook(gan_iters=1)
    runner, _ = mock_runner(0)
    hook.before_train_iter(runner, 0)
    runner.iter = 1
    hook.before_train_iter(runner, 1)
    assert set(runner.message_hub.log_scalars) == {
        'train/generator.lr', 'train/time'
    }


def test_gan_iters_beyond_max_iters_is_rejected():
    runner, _ = mock_runner(0, max_iters=5)
    with pytest.raises(ValueError, match='exceeds train_cfg.max_iters=5'):
        SegGANPhaseHook(gan_iters=6).before_train(runner)


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_resume_exactly_at_phase_switch(tmp_path, toy_root):
    """Train 4 iters (2 GAN + 2 fine-tune), resume from iter 2 (= gan_iters).

    The resumed run must load safely (weights-only), restore iteration,
    optimizer states and message hub, and continue in phase 2 with G and D
    frozen at their phase-1 values.
    """
    work = str(tmp_path / 'work')
    _train(
        load_tiny_cfg(TINY_SEGGAN, toy_root, work,
                      **{'train_cfg.val_interval': 100}))
    ckpt2 = load_checkpoint_file(osp.join(work, 'iter_2.pth'))
    ckpt4 = load_checkpoint_file(osp.join(work, 'iter_4.pth'))
    # Phase 2 left G untouched, phase 1 left the segmentor untouched.
    for k, v in ckpt2['state_dict'].items():
        if k.startswith(('generator.', 'discriminator.')):
            assert torch.equal(v, ckpt4['state_dict'][k]), k

    cfg = load_tiny_cfg(TINY_SEGGAN, toy_root, work,
                        **{'train_cfg.val_interval': 100})
    cfg.resume = True
    cfg.load_from = osp.join(work, 'iter_2.pth')
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert runner.iter == 2
    saved = ckpt2['optimizer']
    state = runner.optim_wrapper.state_dict()
    for net in ('generator', 'discriminator'):
        a = saved[net]['state']
        b = state[net]['state']
        assert a.keys() == b.keys() and a
        for idx in a:
            assert torch.equal(a[idx]['exp_avg'], b[idx]['exp_avg'])
    assert saved['segmentor']['state'] == {} == state['segmentor']['state']
    hub = runner.message_hub
    assert 'train/loss_d' in hub.log_scalars
    torch.testing.assert_close(
        torch.tensor(hub.log_scalars['train/loss_d'].data[0]),
        torch.tensor(
            ckpt2['message_hub']['log_scalars']['train/loss_d'].data[0]))
    # A fresh runner does what `tools/train.py --resume` does.
    cfg = load_tiny_cfg(TINY_SEGGAN, toy_root, work,
                        **{'train_cfg.val_interval': 100})
    cfg.resume = True
    cfg.load_from = osp.join(work, 'iter_2.pth')
    runner = _train(cfg)
    hub = runner.message_hub
    assert runner.iter == 4
    assert hub.get_info('seggan_phase') == 2
    final = load_checkpoint_file(osp.join(work, 'iter_4.pth'))
    for k, v in ckpt2['state_dict'].items():
        if k.startswith('generator.'):
            assert torch.equal(v, final['state_dict'][k]), k
    logs = sorted(glob.glob(osp.join(work, '*', '*.log')))
    text = open(logs[-1]).read()
    assert 'Auto resumed' in text or 'resumed' in text
    assert 'phase: 2 (seggan_finetune)' in text
