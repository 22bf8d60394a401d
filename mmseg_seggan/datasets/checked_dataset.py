import os.path as osp
from typing import Dict, List

import cv2
import numpy as np

from .regions import is_regions_file
from .validation import (CorruptImageError, DatasetError, SampleLoadError,
                         UnpairedSamplesError, check_file_complete,
                         check_folder, check_image_header, check_pairs,
                         list_files, read_split_file, strip_suffix)


class CheckedDatasetMixin:
    """mmseg's sample listing, checked, and load errors that name files; put
    it first in the bases (``LAYOUT``: shown when a folder is missing)."""
    LAYOUT: str = ''

    def load_data_list(self) -> List[dict]:
        name = type(self).__name__
        check_folder(self.data_root or None, name, 'data root', self.LAYOUT)
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', None)
        check_folder(img_dir, name, 'image folder', self.LAYOUT)
        if ann_dir:
            check_folder(ann_dir, name, 'mask folder', self.LAYOUT)
        images = self._files_by_id(img_dir, self.img_suffix)
        masks = self._mask_files(ann_dir) if ann_dir else {}
        orphans: List[str] = []
        if self.ann_file and not osp.isdir(self.ann_file):
            ids = [
                strip_suffix(i, self.img_suffix) for i in read_split_file(
                    self.ann_file, name,
                    lambda i: strip_suffix(i, self.img_suffix) in images)
            ]
            source = f'split file {self.ann_file}'
        else:
            every = sorted(images, key=images.get)
            ids = self._select(every)
            source = f'{img_dir} (files ending with {self.img_suffix!r})'
            if ids == every:
                orphans = [
                    osp.join(ann_dir, f) for i, f in sorted(masks.items())
                    if i not in images
                ]
        data_list = []
        for i in ids:
            info = dict(
                img_path=osp.join(img_dir, images.get(i, i + self.img_suffix)))
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(
                    ann_dir, masks.get(i, i + self.seg_map_suffix))
            info.update(
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            data_list.append(info)
        check_pairs(data_list, name, source, orphans)
        return data_list

    @staticmethod
    def _files_by_id(folder: str, suffix: str) -> Dict[str, str]:
        """``{id: file name}`` of a folder; the configured case wins."""
        found: Dict[str, str] = {}
        for f in list_files(folder, suffix):
            i = strip_suffix(f, suffix)
            if i not in found or f.endswith(suffix):
                found[i] = f
        return found

    def _mask_files(self, ann_dir: str) -> Dict[str, str]:
        """``{id: mask file name}`` (a dataset may read other formats)."""
        return self._files_by_id(ann_dir, self.seg_map_suffix)

    def _select(self, ids: List[str]) -> List[str]:
        """The ids of the split when no split file is given: all."""
        return ids

    def get_data_info(self, idx: int) -> dict:
        """The sample, with what ``CheckSegSample`` needs."""
        info = super().get_data_info(idx)
        info.setdefault('num_classes', len(self.metainfo['classes']))
        info.setdefault('ignore_index', self.ignore_index)
        return info

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        for path in (info.get('img_path'), info.get('seg_map_path')):
            if path and not is_regions_file(path):
                check_image_header(path, path)
        try:
            return self.pipeline(info)
        except DatasetError:
            raise
        except Exception as e:
            raise self._load_error(idx, info, e) from e

    def _load_error(self, idx: int, info: dict, error: Exception):
        for path in (info.get('img_path'), info.get('seg_map_path')):
            if not path or is_regions_file(path):
                continue
            if not osp.isfile(path):
                return UnpairedSamplesError(
                    f'{path} is missing (it existed when the dataset was '
                    'built). Fix: restore it or remove the sample from the '
                    'split.')
            try:
                check_file_complete(path)
            except DatasetError as e:
                return e
            data = np.fromfile(path, np.uint8)
            if cv2.imdecode(data, cv2.IMREAD_UNCHANGED) is None:
                return CorruptImageError(
                    f'{path} cannot be decoded as an image ({data.size} '
                    'bytes). Fix: re-copy or re-encode it, or remove the '
                    'sample from the split.')
        return SampleLoadError(
            f'{type(self).__name__}: sample {idx} failed in the pipeline '
            f'(image {info.get("img_path")}, mask {info.get("seg_map_path")}'
            f'): {type(error).__name__}: {error}. Fix: check these files, '
            'or remove the sample from the split.')
