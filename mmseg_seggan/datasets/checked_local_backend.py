"""A local file backend that names an empty or too large image file.

mmseg's ``MMSegInferencer`` finds the test dataloader's loader by its name,
``LoadImageFromFile``, and swaps in its ``InferencerLoader``, which builds
mmcv's loader with the same arguments; for an empty file OpenCV then fails
with ``cv2.error ... !buf.empty() in function 'imdecode_'`` and no file
name. The package's test pipelines give that loader
``backend_args=dict(backend='checked_local')``: the bytes are read here, and
an empty file is refused with its path and the fix, and so is an image
over the pixel limit (from its header, before decoding). Missing files keep
Python's ``FileNotFoundError`` (it names the path), undecodable ones mmcv's
``failed to load image: <path>``.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .validation import CorruptImageError, check_image_header


@register_backend('checked_local')
class CheckedLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend``; ``get`` refuses an empty file and an
    image over :func:`~mmseg_seggan.datasets.validation.check_pixels`."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        data = super().get(filepath)
        if not data:
            raise CorruptImageError(
                f'{filepath} is empty (0 bytes), not an image. Fix: pass an '
                'image file (PNG, JPEG, ...) or an HxWx3 BGR uint8 array; '
                're-copy the file if it should hold an image.')
        check_image_header(data, str(filepath))
        return data
