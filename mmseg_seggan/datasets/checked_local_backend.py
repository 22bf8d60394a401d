"""A local file backend that names an empty or too large image file.

``MMSegInferencer`` builds mmcv's ``LoadImageFromFile`` from the test
pipeline, where an empty file gave ``cv2.error ... !buf.empty()`` and no
name; the package's test pipelines give that loader
``backend_args=dict(backend='checked_local')``.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .validation import check_image_bytes


@register_backend('checked_local')
class CheckedLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend``; ``get`` refuses an empty file and an
    image over :func:`~mmseg_seggan.datasets.validation.check_pixels`."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        data = super().get(filepath)
        check_image_bytes(data, str(filepath))
        return data
