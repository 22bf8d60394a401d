from .inference_loading import ConvertImageToBGR, LoadImageForInference
from .loading import (CheckLabelRange, LoadCheckedAnnotations,
                      LoadCheckedImageFromFile, check_image_bytes)

__all__ = [
    'CheckLabelRange', 'LoadCheckedAnnotations', 'LoadCheckedImageFromFile',
    'check_image_bytes', 'ConvertImageToBGR', 'LoadImageForInference'
]
