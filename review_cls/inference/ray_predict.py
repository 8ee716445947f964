"""``python -m review_cls.predict engine=ray``: batch predict on Ray Data, on this machine or a cluster.

Read tasks read the input files with the local predict's reader; a pool of actors, each loading the model once, adds
the local predict's columns; write tasks store Parquet parts in a temporary folder that becomes ``output`` only when
every row is written. The insights are then computed from the parts, streaming, as for a local run."""

from __future__ import annotations

import logging
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from review_cls.errors import ConfigError, ReviewClsError
from review_cls.inference.batch_predict import start_summary
from review_cls.inference.blended_predictor import predictor_line
from review_cls.inference.prediction_columns import predict_chunk
from review_cls.inference.prediction_files import insights_folder
from review_cls.inference.prediction_parts import check_output_folder, give_parts_one_schema, part_chunks, part_files
from review_cls.inference.predictor import load_predictor
from review_cls.monitoring.embeddings import model_embedder
from review_cls.reports.html_report import write_report
from review_cls.utils.atomic import atomic_dir
from review_cls.utils.settings import number, whole_number

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from review_cls.inference.ray_io import TableReading

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")
INSTALL_HINT = 'engine=ray needs Ray Data, the ray extra: pip install -e ".[ray]"'


@dataclass(frozen=True)
class RaySettings:
    """The ``ray`` block of conf/predict.yaml: where Ray runs and how the actor pool is sized."""

    address: str | None
    num_cpus: int
    actors: int
    cpus_per_actor: int
    gpus_per_actor: float
    batch_rows: int

    @classmethod
    def from_config(cls, cfg: DictConfig) -> RaySettings:
        """Checked once, before the input is read or Ray started."""
        if cfg.engine not in ENGINES:
            raise ConfigError(f"engine={cfg.engine} is not an engine; use engine=local or engine=ray.")
        block = cfg.ray
        address = block.get("address")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ConfigError(f"ray.address must be null (a local Ray), auto or ray://host:port, got {address!r}.")
        gpus = number(block, "ray", "gpus_per_actor")
        if gpus < 0:
            raise ConfigError(f"ray.gpus_per_actor must be >= 0, got {gpus}.")
        settings = cls(address, whole_number(block, "num_cpus", 1, "ray."), whole_number(block, "actors", 1, "ray."),
                       whole_number(block, "cpus_per_actor", 1, "ray."), gpus,
                       whole_number(block, "batch_rows", 1, "ray."))
        if address is None and settings.cpus_needed > settings.num_cpus:
            raise ConfigError(
                f"ray.actors={settings.actors} x ray.cpus_per_actor={settings.cpus_per_actor} needs "
                f"{settings.cpus_needed} CPUs, but the local Ray gets ray.num_cpus={settings.num_cpus}: lower one of "
                "them or raise ray.num_cpus.")
        return settings

    @property
    def cpus_needed(self) -> int:
        return self.actors * self.cpus_per_actor


@dataclass(frozen=True)
class ReplicaJob:
    """What every actor needs: the model to load (blended with its TF-IDF baseline, as the local predict ships it,
    unless ``blend`` is off), its threads, and the predict settings that shape the columns."""

    ckpt_path: str
    runtime: str
    device: str
    blend: bool
    threads: int
    text_column: str
    batch_size: int
    label_separator: str
    low_confidence_margin: float


class PredictActor:
    """One model replica: loaded once when Ray starts the actor, then called on batch after batch of rows."""

    def __init__(self, job: ReplicaJob) -> None:
        import torch

        torch.set_num_threads(job.threads)
        self.job = job
        self.predictor = load_predictor(job.ckpt_path, job.runtime, job.device, job.blend)

    def __call__(self, rows: pd.DataFrame) -> pa.Table:
        """``rows`` with the local predict's columns added, as the Arrow table a part is written from."""
        import pyarrow as pa

        job = self.job
        result = predict_chunk(self.predictor, rows, job.text_column, job.batch_size, job.label_separator,
                               job.low_confidence_margin)
        return pa.Table.from_pandas(result, preserve_index=False)


@contextmanager
def running_ray(settings: RaySettings) -> Iterator[None]:
    """Ray for the block: a local one with ``num_cpus`` (``address`` null) or the cluster at ``address``; shut down
    (and with it the job's actors and tasks) on the way out, Ctrl+C included. A Ray the caller started is used as it
    is and left running."""
    import ray

    if ray.is_initialized():
        yield
        return
    _start_ray(settings)
    try:
        yield
    except BaseException as stop:
        if not isinstance(stop, Exception):  # Ctrl+C, or SIGTERM as the command turns it into an exception
            log.warning("Interrupted: stopping the Ray job; its tasks and actors end with it.")
        raise
    finally:
        ray.shutdown()


