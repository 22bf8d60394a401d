import numpy as np
import pytest
from datasets_testing import make_voc
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_seggan.datasets import CheckedPascalVOCDataset
from mmseg_seggan.datasets.transforms import CheckSegSample
from mmseg_seggan.datasets.validation import (DataRootNotFoundError,
                                              LabelValueError,
                                              UnpairedSamplesError)


def _dataset(voc, seg='SegmentationClass', split='train'):
    return CheckedPascalVOCDataset(
        data_root=voc,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=seg),
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        pipeline=[LoadImageFromFile(),
                  LoadAnnotations(),
                  CheckSegSample()],
        serialize_data=False)


def test_palette_and_aug_masks_load_as_indices(tmp_path):
    voc = make_voc(str(tmp_path))
    cls, aug = _dataset(voc), _dataset(voc, 'SegmentationClassAug', 'aug')
    assert len(cls) == 2 and len(aug) == 6
    for i in range(2):
        a, b = cls[i], aug[i]
        raw = np.array(Image.open(b['seg_map_path']))
        np.testing.assert_array_equal(a['gt_seg_map'], raw)
        np.testing.assert_array_equal(b['gt_seg_map'], raw)
        assert set(np.unique(raw)) - set(range(21)) == {255}


def test_missing_root_is_explained_not_asserted(tmp_path):
    with pytest.raises(DataRootNotFoundError) as e:
        _dataset(str(tmp_path / 'VOCdevkit' / 'VOC2012'))
    assert 'SegmentationClassAug' in str(e.value)


def test_missing_split_file_and_missing_mask(tmp_path):
    voc = make_voc(str(tmp_path))
    with pytest.raises(DataRootNotFoundError, match='nosuch.txt'):
        _dataset(voc, split='nosuch')
    (tmp_path /
     'VOCdevkit/VOC2012/SegmentationClassAug/2007_000005.png').unlink()
    with pytest.raises(UnpairedSamplesError, match='2007_000005'):
        _dataset(voc, 'SegmentationClassAug', 'aug')


def test_label_21_is_caught_with_file(tmp_path):
    voc = make_voc(str(tmp_path))
    path = tmp_path / 'VOCdevkit/VOC2012/SegmentationClassAug/2007_000001.png'
    mask = np.array(Image.open(path))
    mask[5, 5] = 21
    Image.fromarray(mask).save(str(path))
    ds = _dataset(voc, 'SegmentationClassAug', 'aug')
    with pytest.raises(LabelValueError) as e:
        ds[1]
    assert str(path) in str(e.value) and '21 (1 px)' in str(e.value)


def test_seggan_voc_config_reads_the_standard_layout(tmp_path):
    init_default_scope('mmseg')
    voc = make_voc(str(tmp_path))
    cfg = Config.fromfile('configs/seggan_voc.py')
    train = cfg.train_dataloader.dataset
    for d in train.datasets:
        d.data_root = voc
        d.serialize_data = False
    ds = DATASETS.build(train)
    assert len(ds) == 2 + 6  # train + aug, as mmseg's voc12aug config
    sample = ds[0]
    assert tuple(sample['inputs'].shape[1:]) == (512, 512)
    cfg.val_dataloader.dataset.data_root = voc
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(val) == 2 and val[0]['data_samples'].gt_sem_seg.shape == \
        (40, 56)
