import os
import os.path as osp

import numpy as np
import pytest
from datasets_testing import make_camvid, snapshot
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmseg_seggan.datasets import CamVidDataset
from mmseg_seggan.datasets.transforms import CheckSegSample
from mmseg_seggan.datasets.validation import (CorruptImageError,
                                              DataRootNotFoundError,
                                              EmptySplitError, LabelShapeError,
                                              LabelValueError, SampleLoadError,
                                              UnpairedSamplesError)

TRAIN = dict(img_path='train', seg_map_path='trainannot')


def _dataset(root, pipeline=None, data_prefix=TRAIN, **kwargs):
    if pipeline is None:
        pipeline = [LoadImageFromFile(), LoadAnnotations(), CheckSegSample()]
    return CamVidDataset(
        data_root=str(root),
        data_prefix=data_prefix,
        pipeline=pipeline,
        serialize_data=False,
        **kwargs)


@pytest.fixture
def camvid(tmp_path):
    root = tmp_path / 'camvid'
    return root, make_camvid(str(root))


def _write_mask(path, mask):
    Image.fromarray(mask).save(str(path))


def test_void_becomes_ignore_pixel_by_pixel(camvid):
    root, masks = camvid
    ds = _dataset(root)
    assert len(ds) == 3 and len(ds.metainfo['classes']) == 11
    for i in range(len(ds)):
        sample = ds[i]
        mask = masks['train/' + osp.basename(sample['seg_map_path'])]
        expected = mask.copy()
        expected[mask == 11] = 255
        np.testing.assert_array_equal(sample['gt_seg_map'], expected)
        assert (mask == 11).any() and (sample['gt_seg_map'] != 11).all()


def test_label_outside_classes_names_file_and_value(camvid):
    root, masks = camvid
    bad = root / 'trainannot' / '0001TP_000001.png'
    mask = masks['train/0001TP_000001.png'].copy()
    mask[3, 3:5] = 12
    _write_mask(bad, mask)
    ds = _dataset(root)
    with pytest.raises(LabelValueError) as e:
        ds[1]
    msg = str(e.value)
    assert str(bad) in msg and '12 (2 px)' in msg and 'ignore value 255' in msg


def test_the_configured_loaders_run_and_the_check_names_the_file(camvid):
    # mmseg's loaders, named in the pipeline as mmseg's inference APIs need
    # them, run as configured (no substitute, settings kept); the check
    # after them names the file of a bad label or a truncated image.
    # Bug: without it a label of 40 reached the loss (IndexError: Target 40
    # is out of bounds) and a truncated image failed without a reason.
    root, masks = camvid
    mask = masks['train/0001TP_000000.png'].copy()
    mask[0, 0] = 40
    _write_mask(root / 'trainannot' / '0001TP_000000.png', mask)
    pipeline = [
        LoadImageFromFile(),
        LoadAnnotations(imdecode_backend='cv2'),
        CheckSegSample()
    ]
    ds = _dataset(root, pipeline=list(pipeline))
    assert ds.pipeline.transforms == pipeline
    ds[1]  # void 11 -> 255 passes
    with pytest.raises(LabelValueError, match='0001TP_000000.png.*40'):
        ds[0]
    image = root / 'train' / '0001TP_000001.png'
    image.write_bytes(image.read_bytes()[:-20])
    with pytest.raises(CorruptImageError, match=f'{image}.*truncated PNG'):
        ds[1]
    # Without the check the pipeline is what the config says, nothing more.
    plain = _dataset(root, pipeline=[LoadAnnotations()])
    assert [type(t) for t in plain.pipeline.transforms] == [LoadAnnotations]


def test_the_config_tta_pipeline_checks_the_mask(camvid):
    # Bug: --tta evaluated with mmseg's loaders only, unchecked.
    init_default_scope('mmseg')
    root, masks = camvid
    mask = masks['train/0001TP_000002.png'].copy()
    mask[1, 1] = 12
    _write_mask(root / 'trainannot' / '0001TP_000002.png', mask)
    tta = Config.fromfile('configs/_base_/datasets/camvid.py').tta_pipeline
    ds = _dataset(root, pipeline=tta)
    assert len(ds[0]['inputs']) == 2  # the image and its mirror
    with pytest.raises(LabelValueError, match='0001TP_000002.png.*12'):
        ds[2]


