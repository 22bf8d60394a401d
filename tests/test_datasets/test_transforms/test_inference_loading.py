"""LoadImageForInference and ConvertImageToBGR through mmseg's own
``inference_model`` (issue 20): a bad file is named, an array gets what a
file gets. The configs that name them: tests/test_apis/test_inference.py."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model, init_model
from seggan_testing import REPO

from mmseg_seggan.datasets import CorruptImageError
from mmseg_seggan.datasets.transforms import (ConvertImageToBGR,
                                              LoadImageForInference)

CONFIG = 'configs/deeplabv3/deeplabv3_r18w16-d8_1xb8-300it_toy-96x128.py'


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(Config.fromfile(osp.join(REPO, CONFIG)), None, 'cpu')


def _predict(model, inputs):
    # inference_model edits model.cfg for an array (its first transform
    # becomes LoadImageFromNDArray, for good): give it a fresh one.
    model.cfg = Config.fromfile(osp.join(REPO, CONFIG))
    return inference_model(model, inputs).pred_sem_seg.data[0]


def test_bad_files_are_named_through_inference_model(model, tmp_path):
    # Bug (before): an empty .png gave cv2.error ... !buf.empty() with no
    # file name (mmcv's LoadImageFromFile first in test_pipeline).
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(CorruptImageError) as e:
        _predict(model, str(empty))
    assert f'{empty} is empty (0 bytes)' in str(e.value)
    assert 'Fix: pass an image file' in str(e.value)
    garbage = tmp_path / 'garbage.png'
    garbage.write_bytes(b'not an image at all')
    with pytest.raises(
            CorruptImageError, match=f'{garbage} cannot be decoded.*19 bytes'):
        _predict(model, str(garbage))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'no.png')):
        _predict(model, str(tmp_path / 'no.png'))


def test_arrays_get_what_files_get(model, tmp_path):
    # Bug (before): a 4-channel array gave RuntimeError: The size of tensor
    # a (4) must match the size of tensor b (3); 16-bit arrays reached the
    # model unscaled. Each array must be predicted as its file is.
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (48, 64, 3), np.uint8)
    alpha = rng.integers(0, 256, (48, 64, 1), np.uint8)
    gray = rng.integers(0, 256, (48, 64), np.uint8)
    deep = rng.integers(0, 65536, (48, 64, 3), np.uint16)
    cases = {
        'bgra': (np.concatenate([bgr, alpha], 2), bgr),
        'gray': (gray, gray),
        'gray1': (gray[..., None], gray),
        'uint16': (deep, deep),
    }
    for name, (array, image) in cases.items():
        path = str(tmp_path / f'{name}.png')
        assert cv2.imwrite(path, image)
        from_file = _predict(model, path)
        assert from_file.shape == (48, 64)
        assert torch.equal(_predict(model, array), from_file), name


@pytest.mark.parametrize('shape', [(3, 48, 64), (48, 64, 2), (48, 64, 5),
                                   (1, 48, 64, 3)])
def test_other_array_shapes_are_refused_with_the_fix(shape):
    with pytest.raises(ValueError) as e:
        ConvertImageToBGR()(dict(img=np.zeros(shape, np.uint8)))
    assert f'Image array of shape {shape}' in str(e.value)
    assert 'HxWx3' in str(e.value)


def test_loader_keeps_mmcv_arguments(tmp_path):
    # inference_model turns the first transform into LoadImageFromNDArray
    # keeping its arguments, so the loader must take mmcv's.
    path = str(tmp_path / 'a.png')
    assert cv2.imwrite(path, np.full((5, 7, 3), 9, np.uint8))
    out = LoadImageForInference(to_float32=True)(dict(img_path=path))
    assert out['img'].dtype == np.float32 and out['img'].shape == (5, 7, 3)
    assert out['ori_shape'] == (5, 7)
