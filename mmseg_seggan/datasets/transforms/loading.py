from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..regions import is_regions_file, read_regions_txt


@TRANSFORMS.register_module()
class LoadStanfordBackgroundAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` (same args) plus raw Stanford labels,
    ``<id>.regions.txt(.gz)``, parsed at each load (nothing cached)."""

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
