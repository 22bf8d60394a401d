"""Stanford Background's raw label format, ``<id>.regions.txt(.gz)``.

A reader below the transforms and the dataset:
``LoadStanfordBackgroundAnnotations`` parses these files at load time, the
converter once for all.
"""
import gzip
import io
import warnings
import zlib
from typing import Optional

import numpy as np

from .validation import CorruptImageError, LabelValueError, RegionsFormatError

NUM_CLASSES = 8  # Stanford Background's labels 0..7; -1 = unknown
REGIONS_SUFFIXES = ('.regions.txt', '.regions.txt.gz')


def is_regions_file(path: str) -> bool:
    """Whether ``path`` is a raw Stanford ``*.regions.txt(.gz)`` label."""
    return path.lower().endswith(REGIONS_SUFFIXES)


def read_regions_txt(path: str,
                     num_classes: Optional[int] = NUM_CLASSES,
                     ignore_index: int = 255) -> np.ndarray:
    """Read a ``*.regions.txt`` or ``*.regions.txt.gz`` label as a mask.

    Args:
        path: The file (gzip is recognised by the ``.gz`` suffix).
        num_classes: Values must lie in ``[-1, num_classes)``; None checks
            only that they fit a uint8 mask.
        ignore_index: What ``-1`` (unknown) becomes.

    Returns:
        np.ndarray: uint8 mask (rows x columns of the matrix).

    Raises:
        CorruptImageError: The file cannot be read or decompressed.
        RegionsFormatError: Not a rectangular whitespace-separated integer
            matrix (ragged rows, non-integers, empty).
        LabelValueError: A value outside ``[-1, num_classes)``.
    """
    try:
        if path.endswith('.gz'):
            with gzip.open(path, 'rb') as f:
                raw = f.read()
        else:
            with open(path, 'rb') as f:
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
    high = num_classes - 1 if num_classes else 254
    if mat.min() < -1 or mat.max() > high:
        values, counts = np.unique(
            mat[(mat < -1) | (mat > high)], return_counts=True)
        found = ', '.join(f'{v} ({c} px)'
                          for v, c in zip(values.tolist(), counts.tolist()))
        raise LabelValueError(
            f'{path} holds label value(s) {found}; Stanford Background '
            f'labels are -1 (unknown) and 0..{high}. Fix: correct the file '
            'or restore the original.')
    mask = mat.astype(np.uint8)  # -1 wraps to 255 ...
    if ignore_index != 255:
        mask[mat == -1] = ignore_index  # ... unless another ignore is used
    return mask


__all__ = [
    'NUM_CLASSES', 'REGIONS_SUFFIXES', 'is_regions_file', 'read_regions_txt'
]
