"""One module per command's job; review_cls/<cmd>.py is the @hydra.main shim that runs it."""
