"""The classifier: backbone loading, focal loss and the LightningModule."""
