"""An mmseg config with custom_imports=['mmseg_seggan'] runs with mmseg's
own tools/train.py (the one in the mmseg wheel), on mmcv-lite too."""
import os.path as osp

import mmseg
from seggan_testing import TINY_DEEPLAB, TINY_SEGGAN, data_root_cli, run_tool

MMSEG_TRAIN = osp.join(
    osp.dirname(mmseg.__file__), '.mim', 'tools', 'train.py')


def test_mmseg_own_train_tool_trains_seggan_via_custom_imports(
        tmp_path, toy_root):
    assert osp.isfile(MMSEG_TRAIN)
    from mmengine.config import Config
    assert Config.fromfile(TINY_SEGGAN).custom_imports.imports == [
        'mmseg_seggan'
    ]
    work = str(tmp_path / 'w')
    res = run_tool([
        MMSEG_TRAIN, TINY_SEGGAN, '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.val_interval=4'
    ],
                   timeout=300,
                   cwd=str(tmp_path))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'phase: 2 (seggan_finetune)' in out
    assert 'mIoU' in out
    assert osp.isfile(osp.join(work, 'iter_4.pth'))


def test_mmseg_own_train_tool_plain_deeplabv3(tmp_path, toy_root):
    work = str(tmp_path / 'w')
    res = run_tool([
        MMSEG_TRAIN, TINY_DEEPLAB, '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2'
    ],
                   timeout=300,
                   cwd=str(tmp_path))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
