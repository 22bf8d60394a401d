import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin
from .regions import read_regions_txt
from .transforms import LoadStanfordBackgroundAnnotations
from .validation import RegionsFormatError

STANFORD_CLASSES = ('sky', 'tree', 'road', 'grass', 'water', 'building',
                    'mountain', 'foreground object')
STANFORD_PALETTE = [[70, 130, 180], [107, 142, 35], [128, 64, 128],
                    [152, 251, 152], [0, 90, 200], [70, 70, 70],
                    [140, 110, 80], [220, 20, 60]]
NUM_TRAIN = 600  # the paper: 600 train / 115 test, random

STANFORD_LAYOUT = """\
    <data_root>/                      converted (tools/dataset_converters/
    |-- images/<id>.jpg                 stanford_background.py RAW OUT)
    |-- labels/<id>.png               uint8, 0..7, 255 = unknown
    `-- splits/train.txt, test.txt    ids, '# seed=S' header
  or the raw download (iccv09Data), read by
  LoadStanfordBackgroundAnnotations:
    |-- images/<id>.jpg
    `-- labels/<id>.regions.txt       integer matrix, -1 = unknown
                                      (or <id>.regions.txt.gz)"""


def stanford_split(ids: Sequence[str],
                   seed: int = 0,
                   num_train: int = NUM_TRAIN) -> Tuple[List[str], List[str]]:
    """Sorted train/test ids: the paper's random split, as the converter's."""
    ids = sorted(ids)
    if not 0 < num_train < len(ids):
        raise ValueError(
            f'Cannot split {len(ids)} images into {num_train} train and '
            f'{len(ids) - num_train} test: num_train must be between 1 and '
            f'{len(ids) - 1}. (Stanford Background has 715 images; the '
            'paper uses 600 / 115.)')
    order = np.random.default_rng(seed).permutation(len(ids))
    train = sorted(ids[i] for i in order[:num_train])
    test = sorted(ids[i] for i in order[num_train:])
    return train, test


def label_files(label_dir: str) -> Dict[str, Dict[str, str]]:
    """``{'png': {id: file}, 'regions': {...}}``; a ``.regions.txt`` and its
    ``.gz`` twin must agree (which one is stale cannot be told)."""
    by_id = CheckedDatasetMixin._files_by_id  # any case: .PNG too
    plain = by_id(label_dir, '.regions.txt')
    gzipped = by_id(label_dir, '.regions.txt.gz')
    for i in sorted(plain.keys() & gzipped.keys()):
        txt, gz = (osp.join(label_dir, d[i]) for d in (plain, gzipped))
        if not np.array_equal(
                read_regions_txt(txt, None), read_regions_txt(gz, None)):
            raise RegionsFormatError(
                f'{txt} and {gz} hold labels that differ; one of them is '
                'stale (e.g. an old unpacked copy) and which one cannot be '
                'told. Fix: delete the wrong one (the .gz is the original '
                'download).')
    return dict(png=by_id(label_dir, '.png'), regions={**gzipped, **plain})


@DATASETS.register_module()
class StanfordBackgroundDataset(CheckedDatasetMixin, BaseSegDataset):
    """Stanford Background (Gould et al., ICCV 2009): 8 classes, -1 -> 255.

    Args:
        ann_file, split (str): Split file, else 'train' or 'test', else all.
        split_seed, num_train (int): In-memory split's seed and train size.
        label_format (str): ``'png'``, ``'regions'``, ``'auto'`` (PNG if any).
    """
    METAINFO = dict(classes=STANFORD_CLASSES, palette=STANFORD_PALETTE)
    LAYOUT = STANFORD_LAYOUT

    def __init__(self,
                 ann_file: str = '',
                 split: Optional[str] = None,
                 split_seed: int = 0,
                 num_train: int = NUM_TRAIN,
                 label_format: str = 'auto',
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 data_prefix: dict = dict(
                     img_path='images', seg_map_path='labels'),
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if split not in (None, 'train', 'test'):
            raise ValueError(f"split must be 'train', 'test' or None, got "
                             f'{split!r}.')
        if label_format not in ('auto', 'png', 'regions'):
            raise ValueError("label_format must be 'auto', 'png' or "
                             f"'regions', got {label_format!r}.")
        self.split = split
        self.split_seed = split_seed
        self.num_train = num_train
        self.label_format = label_format
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
        loaders = [
            t for t in self.pipeline.transforms
            if isinstance(t, LoadAnnotations)
        ]
        if self.seg_map_suffix == '.regions.txt' and loaders and not any(
                isinstance(t, LoadStanfordBackgroundAnnotations)
                for t in loaders):
            raise ValueError(
                f'{type(self).__name__}: the labels in '
                f'{self.data_prefix["seg_map_path"]} are raw regions.txt(.gz)'
                " files, which mmseg's LoadAnnotations cannot read. Fix: "
                'name LoadStanfordBackgroundAnnotations in its place, or '
                'convert the data once with tools/dataset_converters/'
                'stanford_background.py (docs/datasets.md).')

    def _mask_files(self, ann_dir: str) -> Dict[str, str]:
        labels = label_files(ann_dir)
        fmt = self.label_format
        if fmt == 'auto':
            fmt = 'png' if labels['png'] or not labels['regions'] \
                else 'regions'
        if fmt == 'regions':  # named in the message of a missing label
            self.seg_map_suffix = '.regions.txt'
        return labels[fmt]

    def _select(self, ids: List[str]) -> List[str]:
        if self.split and ids:
            train, test = stanford_split(ids, self.split_seed, self.num_train)
            return train if self.split == 'train' else test
        if ids:
            print_log(
                f'{type(self).__name__}: neither ann_file nor split is set, '
                f'so all {len(ids)} images of {self.data_root} are used '
                "(train and val alike). Set ann_file='splits/train.txt' (the "
                "converter's) or split='train' / 'test'.",
                logger='current',
                level=logging.WARNING)
        return ids
