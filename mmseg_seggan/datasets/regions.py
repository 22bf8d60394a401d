import gzip
import io
import warnings
import zlib
from typing import Optional

import numpy as np

from .validation import (CorruptImageError, RegionsFormatError,
                         check_label_values)

NUM_CLASSES = 8  # Stanford Background's labels 0..7; -1 = unknown
REGIONS_SUFFIXES = ('.regions.txt', '.regions.txt.gz')


def is_regions_file(path: str) -> bool:
    """Whether ``path`` is a raw Stanford ``*.regions.txt(.gz)`` label."""
    return path.lower().endswith(REGIONS_SUFFIXES)


def read_regions_txt(path: str,
                     num_classes: Optional[int] = NUM_CLASSES,
                     ignore_index: int = 255) -> np.ndarray:
    """A raw ``.regions.txt(.gz)`` label as uint8, -1 as ``ignore_index``."""
    try:
        with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptImageError(
            f'{path} cannot be read ({type(e).__name__}: {e}). Fix: re-copy '
            'it from the original download.') from e
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # loadtxt warns on empty input
            mat = np.loadtxt(io.BytesIO(raw), dtype=np.int64, ndmin=2)
    except ValueError as e:
        raise RegionsFormatError(
            f'{path} is not a whitespace-separated integer matrix: {e}. Fix: '
            'restore the original file (one row of integers per image row, '
            '-1 = unknown, 0..7 = classes).') from e
    if mat.size == 0:
        raise RegionsFormatError(
            f'{path} holds no values (0x0 matrix). Fix: restore the '
            'original file.')
    check_label_values(mat, num_classes or 255, -1, path)
    mask = mat.astype(np.uint8)  # -1 wraps to 255 ...
    if ignore_index != 255:
        mask[mat == -1] = ignore_index  # ... unless another ignore is used
    return mask
