"""Reading, cleaning, splitting, resampling and batching review tables."""
