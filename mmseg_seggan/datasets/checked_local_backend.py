from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .validation import check_image_bytes


@register_backend('checked_local')
class CheckedLocalBackend(LocalBackend):
    """``LocalBackend`` refusing empty or too large images; the test pipelines
    select it for the loader ``MMSegInferencer`` builds by name."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        data = super().get(filepath)
        check_image_bytes(data, str(filepath))
        return data
