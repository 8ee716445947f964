"""What a run leaves behind for a researcher: charts, classification report, predictions, TensorBoard, a summary."""

from review_cls.reports.history import EpochHistory
from review_cls.reports.prediction_reports import write_prediction_reports

__all__ = ["EpochHistory", "write_prediction_reports"]
