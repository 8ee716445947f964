"""Emerging issues and the topics inside each category: streaming counts, tests, phrases, clusters."""
