"""The phase hook: right phase every iteration, also after a resume."""
import glob
import os.path as osp
import re
from unittest.mock import MagicMock

import pytest
import torch
from seggan_testing import (TINY_SEGGAN, data_root_cli, load_tiny_cfg,
                            run_tool)

from mmseg_seggan.engine import SegGANPhaseHook
from mmseg_seggan.utils import load_checkpoint_file, restore_message_hub
from seggan_launch import build_runner


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
    runner = build_runner(cfg)
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
    runner = build_runner(cfg)
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
            restore_message_hub(ckpt2['message_hub'])['log_scalars']
            ['train/loss_d'].data[0]))
    runner.release_work_dir()  # it only looked: no run of its own
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
    gan = [
        k for k in ckpt2['state_dict']
        if k.startswith(('generator.', 'discriminator.'))
    ]
    assert any(k.startswith('discriminator.') for k in gan)
    for k in gan:  # G and D frozen at their phase-1 values, BN stats too
        assert torch.equal(ckpt2['state_dict'][k], final['state_dict'][k]), k
    assert not torch.equal(ckpt2['state_dict']['decode_head.conv_seg.weight'],
                           final['state_dict']['decode_head.conv_seg.weight'])
    logs = sorted(glob.glob(osp.join(work, '*', '*.log')))
    text = open(logs[-1]).read()
    assert f'Load checkpoint from {osp.join(work, "iter_2.pth")}' in text
    assert 'resumed epoch: 0, iter: 2' in text
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 3' in text
    assert 'phase: 2 (seggan_finetune)' in text and 'phase: 1' not in text
    assert re.findall(r'Iter\(train\) \[\s*(\d+)/', text) == ['3', '4']


def _resumed(hook, iteration, gan_iters=None, phase=None):
    """``hook`` after a mock runner resumed a checkpoint of ``iteration``
    saved with ``gan_iters`` (None: a checkpoint without the record) whose
    last iteration ran in ``phase``."""
    meta = dict(iter=iteration)
    if gan_iters is not None:
        meta['seggan'] = dict(gan_iters=gan_iters)
    hub = dict(runtime_info={'seggan_phase': phase} if phase else {})
    runner, _ = mock_runner(iteration, max_iters=20)
    runner.cfg = dict(custom_hooks=[dict(type='SegGANPhaseHook')])
    state_dict = dict.fromkeys(['generator.w', 'discriminator.w'])
    hook.after_load_checkpoint(
        runner, dict(meta=meta, message_hub=hub, state_dict=state_dict))
    return runner


@pytest.mark.parametrize(
    'saved_gan_iters,saved_phase,it,new_gan_iters,problem',
    [
        (4, 2, 6, 8, 'back into phase 1'),  # the audit's case
        (None, 2, 6, 8, 'back into phase 1'),  # checkpoint without record
        (8, 1, 6, 4, 'phase 1 already ran 6'),  # switch point in the past
        (None, 1, 6, 4, 'phase 1 already ran 6'),
        (4, 2, 6, 5, 'after the fact'),  # phase 2 stays, history would lie
        (4, 2, 6, 4, None),  # unchanged
        (8, 1, 6, 10, None),  # phase 1 not over yet: longer is fine
        (8, 1, 6, 6, None),  # ... or end it right now
        (None, 1, 6, 10, None),
        (None, None, 6, 3, None),  # no SegGAN record at all: nothing to say
    ])
def test_resume_refuses_a_changed_phase_history(saved_gan_iters, saved_phase,
                                                it, new_gan_iters, problem):
    """Bug: a run saved in phase 2, resumed with a larger gan_iters, went
    back to phase 1 and trained G and D again, silently."""
    hook = SegGANPhaseHook(gan_iters=new_gan_iters)
    runner = _resumed(hook, it, saved_gan_iters, saved_phase)
    if problem is None:
        hook.before_train(runner)
        return
    with pytest.raises(ValueError, match=problem) as e:
        hook.before_train(runner)
    msg = str(e.value)
    assert f'iteration {it}' in msg and f'gan_iters={new_gan_iters}' in msg
    if saved_gan_iters is not None:
        assert f'model.gan_iters={saved_gan_iters}' in msg


def test_load_from_is_not_a_resume():
    """The two-run variant loads a phase-1 checkpoint (gan_iters=300) into
    a fine-tuning run (gan_iters=0) with load_from: allowed."""
    hook = SegGANPhaseHook(gan_iters=0)
    runner = _resumed(hook, 300, gan_iters=300, phase=1)
    runner.iter = 0  # load_from: the run starts at 0
    hook.before_train(runner)


def test_phase1_as_long_as_the_run_is_refused_unless_said():
    """Bug (issue 32): gan_iters == max_iters trained phase 1 only, the
    segmentor never, exit 0 without a word."""
    runner, _ = mock_runner(0, max_iters=5)
    with pytest.raises(ValueError, match='equals train_cfg.max_iters=5') as e:
        SegGANPhaseHook(gan_iters=5).before_train(runner)
    assert 'gan_pretrain_only=True' in str(e.value)
    SegGANPhaseHook(gan_iters=5, gan_pretrain_only=True).before_train(runner)
    with pytest.raises(ValueError, match='trains phase 1 only'):
        SegGANPhaseHook(gan_iters=3,
                        gan_pretrain_only=True).before_train(runner)


