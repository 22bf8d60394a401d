from .ddp import broadcast_module_state, unwrap
from .nonfinite_loss import NonFiniteLossError, NonFiniteLossPolicy

__all__ = [
    'unwrap', 'broadcast_module_state', 'NonFiniteLossError',
    'NonFiniteLossPolicy'
]
