"""The HTTP endpoint of ``python -m review_cls.serve``: its settings, the request checks, and the model worker."""
