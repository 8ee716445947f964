"""Hydra sweeps: a per-run record (``metrics.json``), failed trials that do not stop a sweep, and the sweep summary."""
