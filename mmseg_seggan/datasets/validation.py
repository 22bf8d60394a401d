import errno
import io
import os
import os.path as osp
import warnings
from typing import Callable, Iterable, List, Optional, Sequence, Union

import numpy as np
from PIL import Image

MAX_PIXELS_ENV = 'MMSEG_SEGGAN_MAX_PIXELS'
DEFAULT_MAX_PIXELS = 8192 * 8192
IMAGE_FIX = ('Fix: pass an image file (PNG, JPEG, ...) or an HxWx3 BGR '
             'uint8 array; re-copy the file if it should hold an image.')
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
_FILE_FIX = ('Fix: re-copy or re-download this file (compare its size with '
             'the original), or remove the sample from the split.')


class DatasetError(Exception):
    """Base of the package's data errors, each also the builtin that fits."""


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
    """Refuse an image over ``MMSEG_SEGGAN_MAX_PIXELS`` (0: no limit)."""
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
    """:func:`check_pixels` from the header; the decoder names the rest."""
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


def check_image_bytes(data: bytes, source: str) -> None:
    """Refuse an empty image file, or one over the pixel limit (header)."""
    if not data:
        raise CorruptImageError(
            f'{source} is empty (0 bytes), not an image. {IMAGE_FIX}')
    check_image_header(data, source)


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
    """Refuse a ``path`` (None: unchecked) that is not a folder."""
    if path is None or osp.isdir(path):
        return
    state = ('a file, not a folder' if osp.exists(path) else
             'a broken symlink' if osp.islink(path) else 'missing')
    msg = f'{dataset}: {what} {path!r} is {state} ({osp.abspath(path)}).'
    if layout:
        msg += f' Expected layout:\n{layout.rstrip()}\n'
    if osp.exists(path):
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
    """The ids of a split file, in order; duplicates and columns refused."""
    if not osp.isfile(path):
        raise DataRootNotFoundError(
            f'{dataset}: split file (ann_file) {path!r} does not exist. Fix: '
            'create it (one sample id per line, without suffix), set '
            "ann_file to an existing file, or set ann_file='' to use every "
            'sample of the image folder.')
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        bom = raw[:2] in (b'\xff\xfe', b'\xfe\xff')
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} is not UTF-8 text '
            f'({"UTF-16, by its byte-order mark" if bom else e}). Fix: save '
            'it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 FILE > FILE.new`).'
        ) from None
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
            f'{dataset}: split file (ann_file) {path}: line {lineno} has '
            f'{len(line.split())} columns ({line!r}; {len(columns)} such '
            'line(s) in all). Expected: one sample per line, the image name '
            "without its suffix. Fix: set ann_file='' to use every image of "
            "data_prefix.img_path, or write the ids, e.g. `awk '{print $1}' "
            'train.txt | xargs -n1 basename -s .png > ids.txt`.')
    dups = [
        f'{i} (lines {", ".join(map(str, nos))})' for i, nos in lines.items()
        if len(nos) > 1
    ]
    if dups:
        raise SplitFileError(
            f'{dataset}: split file (ann_file) {path} names {len(dups)} '
            f'sample(s) more than once: {format_names(dups, 5)}, each trained '
            'on and counted more often. Fix: keep one line per sample (e.g. '
            "`awk '!seen[$0]++' FILE > FILE.new`).")
    return list(lines)


def strip_suffix(name: str, suffix: str) -> str:
    """``name`` without ``suffix``, matched in any case (``.PNG``)."""
    return name[:-len(suffix)] if name.lower().endswith(suffix.lower()) \
        else name


def list_files(folder: str, suffix: str) -> List[str]:
    """Sorted relative paths with ``suffix`` in any case; link loops named."""
    found: List[str] = []

    def loop(link: str, why: str) -> SymlinkLoopError:
        return SymlinkLoopError(
            f'{link} is a symbolic link that {why} (-> '
            f'{os.readlink(link)!r}), so the files under {folder} cannot be '
            'listed. Fix: remove or correct this link (`ls -l` shows where '
            'it points).')

    def walk(path: str, rel: str, above: frozenset, link: Optional[str]):
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
    """Refuse an empty split, missing files and ``orphan_masks``."""
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


def check_file_complete(path: str) -> bytes:
    """Refuse an empty or truncated file (OpenCV decodes a cut JPEG with grey
    rows, only warning); return its first 32 bytes, b'' if not local."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return b''
    with open(path, 'rb') as f:
        head = f.read(32)
        f.seek(max(0, size - 1024))
        tail = f.read()
    if not size:
        raise CorruptImageError(f'{path} is empty (0 bytes). {_FILE_FIX}')
    if head.startswith(b'\xff\xd8') and b'\xff\xd9' not in tail:
        raise CorruptImageError(
            f'{path} is a truncated JPEG: no end-of-image marker (FFD9) '
            f'after {size} bytes. {_FILE_FIX}')
    if head.startswith(PNG_MAGIC) and b'IEND' not in tail[-64:]:
        raise CorruptImageError(f'{path} is a truncated PNG: no IEND chunk '
                                f'after {size} bytes. {_FILE_FIX}')
    return head


def check_label_values(seg_map: np.ndarray,
                       num_classes: int,
                       ignore_index: int,
                       path: str,
                       classes: Optional[Sequence[str]] = None) -> None:
    """Refuse a value outside ``[0, num_classes)`` and the ignore."""
    if seg_map.dtype == np.uint8:
        high = np.count_nonzero(seg_map >= num_classes)
        if not high or (ignore_index >= num_classes
                        and high == np.count_nonzero(seg_map == ignore_index)):
            return
    values, counts = np.unique(seg_map, return_counts=True)
    bad = ((values < 0) | (values >= num_classes)) & (values != ignore_index)
    if not bad.any():
        return
    found = ', '.join(
        f'{v} ({c} px)'
        for v, c in zip(values[bad].tolist(), counts[bad].tolist()))
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
    """Refuse a mask that is not its image's size."""
    if tuple(mask_shape[:2]) != tuple(image_shape[:2]):
        raise LabelShapeError(
            f'Mask {mask_path} is {mask_shape[0]}x{mask_shape[1]} (rows x '
            f'columns) but its image {image_path} is {image_shape[0]}x'
            f'{image_shape[1]}. Fix: regenerate the mask at the image size, '
            'or remove the pair from the split.')
