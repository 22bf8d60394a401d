"""``CheckSegSample``: a loaded sample is checked before it reaches the loss.

The configs name it right after mmseg's ``LoadAnnotations``, so what runs
is what the config says: mmseg's loaders read the files, this transform
only looks at what they produced (and at the files' ends).
"""
import logging
import os
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from ..validation import (CorruptImageError, LabelShapeError, LabelValueError,
                          NumClassesMismatchError, format_names)

_JPEG_SOI, _JPEG_EOI = b'\xff\xd8', b'\xff\xd9'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
_FIX = ('Fix: re-copy or re-download this file (compare its size with the '
        'original), or remove the sample from the split.')


def check_file_complete(path: str) -> bytes:
    """Raise if a local JPEG or PNG file is empty or cut short.

    A JPEG without its end marker decodes with grey rows and only a warning
    in OpenCV 4 (and fails without a reason in OpenCV 5), so the end marker
    (``FFD9``) and PNG's ``IEND`` chunk are looked for. Files that are not
    local (another file backend) are left to the loader.

    Args:
        path: The file.

    Returns:
        bytes: The file's first 32 bytes (b'' if it is not a local file).

    Raises:
        CorruptImageError: Naming the file and its size.
    """
    try:
        size = os.path.getsize(path)
    except OSError:
        return b''
    with open(path, 'rb') as f:
        head = f.read(32)
        f.seek(max(0, size - 1024))
        tail = f.read()
    if not size:
        raise CorruptImageError(f'{path} is empty (0 bytes). {_FIX}')
    if head.startswith(_JPEG_SOI) and _JPEG_EOI not in tail:
        raise CorruptImageError(
            f'{path} is a truncated JPEG: no end-of-image marker (FFD9) '
            f'after {size} bytes. {_FIX}')
    if head.startswith(_PNG_MAGIC) and b'IEND' not in tail[-64:]:
        raise CorruptImageError(f'{path} is a truncated PNG: no IEND chunk '
                                f'after {size} bytes. {_FIX}')
    return head


def check_label_values(seg_map: np.ndarray,
                       num_classes: int,
                       ignore_index: int,
                       path: str,
                       classes: Optional[Sequence[str]] = None) -> None:
    """Raise if a mask holds a value outside ``[0, num_classes)`` + ignore.

    For a uint8 mask two vectorised counts settle the usual case (every
    value above the classes is the ignore value); ``np.unique`` runs only
    to word the error.

    Raises:
        LabelValueError: Naming the file, the bad values and their counts.
    """
    if seg_map.dtype == np.uint8:
        high = np.count_nonzero(seg_map >= num_classes)
        if not high or (ignore_index >= num_classes
                        and high == np.count_nonzero(seg_map == ignore_index)):
            return
    values, counts = np.unique(seg_map, return_counts=True)
    bad = ((values < 0) | (values >= num_classes)) & (values != ignore_index)
    if not bad.any():
        return
    found = ', '.join(
        f'{v} ({c} px)'
        for v, c in zip(values[bad].tolist(), counts[bad].tolist()))
    names = f' ({", ".join(classes)})' if classes else ''
    raise LabelValueError(
        f'Mask {path} holds label value(s) {found}, outside the '
        f'{num_classes} classes 0..{num_classes - 1}{names} and the ignore '
        f'value {ignore_index}. Fix: correct or remove this mask, map the '
        'value to a class or to the ignore value, or if the dataset really '
        'has more classes, change its classes and model.decode_head.'
        'num_classes.')


def check_mask_shape(mask_shape: Sequence[int], image_shape: Sequence[int],
                     mask_path: str, image_path: Optional[str]) -> None:
    """Raise if a mask is not the size of its image (both are named).

    Raises:
        LabelShapeError: With both shapes as rows x columns.
    """
    if tuple(mask_shape[:2]) != tuple(image_shape[:2]):
        raise LabelShapeError(
            f'Mask {mask_path} is {mask_shape[0]}x{mask_shape[1]} (rows x '
            f'columns) but its image {image_path} is {image_shape[0]}x'
            f'{image_shape[1]}. Fix: regenerate the mask at the image size, '
            'or remove the pair from the split.')


