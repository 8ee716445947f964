"""The classifiers: encoder loading, focal loss, the LightningModule and its factory, the TF-IDF baseline pipeline,
and the model group's settings checks."""
