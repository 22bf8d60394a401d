"""Semi-supervised SegGAN end to end with the real tools/train.py: the
unlabeled masks are never read (they do not exist), every batch mixes the
sources 2 + 2, and a run resumed mid-phase draws exactly the batches (the
same labeled and unlabeled images) of an uninterrupted one."""
import json
import os
import os.path as osp
import shutil

import pytest
from seggan_testing import CONFIGS, REPO, run_tool

SEMI = osp.join(CONFIGS, 'tiny_seggan_semi.py')
PLUGINS = osp.join(REPO, 'tests', 'data', 'plugins')


@pytest.fixture(scope='module')
def semi_root(toy_root, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('semi') / 'toy')
    shutil.copytree(toy_root, root)
    names = sorted(f[:-4]
                   for f in os.listdir(osp.join(root, 'img_dir', 'train')))
    with open(osp.join(root, 'labeled.txt'), 'w') as f:
        f.write(''.join(n + '\n' for n in names[:6]))
    with open(osp.join(root, 'unlabeled.txt'), 'w') as f:
        f.write(''.join(n + '\n' for n in names[6:]))
    for n in names[6:]:  # no mask to read: a read would fail the run
        os.remove(osp.join(root, 'ann_dir', 'train', n + '.png'))
    return root


def _read(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def _train(root, work, *options, resume=False):
    config = osp.join(osp.dirname(work), 'semi.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{SEMI!r}]\n'
                "custom_imports = dict(imports=['mmseg_seggan', "
                "'batch_record_hook'])\n"
                "custom_hooks = [dict(type='SegGANPhaseHook', gan_iters=0, "
                "allow_untrained_gan=True), "
                "dict(type='BatchRecordHook')]\n")
    args = [
        'tools/train.py', config, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.datasets.0.data_root={root}',
        f'train_dataloader.dataset.datasets.1.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', 'randomness.seed=0',
        *options
    ]
    if resume:
        args.insert(4, '--resume')
    proc = run_tool(
        args,
        timeout=600,
        env=dict(PYTHONPATH=PLUGINS + ':' + os.environ.get('PYTHONPATH', '')))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_semi_training_mixes_sources_and_resumes_exactly(semi_root, tmp_path):
    full = str(tmp_path / 'full')
    log = _train(semi_root, full)
    lines = [line for line in log.splitlines() if 'Iter(train)' in line]
    assert len(lines) == 4
    for line in lines:  # every batch: CE on labeled, GAN terms on both
        for key in ('decode.loss_ce', 'recon_mse_labeled',
                    'recon_mse_unlabeled', 'adv_unlabeled'):
            assert key in line, line

    part = str(tmp_path / 'part')
    _train(semi_root, part, 'train_cfg.max_iters=2')
    log = _train(semi_root, part, resume=True)
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log

    def batches(work):
        with open(osp.join(work, 'batches.jsonl')) as f:
            return {r['iter']: r for r in map(json.loads, f)}

    full_batches, part_batches = batches(full), batches(part)
    assert sorted(full_batches) == sorted(part_batches) == [1, 2, 3, 4]
    labeled = {f'{n}.png' for n in _read(osp.join(semi_root, 'labeled.txt'))}
    for it, rec in full_batches.items():
        assert rec['labeled'] == [True, True, False, False]
        assert [img in labeled for img in rec['images']] == rec['labeled']
        assert part_batches[it]['images'] == rec['images'], it


def test_overlapping_splits_are_refused_before_the_first_iteration(
        semi_root, tmp_path):
    # Bug: an image in both lists trained twice, once with its mask, and
    # the run reported semi-supervised results without a word.
    root = str(tmp_path / 'toy')
    shutil.copytree(semi_root, root)
    names = _read(osp.join(root, 'labeled.txt'))
    with open(osp.join(root, 'unlabeled.txt'), 'a') as f:
        f.write(names[0] + '\n')
    config = str(tmp_path / 'semi.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{SEMI!r}]\n')
    proc = run_tool([
        'tools/train.py', config, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *[
            f'{k}={root}'
            for k in ('train_dataloader.dataset.datasets.0.data_root',
                      'train_dataloader.dataset.datasets.1.data_root',
                      'val_dataloader.dataset.data_root',
                      'test_dataloader.dataset.data_root')
        ]
    ])
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert '1 image(s) are in both the labeled source' in out
    assert f'img_dir/train/{names[0]}.png' in out
    assert 'Iter(train)' not in out
