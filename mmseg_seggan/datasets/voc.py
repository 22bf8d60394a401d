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
    """PASCAL VOC 2012 (+ SBD aug): mmseg's dataset (same args), checked."""
    LAYOUT = VOC_LAYOUT
