import numpy as np
import pytest

from mmseg_seggan.datasets.transforms import check_seg_sample
from mmseg_seggan.datasets.validation import (
    CorruptImageError, DataRootNotFoundError, DatasetError, EmptySplitError,
    LabelShapeError, LabelValueError, NumClassesMismatchError,
    RegionsFormatError, SampleLoadError, UnpairedSamplesError, check_pairs,
    format_names, read_split_file)

check_label_values = check_seg_sample.check_label_values
check_mask_shape = check_seg_sample.check_mask_shape


@pytest.mark.parametrize('cls, builtin', [
    (DataRootNotFoundError, FileNotFoundError),
    (UnpairedSamplesError, FileNotFoundError),
    (EmptySplitError, ValueError),
    (CorruptImageError, RuntimeError),
    (LabelValueError, ValueError),
    (LabelShapeError, ValueError),
    (RegionsFormatError, ValueError),
    (NumClassesMismatchError, ValueError),
    (SampleLoadError, RuntimeError),
])
def test_errors_are_catchable_as_builtins(cls, builtin):
    assert issubclass(cls, DatasetError) and issubclass(cls, builtin)
    assert str(cls('the message')) == 'the message'


def test_split_file_comments_and_blank_lines(tmp_path):
    # The headers the package's tools write ('# seed=0 ...') are no ids.
    path = tmp_path / 's.txt'
    path.write_text('# header\n# seed=42 here\n\n a \nb\n# late comment\n')
    assert read_split_file(str(path), 'X') == ['a', 'b']


@pytest.mark.parametrize('dtype', [np.uint8, np.int64])
def test_check_label_values(dtype):
    mask = np.array([[0, 1, 255], [2, 2, 1]], dtype)
    check_label_values(mask, 3, 255, 'm.png')
    mask[0, 0] = 3
    mask[1, :] = 11
    with pytest.raises(LabelValueError) as e:
        check_label_values(mask, 3, 255, 'dir/m.png', ('a', 'b', 'c'))
    msg = str(e.value)
    assert 'dir/m.png' in msg and '3 (1 px), 11 (3 px)' in msg
    assert '0..2 (a, b, c)' in msg


def test_check_label_values_other_ignore():
    mask = np.array([[0, 11]], np.uint8)
    check_label_values(mask, 11, 11, 'm.png')
    with pytest.raises(LabelValueError, match='255'):
        check_label_values(np.array([[255]], np.uint8), 11, 11, 'm.png')


def test_check_pairs_and_format_names(tmp_path):
    img = tmp_path / 'a.jpg'
    img.write_bytes(b'x')
    infos = [dict(img_path=str(img), seg_map_path=str(tmp_path / 'a.png'))]
    with pytest.raises(UnpairedSamplesError, match='a.jpg.*expected.*a.png'):
        check_pairs(infos, 'X', 'a folder')
    names = [f'n{i}' for i in range(25)]
    assert format_names(names).endswith('n9, ... (25 in all)')
    assert format_names(names[:2]) == 'n0, n1'


def test_check_not_empty_and_mask_shape():
    with pytest.raises(EmptySplitError, match='split.txt'):
        check_pairs([], 'X', 'split file split.txt')
    check_mask_shape((4, 5), (4, 5, 3), 'm', 'i')
    with pytest.raises(LabelShapeError, match='4x6.*i.jpg is 4x5'):
        check_mask_shape((4, 6), (4, 5, 3), 'm.png', 'i.jpg')
