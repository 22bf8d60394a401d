from .efficientnet_lite import EfficientNetLite
from .efficientnet_lite_weights import (MissingPretrainedWeightsError,
                                        convert_efficientnet_lite_keys,
                                        efficientnet_lite_weights_path)

__all__ = [
    'EfficientNetLite', 'MissingPretrainedWeightsError',
    'convert_efficientnet_lite_keys', 'efficientnet_lite_weights_path'
]
