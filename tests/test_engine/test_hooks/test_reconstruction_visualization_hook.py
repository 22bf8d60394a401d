import os.path as osp
import subprocess
import sys
from unittest.mock import Mock

import mmcv
import mmseg_seggan  # noqa: F401
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmengine.runner import BaseLoop
from mmengine.structures import PixelData
from mmengine.visualization import BaseVisBackend
from mmseg.registry import HOOKS, VISBACKENDS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from mmseg_seggan.visualization import (NUM_TILES, colorize_mask,
                                        contact_sheet, reconstruction_panel)
from seggan_testing import (make_toy_scenes, save_toy_checkpoint,
                            tiny_seggan)

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
PALETTE = [[10, 20, 30], [200, 0, 0], [0, 200, 0], [0, 0, 200]]
H, W = 24, 40


@VISBACKENDS.register_module(force=True)
class _RecordingVisBackend(BaseVisBackend):
    """Stands for any vis backend (TensorBoard, W&B): records add_image."""
    images = []

    def _init_env(self):
        pass

    @property
    def experiment(self):
        return self

    def add_image(self, name, image, step=0, **kwargs):
        _RecordingVisBackend.images.append((name, image.copy(), step))


def make_batch(n=2, with_gt=True):
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(
            torch.from_numpy(rng.integers(0, 255, (3, H, W), dtype=np.uint8)))
        sample = SegDataSample()
        if with_gt:
            gt = np.zeros((H, W), np.uint8)
            gt[H // 2:] = 1 + i
            gt[0, 0] = 255
            sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt)[None])
        sample.set_metainfo(
            dict(
                img_path=f'/data/img_{i}.png',
                img_shape=(H, W),
                ori_shape=(H, W)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture
def visualizer(tmp_path, request):
    init_default_scope('mmseg')
    vis = SegLocalVisualizer.get_instance(
        f'recon_vis_{request.node.name}',
        vis_backends=[
            dict(type='LocalVisBackend'),
            dict(type='_RecordingVisBackend')
        ],
        save_dir=str(tmp_path))
    vis.dataset_meta = dict(classes=('a', 'b', 'c', 'd'), palette=PALETTE)
    _RecordingVisBackend.images.clear()
    return vis


def run_hook(hook, model, batch, batch_idx=0, mode='val'):
    # A runner during training: the step is the training loop's iteration.
    runner = Mock(model=model, _train_loop=Mock(spec=BaseLoop, iter=7))
    outputs = batch['data_samples']
    if mode == 'val':
        hook.after_val_iter(runner, batch_idx, batch, outputs)
    else:
        hook.after_test_iter(runner, batch_idx, batch, outputs)


def vis_files(tmp_path):
    return sorted(p for p in tmp_path.rglob('*.png'))


def test_draws_six_tiles_to_every_backend(tmp_path, visualizer):
    hook = HOOKS.build(
        dict(
            type='SegGANReconstructionVisHook',
            draw=True,
            interval=1,
            titles=False))
    model = tiny_seggan()
    run_hook(hook, model, make_batch(2))
    files = vis_files(tmp_path)
    assert [f.name
            for f in files] == ['val_img_0.png_7.png', 'val_img_1.png_7.png']
    img = mmcv.imread(str(files[0]), channel_order='rgb')
    assert img.shape == (H, NUM_TILES * W, 3)
    recorded = _RecordingVisBackend.images
    assert [(n, s) for n, _, s in recorded] == [('val_img_0.png', 7),
                                                ('val_img_1.png', 7)]
    assert np.array_equal(recorded[0][1], img)
    # The GT tile is coloured with the palette (pixel (0, 0) is ignored).
    gt_tile = img[:, W:2 * W]
    assert (gt_tile[H - 1, W - 1] == PALETTE[1]).all()
    assert (gt_tile[H // 2 - 1, W - 1] == PALETTE[0]).all()
    assert (gt_tile[0, 0] == 0).all()
    # Titles darken the top-left of each tile.
    titled = HOOKS.build(
        dict(type='SegGANReconstructionVisHook', draw=True, interval=1))
    run_hook(titled, model, make_batch(2))
    assert not np.array_equal(recorded[2][1], recorded[0][1])
    assert np.array_equal(recorded[2][1][-2:], recorded[0][1][-2:])


def test_test_mode_and_interval(tmp_path, visualizer):
    hook = HOOKS.build(
        dict(type='SegGANReconstructionVisHook', draw=True, interval=2))
    model = tiny_seggan()
    run_hook(hook, model, make_batch(1), batch_idx=0, mode='test')
    assert vis_files(tmp_path) == []  # (0 + 1) % 2 != 0
    run_hook(hook, model, make_batch(1), batch_idx=1, mode='test')
    assert [f.name for f in vis_files(tmp_path)] == ['test_img_0.png_7.png']


def test_nothing_drawn_when_disabled(tmp_path, visualizer):
    hook = HOOKS.build(dict(type='SegGANReconstructionVisHook', draw=False))
    model = Mock(wraps=tiny_seggan())
    run_hook(hook, model, make_batch(1))
    run_hook(hook, model, make_batch(1), mode='test')
    assert vis_files(tmp_path) == []
    assert _RecordingVisBackend.images == []
    model.inference.assert_not_called()


def test_without_gt_tiles_are_gray(tmp_path, visualizer):
    hook = HOOKS.build(
        dict(
            type='SegGANReconstructionVisHook',
            draw=True,
            interval=1,
            titles=False))
    run_hook(hook, tiny_seggan(), make_batch(1, with_gt=False))
    _, img, _ = _RecordingVisBackend.images[0]
    assert img.shape == (H, NUM_TILES * W, 3)
    assert (img[:, W:2 * W] == 96).all() and (img[:, 3 * W:4 * W] == 96).all()


def test_plain_segmentor_falls_back_to_mmseg_drawing(tmp_path, visualizer):
    img_path = str(tmp_path / 'img.png')
    mmcv.imwrite(np.zeros((H, W, 3), np.uint8), img_path)
    batch = make_batch(1)
    sample = batch['data_samples'][0]
    sample.set_metainfo(dict(img_path=img_path))
    sample.pred_sem_seg = PixelData(data=torch.zeros(1, H, W).long())
    hook = HOOKS.build(
        dict(type='SegGANReconstructionVisHook', draw=True, interval=1))
    runner = Mock(model=nn.Conv2d(1, 1, 1), iter=0)
    with pytest.warns(UserWarning, match='GT \\| prediction only'):
        hook.after_val_iter(runner, 0, batch, [sample])
    _, img, _ = _RecordingVisBackend.images[0]
    assert img.shape == (H, 2 * W, 3)  # mmseg's GT | prediction


def test_bad_interval_and_missing_palette(tmp_path, visualizer):
    with pytest.raises(ValueError, match='interval must be >= 1'):
        HOOKS.build(dict(type='SegGANReconstructionVisHook', interval=0))
    visualizer.dataset_meta = dict(classes=('a', 'b'), palette=PALETTE[:2])
    hook = HOOKS.build(
        dict(type='SegGANReconstructionVisHook', draw=True, interval=1))
    with pytest.raises(ValueError, match='one colour per class \\(4\\)'):
        run_hook(hook, tiny_seggan(), make_batch(1))


def test_panel_and_contact_sheet_helpers():
    mask = np.array([[0, 1], [255, 3]])
    colored = colorize_mask(mask, PALETTE)
    assert (colored[0, 1] == PALETTE[1]).all()
    assert (colored[1, 0] == 0).all()  # ignored -> black
    img = np.zeros((2, 2, 3), np.uint8)
    panel = reconstruction_panel(
        img,
        mask,
        img,
        np.ones((2, 2)),
        PALETTE,
        gt=mask,
        fake_gt=img,
        titles=False)
    assert panel.shape == (2, 12, 3)
    assert (panel[:, -2:] == panel[0, -1]).all()  # uniform error tile
    with pytest.raises(ValueError, match='all tiles must match'):
        reconstruction_panel(img, mask[:1], img, np.ones((2, 2)), PALETTE)
    sheet = contact_sheet([panel, panel[:, :6]], ['first', 'second'])
    assert sheet.shape == (2 * (20 + 2), 12, 3)
    small = contact_sheet([np.zeros((10, 400, 3), np.uint8)], ['x'],
                          max_width=200)
    assert small.shape == (15, 200, 3)


def test_tools_test_show_dir_on_toy_scenes(tmp_path):
    """tools/test.py --show-dir on the embedded default draws the panels."""
    data_root = make_toy_scenes(
        str(tmp_path / 'toy'), num_train=0, num_val=2, size=(48, 64), seed=1)
    config = osp.join(ROOT, 'configs', 'seggan_toy.py')
    ckpt = save_toy_checkpoint(config, str(tmp_path / 'seggan.pth'))
    show_dir = tmp_path / 'show'
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), config, ckpt, '--show-dir',
        str(show_dir), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'default_hooks.visualization.interval=1'
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted((show_dir / 'vis_data' / 'vis_image').glob('*.png'))
    assert [f.name for f in files
            ] == ['test_val_0000.png_0.png', 'test_val_0001.png_0.png']
    for f in files:
        assert mmcv.imread(str(f)).shape == (48, NUM_TILES * 64, 3)
