"""Serve a model over HTTP: POST /predict with {"text": ...} or {"texts": [...]}, GET /health, the OpenAPI page.

    python -m review_cls.serve ckpt_path=path/to/best.ckpt [port=8000 host=127.0.0.1]

``ckpt_path`` may also be a folder written by ``python -m review_cls.export``. See conf/serve.yaml for options.
The job is review_cls/jobs/serve.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("serve")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.serve import run_server

    # SIGTERM is the server's own: it drains the requests in flight and exits 0 (review_cls/serving/server.py)
    return run_command(run_server, cfg, sigterm=False)


if __name__ == "__main__":
    main()
