"""Load a trained model (checkpoint or export folder) and predict class probabilities for raw texts."""
