"""``python -m review_cls.serve`` as a client meets it: a real server on 127.0.0.1 (a free port, a subprocess, the tiny
model), real HTTP with httpx: predict's probabilities, batched concurrent requests, a 4xx naming the field for each
bad request with the server serving on after it, health and OpenAPI pages, SIGTERM draining; and the checks made
before a port is taken."""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.prediction_columns import predict_chunk
from review_cls.inference.predictor import load_predictor
from review_cls.jobs.serve import run_server
from review_cls.serving.serve_settings import RequestLimits
from tests.guarantees.test_faults import finish, start
from tests.helpers import CONF_DIR

httpx = pytest.importorskip("httpx")
psutil = pytest.importorskip("psutil")
pytest.importorskip("litserve")

WAIT_S = 540  # a loaded 2-core CI machine: generous, and never part of an assertion about speed
TEXTS = ["the app crashes at checkout", "late parcel, the courier never came", "", "refund price coupon fee",
         "dark mode button is broken", "   "]
MAX_TEXTS, MAX_TEXT_CHARS = 8, 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A ``python -m review_cls.serve`` subprocess on 127.0.0.1 and the URL it answers on."""

    def __init__(self, ckpt: Path, folder: Path, *overrides: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "serve.log"
        command = [sys.executable, "-m", "review_cls.serve", f"ckpt_path={ckpt}", f"port={self.port}", "threads=1",
                   "max_batch_size=8", "batch_timeout=0.05", f"max_texts={MAX_TEXTS}",
                   f"max_text_chars={MAX_TEXT_CHARS}", *overrides]
        self.process = start(command, self.log)
        deadline = time.monotonic() + WAIT_S
        while not self.healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"the server never became healthy:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def post(self, body: object, **kwargs) -> httpx.Response:
        return httpx.post(f"{self.url}/predict", json=body, timeout=60, **kwargs)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return finish(self.process, self.log)


@pytest.fixture(scope="module")
def server(blended_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The checkpoint that records a blend: the server ships what predict ships, the model and its TF-IDF."""
    running = Server(blended_checkpoint, tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def expected(blended_checkpoint: Path) -> pd.DataFrame:
    """predict's columns for TEXTS, computed in this process as ``review_cls.predict`` computes them."""
    predictor = load_predictor(blended_checkpoint, "torch", "cpu")
    return predict_chunk(predictor, pd.DataFrame({"review": TEXTS}), "review", 64).drop(columns="review")


def assert_matches(prediction: dict, row: pd.Series) -> None:
    assert list(prediction) == list(row.index)  # predict's column names, in predict's order
    if pd.isna(row["predicted_label"]):
        assert all(value is None for value in prediction.values())  # an empty text: nulls, as predict's empty cells
        return
    assert prediction["predicted_label"] == row["predicted_label"]
    numbers = [name for name in row.index if name != "predicted_label"]
    np.testing.assert_allclose([prediction[name] for name in numbers], row[numbers].astype(float), rtol=0, atol=1e-6)


def test_one_text_and_a_list_of_texts_get_predicts_columns(server, expected):
    single = server.post({"text": TEXTS[0]})
    assert single.status_code == 200
    assert_matches(single.json(), expected.iloc[0])
    several = server.post({"texts": TEXTS})
    assert several.status_code == 200
    predictions = several.json()["predictions"]
    assert len(predictions) == len(TEXTS)
    for prediction, (_, row) in zip(predictions, expected.iterrows(), strict=True):
        assert_matches(prediction, row)


def test_concurrent_requests_batched_together_each_get_their_own_answer(server, expected):
    bodies = [{"text": text} if i % 2 else {"texts": [text, TEXTS[0]]} for i, text in enumerate(TEXTS * 4)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(server.post, bodies))
    assert [response.status_code for response in responses] == [200] * len(bodies)
    for i, (body, response) in enumerate(zip(bodies, responses, strict=True)):
        row = expected.iloc[i % len(TEXTS)]
        if "text" in body:
            assert_matches(response.json(), row)
        else:
            first, second = response.json()["predictions"]
            assert_matches(first, row)
            assert_matches(second, expected.iloc[0])


@pytest.mark.parametrize(("send", "status", "fragment"), [
    ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "the body is not JSON"),
    ({"content": b'{"text": "a"}', "headers": {"Content-Type": "text/plain"}}, 415, "Content-Type is text/plain"),
    ({"json": {}}, 422, "send 'text' (one review) or 'texts'"),
    ({"json": {"review": "a"}}, 422, "review: Extra inputs are not permitted"),
    ({"json": {"text": "a", "texts": ["b"]}}, 422, "send 'text' (one review) or 'texts'"),
    ({"json": {"texts": []}}, 422, "texts: List should have at least 1 item"),
    ({"json": {"text": 5}}, 422, "text: Input should be a valid string"),
    ({"json": {"texts": ["fine", None]}}, 422, "texts[1]: Input should be a valid string"),
    ({"json": {"texts": "one"}}, 422, "texts: Input should be a valid array"),
    ({"json": {"text": "x" * (MAX_TEXT_CHARS + 1)}}, 422, f"text: {MAX_TEXT_CHARS + 1} characters; at most"),
    ({"json": {"texts": ["a", "x" * (MAX_TEXT_CHARS + 1)]}}, 422, "texts: item 1 has"),
    ({"json": {"texts": ["a"] * (MAX_TEXTS + 1)}}, 422, f"texts: {MAX_TEXTS + 1} texts; at most {MAX_TEXTS}"),
    ({"content": b" " * (RequestLimits(MAX_TEXTS, MAX_TEXT_CHARS).max_bytes + 1),
      "headers": {"Content-Type": "application/json"}}, 413, "the body is over"),
])
def test_a_bad_request_gets_a_4xx_naming_the_field_and_the_server_serves_on(server, expected, send, status, fragment):
    response = httpx.post(f"{server.url}/predict", timeout=60, **send)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    after = server.post({"text": TEXTS[0]})  # no restart: the same worker answers the next request
    assert after.status_code == 200
    assert_matches(after.json(), expected.iloc[0])
    assert "Traceback" not in server.log.read_text()


