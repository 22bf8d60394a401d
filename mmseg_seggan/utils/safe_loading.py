"""Install every checkpoint-loading safeguard into mmengine at once.

Kept apart from the modules it wires together, so that none of them has
to import another "upwards": :mod:`.checkpoint` (the weights-only loader and
its errors) imports no sibling, :mod:`.checkpoint_shapes` and
:mod:`.resume` import :mod:`.checkpoint`, and only this module imports all
three.
"""
from .checkpoint import install_weights_only_loader
from .checkpoint_shapes import install_strict_shape_check
from .resume import install_resume_fallback


def register_safe_checkpoint_loading() -> None:
    """Install safe checkpoint loading into mmengine (idempotent).

    * the plain pickle form of ``HistoryBuffer`` and the numpy allow-list,
      and the weights-only loader for local paths (:mod:`.checkpoint`);
    * the shape check before every ``load_state_dict``
      (:mod:`.checkpoint_shapes`);
    * ``--resume`` falling back to the newest good checkpoint when the
      latest is damaged (:mod:`.resume`).
    """
    install_weights_only_loader()
    install_strict_shape_check()
    install_resume_fallback()


__all__ = ['register_safe_checkpoint_loading']
