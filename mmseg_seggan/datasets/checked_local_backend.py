"""A local file backend that names an empty or too large image file.

``MMSegInferencer`` builds mmcv's loader by name, so the package's test
pipelines check files through ``backend_args=dict(backend='checked_local')``.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .validation import check_image_bytes


@register_backend('checked_local')
class CheckedLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``get`` refuses empty or too large images."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        data = super().get(filepath)
        check_image_bytes(data, str(filepath))
        return data
