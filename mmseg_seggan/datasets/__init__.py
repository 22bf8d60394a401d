from .camvid import CamVidDataset
from .checked_dataset import CheckedDatasetMixin
from .checked_local_backend import CheckedLocalBackend
from .regions import read_regions_txt
from .samplers import MultiSourceSampler
from .stanford_background import StanfordBackgroundDataset, stanford_split
from .toy_scenes import ToyScenesDataset
from .transforms import CheckSegSample, LoadStanfordBackgroundAnnotations
from .unlabeled_image_dataset import UnlabeledImageDataset
from .validation import (CorruptImageError, DataRootNotFoundError,
                         DatasetError, EmptySplitError, ImageTooLargeError,
                         LabelShapeError, LabelValueError,
                         NumClassesMismatchError, RegionsFormatError,
                         SampleLoadError, SplitFileError, SymlinkLoopError,
                         UnpairedSamplesError)
from .voc import CheckedPascalVOCDataset

__all__ = [
    'ToyScenesDataset', 'CamVidDataset',
    'StanfordBackgroundDataset', 'CheckedPascalVOCDataset', 'read_regions_txt',
    'stanford_split', 'CheckSegSample', 'LoadStanfordBackgroundAnnotations',
    'DatasetError', 'DataRootNotFoundError', 'UnpairedSamplesError',
    'EmptySplitError', 'CorruptImageError', 'LabelValueError',
    'LabelShapeError', 'RegionsFormatError', 'NumClassesMismatchError',
    'SampleLoadError', 'SplitFileError', 'SymlinkLoopError',
    'ImageTooLargeError', 'CheckedDatasetMixin', 'UnlabeledImageDataset',
    'MultiSourceSampler', 'CheckedLocalBackend'
]
