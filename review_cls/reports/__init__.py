"""What a run leaves behind for a researcher: charts, classification report, predictions, TensorBoard, a summary,
and the insight summary of a prediction run. Pure writers: they take arrays and tables, never a Trainer."""
