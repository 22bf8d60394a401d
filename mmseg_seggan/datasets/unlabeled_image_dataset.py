from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_dataset import CheckedDatasetMixin


@DATASETS.register_module()
class UnlabeledImageDataset(CheckedDatasetMixin, BaseSegDataset):
    """A split's images, unlabeled: no mask path is listed, so none can leak.

    Args:
        data_prefix (dict): ``img_path`` only.
        metainfo_from (str, optional): The labeled type whose classes to share.
        **kwargs: As ``BaseSegDataset``.
    """

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 data_prefix: dict = dict(img_path=''),
                 img_suffix: str = '.png',
                 metainfo_from: Optional[str] = None,
                 metainfo: Optional[dict] = None,
                 pipeline: list = [],
                 **kwargs) -> None:
        if 'seg_map_path' in data_prefix:
            raise ValueError(
                'UnlabeledImageDataset: data_prefix has a seg_map_path; '
                'unlabeled images are loaded without masks. Remove it.')
        for t in pipeline:
            if isinstance(t, dict) and 'Annotations' in str(t.get('type')):
                raise ValueError(
                    f'UnlabeledImageDataset: the pipeline loads masks '
                    f'({t["type"]}); unlabeled samples have none. Remove it.')
        if metainfo_from is not None:
            labeled_cls = DATASETS.get(metainfo_from)
            if labeled_cls is None:
                raise KeyError(f'UnlabeledImageDataset(metainfo_from='
                               f'{metainfo_from!r}): no such dataset type.')
            metainfo = dict(labeled_cls.METAINFO, **(metainfo or {}))
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            metainfo=metainfo,
            pipeline=pipeline,
            **kwargs)
