"""The ``review_cls.serve`` job: the model behind LitServe (FastAPI, dynamic batching, worker processes) until
SIGTERM or Ctrl+C, which finish the requests in flight before the server exits 0."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from review_cls.errors import ConfigError
from review_cls.inference.blended_predictor import predictor_line
from review_cls.inference.predictor import load_predictor
from review_cls.serving.serve_settings import ServeSettings
from review_cls.serving.server import build_server, check_port_free, stops_drain
from review_cls.utils.settings import require_settings

log = logging.getLogger(__name__)
USAGE = "python -m review_cls.serve ckpt_path=models/reviews"
INSTALL_HINT = 'python -m review_cls.serve needs LitServe, the serve extra: pip install -e ".[serve]"'


def run_server(cfg: DictConfig) -> None:
    """Serve until stopped; a bad setting or checkpoint is an ``error:`` line before any port is taken."""
    require_settings(cfg, ("ckpt_path",), USAGE)
    settings = ServeSettings.from_config(cfg)
    check_port_free(settings.host, settings.port)
    try:
        import litserve  # noqa: F401 - only to say which extra is missing
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    # checked here, not in a worker: a bad checkpoint or TF-IDF file is an error line, not a worker that dies
    predictor = load_predictor(settings.ckpt_path, settings.runtime, "cpu", settings.blend)
    metadata = {"labels": predictor.labels, "multilabel": predictor.task.multilabel, "model": settings.ckpt_path,
                "runtime": settings.runtime, "predictor": predictor_line(predictor)}
    del predictor  # each worker loads its own
    server = build_server(settings, metadata)
    log.info("Serving %s on http://%s:%d (POST /predict, GET /health, docs at /docs).", metadata["predictor"],
             settings.host, settings.port)
    with stops_drain(server):
        server.run(host=settings.host, port=settings.port, generate_client_file=False, access_log=False)
    log.info("Stopped.")