def test_health_info_and_the_openapi_page(server, blended_checkpoint):
    health = httpx.get(f"{server.url}/health", timeout=10)
    assert (health.status_code, health.text) == (200, "ok")
    model = httpx.get(f"{server.url}/info", timeout=10).json()["model"]
    assert model["labels"] == load_predictor(blended_checkpoint, "torch", "cpu").labels
    assert model["predictor"].startswith("the model blended with its TF-IDF baseline")
    schema = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PredictRequest"}
    assert set(schema["components"]["schemas"]["PredictRequest"]["properties"]) == {"text", "texts"}
    assert "swagger-ui" in httpx.get(f"{server.url}/docs", timeout=10).text


def test_sigterm_answers_the_request_in_flight_then_exits_0(server, expected):
    """Last in the module: it stops the module's server. The request is in flight (its body half sent) when SIGTERM
    arrives; it is answered, and only then does the server exit, with status 0."""
    body = json.dumps({"texts": TEXTS}).encode()
    first_part_sent, stopping = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[:10]
        first_part_sent.set()
        stopping.wait(WAIT_S)
        yield body[10:]

    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(httpx.post, f"{server.url}/predict", content=slow_body(),
                             headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
                             timeout=WAIT_S)
        assert first_part_sent.wait(WAIT_S)
        time.sleep(1)  # slack for the server to read the request's headers; no assertion depends on how long it takes
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + WAIT_S
        while "answering the requests in flight" not in server.log.read_text():
            assert time.monotonic() < deadline and server.process.poll() is None, server.log.read_text()[-3000:]
            time.sleep(0.2)
        stopping.set()
        response = answer.result(timeout=WAIT_S)
    assert response.status_code == 200
    for prediction, (_, row) in zip(response.json()["predictions"], expected.iterrows(), strict=True):
        assert_matches(prediction, row)
    assert finish(server.process, server.log) == 0


def test_sigterm_while_the_workers_start_exits_0_and_leaves_no_process(tiny_checkpoint, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    process = start([sys.executable, "-m", "review_cls.serve", f"ckpt_path={tiny_checkpoint}", f"port={port}"], log)
    deadline = time.monotonic() + WAIT_S
    while "Serving" not in log.read_text():  # logged just before the workers start
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    server, children = psutil.Process(process.pid), set()
    process.send_signal(signal.SIGTERM)
    while process.poll() is None and time.monotonic() < deadline:  # every process it starts, until it exits
        try:
            children.update(server.children(recursive=True))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    assert finish(process, log) == 0
    gone, alive = psutil.wait_procs(children, timeout=60)
    assert not alive, f"processes left running: {[child.pid for child in alive]}"
    assert not [found for found in psutil.process_iter() if f"port={port}" in " ".join(command_line(found))]


def command_line(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def compose_serve(*overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="serve", overrides=list(overrides))


@pytest.mark.parametrize(("overrides", "error", "message"), [
    (["host=localhost"], ConfigError, "host=localhost cannot be bound"),
    (["port=80"], ConfigError, "port must be a whole number >= 1024"),
    (["max_batch_size=0"], ConfigError, "max_batch_size must be a whole number >= 1"),
    (["batch_timeout=60"], ConfigError, "batch_timeout in [0, timeout)"),
    (["runtime=tensorrt"], ConfigError, "runtime=tensorrt is not a runtime"),
    (["blend=maybe"], ConfigError, "blend must be true or false"),
    (["ckpt_path=MISSING"], CheckpointError, "does not exist"),
])
def test_bad_settings_and_checkpoints_stop_before_a_port_is_taken(tiny_checkpoint, tmp_path, overrides, error,
                                                                  message):
    values = [f"ckpt_path={tiny_checkpoint}", f"port={free_port()}",
              *(value.replace("MISSING", str(tmp_path / "none.ckpt")) for value in overrides)]
    with pytest.raises(error, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        run_server(compose_serve(*values))


def test_a_port_in_use_is_named(tiny_checkpoint):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port={port} on 127.0.0.1 cannot be used"):
            run_server(compose_serve(f"ckpt_path={tiny_checkpoint}", f"port={port}"))


def test_without_litserve_the_error_names_the_extra(tiny_checkpoint, monkeypatch):
    monkeypatch.setitem(sys.modules, "litserve", None)  # what an environment without the extra gives
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[serve\]"'):
        run_server(compose_serve(f"ckpt_path={tiny_checkpoint}", f"port={free_port()}"))
