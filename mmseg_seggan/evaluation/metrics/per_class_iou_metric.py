"""mmseg's ``IoUMetric`` that also returns the per-class table it logs."""
import math
from typing import Dict

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """``IoUMetric`` plus ``per_class`` (``{class: {'IoU': .., 'Acc': ..}}``,
    percent, NaN as None) for mmengine's JSON log; same means."""

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
