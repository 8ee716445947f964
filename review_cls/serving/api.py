"""The model behind POST /predict, as a LitServe API: each worker loads it once; a batch of requests is predicted as
one list of texts (length-sorted batches of ``batch_size``) and split back into one response per request, with the
columns predict writes (``predicted_label``, ``confidence``, ``prob_<label>``; multi-label: ``labels``,
``low_confidence``).

No ``from __future__ import annotations`` here: LitServe hands ``decode_request``'s and ``encode_response``'s
annotations to FastAPI, which needs the classes themselves to check the body and write the OpenAPI page."""

import signal
from typing import Any

import pandas as pd
from litserve import LitAPI

from review_cls.inference.prediction_columns import predict_chunk
from review_cls.inference.predictor import load_predictor
from review_cls.serving.requests import PREDICT_PATH, PredictRequest
from review_cls.serving.serve_settings import ServeSettings

TEXT = "text"


class ReviewAPI(LitAPI):
    def __init__(self, settings: ServeSettings) -> None:
        super().__init__(max_batch_size=settings.max_batch_size, batch_timeout=settings.batch_timeout,
                         api_path=PREDICT_PATH)
        self.settings = settings

    def setup(self, device: str) -> None:
        """In each worker process: its threads, then the model on ``device`` (``cpu`` or ``cuda:<n>``). Ctrl+C in a
        terminal reaches every process of the server: the worker ignores it and is stopped by the server once the
        requests in flight are answered."""
        import torch

        settings = self.settings
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if settings.threads:
            torch.set_num_threads(settings.threads)
        self.predictor = load_predictor(settings.ckpt_path, settings.runtime, device, settings.blend)

    def decode_request(self, request: PredictRequest) -> PredictRequest:
        return request

    def batch(self, inputs: list[PredictRequest]) -> list[PredictRequest]:
        return inputs

    def predict(self, x: PredictRequest | list[PredictRequest]) -> dict[str, Any] | list[dict[str, Any]]:
        """One request (``max_batch_size=1``) or a batch of them, predicted in one call."""
        requests = x if isinstance(x, list) else [x]
        rows = self.prediction_rows([text for request in requests for text in request.all_texts])
        responses, start = [], 0
        for request in requests:
            count = len(request.all_texts)
            responses.append(request.response(rows[start : start + count]))
            start += count
        return responses if isinstance(x, list) else responses[0]

    def unbatch(self, output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return output

    def encode_response(self, output: dict[str, Any]) -> dict[str, Any]:
        return output

    def prediction_rows(self, texts: list[str]) -> list[dict[str, Any]]:
        """predict's columns for each text, as JSON-ready values (an empty text gets nulls, as in predict)."""
        settings = self.settings
        result = predict_chunk(self.predictor, pd.DataFrame({TEXT: texts}), TEXT, settings.batch_size,
                               settings.label_separator, settings.low_confidence_margin).drop(columns=TEXT)
        numbers = result.select_dtypes("number").columns
        result[numbers] = result[numbers].astype("float64")
        return result.astype(object).where(result.notna(), None).to_dict("records")
