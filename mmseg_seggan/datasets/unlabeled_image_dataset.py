"""Images of a split without their masks, for semi-supervised training.

Semi-supervised SegGAN trains the segmentor on images whose labels it must
not see. Ignoring loaded masks would still read them (and a bug could let
them leak into a loss); this dataset never lists a mask path, so nothing
downstream can read one: its samples carry no ``gt_sem_seg`` at all.
"""
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .validation import (UnpairedSamplesError, check_data_root, check_dir,
                         check_not_empty, check_split_entries,
                         check_split_file, format_names, list_files,
                         read_split_entries, split_suffix)


@DATASETS.register_module()
class UnlabeledImageDataset(BaseSegDataset):
    """The images of a split (``ann_file`` ids, or a whole folder), no masks.

    Use it beside the labeled dataset of the same data, e.g. in a
    ``ConcatDataset`` drawn by ``MultiSourceSampler``. Its pipeline must not
    load annotations (``LoadAnnotations`` in it is an error), and transforms
    that read masks (``RandomCrop``'s ``cat_max_ratio``) must be off.

    Args:
        data_root (str): Root of the data.
        ann_file (str): Split file, one image id per line (relative to
            ``data_root``); '' lists every image of ``img_path``.
        data_prefix (dict): ``img_path`` only; a ``seg_map_path`` is an
            error (these images have no labels here).
        img_suffix (str): Image file suffix. Default '.png'.
        metainfo_from (str, optional): The registered labeled dataset
            whose ``METAINFO`` (classes, palette) these images share, e.g.
            ``'CamVidDataset'``; ``ConcatDataset`` needs the two to match.
        metainfo (dict, optional): Extra or overriding meta information.
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

    def load_data_list(self) -> List[dict]:
        """Image paths only: no ``seg_map_path``, ever."""
        name = type(self).__name__
        check_data_root(self.data_root or None, name)
        img_dir = self.data_prefix.get('img_path', '')
        check_dir(img_dir, name, 'image folder (data_prefix.img_path)')
        images = {
            split_suffix(f, self.img_suffix): f
            for f in list_files(img_dir, self.img_suffix)
        }
        if self.ann_file:
            check_split_file(self.ann_file, name)
            entries = read_split_entries(self.ann_file)
            check_split_entries(entries, self.ann_file, name,
                                lambda n: n in images)
            ids = [n for _, n in entries]
            missing = [i for i in ids if i not in images]
            if missing:
                raise UnpairedSamplesError(
                    f'{name}: {len(missing)} id(s) of {self.ann_file} have '
                    f'no image {self.img_suffix} in {img_dir}: '
                    f'{format_names(missing)}. Fix the split file or '
                    'data_prefix.img_path.')
            source = f'split file {self.ann_file}'
        else:
            ids = sorted(images)
            source = f'folder {img_dir}'
        data_list = [
            dict(
                img_path=osp.join(img_dir, images[i]),
                label_map=None,
                reduce_zero_label=False,
                seg_fields=[]) for i in ids
        ]
        check_not_empty(data_list, name, source)
        return data_list
