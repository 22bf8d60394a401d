"""Loading transforms that name the file and say the fix when data is bad.

Checked twins of mmcv's ``LoadImageFromFile`` and mmseg's
``LoadAnnotations`` (same arguments), plus ``CheckLabelRange`` for pipelines
that keep mmseg's loader. ``LoadCheckedAnnotations`` also reads Stanford
Background's raw ``*.regions.txt`` / ``*.regions.txt.gz`` matrices, so a
dataset can be trained from its raw download without a converter (slower:
the text is parsed at every load; nothing is cached or written).

Configs name mmseg's loaders; the package's datasets swap in these twins
(``checked_dataset.py``), so mmseg's inference APIs, which look the loaders
up by type name, work on the same configs.
"""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCV_LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..regions import is_regions_file, read_regions_txt
from ..validation import (CorruptImageError, LabelValueError,
                          UnpairedSamplesError, check_image_bytes,
                          check_label_values, check_mask_shape, format_names)


def _read_bytes(path: str, what: str, backend_args: Optional[dict]) -> bytes:
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise UnpairedSamplesError(
            f'{what} {path} is missing (it existed when the dataset was '
            'built, or the dataset does not check its files). Fix: restore '
            'it or remove the sample from the split.') from e


def _decode(data: bytes, path: str, flag: str, backend: str) -> np.ndarray:
    try:
        img = mmcv.imfrombytes(data, flag=flag, backend=backend)
    except Exception as e:  # pillow raises, cv2 returns None
        raise CorruptImageError(
            f'{path} cannot be decoded ({type(e).__name__}: {e}). Fix: '
            're-copy or re-encode it, or remove the sample.') from e
    if img is None:
        raise CorruptImageError(
            f'{path} cannot be decoded as an image ({len(data)} bytes). Fix: '
            're-copy or re-encode it, or remove the sample.')
    return img


@TRANSFORMS.register_module()
class LoadCheckedImageFromFile(MMCV_LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names empty, truncated or corrupt
    files and says why (:class:`CorruptImageError`) instead of a bare
    ``AssertionError: failed to load image`` or, with some decoders, a
    truncated JPEG silently trained on with grey rows.

    Args: as mmcv's ``LoadImageFromFile``; ``ignore_empty=True`` skips the
    sample (returns None) instead of raising.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            data = _read_bytes(filename, 'Image', self.backend_args)
            check_image_bytes(data, filename)
            img = _decode(data, filename, self.color_type,
                          self.imdecode_backend)
        except (CorruptImageError, UnpairedSamplesError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadCheckedAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` plus checks, and raw regions.txt support.

    After decoding (and ``reduce_zero_label`` / ``label_map``, as mmseg
    does) the mask is checked:

    - it must be a single-channel index mask of its image's size (when the
      image was loaded first: ``ori_shape``), else :class:`LabelShapeError`;
    - every value must be a class or the ignore value, else
      :class:`LabelValueError` naming the file and the values. This is
      what turns CE's ``IndexError: Target 11 is out of bounds`` into a
      message.

    ``num_classes`` and ``ignore_index`` default to the ones the package's
    datasets put in each sample (their classes and ``ignore_index``).

    Files ending with ``.regions.txt`` or ``.regions.txt.gz`` are read as
    Stanford Background integer matrices (-1 = unknown -> ignore).

    Args:
        num_classes (int, optional): Overrides the dataset's class count.
        ignore_index (int, optional): Overrides the dataset's ignore value.
        **kwargs: As mmseg's ``LoadAnnotations`` (``imdecode_backend``
            defaults to ``'pillow'``, which reads palette PNGs as indices).
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        if 'seg_map_path' not in results:
            raise KeyError(
                'LoadCheckedAnnotations: the sample has no seg_map_path (an '
                'image without annotation, e.g. mmseg.apis.inference_model '
                "or MMSegInferencer, which drop only a transform named "
                "'LoadAnnotations'). Fix: name mmseg's LoadAnnotations (and "
                'LoadImageFromFile) in the config; the datasets of '
                'mmseg_seggan load them with the checks anyway.')
        path = results['seg_map_path']
        ignore_index = self.ignore_index if self.ignore_index is not None \
            else results.get('ignore_index', 255)
        if is_regions_file(path):
            num_classes = self.num_classes or results.get('num_classes')
            seg = read_regions_txt(
                path, num_classes=num_classes, ignore_index=ignore_index)
        else:
            data = _read_bytes(path, 'Mask', self.backend_args)
            check_image_bytes(data, path)
            seg = _decode(data, path, 'unchanged', self.imdecode_backend)
            seg = self._to_index_mask(seg, path)
        if 'ori_shape' in results:
            check_mask_shape(seg.shape, results['ori_shape'], path,
                             results.get('img_path'))
        reduce_zero_label = self.reduce_zero_label
        if reduce_zero_label is None:
            reduce_zero_label = results.get('reduce_zero_label', False)
        if reduce_zero_label:
            # 0 -> 255, others - 1 (uint8 arithmetic, as mmseg does).
            seg[seg == 0] = 255
            seg = seg - 1
            seg[seg == 254] = 255
        label_map = results.get('label_map', None)
        if label_map:
            if len(label_map) <= 4:  # e.g. CamVid's {11: 255}: two passes
                orig = seg.copy()
                for old_id, new_id in label_map.items():
                    seg[orig == old_id] = new_id
            else:  # a table lookup costs the same for any map
                lut = np.arange(256, dtype=np.uint8)
                for old_id, new_id in label_map.items():
                    lut[old_id] = new_id
                seg = lut[seg]
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes is not None:
            check_label_values(seg, num_classes, ignore_index, path)
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')

    @staticmethod
    def _to_index_mask(seg: np.ndarray, path: str) -> np.ndarray:
        """A 2-D uint8 mask, or an error for colour or 16-bit masks."""
        if seg.ndim == 3 and seg.shape[2] == 1:
            seg = seg[..., 0]
        if seg.ndim != 2:
            raise CorruptImageError(
                f'Mask {path} has shape {seg.shape}: a colour (RGB) mask, '
                'not an index mask. Fix: convert it to a single-channel '
                'PNG whose pixel values are class indices (255 = ignore).')
        if seg.dtype != np.uint8:
            bad = np.unique(seg[(seg < 0) | (seg > 255)])
            if bad.size:
                raise LabelValueError(
                    f'Mask {path} ({seg.dtype}) holds label value(s) '
                    f'{format_names([str(v) for v in bad.tolist()])} that '
                    'no uint8 mask can hold, so no class of this package '
                    'can either. Fix: map them to classes or to the ignore '
                    'value and save the mask as 8-bit PNG.')
            seg = seg.astype(np.uint8)
        return seg

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}')")


@TRANSFORMS.register_module()
class CheckLabelRange(BaseTransform):
    """Raise :class:`LabelValueError` (file and values) for a mask value that
    is neither a class nor the ignore value.

    Put it after mmseg's ``LoadAnnotations`` (the package's datasets add it
    there by themselves). Arguments default to the sample's
    ``num_classes`` and ``ignore_index``, which the datasets provide.

    Args:
        num_classes (int, optional): Number of classes.
        ignore_index (int, optional): The ignore value.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes is None:
            raise KeyError(
                'CheckLabelRange needs num_classes: set it in the transform '
                '(CheckLabelRange(num_classes=N)) or use a dataset of this '
                'package, which provides it per sample.')
        ignore_index = self.ignore_index if self.ignore_index is not None \
            else results.get('ignore_index', 255)
        check_label_values(results['gt_seg_map'], num_classes, ignore_index,
                           results.get('seg_map_path', '<unknown file>'))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
