from .check_seg_sample import CheckSegSample, check_file_complete
from .loading import LoadStanfordBackgroundAnnotations

__all__ = [
    'CheckSegSample', 'LoadStanfordBackgroundAnnotations',
    'check_file_complete'
]
