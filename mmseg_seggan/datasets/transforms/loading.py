"""``LoadStanfordBackgroundAnnotations``: mmseg's loader plus the raw
Stanford Background label format."""
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..regions import is_regions_file, read_regions_txt


@TRANSFORMS.register_module()
class LoadStanfordBackgroundAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that also reads the raw download's labels.

    ``<id>.regions.txt`` and ``<id>.regions.txt.gz`` (integer matrices,
    -1 = unknown, which becomes the sample's ``ignore_index``) are parsed
    at each load (2-5 ms a file; nothing is cached or written); every
    other file goes to mmseg's loader unchanged. Name it in place of
    ``LoadAnnotations`` to train from the raw download (docs/datasets.md).

    Args: as mmseg's ``LoadAnnotations``.
    """

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        if not is_regions_file(path):
            return super()._load_seg_map(results)
        if results.get('label_map') or results.get('reduce_zero_label') \
                or self.reduce_zero_label:
            raise ValueError(
                f'{path}: label_map and reduce_zero_label are not supported '
                'on raw regions.txt labels. Fix: convert the dataset once '
                '(tools/dataset_converters/stanford_background.py) and load '
                "the PNG masks with mmseg's LoadAnnotations.")
        results['gt_seg_map'] = read_regions_txt(
            path,
            num_classes=results.get('num_classes'),
            ignore_index=results.get('ignore_index', 255))
        results['seg_fields'].append('gt_seg_map')
