"""tools/dataset_converters/stanford_background.py on generated raw data."""
import os.path as osp

import cv2
import numpy as np
import pytest
from seggan_testing import import_tool

from mmseg_seggan.datasets.validation import RegionsFormatError

testing = import_tool('tests/test_datasets/datasets_testing.py')
GZ_ID = '0000047'  # written as <id>.regions.txt.gz by make_stanford_raw


def _convert(raw, out):
    tool = import_tool('tools/dataset_converters/stanford_background.py')
    return tool.main([raw, out, '--num-train', '4'])


def _label(out, i):
    return cv2.imread(
        osp.join(out, 'labels', i + '.png'), cv2.IMREAD_UNCHANGED)


def test_stale_plain_twin_of_a_gz_label_is_refused(tmp_path):
    """Bug: ``<id>.regions.txt`` silently won over ``<id>.regions.txt.gz``,
    also when it was a stale copy with other labels."""
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'out')
    truth = testing.make_stanford_raw(raw)
    stale = np.zeros_like(truth[GZ_ID])  # e.g. an old, edited unpacking
    plain = osp.join(raw, 'labels', GZ_ID + '.regions.txt')
    testing.write_regions(plain, stale)
    with pytest.raises(RegionsFormatError) as e:
        _convert(raw, out)
    msg = str(e.value)
    assert plain in msg and plain + '.gz' in msg and 'differ' in msg
    assert not osp.exists(out)  # nothing written


def test_identical_twins_are_fine(tmp_path):
    """``gunzip -k`` leaves both files with the same labels: not an error."""
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'out')
    truth = testing.make_stanford_raw(raw)
    testing.write_regions(
        osp.join(raw, 'labels', GZ_ID + '.regions.txt'), truth[GZ_ID])
    info = _convert(raw, out)
    assert info['num_images'] == len(truth)
    assert np.array_equal(
        _label(out, GZ_ID), testing.expected_mask(truth[GZ_ID]))