def test_another_annotation_loader_is_checked_too(camvid):

    class MyLoadAnnotations(LoadAnnotations):
        pass

    root, masks = camvid
    mask = masks['train/0001TP_000000.png'].copy()
    mask[0, 0] = 40
    _write_mask(root / 'trainannot' / '0001TP_000000.png', mask)
    ds = _dataset(root, pipeline=[MyLoadAnnotations(), CheckSegSample()])
    with pytest.raises(LabelValueError, match='0001TP_000000.png.*40'):
        ds[0]


def test_missing_root_shows_layout_and_fix(tmp_path):
    with pytest.raises(DataRootNotFoundError) as e:
        _dataset(tmp_path / 'camvid')
    msg = str(e.value)
    assert 'camvid' in msg and 'trainannot' in msg and '--cfg-options' in msg


def test_missing_mask_folder(camvid):
    root, _ = camvid
    with pytest.raises(DataRootNotFoundError, match='testannot'):
        _dataset(
            root, data_prefix=dict(img_path='train', seg_map_path='testannot'))


def test_unpaired_images_and_masks_are_listed(camvid):
    root, _ = camvid
    os.remove(root / 'trainannot' / '0001TP_000000.png')
    os.remove(root / 'train' / '0001TP_000002.png')
    with pytest.raises(UnpairedSamplesError) as e:
        _dataset(root)
    msg = str(e.value)
    assert 'without a mask: ' in msg and 'train/0001TP_000000.png' in msg
    assert 'without an image: ' in msg and \
        'trainannot/0001TP_000002.png' in msg


def test_empty_split(camvid):
    root, _ = camvid
    os.makedirs(root / 'empty')
    os.makedirs(root / 'emptyannot')
    with pytest.raises(EmptySplitError, match="empty.*'.png'"):
        _dataset(
            root,
            data_prefix=dict(img_path='empty', seg_map_path='emptyannot'))


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'empty'])
def test_corrupt_image_names_file(camvid, damage):
    root, _ = camvid
    img = root / 'train' / '0001TP_000001.png'
    data = img.read_bytes()
    img.write_bytes({
        'garbage': b'\x00not an image' * 10,
        'truncated': data[:len(data) // 2],
        'empty': b''
    }[damage])
    ds = _dataset(root)
    ds[0]
    with pytest.raises(CorruptImageError) as e:
        ds[1]
    assert str(img) in str(e.value) and 'Fix:' in str(e.value)


def test_colour_mask_and_wrong_size_mask(camvid):
    root, masks = camvid
    rgb = np.zeros((36, 48, 3), np.uint8)
    Image.fromarray(rgb).save(str(root / 'trainannot' / '0001TP_000000.png'))
    _write_mask(root / 'trainannot' / '0001TP_000001.png',
                masks['train/0001TP_000001.png'][:30])
    ds = _dataset(root)
    with pytest.raises(CorruptImageError, match='colour'):
        ds[0]
    with pytest.raises(LabelShapeError) as e:
        ds[1]
    assert '30x48' in str(e.value) and '36x48' in str(e.value)


class _Boom(BaseTransform):

    def transform(self, results):
        raise KeyError('some_key')


def test_unexpected_pipeline_error_names_the_sample(camvid):
    root, _ = camvid
    ds = _dataset(root, pipeline=[LoadImageFromFile(), _Boom()])
    with pytest.raises(SampleLoadError) as e:
        ds[2]
    msg = str(e.value)
    assert 'train/0001TP_000002.png' in msg and 'some_key' in msg
    assert isinstance(e.value.__cause__, KeyError)


def test_loading_never_writes_into_the_data(camvid):
    root, _ = camvid
    before = snapshot(str(root))
    ds = _dataset(root)
    for i in range(len(ds)):
        ds[i]
    assert snapshot(str(root)) == before


def test_a_file_removed_after_the_dataset_was_built_is_named(camvid):
    # mmseg's loader says FileNotFoundError from inside mmengine's file
    # backend; the dataset names the sample's file and the fix.
    root, _ = camvid
    ds = _dataset(root)
    os.remove(root / 'trainannot' / '0001TP_000001.png')
    with pytest.raises(UnpairedSamplesError) as e:
        ds[1]
    assert 'trainannot/0001TP_000001.png is missing' in str(e.value)
    assert isinstance(e.value.__cause__, FileNotFoundError)
