import os
import os.path as osp

import cv2
import numpy as np
import pytest
from datasets_testing import (STANFORD_SIZES, convert_stanford_background,
                              expected_mask, make_stanford_raw, snapshot,
                              write_regions)
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations
from seggan_testing import import_tool

from mmseg_seggan.datasets import (CheckSegSample,
                                   LoadStanfordBackgroundAnnotations,
                                   StanfordBackgroundDataset, read_regions_txt,
                                   stanford_split)
from mmseg_seggan.datasets.validation import (
    CorruptImageError, DataRootNotFoundError, EmptySplitError, LabelShapeError,
    LabelValueError, RegionsFormatError, UnpairedSamplesError)

IDS = sorted(STANFORD_SIZES)


def _pipeline():
    return [
        LoadImageFromFile(),
        LoadStanfordBackgroundAnnotations(),
        CheckSegSample()
    ]


def _names(ds):
    """Image file names of a dataset (from its list, loading nothing)."""
    return [
        osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))
    ]


def _dataset(root, **kwargs):
    # serialize_data=False: skips mmengine's gc.collect() (0.3 s a dataset).
    kwargs.setdefault('pipeline', _pipeline())
    return StanfordBackgroundDataset(
        data_root=str(root), serialize_data=False, **kwargs)


@pytest.fixture
def raw(tmp_path):
    root = tmp_path / 'raw'
    truth = make_stanford_raw(str(root))
    return root, truth


# ---------------------------------------------------------------- regions


@pytest.mark.parametrize('suffix', ['.regions.txt', '.regions.txt.gz'])
def test_read_regions_txt_maps_unknown_and_keeps_classes(tmp_path, suffix):
    mat = np.array([[-1, 0, 1, 2, 3], [4, 5, 6, 7, -1], [7, 7, 0, -1, 3]])
    path = str(tmp_path / ('x' + suffix))
    write_regions(path, mat)
    mask = read_regions_txt(path)
    assert mask.dtype == np.uint8 and mask.shape == (3, 5)
    expected = np.array([[255, 0, 1, 2, 3], [4, 5, 6, 7, 255],
                         [7, 7, 0, 255, 3]])
    np.testing.assert_array_equal(mask, expected)
    # Another ignore value is honoured.
    np.testing.assert_array_equal(
        read_regions_txt(path, ignore_index=200)[0, 0], 200)


def test_read_regions_txt_ragged_rows(tmp_path):
    path = tmp_path / 'bad.regions.txt'
    path.write_text('0 1 2\n3 4\n')
    with pytest.raises(RegionsFormatError) as e:
        read_regions_txt(str(path))
    assert str(path) in str(e.value) and 'columns' in str(e.value)


def test_read_regions_txt_non_integer(tmp_path):
    path = tmp_path / 'bad.regions.txt'
    path.write_text('0 1 2\n3 2.5 1\n')
    with pytest.raises(RegionsFormatError) as e:
        read_regions_txt(str(path))
    assert str(path) in str(e.value) and '2.5' in str(e.value)
    assert isinstance(e.value, ValueError)


def test_read_regions_txt_empty_and_corrupt_gz(tmp_path):
    empty = tmp_path / 'e.regions.txt'
    empty.write_text('')
    with pytest.raises(RegionsFormatError, match='no values'):
        read_regions_txt(str(empty))
    bad_gz = tmp_path / 'b.regions.txt.gz'
    bad_gz.write_bytes(b'\x1f\x8b\x08 not gzip at all')
    with pytest.raises(CorruptImageError) as e:
        read_regions_txt(str(bad_gz))
    assert str(bad_gz) in str(e.value)


def test_read_regions_txt_values_outside_labels(tmp_path):
    path = tmp_path / 'v.regions.txt'
    write_regions(str(path), np.array([[0, 8, 8], [-2, 1, 7]]))
    with pytest.raises(LabelValueError) as e:
        read_regions_txt(str(path))
    msg = str(e.value)
    assert str(path) in msg and '8 (2 px)' in msg and '-2 (1 px)' in msg


# ---------------------------------------------------------------- split


def test_stanford_split_is_seeded_disjoint_and_complete():
    ids = [f'{i:07d}' for i in range(715)]
    train, test = stanford_split(ids, seed=0)
    assert (len(train), len(test)) == (600, 115)
    assert not set(train) & set(test) and set(train) | set(test) == set(ids)
    assert stanford_split(list(reversed(ids)), seed=0) == (train, test)
    assert stanford_split(ids, seed=1)[1] != test
    with pytest.raises(ValueError, match='600'):
        stanford_split(ids[:600], seed=0)


