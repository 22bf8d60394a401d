"""Deliberate annotation errors, to test whether an audit finds them.

Three kinds an annotator makes, each changing a noticeable share of the
labelled pixels (an error of a few pixels is not what an audit is for):

* ``shift``: the whole mask misaligned by 8-15 % of the image size;
* ``wrong_class``: one large region given another class;
* ``holes``: blobs inside a region labelled as the image's dominant
  other class (an object annotated with holes).

All functions take and return (H, W) integer label maps and never touch
ignored pixels' label value in place (they return a copy).
"""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

CORRUPTION_KINDS = ('shift', 'wrong_class', 'holes')


def _classes_by_area(mask: np.ndarray, num_classes: int,
                     ignore_index: int) -> np.ndarray:
    """(class, area) rows of the labelled classes, largest first."""
    valid = mask[(mask != ignore_index) & (mask < num_classes)]
    area = np.bincount(
        valid.reshape(-1).astype(np.int64),
        minlength=num_classes)[:num_classes]
    cls = np.nonzero(area)[0]
    order = np.argsort(-area[cls], kind='stable')
    return np.stack([cls[order], area[cls][order]], axis=1)


def shift_mask(mask: np.ndarray,
               rng: np.random.Generator,
               min_frac: float = 0.08,
               max_frac: float = 0.15) -> np.ndarray:
    """Translate the mask; the uncovered border repeats the edge labels.

    Args:
        mask: (H, W) labels.
        rng: Random generator.
        min_frac, max_frac: Range of the shift, as a share of the image's
            height (vertical) and width (horizontal).

    Returns:
        np.ndarray: The shifted mask (same dtype).
    """
    h, w = mask.shape
    dy = rng.uniform(min_frac, max_frac) * h * rng.choice([-1, 1])
    dx = rng.uniform(min_frac, max_frac) * w * rng.choice([-1, 1])
    mat = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        mask,
        mat, (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_REPLICATE)


def _pick_region(mask: np.ndarray, rng: np.random.Generator, num_classes: int,
                 ignore_index: int, min_share: float) -> Optional[np.ndarray]:
    """A random connected region covering at least ``min_share`` of the
    labelled pixels, or the largest region if none is that large."""
    labelled = int(((mask != ignore_index) & (mask < num_classes)).sum())
    if labelled == 0:
        return None
    regions = []
    for cls, _ in _classes_by_area(mask, num_classes, ignore_index):
        n, comp = cv2.connectedComponents((mask == cls).astype(np.uint8))
        for j in range(1, n):
            region = comp == j
            regions.append((int(region.sum()), region))
    big = [r for a, r in regions if a >= min_share * labelled]
    if big:
        return big[rng.integers(len(big))]
    return max(regions, key=lambda ar: ar[0])[1]


def wrong_class_mask(mask: np.ndarray,
                     rng: np.random.Generator,
                     num_classes: int,
                     ignore_index: int = 255,
                     min_share: float = 0.05) -> np.ndarray:
    """Give one large connected region a different (random) class.

    Args:
        mask: (H, W) labels.
        rng: Random generator.
        num_classes: C; the new class is drawn from the other C - 1.
        ignore_index: Label of ignored pixels (never picked).
        min_share: Smallest region, as a share of the labelled pixels.

    Returns:
        np.ndarray: The corrupted copy.
    """
    out = mask.copy()
    region = _pick_region(mask, rng, num_classes, ignore_index, min_share)
    if region is None:
        return out
    old = int(mask[region][0])
    new = int(rng.choice([c for c in range(num_classes) if c != old]))
    out[region] = new
    return out


def punch_holes(mask: np.ndarray,
                rng: np.random.Generator,
                num_classes: int,
                ignore_index: int = 255,
                hole_share: float = 0.5,
                min_share: float = 0.05,
                max_holes: int = 4) -> np.ndarray:
    """Fill blobs inside one region with the image's dominant other class.

    Args:
        mask: (H, W) labels.
        rng: Random generator.
        num_classes: C.
        ignore_index: Label of ignored pixels.
        hole_share: Rough share of the region the holes cover.
        min_share: Smallest region, as a share of the labelled pixels.
        max_holes: At most this many elliptic holes.

    Returns:
        np.ndarray: The corrupted copy.
    """
    out = mask.copy()
    region = _pick_region(mask, rng, num_classes, ignore_index, min_share)
    if region is None:
        return out
    old = int(mask[region][0])
    others = [
        int(c) for c, _ in _classes_by_area(mask, num_classes, ignore_index)
        if c != old
    ]
    fill = others[0] if others else (old + 1) % num_classes
    ys, xs = np.nonzero(region)
    n_holes = int(rng.integers(1, max_holes + 1))
    # Ellipses sized so that together they cover about hole_share.
    radius = np.sqrt(hole_share * len(ys) / (np.pi * n_holes))
    holes = np.zeros(mask.shape, np.uint8)
    for _ in range(n_holes):
        j = rng.integers(len(ys))
        axes = (max(1, int(radius * rng.uniform(0.7, 1.4))),
                max(1, int(radius * rng.uniform(0.7, 1.4))))
        cv2.ellipse(holes, (int(xs[j]), int(ys[j])), axes,
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
    out[(holes > 0) & region] = fill
    return out


def corrupt_mask(mask: np.ndarray,
                 kind: str,
                 rng: np.random.Generator,
                 num_classes: int,
                 ignore_index: int = 255) -> np.ndarray:
    """Apply one corruption of :data:`CORRUPTION_KINDS` by name."""
    if kind == 'shift':
        return shift_mask(mask, rng)
    if kind == 'wrong_class':
        return wrong_class_mask(mask, rng, num_classes, ignore_index)
    if kind == 'holes':
        return punch_holes(mask, rng, num_classes, ignore_index)
    raise ValueError(f'Unknown corruption {kind!r}; choose from '
                     f'{CORRUPTION_KINDS}.')


def changed_share(clean: np.ndarray,
                  corrupted: np.ndarray,
                  ignore_index: int = 255) -> float:
    """Share of the clean mask's labelled pixels whose label changed."""
    valid = clean != ignore_index
    if not valid.any():
        return 0.0
    return float((clean[valid] != corrupted[valid]).mean())


def choose_corruptions(
        num_items: int,
        num_corrupt: int,
        rng: np.random.Generator,
        kinds: Sequence[str] = CORRUPTION_KINDS) -> Dict[int, str]:
    """Which items to corrupt and how: kinds cycle so all are represented.

    Returns:
        dict: item index -> corruption kind.
    """
    if not 0 <= num_corrupt <= num_items:
        raise ValueError(f'Cannot corrupt {num_corrupt} of {num_items} '
                         'masks: choose 0 <= --corrupt <= dataset size.')
    unknown = set(kinds) - set(CORRUPTION_KINDS)
    if unknown:
        raise ValueError(f'Unknown corruption kinds {sorted(unknown)}; '
                         f'choose from {CORRUPTION_KINDS}.')
    idx: List[int] = sorted(
        rng.choice(num_items, size=num_corrupt, replace=False).tolist())
    order = rng.permutation(num_corrupt)
    return {i: kinds[o % len(kinds)] for i, o in zip(idx, order)}
