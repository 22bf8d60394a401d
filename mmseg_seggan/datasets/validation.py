"""Dataset checks: fail early, name the file, say the fix.

A broken data set should stop a run at dataset construction (layout, pairing,
empty split) or, at the latest, when the faulty sample is loaded (corrupt
image, bad label value, mask of the wrong size), never hours later with a
bare ``IndexError: Target 11 is out of bounds`` from the loss.

Every error raised here derives from :class:`DatasetError` and from the
builtin that fits (``FileNotFoundError``, ``ValueError``, ``RuntimeError``),
so callers may catch either.

:class:`CheckedDatasetMixin` brings the checks to any ``BaseSegDataset``
(see ``CamVidDataset``, ``CheckedPascalVOCDataset``):

.. code-block:: none

    __init__ ─> BaseSegDataset.__init__ ─> full_init ─> load_data_list
                                                         ├─ check_data_root
                                                         ├─ check_dir
                                                         ├─ check_split_file
                                                         ├─ mmseg's own listing
                                                         ├─ check_not_empty
                                                         └─ check_pairs
             └─> _arm_pipeline: CheckLabelRange after a plain LoadAnnotations
    __getitem__ ─> prepare_data ─> pipeline (errors re-raised with the files)
"""
import os
import os.path as osp
import re
from typing import Iterable, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

# ----------------------------------------------------------------- errors


class DatasetError(Exception):
    """Base of every data error raised by this package."""


class DataRootNotFoundError(DatasetError, FileNotFoundError):
    """The data root, a required folder in it, or a split file is missing."""


class UnpairedSamplesError(DatasetError, FileNotFoundError):
    """Images without a mask, or masks without an image."""


class EmptySplitError(DatasetError, ValueError):
    """A split (split file or folder) names no sample."""


class CorruptImageError(DatasetError, RuntimeError):
    """An image or mask file is empty, truncated or cannot be decoded."""


class LabelValueError(DatasetError, ValueError):
    """A mask holds a value outside ``[0, num_classes)`` and the ignore."""


class LabelShapeError(DatasetError, ValueError):
    """A mask (or regions.txt matrix) does not have its image's size."""


class RegionsFormatError(DatasetError, ValueError):
    """A ``*.regions.txt`` file is not a rectangular integer matrix."""


class NumClassesMismatchError(DatasetError, ValueError):
    """The model's ``num_classes`` disagrees with the dataset's classes."""


class SampleLoadError(DatasetError, RuntimeError):
    """Any other failure in a sample's pipeline, re-raised with its files."""


# ----------------------------------------------------------------- helpers


def format_names(names: Sequence[str], limit: int = 10) -> str:
    """``a, b, c`` or ``a, b, ... (25 in all)`` for long lists."""
    names = list(names)
    shown = ', '.join(names[:limit])
    if len(names) > limit:
        shown += f', ... ({len(names)} in all)'
    return shown


def _override_hint(key: str = 'data_root') -> str:
    return ('--cfg-options train_dataloader.dataset.{k}=... '
            'val_dataloader.dataset.{k}=... '
            'test_dataloader.dataset.{k}=...').format(k=key)


def check_data_root(data_root: Optional[str],
                    dataset: str,
                    layout: str = '') -> None:
    """Raise if ``data_root`` is not a folder, showing the expected layout.

    Args:
        data_root: The dataset's ``data_root`` (may be None: nothing to do).
        dataset: The dataset class name, for the message.
        layout: The expected folder tree, printed in the message.

    Raises:
        DataRootNotFoundError: The folder does not exist.
    """
    if data_root is None or osp.isdir(data_root):
        return
    what = 'a broken symlink' if osp.islink(data_root) else 'missing'
    msg = (f'{dataset}: data root {data_root!r} is {what} '
           f'(absolute: {osp.abspath(data_root)}).')
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    msg += (' Fix: put the data there (a symlink is enough, e.g. '
            f'`ln -s /path/to/your/copy {data_root}`), or point the config '
            f'at it with {_override_hint()}. See docs/datasets.md.')
    raise DataRootNotFoundError(msg)


def check_dir(path: str, dataset: str, what: str, layout: str = '') -> None:
    """Raise if a required folder (``what``: e.g. 'image folder') is missing.

    Raises:
        DataRootNotFoundError: ``path`` is not a folder.
    """
    if osp.isdir(path):
        return
    msg = f'{dataset}: {what} {path!r} does not exist.'
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    msg += (' Fix: check data_root and data_prefix in the config; '
            'docs/datasets.md shows how to prepare this dataset.')
    raise DataRootNotFoundError(msg)