# ---------------------------------------------------------------- converter


def test_converter_writes_masks_images_and_seeded_splits(raw, tmp_path):
    root, truth = raw
    before = snapshot(str(root))
    out = tmp_path / 'out'
    info = convert_stanford_background(
        str(root), str(out), seed=5, num_train=4)
    assert (info['num_images'], info['num_train'], info['num_test']) == \
        (6, 4, 2)
    assert info['ignored_pixels'] == sum(
        int((m == -1).sum()) for m in truth.values())
    for i, mat in truth.items():
        png = cv2.imread(
            str(out / 'labels' / (i + '.png')), cv2.IMREAD_UNCHANGED)
        assert png.dtype == np.uint8
        np.testing.assert_array_equal(png, expected_mask(mat))
        assert (out / 'images' / (i + '.jpg')).read_bytes() == \
            (root / 'images' / (i + '.jpg')).read_bytes()
    train_lines = (out / 'splits' / 'train.txt').read_text().splitlines()
    test_lines = (out / 'splits' / 'test.txt').read_text().splitlines()
    assert any('seed=5' in line for line in train_lines if line[0] == '#')
    train = [line for line in train_lines if not line.startswith('#')]
    test = [line for line in test_lines if not line.startswith('#')]
    assert (train, test) == stanford_split(IDS, seed=5, num_train=4)
    assert 'seed=5' in (out / 'README.txt').read_text()
    assert snapshot(str(root)) == before  # the raw data is only read


def test_converter_cli(raw, tmp_path):
    root, _ = raw
    tool = import_tool('tools/dataset_converters/stanford_background.py')
    out = tmp_path / 'cli'
    info = tool.main([str(root), str(out), '--seed', '3', '--num-train', '5'])
    assert info['num_train'] == 5
    assert '# seed=3' in (out / 'splits' / 'test.txt').read_text()
    assert len(os.listdir(out / 'labels')) == 6


def test_converter_refuses_to_write_into_raw(raw):
    root, _ = raw
    with pytest.raises(ValueError, match='never writes into the raw data'):
        convert_stanford_background(
            str(root), str(root / 'converted'), num_train=4)


def test_converter_names_label_of_wrong_shape(raw, tmp_path):
    root, truth = raw
    write_regions(
        str(root / 'labels' / '0000051.regions.txt'), truth['0000051'][:, :31])
    with pytest.raises(LabelShapeError) as e:
        convert_stanford_background(
            str(root), str(tmp_path / 'o'), num_train=4)
    msg = str(e.value)
    assert '0000051.regions.txt' in msg and '24x31' in msg and '24x32' in msg
    assert not (tmp_path / 'o').exists()  # nothing written on bad data


def test_converter_lists_unpaired(raw, tmp_path):
    root, _ = raw
    os.remove(root / 'labels' / '1000001.regions.txt')
    os.remove(root / 'images' / '6000345.jpg')
    with pytest.raises(UnpairedSamplesError) as e:
        convert_stanford_background(
            str(root), str(tmp_path / 'o'), num_train=4)
    msg = str(e.value)
    assert '1000001.jpg' in msg and '6000345.regions.txt' in msg


# ---------------------------------------------------------------- dataset


def test_dataset_converted_and_raw_give_identical_samples(raw, tmp_path):
    root, truth = raw
    out = tmp_path / 'conv'
    convert_stanford_background(str(root), str(out), seed=0, num_train=4)
    for split in ('train', 'test'):
        conv = _dataset(out, ann_file=f'splits/{split}.txt')
        rawds = _dataset(root, split=split, num_train=4)
        assert _names(conv) == _names(rawds)
        for i in range(len(conv)):
            a, b = conv[i], rawds[i]
            assert a['seg_map_path'].endswith('.png')
            assert '.regions.txt' in b['seg_map_path']
            stem = osp.basename(a['img_path'])[:-4]
            np.testing.assert_array_equal(a['gt_seg_map'], b['gt_seg_map'])
            np.testing.assert_array_equal(a['gt_seg_map'],
                                          expected_mask(truth[stem]))
    assert conv.metainfo['classes'][-1] == 'foreground object'
    assert len(conv.metainfo['palette']) == 8


