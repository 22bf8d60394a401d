from collections import Counter

import mmseg_seggan  # noqa: F401
import numpy as np
import pytest

from seggan_testing import import_tool

corruption = import_tool('tools/analysis_tools/mask_corruption.py')
(CORRUPTION_KINDS, changed_share, choose_corruptions, corrupt_mask,
 punch_holes, shift_mask, wrong_class_mask) = (
     corruption.CORRUPTION_KINDS, corruption.changed_share,
     corruption.choose_corruptions, corruption.corrupt_mask,
     corruption.punch_holes, corruption.shift_mask,
     corruption.wrong_class_mask)


def scene(h=48, w=64):
    """Sky over road, a building and a car; a strip of ignored pixels."""
    mask = np.zeros((h, w), np.uint8)
    mask[h // 2:] = 2
    mask[8:h // 2, 40:56] = 4
    mask[30:40, 10:26] = 5
    mask[:, -2:] = 255
    return mask


def test_shift_moves_the_mask():
    mask = scene()
    out = shift_mask(mask, np.random.default_rng(0))
    assert out.shape == mask.shape and out.dtype == mask.dtype
    assert changed_share(mask, out) > 0.05
    # Labels are only moved, never invented.
    assert set(np.unique(out)) <= set(np.unique(mask))


def test_wrong_class_relabels_one_large_region():
    mask = scene()
    for seed in range(5):
        out = wrong_class_mask(
            mask, np.random.default_rng(seed), num_classes=6, min_share=0.05)
        changed = out != mask
        assert changed.any()
        # One region, one old class -> one new class.
        assert len(np.unique(mask[changed])) == 1
        assert len(np.unique(out[changed])) == 1
        assert np.unique(out[changed])[0] != np.unique(mask[changed])[0]
        assert (out[mask == 255] == 255).all()
        assert changed_share(mask, out) >= 0.05


def test_holes_take_the_dominant_other_class():
    mask = scene()
    out = punch_holes(mask, np.random.default_rng(1), num_classes=6)
    changed = out != mask
    assert changed.any()
    old = np.unique(mask[changed])
    assert len(old) == 1
    new = np.unique(out[changed])
    areas = Counter(mask[(mask != 255) & (mask != old[0])].tolist())
    assert new.tolist() == [areas.most_common(1)[0][0]]


def test_corrupt_mask_dispatch_and_errors():
    mask = scene()
    for kind in CORRUPTION_KINDS:
        out = corrupt_mask(mask, kind, np.random.default_rng(0), 6)
        assert changed_share(mask, out) > 0.02, kind
    with pytest.raises(ValueError, match='Unknown corruption'):
        corrupt_mask(mask, 'blur', np.random.default_rng(0), 6)
    empty = np.full((8, 8), 255, np.uint8)
    assert (wrong_class_mask(empty, np.random.default_rng(0),
                             6) == empty).all()


def test_choose_corruptions():
    chosen = choose_corruptions(20, 9, np.random.default_rng(3))
    assert len(chosen) == 9 and all(0 <= i < 20 for i in chosen)
    assert Counter(chosen.values()) == {k: 3 for k in CORRUPTION_KINDS}
    # Seeded: the same seed picks the same masks.
    assert chosen == choose_corruptions(20, 9, np.random.default_rng(3))
    with pytest.raises(ValueError, match='--corrupt'):
        choose_corruptions(5, 6, np.random.default_rng(0))
    with pytest.raises(ValueError, match='Unknown corruption kinds'):
        choose_corruptions(5, 2, np.random.default_rng(0), kinds=('x', ))
