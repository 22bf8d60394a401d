"""Loading for mmseg's inference APIs: bad files named, arrays made BGR.

mmseg's ``inference_model`` builds the config's top-level
``test_pipeline`` as it is, except that for an array it turns the first
transform into ``LoadImageFromNDArray`` (keeping its arguments). With
mmcv's ``LoadImageFromFile`` there, an empty ``.png`` failed with
``cv2.error ... !buf.empty()`` and no file name, and a 4-channel array
reached the data preprocessor as 4 channels (``RuntimeError: The size of
tensor a (4) must match ...``). So the package's configs name:

* ``LoadImageForInference`` first in the top-level ``test_pipeline`` (only
  ``inference_model`` reads it; the dataloaders keep ``LoadImageFromFile``,
  which the datasets check and ``MMSegInferencer`` looks for by name);
* ``ConvertImageToBGR`` right after the loader in every test pipeline, so
  an array gets what a file gets from OpenCV: 3-channel BGR, 8 bits.
"""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCV_LoadImageFromFile
from mmseg.registry import TRANSFORMS

from ..validation import CorruptImageError


@TRANSFORMS.register_module()
class LoadImageForInference(MMCV_LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names a missing, empty or
    undecodable image and says what to do.

    Takes mmcv's arguments only, so ``inference_model`` can turn it into
    ``LoadImageFromNDArray`` for arrays.
    """

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        fix = ('Fix: pass an image file (PNG, JPEG, ...) or a HxWx3 BGR '
               'uint8 array to inference_model; re-copy the file if it '
               'should hold an image.')
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'Image file not found: {path}. Check the path given to '
                'inference_model.') from None
        if not data:
            raise CorruptImageError(f'{path} is empty (0 bytes), not an '
                                    f'image. {fix}')
        try:
            img = mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as e:  # pillow raises, cv2 returns None
            raise CorruptImageError(
                f'{path} cannot be decoded as an image ({len(data)} bytes; '
                f'{type(e).__name__}: {e}). {fix}') from None
        if img is None:
            raise CorruptImageError(
                f'{path} cannot be decoded as an image ({len(data)} bytes). '
                f'{fix}')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class ConvertImageToBGR(BaseTransform):
    """Give the model a 3-channel BGR image, as OpenCV reads a file.

    A file loads as 3-channel 8-bit BGR whatever it holds (``color_type=
    'color'``); an array is passed on as it is. This converts an array the
    same way: grayscale (HxW, HxWx1) is repeated to 3 channels, the alpha
    channel of BGRA (HxWx4) is dropped, 16-bit values are scaled to 8 bits
    (``>> 8``, as OpenCV does). 3-channel uint8 and float images pass
    unchanged; any other shape is refused with its shape and the fix.

    Required keys: ``img``. Modified keys: ``img``.
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        if not isinstance(img, np.ndarray):
            raise TypeError(f'The image must be a numpy array, got '
                            f'{type(img).__name__}.')
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
            raise ValueError(
                f'Image array of shape {img.shape}: the model takes HxWx3 '
                'BGR images (HxW and HxWx1 grayscale and HxWx4 BGRA are '
                'converted). Fix: pass the image as HxWx3 (e.g. '
                'np.transpose(img, (1, 2, 0)) for a CxHxW array), or its '
                'file path.')
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        elif img.shape[2] == 4:
            img = np.ascontiguousarray(img[..., :3])
        results['img'] = img
        return results
