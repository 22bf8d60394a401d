"""``--resume`` with a checkpoint of another kind of run says so.

A SegGAN config resumed in a plain DeepLabV3 work dir (e.g. the baseline's,
reused by mistake) must not fail with mmengine's ``AssertionError:
Mismatched `state_dict`...``: the error names the checkpoint and says how to
start SegGAN from those weights instead.
"""
import os.path as osp

import pytest
from seggan_testing import TINY_DEEPLAB, TINY_SEGGAN, load_tiny_cfg

from seggan_launch import build_runner


def _runner(config, root, work, name, resume=False, **options):
    cfg = load_tiny_cfg(config, root, work, **options)
    cfg.experiment_name = name  # one log file per runner in this process
    cfg.resume = resume  # what tools/train.py --resume sets
    return build_runner(cfg)


def test_seggan_resume_in_a_deeplabv3_work_dir(tmp_path, toy_root):
    work = str(tmp_path / 'baseline')
    _runner(TINY_DEEPLAB, toy_root, work, 'deeplab', **{
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 100
    }).train()
    runner = _runner(
        TINY_SEGGAN,
        toy_root,
        work,
        'seggan',
        resume=True,
        **{'train_cfg.val_interval': 100})
    with pytest.raises(ValueError, match='cannot resume SegGAN') as e:
        runner.train()
    msg = str(e.value)
    assert osp.join(work, 'iter_2.pth') in msg
    assert 'load_from' in msg and 'without --resume' in msg


def test_deeplabv3_resume_in_a_seggan_work_dir(tmp_path, toy_root):
    """Bug (issue 33): a phase-1 SegGAN checkpoint ``--resume``d with a plain
    DeepLabV3 config failed with ``KeyError: 'param_groups'``."""
    work = str(tmp_path / 'seggan')
    _runner(TINY_SEGGAN, toy_root, work, 'seggan2', **{
        'train_cfg.val_interval': 100,
        'default_hooks.checkpoint.interval': 2
    }).train()
    phase1 = osp.join(work, 'iter_2.pth')
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(phase1)
    runner = _runner(TINY_DEEPLAB, toy_root, work, 'deeplab2', resume=True,
                     **{'train_cfg.val_interval': 100})
    with pytest.raises(RuntimeError, match='--resume cannot continue') as e:
        runner.train()
    msg = str(e.value)
    assert phase1 in msg and TINY_DEEPLAB in msg
    assert f'load_from={phase1}' in msg and 'without --resume' in msg
