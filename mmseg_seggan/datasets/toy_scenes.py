"""ToyScenes: seeded procedural outdoor scenes, to run the whole pipeline
without downloading anything. Each class has its own colour and texture, so
a segmentor can learn it and a generator can paint it."""
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin

TOY_CLASSES = ('sky', 'tree', 'road', 'grass', 'building', 'car')
TOY_PALETTE = [[70, 130, 180], [107, 142, 35], [128, 64, 128], [152, 251, 152],
               [70, 70, 70], [0, 0, 142]]
# Mean BGR colour of each class in the rendered image (not the palette).
_CLASS_BGR = dict(
    enumerate([(215, 170, 120), (40, 110, 40), (95, 95, 100), (70, 170, 90),
               (130, 140, 165), (40, 40, 190)]))


@DATASETS.register_module()
class ToyScenesDataset(CheckedDatasetMixin, BaseSegDataset):
    """The generated ToyScenes dataset (6 classes, PNG masks, 255 = ignore),
    as ``tools/misc/make_toy_scenes.py`` writes it."""
    METAINFO = dict(classes=TOY_CLASSES, palette=TOY_PALETTE)
    LAYOUT = """\
    <data_root>/                 e.g. data/toy_scenes (tools/misc/
    |-- img_dir/train/*.png        make_toy_scenes.py writes it)
    |-- ann_dir/train/*.png      masks, same names: 0..5 classes
    `-- img_dir/val/, ann_dir/val/"""

    def __init__(self,
                 img_suffix='.png',
                 seg_map_suffix='.png',
                 reduce_zero_label=False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)


def render_scene(rng: np.random.Generator,
                 size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """One scene of ``size`` (height, width), drawn with ``rng`` alone.

    Returns:
        tuple: BGR uint8 image (H, W, 3) and uint8 mask (H, W).
    """
    h, w = size
    mask = np.zeros((h, w), np.uint8)
    horizon = int(h * rng.uniform(0.3, 0.55))
    mask[horizon:] = 3 if rng.random() < 0.5 else 2
    # Road as a trapezoid towards the viewer on grass scenes.
    if mask[-1, 0] == 3 and rng.random() < 0.7:
        cx = rng.uniform(0.3, 0.7) * w
        top, bottom = rng.uniform(0.02, 0.08) * w, rng.uniform(0.3, 0.6) * w
        pts = np.array([[cx - top, horizon], [cx + top, horizon],
                        [cx + bottom, h], [cx - bottom, h]], np.int32)
        cv2.fillPoly(mask, [pts], 2)
    # Buildings standing on the horizon.
    for _ in range(rng.integers(0, 4)):
        bw, bh = rng.uniform(0.08, 0.25) * w, rng.uniform(0.1, 0.35) * h
        x0 = rng.uniform(0, w - bw)
        cv2.rectangle(mask, (int(x0), int(horizon - bh)),
                      (int(x0 + bw), horizon + 1), 4, -1)
    # Trees: trunk plus crown.
    for _ in range(rng.integers(1, 5)):
        x = rng.uniform(0, w)
        r = rng.uniform(0.04, 0.1) * w
        base = horizon + rng.uniform(0, 0.15) * h
        cv2.rectangle(mask, (int(x - r * 0.15), int(base - 1.5 * r)),
                      (int(x + r * 0.15), int(base)), 1, -1)
        cv2.circle(mask, (int(x), int(base - 1.8 * r)), int(r), 1, -1)
    # Cars on road pixels.
    road_rows, road_cols = np.nonzero(mask == 2)
    for _ in range(rng.integers(0, 3) if road_rows.size else 0):
        i = rng.integers(road_rows.size)
        cw, ch = rng.uniform(0.08, 0.16) * w, rng.uniform(0.05, 0.09) * h
        y, x = road_rows[i], road_cols[i]
        cv2.rectangle(mask, (int(x - cw / 2), int(y - ch)),
                      (int(x + cw / 2), int(y)), 5, -1)
    # Render: per-class colour, texture and a vertical gradient for the sky.
    img = np.zeros((h, w, 3), np.float32)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    for cls, bgr in _CLASS_BGR.items():
        jitter = rng.normal(0, 12, 3)
        color = np.clip(np.array(bgr) + jitter, 0, 255).astype(np.float32)
        layer = np.broadcast_to(color, (h, w, 3)).copy()
        if cls == 0:
            layer = layer * (1.05 - 0.25 * yy)
        elif cls in (1, 3):
            layer += rng.normal(0, 18, (h, w, 1)).astype(np.float32)
        elif cls == 4:
            layer[::4] *= 0.8  # window rows
        img[mask == cls] = layer[mask == cls]
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def make_toy_scenes(out_dir: str,
                    num_train: int = 96,
                    num_val: int = 24,
                    size: Tuple[int, int] = (96, 128),
                    seed: int = 0) -> str:
    """Write the ToyScenes dataset to ``out_dir`` (deterministic per seed).

    Args:
        out_dir: Target folder, created if missing; files with the same
            names are replaced.
        num_train, num_val: Number of scenes in each split.
        size: (height, width) of every scene.
        seed: Seed of the random generator.

    Returns:
        str: ``out_dir``.
    """
    rng = np.random.default_rng(seed)
    for split, num in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(out_dir, 'img_dir', split)
        ann_dir = osp.join(out_dir, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(num):
            img, mask = render_scene(rng, size)
            name = f'{split}_{i:04d}.png'
            cv2.imwrite(osp.join(img_dir, name), img)
            cv2.imwrite(osp.join(ann_dir, name), mask)
    with open(osp.join(out_dir, 'README.txt'), 'w') as f:
        f.write(f'ToyScenes generated by mmseg_seggan (seed={seed}, '
                f'size={size[0]}x{size[1]}, train={num_train}, '
                f'val={num_val}). Classes: {", ".join(TOY_CLASSES)}.\n')
    return out_dir
