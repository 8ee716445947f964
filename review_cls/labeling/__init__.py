"""Labeling loop: find suspected label errors (audit) and pick the next reviews to label (select)."""
