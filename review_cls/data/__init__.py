"""Reading, cleaning, splitting, resampling, tokenizing and batching review tables, and the data group's settings
checks."""
