from .reconstruction_panel import (NUM_TILES, PANEL_TITLES, colorize_mask,
                                   contact_sheet, error_heatmap, pixel_rms,
                                   reconstruction_panel, to_uint8_image,
                                   view_panels)

__all__ = [
    'NUM_TILES', 'PANEL_TITLES', 'colorize_mask', 'contact_sheet',
    'error_heatmap', 'pixel_rms', 'reconstruction_panel', 'to_uint8_image',
    'view_panels'
]
