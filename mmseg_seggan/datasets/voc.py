"""PASCAL VOC 2012 (+ SBD aug) through mmseg's ``PascalVOCDataset``, checked.

Same classes, layout and arguments as mmseg's dataset (and its base config
``mmseg::_base_/datasets/pascal_voc12_aug.py``); only the checks of
:class:`CheckedDatasetMixin` are added.
"""
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin

VOC_LAYOUT = """\
    <data_root>/                     e.g. data/VOCdevkit/VOC2012
    |-- JPEGImages/*.jpg
    |-- SegmentationClass/*.png      palette PNGs, 0..20, 255 = boundary
    |-- SegmentationClassAug/*.png   SBD, from mmseg's
    |                                tools/dataset_converters/voc_aug.py
    `-- ImageSets/Segmentation/{train,val,aug}.txt"""


@DATASETS.register_module()
class CheckedPascalVOCDataset(CheckedDatasetMixin, PascalVOCDataset):
    """mmseg's ``PascalVOCDataset`` with the package's data checks.

    Args: as ``PascalVOCDataset`` (``ann_file`` required).
    """
    LAYOUT = VOC_LAYOUT
