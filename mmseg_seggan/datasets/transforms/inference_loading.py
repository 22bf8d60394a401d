from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCV_LoadImageFromFile
from mmseg.registry import TRANSFORMS

from ...registry import TRANSFORMS as SCOPED_TRANSFORMS
from ..validation import (IMAGE_FIX, CorruptImageError, check_image_bytes,
                          check_pixels)


@TRANSFORMS.register_module()
class LoadImageForInference(MMCV_LoadImageFromFile):
    """Load a path (as mmcv) or an array (as mmseg), naming bad files; mmcv's
    arguments only, as ``inference_model`` renames the first test transform
    to ``LoadImageFromNDArray`` for good (this loader in our scope)."""

    def transform(self, results: dict) -> Optional[dict]:
        img = results.get('img')
        if img is None:
            img = self._load(results['img_path'])
        else:
            results['img_path'] = None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def _load(self, path: str) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'Image file not found: {path}. Check the path given to '
                'inference_model.') from None
        check_image_bytes(data, path)
        try:
            img = mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as e:  # pillow raises, cv2 returns None
            img, why = None, f'; {type(e).__name__}: {e}'
        else:
            why = ''
        if img is None:
            raise CorruptImageError(f'{path} cannot be decoded as an image '
                                    f'({len(data)} bytes{why}). {IMAGE_FIX}')
        return img


SCOPED_TRANSFORMS.register_module(  # not mmseg's own registry
    'LoadImageFromNDArray', module=LoadImageForInference)


@TRANSFORMS.register_module()
class ConvertImageToBGR(BaseTransform):
    """Give the model a 3-channel BGR image, as OpenCV reads a file; refuse
    rather than guess (other shapes, NaN/Inf, floats all in [0, 1])."""

    def transform(self, results: dict) -> dict:
        img = results['img']
        if not isinstance(img, np.ndarray):
            raise TypeError(f'The image must be a numpy array, got '
                            f'{type(img).__name__}.')
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3, 4) or not img.size:
            raise ValueError(
                f'Image array of shape {img.shape}: the model takes HxWx3 '
                'BGR images, not empty (HxW and HxWx1 grayscale and HxWx4 '
                'BGRA are converted). Fix: pass the image as HxWx3 (e.g. '
                'np.transpose(img, (1, 2, 0)) for a CxHxW array), or its '
                'file path.')
        check_pixels(img.shape[0], img.shape[1],
                     results.get('img_path') or f'Image array {img.shape}')
        if img.dtype.kind == 'f':
            if not np.isfinite(img).all():
                raise ValueError(
                    f'Image array {img.shape} holds NaN or infinite values; '
                    'the prediction would be meaningless. Fix: pass finite '
                    'values (e.g. np.nan_to_num(img)) in 0..255.')
            if img.max() <= 1 and img.min() >= 0 and img.any():
                raise ValueError(
                    f'Float image array {img.shape} holds values in [0, 1]; '
                    "the model takes 0..255, as mmseg's loaders give it. "
                    'Fix: pass (img * 255).round().astype(np.uint8), or the '
                    'file path.')
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        elif img.shape[2] == 4:
            img = np.ascontiguousarray(img[..., :3])
        results['img'] = img
        return results