def check_split_file(path: str, dataset: str) -> None:
    """Raise if a split (``ann_file``) is given but is not a file.

    Raises:
        DataRootNotFoundError: ``path`` is not a file.
    """
    if osp.isfile(path):
        return
    raise DataRootNotFoundError(
        f'{dataset}: split file (ann_file) {path!r} does not exist. Fix: '
        'create it (one sample name per line, without suffix), set ann_file '
        "to an existing file, or set ann_file='' to use every sample in the "
        'image folder.')


def read_split_file(path: str) -> List[str]:
    """Sample names of a split file: one per line; blanks and ``#`` skipped.

    Args:
        path: The split file.

    Returns:
        list[str]: The names, in file order.
    """
    names = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                names.append(line)
    return names


def read_split_seed(path: str) -> Optional[int]:
    """The ``seed=S`` recorded in a split file's ``#`` header, if any."""
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.startswith('#'):
                break
            match = re.search(r'seed\s*=\s*(-?\d+)', line)
            if match:
                return int(match.group(1))
    return None


def check_not_empty(data_list: Sequence, dataset: str, source: str) -> None:
    """Raise if a split has no sample.

    Args:
        data_list: The loaded sample list.
        dataset: The dataset class name.
        source: Where the samples came from (a split file or a folder and
            suffix), named in the message.

    Raises:
        EmptySplitError: ``data_list`` is empty.
    """
    if len(data_list):
        return
    raise EmptySplitError(
        f'{dataset}: the split is empty: no sample found in {source}. Fix: '
        'check data_root, data_prefix, ann_file and the file suffixes '
        '(img_suffix, seg_map_suffix) in the config.')


def list_files(folder: str, suffix: str) -> List[str]:
    """Paths relative to ``folder`` of the files ending with ``suffix``."""
    found = []
    for root, _, files in os.walk(folder, followlinks=True):
        rel_root = osp.relpath(root, folder)
        for name in files:
            if name.endswith(suffix):
                found.append(name if rel_root ==
                             '.' else osp.join(rel_root, name))
    return sorted(found)


def check_pairs(data_list: Sequence[dict],
                dataset: str,
                orphan_masks: Iterable[str] = ()) -> None:
    """Raise if a sample's image or mask file is missing.

    Args:
        data_list: Sample infos with ``img_path`` and ``seg_map_path``.
        dataset: The dataset class name.
        orphan_masks: Mask files found without their image (the caller
            lists them when it scanned the mask folder).

    Raises:
        UnpairedSamplesError: Listing the names on each side.
    """
    no_image = [
        d['img_path'] for d in data_list if not osp.isfile(d['img_path'])
    ]
    no_mask = [
        d['img_path'] for d in data_list
        if d.get('seg_map_path') and not osp.isfile(d['seg_map_path'])
    ]
    orphan_masks = list(orphan_masks)
    if not (no_image or no_mask or orphan_masks):
        return
    parts = []
    if no_mask:
        unpaired = set(no_mask)
        expected = [
            d['seg_map_path'] for d in data_list if d['img_path'] in unpaired
        ]
        parts.append(f'{len(no_mask)} image(s) without a mask: '
                     f'{format_names(no_mask)} (expected: '
                     f'{format_names(expected, 3)})')
    if no_image:
        parts.append(f'{len(no_image)} sample(s) whose image is missing: '
                     f'{format_names(no_image)}')
    if orphan_masks:
        parts.append(f'{len(orphan_masks)} mask(s) without an image: '
                     f'{format_names(orphan_masks)}')
    raise UnpairedSamplesError(
        f'{dataset}: images and masks do not pair up. ' + '; '.join(parts) +
        '. Fix: restore the missing files, or remove the unpaired ones '
        '(and their lines in the split file).')


