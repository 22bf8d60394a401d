"""LoadImageForInference and ConvertImageToBGR through mmseg's own
``inference_model`` (issue 20): a bad file is named, an array gets what a
file gets. The configs that name them: tests/test_apis/test_inference.py."""
import os.path as osp
import struct
import time
import zlib

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


def test_an_array_then_a_path_on_one_model(model, tmp_path):
    # Bug (issue 33): inference_model renamed the config's first transform
    # LoadImageFromNDArray for the array, for good; the path after it gave
    # KeyError: 'img'.
    img = np.random.default_rng(1).integers(0, 256, (48, 64, 3), np.uint8)
    path = str(tmp_path / 'a.png')
    assert cv2.imwrite(path, img)
    expected = _predict(model, path)  # fresh config
    for inputs in (img, path, img, path):
        assert torch.equal(
            inference_model(model, inputs).pred_sem_seg.data[0], expected)


@pytest.mark.parametrize(
    'case, array, said',
    [('float in [0, 1]', np.full((48, 64, 3), 0.5, np.float32), '[0, 1]'),
     ('NaN', np.full((48, 64, 3), np.nan, np.float32), 'NaN'),
     ('infinite', np.full((48, 64, 3), np.inf, np.float64), 'infinite'),
     ('0x0x3', np.zeros((0, 0, 3), np.uint8), 'not empty')])
def test_arrays_that_would_predict_nonsense_are_refused(
        model, case, array, said):
    # Bugs (issue 33): a float image in [0, 1] was fed unscaled (32.9 % of
    # the pixels changed class), a NaN image predicted class 0 everywhere,
    # a 0x0x3 array gave a raw conv RuntimeError.
    with pytest.raises(ValueError) as e:
        _predict(model, array)
    assert said in str(e.value) and 'Fix:' in str(e.value), case


def test_float_images_in_0_255_are_taken_as_mmseg_takes_them(model):
    img = np.random.default_rng(2).integers(0, 256, (48, 64, 3), np.uint8)
    assert torch.equal(
        _predict(model, img.astype(np.float32)), _predict(model, img))


def _png_header(width, height):
    """A PNG of ``width`` x ``height`` pixels in a few dozen bytes: the
    header of a huge image, its pixels missing."""

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    return (
        b'\x89PNG\r\n\x1a\n' +
        chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
        chunk(b'IDAT', zlib.compress(b'')) + chunk(b'IEND', b''))


def test_huge_images_are_refused_before_decoding(model, tmp_path, monkeypatch):
    # Bug (issue 33): a 441 KB PNG of 12000x12000 took 226 s and 10.3 GB
    # through inference_model. The header is read first: this file has no
    # pixels at all, so decoding first would say "cannot be decoded".
    from mmseg_seggan.datasets import ImageTooLargeError
    huge = tmp_path / 'huge.png'
    huge.write_bytes(_png_header(12000, 12000))
    start = time.monotonic()
    with pytest.raises(ImageTooLargeError) as e:
        _predict(model, str(huge))
    assert time.monotonic() - start < 5
    assert (f'{huge} is 12000x12000 pixels (144,000,000), over the limit '
            'of 67,108,864 pixels') in str(e.value)
    assert 'MMSEG_SEGGAN_MAX_PIXELS=' in str(e.value)
    # The limit is the environment's; arrays and files alike.
    small = str(tmp_path / 'small.png')
    assert cv2.imwrite(small, np.zeros((120, 100, 3), np.uint8))
    monkeypatch.setenv('MMSEG_SEGGAN_MAX_PIXELS', '10000')
    with pytest.raises(ImageTooLargeError, match='small.png is 100x120'):
        _predict(model, small)
    with pytest.raises(ImageTooLargeError, match=r'\(120, 100, 3\)'):
        _predict(model, np.zeros((120, 100, 3), np.uint8))
    monkeypatch.setenv('MMSEG_SEGGAN_MAX_PIXELS', '12000')
    assert _predict(model, small).shape == (120, 100)
