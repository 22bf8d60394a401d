import cv2
import numpy as np
import pytest

from mmseg_seggan.datasets.transforms import (CheckLabelRange,
                                              LoadCheckedAnnotations,
                                              LoadCheckedImageFromFile,
                                              check_image_bytes)
from mmseg_seggan.datasets.validation import (CorruptImageError,
                                              LabelValueError,
                                              UnpairedSamplesError)


def _encoded(ext):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)
    return cv2.imencode(ext, img)[1].tobytes()


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
def test_check_image_bytes_truncation(ext):
    data = _encoded(ext)
    check_image_bytes(data, 'ok' + ext)
    with pytest.raises(CorruptImageError, match='x' + ext + '.*truncated'):
        check_image_bytes(data[:-30], 'x' + ext)
    with pytest.raises(CorruptImageError, match='empty'):
        check_image_bytes(b'', 'x' + ext)


def test_load_image_says_truncated(tmp_path):
    path = tmp_path / 'cut.jpg'
    path.write_bytes(_encoded('.jpg')[:-30])
    with pytest.raises(CorruptImageError, match='cut.jpg is a truncated'):
        LoadCheckedImageFromFile()(dict(img_path=str(path)))


def test_load_image_ignore_empty_and_missing(tmp_path):
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'')
    assert LoadCheckedImageFromFile(ignore_empty=True)(
        dict(img_path=str(bad))) is None
    with pytest.raises(UnpairedSamplesError, match='gone.jpg'):
        LoadCheckedImageFromFile()(dict(img_path=str(tmp_path / 'gone.jpg')))


def _load_mask(tmp_path, mask, **kwargs):
    path = str(tmp_path / 'm.png')
    assert cv2.imwrite(path, mask)
    results = dict(seg_map_path=path, seg_fields=[], **kwargs)
    return path, results


def test_load_annotations_label_map_and_reduce_zero_label(tmp_path):
    mask = np.array([[0, 1, 2], [3, 255, 1]], np.uint8)
    _, res = _load_mask(
        tmp_path,
        mask,
        label_map={
            2: 0,
            3: 255
        },
        reduce_zero_label=False,
        num_classes=2)
    out = LoadCheckedAnnotations()(res)['gt_seg_map']
    np.testing.assert_array_equal(out, [[0, 1, 0], [255, 255, 1]])
    _, res = _load_mask(tmp_path, mask, reduce_zero_label=True, num_classes=3)
    out = LoadCheckedAnnotations()(res)['gt_seg_map']
    np.testing.assert_array_equal(out, [[255, 0, 1], [2, 255, 0]])


def test_load_annotations_explicit_num_classes(tmp_path):
    _, res = _load_mask(
        tmp_path, np.array([[0, 4]], np.uint8), reduce_zero_label=False)
    with pytest.raises(LabelValueError, match='4 \\(1 px\\)'):
        LoadCheckedAnnotations(num_classes=4)(res)
    _, res = _load_mask(
        tmp_path, np.array([[0, 4]], np.uint8), reduce_zero_label=False)
    LoadCheckedAnnotations(num_classes=4, ignore_index=4)(res)


def test_sixteen_bit_mask_values_do_not_wrap(tmp_path):
    path = str(tmp_path / 'm16.png')
    cv2.imwrite(path, np.array([[1, 300]], np.uint16))
    res = dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False)
    with pytest.raises(LabelValueError, match='300'):
        LoadCheckedAnnotations(num_classes=8)(res)


def test_check_label_range():
    res = dict(
        gt_seg_map=np.array([[0, 7, 255]], np.uint8), seg_map_path='a.png')
    CheckLabelRange(num_classes=8)(res)
    res['gt_seg_map'][0, 0] = 9
    with pytest.raises(LabelValueError, match='a.png.*9'):
        CheckLabelRange(num_classes=8)(res)
    with pytest.raises(KeyError, match='num_classes'):
        CheckLabelRange()(dict(gt_seg_map=res['gt_seg_map']))
