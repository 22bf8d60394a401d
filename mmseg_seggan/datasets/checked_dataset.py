"""``CheckedDatasetMixin``: the data checks for any ``BaseSegDataset``.

It sits above the checks (``validation.py``) and the checked loaders
(``transforms/``), and below the datasets that use it (``CamVidDataset``,
``CheckedPascalVOCDataset``, ``StanfordBackgroundDataset``):

.. code-block:: none

    __init__ ─> BaseSegDataset.__init__ ─> full_init ─> load_data_list
                                                         ├─ check_data_root
                                                         ├─ check_dir
                                                         ├─ check_split_file
                                                         ├─ list_files
                                                         ├─ check_split_entries
                                                         ├─ check_not_empty
                                                         └─ check_pairs
             └─> _arm_pipeline: mmseg's loaders -> the checked loaders
    __getitem__ ─> prepare_data ─> pipeline (errors re-raised with the files)

Why the pipeline is armed here and not in the configs: mmseg's inference
APIs (``inference_model``, ``MMSegInferencer``, ``demo/image_demo.py``) find
the loaders of a config's test pipeline by their type names
(``LoadImageFromFile``, ``LoadAnnotations``) to drop the annotation loader
and swap the image loader. So the package's configs name mmseg's loaders,
and its datasets replace them by the checked ones when they are built:
training and evaluation keep every check, inference works unchanged.
"""
import os.path as osp
from typing import Dict, List

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log
from mmseg.datasets.transforms import LoadAnnotations

from .transforms import (CheckLabelRange, LoadCheckedAnnotations,
                         LoadCheckedImageFromFile)
from .validation import (DatasetError, SampleLoadError, check_data_root,
                         check_dir, check_not_empty, check_pairs,
                         check_split_entries, check_split_file, list_files,
                         read_split_entries, split_suffix)

# mmseg's loaders (exactly these classes, not subclasses) and their checked
# replacements, which take the same arguments.
_CHECKED_LOADERS = {
    LoadImageFromFile: LoadCheckedImageFromFile,
    LoadAnnotations: LoadCheckedAnnotations,
}


def _checked(transform):
    """The checked twin of an mmseg loader, with the same settings.

    The twin subclasses the loader and adds only attributes that default to
    None, so copying the loader's state gives exactly the configured
    behaviour plus the checks.
    """
    twin_cls = _CHECKED_LOADERS[type(transform)]
    twin = twin_cls.__new__(twin_cls)
    twin.__dict__.update(transform.__dict__)
    if twin_cls is LoadCheckedAnnotations:
        twin.num_classes = twin.ignore_index = None  # from each sample
    return twin


def arm_transforms(transforms: list) -> int:
    """Replace mmseg's loaders in a list of transforms, in place.

    Descends into wrappers that hold their own pipelines (``TestTimeAug``'s
    ``subroutines``, any ``transforms`` list), so the TTA pipeline is
    checked too.

    Args:
        transforms: The ``transforms`` list of a ``Compose``.

    Returns:
        int: How many loaders were replaced.
    """
    replaced = 0
    for i, t in enumerate(transforms):
        if type(t) in _CHECKED_LOADERS:
            transforms[i] = _checked(t)
            replaced += 1
            continue
        for sub in getattr(t, 'subroutines', None) or []:
            replaced += arm_transforms(sub.transforms)
        inner = getattr(t, 'transforms', None)
        if isinstance(inner, list):
            replaced += arm_transforms(inner)
    return replaced