def check_label_values(seg_map: np.ndarray,
                       num_classes: int,
                       ignore_index: int,
                       path: str,
                       classes: Optional[Sequence[str]] = None) -> None:
    """Raise if a mask holds a value outside ``[0, num_classes)`` + ignore.

    For a uint8 mask two vectorised counts settle the usual case (every
    value above the classes is the ignore value), about 0.04 ms for a
    480x360 mask; ``np.bincount`` runs only to word the error.

    Args:
        seg_map: The mask, after any label mapping (uint8 or int).
        num_classes: Number of classes of the dataset.
        ignore_index: The ignored label (usually 255).
        path: The mask's file, named in the message.
        classes: Class names, for the message.

    Raises:
        LabelValueError: Naming the file, the bad values and their counts.
    """
    if seg_map.dtype == np.uint8:
        high = np.count_nonzero(seg_map >= num_classes)
        if not high or (num_classes <= ignore_index < 256
                        and high == np.count_nonzero(seg_map == ignore_index)):
            return
        counts = np.bincount(seg_map.ravel(), minlength=256)
        counts[:num_classes] = 0
        if 0 <= ignore_index < 256:
            counts[ignore_index] = 0
        bad = np.flatnonzero(counts)
        if not bad.size:
            return
        bad_counts = counts[bad]
    else:
        values, value_counts = np.unique(seg_map, return_counts=True)
        keep = ((values < 0) | (values >= num_classes)) & \
            (values != ignore_index)
        if not keep.any():
            return
        bad, bad_counts = values[keep], value_counts[keep]
    found = ', '.join(f'{v} ({c} px)'
                      for v, c in zip(bad.tolist(), bad_counts.tolist()))
    names = f' ({", ".join(classes)})' if classes else ''
    raise LabelValueError(
        f'Mask {path} holds label value(s) {found}, outside the '
        f'{num_classes} classes 0..{num_classes - 1}{names} and the ignore '
        f'value {ignore_index}. Fix: correct or remove this mask, map the '
        'value to a class or to the ignore value, or if the dataset really '
        'has more classes, change its classes and model.decode_head.'
        'num_classes.')


def check_mask_shape(mask_shape: Sequence[int], image_shape: Sequence[int],
                     mask_path: str, image_path: Optional[str]) -> None:
    """Raise if a mask is not the size of its image (both are named).

    Raises:
        LabelShapeError: With both shapes as rows x columns.
    """
    if tuple(mask_shape[:2]) == tuple(image_shape[:2]):
        return
    raise LabelShapeError(
        f'Mask {mask_path} is {mask_shape[0]}x{mask_shape[1]} (rows x '
        f'columns) but its image {image_path} is {image_shape[0]}x'
        f'{image_shape[1]}. Fix: regenerate the mask at the image size, or '
        'remove the pair from the split.')


# ----------------------------------------------------------------- mixin


class CheckedDatasetMixin:
    """Construction-time and load-time checks for a ``BaseSegDataset``.

    Put it first in the bases (``class X(CheckedDatasetMixin,
    BaseSegDataset)``). A subclass may set ``LAYOUT`` (the expected folder
    tree, shown when the data root is missing).

    Besides the construction checks, two safety nets work with any
    pipeline: a plain ``LoadAnnotations`` gets a ``CheckLabelRange`` right
    after it (``check_labels=True``), and an unexpected exception in a
    sample's pipeline is re-raised as :class:`SampleLoadError` naming the
    sample's image and mask files.

    Args:
        check_labels (bool): Arm the pipeline with the label range check.
            Defaults to True.
    """
    LAYOUT: str = ''

    def __init__(self, *args, check_labels: bool = True, **kwargs) -> None:
        self.check_labels = check_labels
        super().__init__(*args, **kwargs)
        if check_labels:
            self._arm_pipeline()

    # -- construction ------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """mmseg's listing, surrounded by the layout and pairing checks."""
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
        data_list = super().load_data_list()
        source = (f'split file {self.ann_file}' if use_split else
                  f'{img_dir} (files ending with {self.img_suffix!r})')
        check_not_empty(data_list, name, source)
        orphans = []
        if ann_dir and not use_split:
            images = {d['img_path'] for d in data_list}
            for mask in list_files(ann_dir, self.seg_map_suffix):
                stem = mask[:-len(self.seg_map_suffix)]
                if osp.join(img_dir, stem + self.img_suffix) not in images:
                    orphans.append(osp.join(ann_dir, mask))
        check_pairs(data_list, name, orphans)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """Sample info plus what the label check needs (not serialized)."""
        data_info = super().get_data_info(idx)
        data_info.setdefault('num_classes', len(self.metainfo['classes']))
        data_info.setdefault('ignore_index', self.ignore_index)
        return data_info

    def _arm_pipeline(self) -> None:
        """Insert ``CheckLabelRange`` after a plain mmseg ``LoadAnnotations``.

        Only when the pipeline checks no labels itself (it holds no
        ``LoadCheckedAnnotations`` or ``CheckLabelRange``).
        """
        from mmseg.datasets.transforms import LoadAnnotations

        from .transforms import CheckLabelRange, LoadCheckedAnnotations
        transforms = self.pipeline.transforms
        if any(
                isinstance(t, (CheckLabelRange, LoadCheckedAnnotations))
                for t in transforms):
            return
        for i, t in enumerate(transforms):
            if isinstance(t, LoadAnnotations):
                transforms.insert(i + 1, CheckLabelRange())
                print_log(
                    f'{type(self).__name__}: added CheckLabelRange after '
                    'LoadAnnotations (use LoadCheckedAnnotations in the '
                    'pipeline to choose where labels are checked).',
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
