"""Phase-1-only run, then a phase-2-only run that loads G/D from it, then
tools/test.py on the SegGAN checkpoint (only the segmentor runs)."""
import os.path as osp

import torch
from seggan_testing import TINY_SEGGAN, data_root_cli, run_tool

from mmseg_seggan.utils import load_checkpoint_file


def test_gan_pretrain_then_finetune_then_test(tmp_path, toy_root):
    common = ['--cfg-options', *data_root_cli(toy_root)]
    p1 = str(tmp_path / 'p1')
    res = run_tool([
        'tools/train.py', TINY_SEGGAN, '--work-dir', p1, *common,
        'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
        'model.gan_iters=2', 'custom_hooks.0.gan_pretrain_only=True'
    ])
    assert res.returncode == 0, res.stderr[-3000:]
    ck1 = load_checkpoint_file(osp.join(p1, 'iter_2.pth'))['state_dict']

    p2 = str(tmp_path / 'p2')
    res = run_tool([
        'tools/train.py', TINY_SEGGAN, '--work-dir', p2, *common,
        f'load_from={osp.join(p1, "iter_2.pth")}', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=100', 'model.gan_iters=0'
    ])
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'phase: 2 (seggan_finetune)' in out
    assert 'phase: 1' not in out
    ck2 = load_checkpoint_file(osp.join(p2, 'iter_2.pth'))['state_dict']
    gan = [k for k in ck1 if k.startswith(('generator.', 'discriminator.'))]
    assert gan
    for k in gan:  # loaded from phase 1 and frozen
        assert torch.equal(ck1[k], ck2[k]), k
    assert not torch.equal(ck1['decode_head.conv_seg.weight'],
                           ck2['decode_head.conv_seg.weight'])

    res = run_tool([
        'tools/test.py', TINY_SEGGAN,
        osp.join(p2, 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test'), *common
    ])
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    for metric in ('aAcc', 'mIoU', 'mAcc'):
        assert metric in out
    assert 'per class results' in out
