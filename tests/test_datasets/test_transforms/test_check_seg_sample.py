"""CheckSegSample: what mmseg's loaders let through, named with its file."""
import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations

from mmseg_seggan.datasets.transforms import (CheckSegSample,
                                              check_file_complete)
from mmseg_seggan.datasets.validation import (CorruptImageError,
                                              LabelValueError,
                                              NumClassesMismatchError)


def _encoded(ext):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)
    return cv2.imencode(ext, img)[1].tobytes()


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
def test_check_file_complete_finds_truncation(tmp_path, ext):
    # Bug: a JPEG cut short decodes with grey rows in OpenCV 4 (a warning
    # only) and trains on them.
    path = tmp_path / ('x' + ext)
    path.write_bytes(_encoded(ext))
    check_file_complete(str(path))
    path.write_bytes(_encoded(ext)[:-30])
    with pytest.raises(CorruptImageError, match='x' + ext + '.*truncated'):
        check_file_complete(str(path))
    path.write_bytes(b'')
    with pytest.raises(CorruptImageError, match='empty'):
        check_file_complete(str(path))


def test_truncated_image_is_named_after_a_successful_load(tmp_path):
    path = tmp_path / 'cut.jpg'
    path.write_bytes(_encoded('.jpg')[:-30])
    results = dict(img_path=str(path), img=np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(CorruptImageError, match='cut.jpg is a truncated'):
        CheckSegSample()(results)


def _load_mask(tmp_path, mask, **info):
    path = str(tmp_path / 'm.png')
    assert cv2.imwrite(path, mask)
    results = dict(
        seg_map_path=path, seg_fields=[], reduce_zero_label=False, **info)
    return path, LoadAnnotations()(results)


def test_explicit_num_classes_and_ignore_index(tmp_path):
    _, res = _load_mask(tmp_path, np.array([[0, 4], [0, 0]], np.uint8))
    with pytest.raises(LabelValueError, match='4 \\(1 px\\)'):
        CheckSegSample(num_classes=4)(res)
    CheckSegSample(num_classes=4, ignore_index=4)(res)
    # Another codebase's dataset gives no class count: only the rest is
    # checked (said once in the log).
    assert CheckSegSample()(res) is res


def test_num_classes_that_contradict_the_dataset_are_refused(tmp_path):
    _, res = _load_mask(
        tmp_path, np.array([[0, 1], [1, 1]], np.uint8), num_classes=6)
    with pytest.raises(NumClassesMismatchError, match='has 6 classes'):
        CheckSegSample(num_classes=8)(res)


def test_sixteen_bit_mask_values_do_not_wrap(tmp_path):
    # Bug: mmseg casts the mask to uint8, so 300 became 44, a valid class.
    path = str(tmp_path / 'm16.png')
    cv2.imwrite(path, np.array([[1, 300], [1, 1]], np.uint16))
    res = LoadAnnotations()(
        dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False))
    assert res['gt_seg_map'].tolist() == [[1, 44], [1, 1]]
    with pytest.raises(LabelValueError, match='16-bit.*300'):
        CheckSegSample(num_classes=45)(res)
    cv2.imwrite(path, np.array([[1, 200], [1, 1]],
                               np.uint16))  # fits: accepted
    res = LoadAnnotations()(
        dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False))
    CheckSegSample(num_classes=201)(res)


def test_check_label_values_after_mmseg_label_map(tmp_path):
    mask = np.array([[0, 1, 2], [3, 255, 1]], np.uint8)
    _, res = _load_mask(
        tmp_path, mask, label_map={
            2: 0,
            3: 255
        }, num_classes=2)
    np.testing.assert_array_equal(res['gt_seg_map'],
                                  [[0, 1, 0], [255, 255, 1]])
    CheckSegSample()(res)
    _, res = _load_mask(tmp_path, mask, num_classes=2)
    with pytest.raises(LabelValueError, match='m.png.*2 \\(1 px\\), 3'):
        CheckSegSample()(res)


def test_image_without_mask_and_mask_not_loaded(tmp_path):
    # Unlabeled images and mmseg's inference APIs (LoadAnnotations
    # dropped): only the image file is checked.
    path = tmp_path / 'a.png'
    path.write_bytes(_encoded('.png'))
    res = LoadImageFromFile()(dict(img_path=str(path)))
    assert CheckSegSample()(res) is res
    # Before LoadAnnotations in a pipeline: said so.
    res['seg_map_path'] = str(path)
    with pytest.raises(KeyError, match='right after LoadAnnotations'):
        CheckSegSample()(res)
