"""One module per command's job; review_cls/<cmd>.py is the shim (``@command``, Hydra's main) that runs it."""
