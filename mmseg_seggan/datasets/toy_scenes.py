"""ToyScenes: seeded procedural outdoor scenes (written by
``tools/misc/make_toy_scenes.py``), to run the whole pipeline without
downloading anything."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin

TOY_CLASSES = ('sky', 'tree', 'road', 'grass', 'building', 'car')
TOY_PALETTE = [[70, 130, 180], [107, 142, 35], [128, 64, 128], [152, 251, 152],
               [70, 70, 70], [0, 0, 142]]


@DATASETS.register_module()
class ToyScenesDataset(CheckedDatasetMixin, BaseSegDataset):
    """The generated ToyScenes dataset (6 classes, PNG masks, 255 = ignore),
    as ``tools/misc/make_toy_scenes.py`` writes it."""
    METAINFO = dict(classes=TOY_CLASSES, palette=TOY_PALETTE)
    LAYOUT = """\
    <data_root>/                 e.g. data/toy_scenes (tools/misc/
    |-- img_dir/train/*.png        make_toy_scenes.py writes it)
    |-- ann_dir/train/*.png      masks, same names: 0..5 classes
    `-- img_dir/val/, ann_dir/val/"""

    def __init__(self,
                 img_suffix='.png',
                 seg_map_suffix='.png',
                 reduce_zero_label=False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
