import logging
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from ..validation import (PNG_MAGIC, CorruptImageError, LabelValueError,
                          NumClassesMismatchError, check_file_complete,
                          check_label_values, check_mask_shape, format_names)


@TRANSFORMS.register_module()
class CheckSegSample(BaseTransform):
    """Stop a bad sample, naming its file, before the loss; put it right
    after ``LoadAnnotations`` (it must see the whole mask).

    Args:
        num_classes (int, optional): Default: the sample's (None: unchecked).
        ignore_index (int, optional): Default: the sample's, else 255.
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
        if head.startswith(PNG_MAGIC) and len(head) > 24 and head[24] == 16:
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
        if num_classes is not None:
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