@TRANSFORMS.register_module()
class CheckSegSample(BaseTransform):
    """Stop on a bad sample, naming its file, before it reaches the loss.

    Put it right after ``LoadAnnotations`` (before any resize or crop: it
    must see the whole mask, after ``label_map`` and ``reduce_zero_label``).
    It checks that

    - the image and mask files are complete (:func:`check_file_complete`);
    - the mask is a single-channel index mask of its image's size (the
      image's ``ori_shape``): else :class:`CorruptImageError` (a colour
      mask) or :class:`LabelShapeError`;
    - a 16-bit PNG mask holds no value above 255 (mmseg casts masks to
      uint8, so 300 would silently become 44);
    - every value is a class or the ignore value: else
      :class:`LabelValueError` naming the file and the values. This is
      what turns CE's ``IndexError: Target 11 is out of bounds`` into a
      message.

    A sample without a loaded mask (an unlabeled image; mmseg's inference
    APIs drop ``LoadAnnotations``) gets the image check only. A dataset that
    is not one of this package's gives no class count: then label values
    are checked only with ``num_classes`` given (a warning says so).

    Args:
        num_classes (int, optional): The class count. Defaults to the
            ``num_classes`` the package's datasets put in each sample;
            given, it must agree with it.
        ignore_index (int, optional): Defaults to the sample's
            ``ignore_index``, else 255.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self._warned = False

    def transform(self, results: dict) -> dict:
        if results.get('img_path'):
            check_file_complete(results['img_path'])
        if 'gt_seg_map' not in results:
            if results.get('seg_map_path'):
                raise KeyError(
                    'CheckSegSample found no loaded mask for '
                    f"{results['seg_map_path']}: put it right after "
                    'LoadAnnotations in the pipeline.')
            return results
        path = results.get('seg_map_path')
        seg = results['gt_seg_map']
        if seg.ndim != 2:
            raise CorruptImageError(
                f'Mask {path} has shape {seg.shape}, not rows x columns: '
                'a colour (RGB) mask, not an index mask? Fix: convert it to '
                'a single-channel PNG whose pixel values are class indices '
                '(255 = ignore).')
        if 'ori_shape' in results:
            check_mask_shape(seg.shape, results['ori_shape'], path,
                             results.get('img_path'))
        head = check_file_complete(path) if path else b''
        if head.startswith(_PNG_MAGIC) and len(head) > 24 and head[24] == 16:
            raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)  # 16-bit PNG
            if raw.max() > 255:
                high = np.unique(raw[raw > 255]).tolist()
                raise LabelValueError(
                    f'Mask {path} is a 16-bit PNG with label value(s) '
                    f'{format_names(map(str, high))} above 255, which '
                    "mmseg's LoadAnnotations casts to uint8 (300 becomes "
                    '44). Fix: map them to classes or to the ignore value '
                    'and save the mask as an 8-bit PNG.')
        num_classes = self._num_classes(results)
        if num_classes is None:
            return results
        ignore_index = self.ignore_index if self.ignore_index is not None \
            else results.get('ignore_index', 255)
        check_label_values(seg, num_classes, ignore_index, path)
        return results

    def _num_classes(self, results: dict) -> Optional[int]:
        of_dataset = results.get('num_classes')
        if self.num_classes and of_dataset and self.num_classes != of_dataset:
            raise NumClassesMismatchError(
                f'CheckSegSample(num_classes={self.num_classes}) but the '
                f'dataset of {results.get("img_path")} has {of_dataset} '
                'classes. Fix: leave num_classes out (the dataset gives it) '
                'or correct it.')
        if not (self.num_classes or of_dataset or self._warned):
            self._warned = True
            print_log(
                'CheckSegSample: the dataset gives no num_classes (it is '
                'not one of mmseg_seggan), so label values are not checked. '
                'Set CheckSegSample(num_classes=N) to check them.',
                logger='current',
                level=logging.WARNING)
        return self.num_classes or of_dataset

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
