from .reconstruction_panel import (NUM_TILES, colorize_mask, contact_sheet,
                                   reconstruction_panel, view_panels)

__all__ = [
    'NUM_TILES', 'colorize_mask', 'contact_sheet', 'reconstruction_panel',
    'view_panels'
]
