"""End to end: convert a generated Stanford Background sample, train one
iteration with tools/train.py, evaluate with tools/test.py; and a config
whose num_classes disagrees with the dataset stops before the first
iteration."""
import glob
import os.path as osp

from datasets_testing import make_stanford_raw, snapshot
from seggan_testing import run_tool

CONFIG = 'configs/deeplabv3/deeplabv3_r18-d16_1xb4-2k_stanford-bg-176x240.py'


def _small(root):
    """Point every loader at ``root`` and shrink the CPU cost."""
    opts = [
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.pipeline.3.scale=(64,48)',
        'train_dataloader.dataset.pipeline.4.crop_size=(48,64)',
        'model.data_preprocessor.size=(48,64)', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1', 'default_hooks.logger.interval=1'
    ]
    for loader in ('train', 'val', 'test'):
        opts.append(f'{loader}_dataloader.dataset.data_root={root}')
    for loader in ('val', 'test'):
        opts += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
            f'{loader}_dataloader.dataset.pipeline.2.scale=(64,48)'
        ]
    return opts


def test_train_and_test_on_converted_stanford(tmp_path):
    raw, root = str(tmp_path / 'raw'), str(tmp_path / 'stanford_bg')
    make_stanford_raw(raw)
    conv = run_tool([
        'tools/dataset_converters/stanford_background.py', raw, root,
        '--num-train', '4'
    ])
    assert conv.returncode == 0, conv.stderr[-3000:]
    before = snapshot(root)
    work = str(tmp_path / 'work')
    train = run_tool(
        ['tools/train.py', CONFIG, '--work-dir', work, '--cfg-options'] +
        _small(root))
    assert train.returncode == 0, (train.stdout + train.stderr)[-3000:]
    ckpt = glob.glob(osp.join(work, 'iter_1.pth'))
    assert ckpt
    test = run_tool([
        'tools/test.py', CONFIG, ckpt[0], '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + _small(root))
    out = test.stdout + test.stderr
    assert test.returncode == 0, out[-3000:]
    assert 'mIoU' in out and 'foreground object' in out
    assert snapshot(root) == before  # training and testing only read


def test_num_classes_mismatch_stops_before_training(tmp_path):
    raw, root = str(tmp_path / 'raw'), str(tmp_path / 'stanford_bg')
    make_stanford_raw(raw)
    from datasets_testing import convert_stanford_background
    convert_stanford_background(raw, root, num_train=4)
    res = run_tool([
        'tools/train.py', CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options'
    ] + _small(root) + ['model.decode_head.num_classes=9'])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert 'NumClassesMismatchError' in out
    assert 'model.decode_head.num_classes=9' in out and 'has 8 classes' in out
    assert 'Iter(train)' not in out
