"""tools/dataset_converters/make_semi_splits.py: seeded, nested, disjoint."""
import os.path as osp

import pytest
from seggan_testing import import_tool

tool = import_tool('tools/dataset_converters/make_semi_splits.py')


def _read(path):
    with open(path) as f:
        return [line.strip() for line in f if not line.startswith('#')]


def test_splits_are_seeded_nested_and_cover_the_training_set(tmp_path):
    split = tmp_path / 'train.txt'
    ids = [f'img{i:03d}' for i in range(40)]
    split.write_text('# seed=0\n' + ''.join(i + '\n' for i in ids))
    out = str(tmp_path / 'semi')
    tool.main([
        '--split',
        str(split), '--out-dir', out, '--fractions', '8', '4', '--seed', '3'
    ])
    l8, u8 = (
        _read(osp.join(out, f'{p}_1-8.txt')) for p in ('labeled', 'unlabeled'))
    l4, u4 = (
        _read(osp.join(out, f'{p}_1-4.txt')) for p in ('labeled', 'unlabeled'))
    assert (len(l8), len(l4)) == (5, 10)
    assert set(l8) <= set(l4)  # nested: 1/4 adds labels to 1/8
    for lab, unl in ((l8, u8), (l4, u4)):
        assert not set(lab) & set(unl)
        assert sorted(lab + unl) == ids
    with open(osp.join(out, 'labeled_1-8.txt')) as f:
        assert 'seed=3' in f.read()
    again = str(tmp_path / 'again')
    tool.main([
        '--split',
        str(split), '--out-dir', again, '--fractions', '8', '--seed', '3'
    ])
    assert _read(osp.join(again, 'labeled_1-8.txt')) == l8
    other = str(tmp_path / 'other')
    tool.main([
        '--split',
        str(split), '--out-dir', other, '--fractions', '8', '--seed', '4'
    ])
    assert _read(osp.join(other, 'labeled_1-8.txt')) != l8


def test_a_fraction_without_unlabeled_images_is_refused():
    with pytest.raises(ValueError, match='1/2 of 1 ids'):
        tool.make_splits(['a'], [2], 0)