def _start_ray(settings: RaySettings) -> None:
    """``ray.init``, keeping this process's SIGTERM handler (Ray's own would exit without removing the temporary
    output folder or saying what was kept)."""
    import os

    import ray

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main_thread else None
    try:
        if settings.address is None:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local Ray reports nothing anywhere
            ray.init(num_cpus=settings.num_cpus, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=settings.address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"Cannot start or join Ray at ray.address={settings.address}: {exc}") from exc
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    cpus = ray.cluster_resources().get("CPU", 0)
    if cpus < settings.cpus_needed:
        log.warning("The Ray cluster has %g CPUs; %d actors x %d CPUs wait until it has %d.", cpus, settings.actors,
                    settings.cpus_per_actor, settings.cpus_needed)


def write_parts(files: list[Path], reading: TableReading, job: ReplicaJob, settings: RaySettings, folder: Path,
                progress: bool) -> None:
    """Read, predict and write every row once, in input order: parts ``part-<n>-<i>.parquet`` in ``folder``.

    Reading and writing reserve no CPU (they are light next to the model) and run at most one task per actor at a
    time: with every CPU given to the actors they would otherwise never be scheduled."""
    import ray.data

    from review_cls.inference.ray_io import PartNames, TableDatasource

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    rows = ray.data.read_datasource(TableDatasource(files, reading), num_cpus=0,
                                    concurrency=min(settings.actors, len(files)), override_num_blocks=len(files))
    predicted = rows.map_batches(PredictActor, fn_constructor_args=(job,), batch_size=settings.batch_rows,
                                 batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=settings.actors),
                                 num_cpus=settings.cpus_per_actor, num_gpus=settings.gpus_per_actor or None)
    try:
        with warnings.catch_warnings():
            # Ray counts one input per file and warns that the pool cannot fill; a file yields many blocks
            warnings.filterwarnings("ignore", "The (maximum|minimum) number of concurrent", UserWarning)
            predicted.write_parquet(str(folder), filename_provider=PartNames(), mode=ray.data.SaveMode.OVERWRITE,
                                    ray_remote_args={"num_cpus": 0}, concurrency=settings.actors)
    except Exception as exc:
        cause = user_error(exc)
        if cause is None:
            raise
        raise cause from None


def user_error(exc: BaseException) -> ReviewClsError | None:
    """The project's own error (a damaged file, a bad row) inside what Ray raises for a failed task, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "cause", None)
        if isinstance(current, ReviewClsError) and not isinstance(inner, BaseException):
            return current
        current = inner if isinstance(inner, BaseException) else current.__cause__ or current.__context__
    return None


def run_ray_prediction(cfg: DictConfig) -> dict[str, Any]:
    """The ``engine=ray`` predict: the output folder (and insights folder) appear whole or not at all."""
    settings = RaySettings.from_config(cfg)
    try:
        import ray.data  # noqa: F401 - only to say which extra is missing
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    from review_cls.inference.ray_io import TableReading, first_chunk, input_files

    files = input_files(str(cfg.input))
    output = Path(str(cfg.output)).expanduser()
    check_output_folder(output, files, cfg.insights, cfg.overwrite)
    reading = TableReading(cfg.chunk_size, cfg.sheet_name, cfg.encoding, cfg.get("sep"))
    head = first_chunk(files, reading)
    # a bad checkpoint fails here, before Ray; the actors load their own, this one embeds the insights' topics
    predictor = load_predictor(cfg.ckpt_path, cfg.runtime, "cpu", cfg.blend)
    log.info("Predicting with %s.", predictor_line(predictor))
    summary = start_summary(head, cfg, predictor, files[0])
    job = ReplicaJob(str(cfg.ckpt_path), cfg.runtime, cfg.device, cfg.blend, settings.cpus_per_actor,
                     cfg.text_column, cfg.batch_size, cfg.label_separator, cfg.low_confidence_margin)
    source = str(cfg.input) if len(files) > 1 else files[0].name
    log.info("engine=ray: %d file(s), %d actor(s) x %d CPU(s).", len(files), settings.actors, settings.cpus_per_actor)
    with atomic_dir(output) as temporary:
        with running_ray(settings):
            started = time.perf_counter()
            write_parts(files, reading, job, settings, temporary, cfg.progress)
            seconds = time.perf_counter() - started
        parts = part_files(temporary)
        log.info("Ray read, predicted and wrote the rows in %.1f s, the actors' start included (%d parts).", seconds,
                 len(parts))
        give_parts_one_schema(parts, output)
        for chunk in part_chunks(parts, cfg.chunk_size):
            summary.update(chunk)
        if cfg.insights:
            with atomic_dir(insights_folder(output)) as folder:
                summary.write(folder, source, model_embedder(predictor, cfg.batch_size))
                if cfg.report:
                    write_report(summary, folder / "report.html", source, str(cfg.ckpt_path))
    rows = summary.predicted + summary.empty
    if summary.empty:
        log.warning("%d of %d rows have an empty '%s' and got no prediction.", summary.empty, rows, cfg.text_column)
    log.info("Predicted %d reviews -> %s%s", summary.predicted, output,
             f" (insights: {insights_folder(output)})" if cfg.insights else "")
    return {"rows": rows, "predicted": summary.predicted, "empty": summary.empty, "output": str(output)}
