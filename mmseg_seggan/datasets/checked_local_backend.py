"""A local file backend that names an empty or too large image file.

``MMSegInferencer`` builds mmcv's ``LoadImageFromFile`` (found by name in
the test dataloader's pipeline), where an empty file gave ``cv2.error ...
!buf.empty()`` and no name. The package's test pipelines give that loader
``backend_args=dict(backend='checked_local')``: the bytes are read here, an
empty file and an image over the pixel limit (from its header) are refused
with the path and the fix.
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