class CheckedDatasetMixin:
    """Construction-time and load-time checks for a ``BaseSegDataset``.

    Put it first in the bases (``class X(CheckedDatasetMixin,
    BaseSegDataset)``). A subclass may set ``LAYOUT`` (the expected folder
    tree, shown when the data root is missing).

    The sample list is mmseg's (same paths, same order, ``ann_file`` with
    one id per line and no suffix), with three differences that matter for
    real data: suffixes match in any case (``.PNG`` pairs are not dropped),
    a symlink loop is named instead of walked forever, and a split file
    that lists a sample twice or is not one id per line is refused.

    Besides the construction checks, two safety nets work with any
    pipeline: mmseg's ``LoadImageFromFile`` and ``LoadAnnotations`` are
    replaced by their checked twins (``check_labels=True``), another
    ``LoadAnnotations`` subclass gets a ``CheckLabelRange`` after it, and an
    unexpected exception in a sample's pipeline is re-raised as
    :class:`SampleLoadError` naming the sample's image and mask files.

    Args:
        check_labels (bool): Arm the pipeline with the checked loaders.
            False keeps the pipeline exactly as configured. Defaults to True.
    """
    LAYOUT: str = ''

    def __init__(self, *args, check_labels: bool = True, **kwargs) -> None:
        self.check_labels = check_labels
        super().__init__(*args, **kwargs)
        if check_labels:
            self._arm_pipeline()

    # -- construction ------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """The samples of the split, between the layout and pairing checks.

        Returns:
            list[dict]: As mmseg's ``BaseSegDataset.load_data_list``.
        """
        name = type(self).__name__
        check_data_root(self.data_root, name, self.LAYOUT)
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = self.data_prefix.get('seg_map_path', None)
        check_dir(img_dir, name, 'image folder', self.LAYOUT)
        if ann_dir:
            check_dir(ann_dir, name, 'mask folder', self.LAYOUT)
        use_split = bool(self.ann_file) and not osp.isdir(self.ann_file)
        if use_split:
            check_split_file(self.ann_file, name)
        images = self._by_stem(img_dir, self.img_suffix)
        masks = self._by_stem(ann_dir, self.seg_map_suffix) if ann_dir \
            else {}
        if use_split:
            entries = read_split_entries(self.ann_file)
            check_split_entries(entries, self.ann_file, name,
                                lambda stem: stem in images)
            stems = [stem for _, stem in entries]
            source = f'split file {self.ann_file}'
        else:
            stems = sorted(images, key=lambda s: images[s])
            source = (f'{img_dir} (files ending with {self.img_suffix!r}, '
                      'any case)')
        data_list = []
        for stem in stems:
            info = dict(
                img_path=osp.join(img_dir,
                                  images.get(stem, stem + self.img_suffix)))
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(
                    ann_dir, masks.get(stem, stem + self.seg_map_suffix))
            info['label_map'] = self.label_map
            info['reduce_zero_label'] = self.reduce_zero_label
            info['seg_fields'] = []
            data_list.append(info)
        check_not_empty(data_list, name, source)
        orphans = []
        if ann_dir and not use_split:
            orphans = [
                osp.join(ann_dir, f) for stem, f in sorted(masks.items())
                if stem not in images
            ]
        check_pairs(data_list, name, orphans)
        return data_list

    @staticmethod
    def _by_stem(folder: str, suffix: str) -> Dict[str, str]:
        """``{name without suffix: file name}`` of a folder, recursively.

        When both cases exist (``a.png`` and ``a.PNG``) the one spelled as
        the configured suffix wins, as mmseg would pick it.
        """
        found: Dict[str, str] = {}
        for f in list_files(folder, suffix):
            stem = split_suffix(f, suffix)
            if stem not in found or f.endswith(suffix):
                found[stem] = f
        return found

    def get_data_info(self, idx: int) -> dict:
        """Sample info plus what the label check needs (not serialized)."""
        data_info = super().get_data_info(idx)
        data_info.setdefault('num_classes', len(self.metainfo['classes']))
        data_info.setdefault('ignore_index', self.ignore_index)
        return data_info

    def _arm_pipeline(self) -> None:
        """Replace mmseg's loaders by the checked ones.

        A ``LoadAnnotations`` subclass that is not mmseg's own (it may read
        masks differently) is kept, with a ``CheckLabelRange`` after it,
        unless the pipeline checks labels already.
        """
        transforms = self.pipeline.transforms
        if arm_transforms(transforms):
            print_log(
                f'{type(self).__name__}: loading with the checked loaders '
                '(LoadCheckedImageFromFile, LoadCheckedAnnotations) in place '
                "of mmseg's; check_labels=False keeps mmseg's.",
                logger='current',
                level=10)  # DEBUG: every dataset of the package does it
        if any(
                isinstance(t, (CheckLabelRange, LoadCheckedAnnotations))
                for t in transforms):
            return
        for i, t in enumerate(transforms):
            if isinstance(t, LoadAnnotations):
                transforms.insert(i + 1, CheckLabelRange())
                print_log(
                    f'{type(self).__name__}: added CheckLabelRange after '
                    f'{type(t).__name__} (use LoadAnnotations or '
                    'LoadCheckedAnnotations in the pipeline to choose where '
                    'labels are checked).',
                    logger='current')
                return

    # -- loading -----------------------------------------------------------
    def prepare_data(self, idx: int):
        """Run the pipeline; unexpected errors name the sample's files."""
        data_info = self.get_data_info(idx)
        try:
            return self.pipeline(data_info)
        except DatasetError:
            raise
        except Exception as e:
            raise SampleLoadError(
                f'{type(self).__name__}: sample {idx} failed in the pipeline '
                f'(image {data_info.get("img_path")}, mask '
                f'{data_info.get("seg_map_path")}): {type(e).__name__}: {e}. '
                'Fix: check these files (open them, compare their sizes), '
                'or remove the sample from the split.') from e