def test_dataset_without_split_uses_all_images(raw):
    root, _ = raw
    ds = _dataset(root)
    assert len(ds) == 6
    # Forcing the PNG format on a raw folder lists every missing mask.
    with pytest.raises(UnpairedSamplesError, match='6 image'):
        _dataset(root, label_format='png')


def test_dataset_split_file_with_comments(raw, tmp_path):
    root, _ = raw
    (root / 'mine.txt').write_text('# my split, seed=7\n\n0000047\n'
                                   '0000059.jpg\n')
    ds = _dataset(root, ann_file='mine.txt')
    assert _names(ds) == ['0000047.jpg', '0000059.jpg']


def test_dataset_missing_root_shows_layout(tmp_path):
    missing = tmp_path / 'nope'
    with pytest.raises(DataRootNotFoundError) as e:
        _dataset(missing, ann_file='splits/train.txt')
    msg = str(e.value)
    assert str(missing) in msg and 'regions.txt' in msg and 'ln -s' in msg
    assert isinstance(e.value, FileNotFoundError)


def test_dataset_image_without_mask_and_mask_without_image(raw):
    root, _ = raw
    os.remove(root / 'labels' / '0000047.regions.txt.gz')
    os.remove(root / 'images' / '9003116.jpg')
    with pytest.raises(UnpairedSamplesError) as e:
        _dataset(root)
    msg = str(e.value)
    assert '0000047.jpg' in msg and 'without a mask' in msg
    assert '9003116.regions.txt.gz' in msg and 'without an image' in msg


def test_dataset_split_names_missing_files(raw):
    root, _ = raw
    (root / 'split.txt').write_text('0000047\nghost\n')
    with pytest.raises(UnpairedSamplesError, match='ghost.jpg'):
        _dataset(root, ann_file='split.txt')


def test_dataset_empty_and_missing_split_file(raw):
    root, _ = raw
    (root / 'empty.txt').write_text('# seed=0\n\n')
    with pytest.raises(EmptySplitError) as e:
        _dataset(root, ann_file='empty.txt')
    assert 'empty.txt' in str(e.value)
    with pytest.raises(DataRootNotFoundError, match='absent.txt'):
        _dataset(root, ann_file='absent.txt')


def test_dataset_bad_regions_fail_at_load_with_file(raw):
    root, truth = raw
    ragged = root / 'labels' / '0000051.regions.txt'
    ragged.write_text('0 1 2\n3 4\n')
    ds = _dataset(root)  # construction does not parse text
    idx = _names(ds).index('0000051.jpg')
    with pytest.raises(RegionsFormatError, match='0000051.regions.txt'):
        ds[idx]
    # A rectangular matrix of the wrong size: both shapes are named.
    write_regions(str(ragged), truth['0000051'][:20])
    with pytest.raises(LabelShapeError) as e:
        ds[idx]
    assert '20x32' in str(e.value) and '24x32' in str(e.value)


def test_dataset_truncated_jpeg(raw):
    root, _ = raw
    jpg = root / 'images' / '0000051.jpg'
    jpg.write_bytes(jpg.read_bytes()[:-40])
    ds = _dataset(root)
    idx = _names(ds).index('0000051.jpg')
    with pytest.raises(CorruptImageError) as e:
        ds[idx]
    assert str(jpg) in str(e.value) and 'truncated' in str(e.value)


def test_loading_never_writes_into_the_data(raw, tmp_path):
    root, _ = raw
    out = tmp_path / 'conv'
    convert_stanford_background(str(root), str(out), num_train=4)
    before = snapshot(str(root)), snapshot(str(out))
    for ds in (_dataset(root), _dataset(out, ann_file='splits/train.txt')):
        for i in range(len(ds)):
            ds[i]
    assert (snapshot(str(root)), snapshot(str(out))) == before


def test_raw_labels_with_mmseg_loader_are_refused_with_the_fix(raw):
    # Bug: mmseg's LoadAnnotations cannot read regions.txt; the first
    # iteration would fail on an undecodable 'image'.
    root, _ = raw
    with pytest.raises(ValueError) as e:
        _dataset(root, pipeline=[LoadImageFromFile(), LoadAnnotations()])
    msg = str(e.value)
    assert 'regions.txt' in msg and 'LoadStanfordBackgroundAnnotations' in msg
