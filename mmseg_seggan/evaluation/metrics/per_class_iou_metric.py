"""mmseg's ``IoUMetric`` that also returns the per-class table.

mmseg prints the per-class IoU/Acc table into the log but returns only the
means, so mmengine's JSON log of a test run (``<timestamp>.json``) lacks
it and scripts had to scrape the printed table. This metric returns it
too, as one non-scalar entry ``per_class`` that mmengine writes into that
JSON file: ``{class: {'IoU': .., 'Acc': ..}}`` in percent, NaN as None.
"""
import math
from typing import Dict

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """``IoUMetric`` plus ``per_class`` in its results (same means)."""

    def compute_metrics(self, results: list) -> Dict[str, object]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        totals = [sum(r) for r in zip(*results)]
        per_metric = self.total_area_to_metrics(*totals, self.metrics,
                                                self.nan_to_num, self.beta)
        per_metric.pop('aAcc', None)
        per_class = {}
        for i, name in enumerate(self.dataset_meta['classes']):
            row = {}
            for key, values in per_metric.items():
                value = float(values[i]) * 100
                row[key] = None if math.isnan(value) else round(value, 2)
            per_class[name] = row
        metrics['per_class'] = per_class
        return metrics