def _gan_net(init_cfg=None):
    net = MagicMock()
    net.init_cfg = init_cfg
    return net


@pytest.mark.parametrize('source', [
    None, 'load_from_segmentor_only', 'load_from_phase1', 'pretrained',
    'pretrained_generator_only', 'allowed'
])
def test_phase2_from_an_untrained_gan_is_refused(source):
    """Bug (issue 32): model.gan_iters=0 with nothing that trains or loads
    G and D fine-tuned the segmentor against a random GAN, without a word."""
    runner, model = mock_runner(0)
    pretrained = dict(type='Pretrained', checkpoint='gan.pth')
    model.generator = _gan_net(pretrained if 'pretrained' in str(source)
                               else None)
    model.discriminator = _gan_net(pretrained if source == 'pretrained'
                                   else None)
    hook = SegGANPhaseHook(
        gan_iters=0, allow_untrained_gan=source == 'allowed')
    if source and source.startswith('load_from'):
        keys = ['backbone.w', 'decode_head.w']
        if source == 'load_from_phase1':
            keys += ['generator.w', 'module.discriminator.w']
        hook.after_load_checkpoint(
            runner, dict(meta=dict(iter=300), state_dict=dict.fromkeys(keys)))
    if source in ('load_from_phase1', 'pretrained', 'allowed'):
        hook.before_train(runner)
        return
    with pytest.raises(ValueError, match='random GAN') as e:
        hook.before_train(runner)
    assert 'load_from=' in str(e.value) and 'Pretrained' in str(e.value)


def test_train_tool_refuses_the_wrong_phase_before_any_step(
        tmp_path, toy_root):
    """The real tools/train.py: refused before iteration 1, fix named."""
    for options, problem in (
        (['model.gan_iters=4'], 'gan_pretrain_only=True'),
        (['model.gan_iters=0'], 'random GAN'),
    ):
        work = str(tmp_path / options[0])
        res = run_tool([
            'tools/train.py', TINY_SEGGAN, '--work-dir', work,
            '--cfg-options', *data_root_cli(toy_root), *options
        ])
        out = res.stdout + res.stderr
        assert res.returncode != 0 and problem in out, out[-3000:]
        assert 'Iter(train)' not in out


def test_a_forgotten_phase_hook_is_added(tmp_path, toy_root):
    """Bug (issue 32): without SegGANPhaseHook in custom_hooks every
    iteration was phase 1 (segmentor never trained), exit 0, no word."""
    work = str(tmp_path / 'w')
    res = run_tool([
        'tools/train.py', TINY_SEGGAN, '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'custom_hooks=[]',
        'train_cfg.val_interval=100'
    ])
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'custom_hooks has no SegGANPhaseHook: added one' in out
    assert re.findall(r'phase: (\d)', out) == ['1', '1', '2', '2']


def test_checkpoint_records_gan_iters_and_resume_checks_it(tmp_path, toy_root):
    """Real runs: the saved checkpoint carries gan_iters; resuming the
    phase-2 checkpoint with a larger gan_iters is refused."""
    work = str(tmp_path / 'work')
    _train(
        load_tiny_cfg(TINY_SEGGAN, toy_root, work,
                      **{'train_cfg.val_interval': 100}))
    ckpt = load_checkpoint_file(osp.join(work, 'iter_4.pth'))
    assert ckpt['meta']['seggan'] == dict(gan_iters=2)
    cfg = load_tiny_cfg(
        TINY_SEGGAN, toy_root, work, **{
            'train_cfg.val_interval': 100,
            'train_cfg.max_iters': 8,
            'model.gan_iters': 6
        })
    cfg.resume = True
    with pytest.raises(ValueError, match='back into phase 1') as e:
        _train(cfg)
    assert osp.join(work, 'iter_4.pth') in str(e.value)
    assert not osp.exists(osp.join(work, 'iter_6.pth'))


def test_the_hook_reads_model_gan_iters():
    """One key: configs set ``model.gan_iters``; the hook reads it, and a
    hook argument that says otherwise is refused, naming both."""
    runner, model = mock_runner(0)
    model = MagicMock(spec=['set_phase', 'train', 'gan_iters'])
    model.gan_iters = 3
    runner.model = model
    hook = SegGANPhaseHook()
    hook.before_train(runner)
    assert hook.gan_iters == 3 and hook.phase_at(2) == 1 and \
        hook.phase_at(3) == 2
    with pytest.raises(ValueError, match=r'gan_iters=5\) contradicts '
                       r'model.gan_iters=3'):
        SegGANPhaseHook(gan_iters=5).before_train(runner)
    runner.model = MagicMock(spec=['set_phase', 'train'])
    with pytest.raises(ValueError, match='set model.gan_iters'):
        SegGANPhaseHook().before_train(runner)
