from .check_seg_sample import CheckSegSample, check_file_complete
from .inference_loading import ConvertImageToBGR, LoadImageForInference
from .loading import LoadStanfordBackgroundAnnotations

__all__ = [
    'CheckSegSample', 'ConvertImageToBGR', 'LoadImageForInference',
    'LoadStanfordBackgroundAnnotations', 'check_file_complete'
]
