"""Experiment protocols of the package's results pages.

Not imported by ``import mmseg_seggan``: the scripts in
``tools/experiments/`` import it. :mod:`.protocol` runs a graph of stages
(the product's own ``tools/train.py`` / ``tools/test.py``) resumably and
refuses to reuse a stage whose settings changed; :mod:`.seggan_protocol`
and :mod:`.semi_protocol` are the two protocols; :mod:`.summary` makes
their tables; :mod:`.records` reads mmengine's JSON logs;
:mod:`.carried_record` exports a record off its machine and pools exported
records whose stages started from bit-identical weights.
"""
