"""``--resume`` with a checkpoint of another kind of run says so.

A SegGAN config resumed in a plain DeepLabV3 work dir (e.g. the baseline's,
reused by mistake) must not fail with mmengine's ``AssertionError:
Mismatched `state_dict`...``: the error names the checkpoint and says how to
start SegGAN from those weights instead.
"""
import os.path as osp

import pytest
from seggan_testing import TINY_DEEPLAB, TINY_SEGGAN, load_tiny_cfg

from mmseg_seggan.utils.launch import build_runner


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
