"""What POST /predict accepts, and the check that answers a bad request before LitServe queues it for a worker.

A bad request is answered in the HTTP process with a 4xx whose message names the field, so it never reaches a worker:
inside a batch, one bad request would otherwise fail the good requests batched with it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_cls.serving.serve_settings import RequestLimits

PREDICT_PATH = "/predict"


class PredictRequest(BaseModel):
    """One review as ``text`` (answered with one prediction), or several as ``texts`` (answered with
    ``predictions``, one per text, in order)."""

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"text": "the app crashes at checkout"},
                                                              {"texts": ["late parcel", "refund never came"]}]})

    text: str | None = Field(None, description="one review")
    texts: list[str] | None = Field(None, min_length=1, description="several reviews, predicted in one call")

    @model_validator(mode="after")
    def one_of_text_or_texts(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise PydanticCustomError("text_or_texts", "send 'text' (one review) or 'texts' (a list of reviews), "
                                                       "one of the two")
        return self

    @field_validator("text")
    @classmethod
    def text_within_limit(cls, text: str, info: ValidationInfo) -> str:
        limits = info.context
        if isinstance(limits, RequestLimits) and len(text) > limits.max_text_chars:
            raise PydanticCustomError("text_too_long", "{length} characters; at most {limit} per text",
                                      {"length": len(text), "limit": limits.max_text_chars})
        return text

    @field_validator("texts")
    @classmethod
    def texts_within_limits(cls, texts: list[str], info: ValidationInfo) -> list[str]:
        limits = info.context
        if not isinstance(limits, RequestLimits):
            return texts
        if len(texts) > limits.max_texts:
            raise PydanticCustomError("too_many_texts", "{count} texts; at most {limit} per request: split them",
                                      {"count": len(texts), "limit": limits.max_texts})
        for index, text in enumerate(texts):
            if len(text) > limits.max_text_chars:
                raise PydanticCustomError("text_too_long", "item {index} has {length} characters; at most {limit} "
                                          "per text", {"index": index, "length": len(text),
                                                       "limit": limits.max_text_chars})
        return texts

    @property
    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])

    def response(self, predictions: list[dict[str, Any]]) -> dict[str, Any]:
        """The prediction of ``text``, or ``{"predictions": [...]}`` for ``texts``."""
        return predictions[0] if self.text is not None else {"predictions": predictions}


def request_problem(body: bytes, limits: RequestLimits) -> tuple[int, str] | None:
    """``None`` for a body POST /predict can answer, else the status and the message that names what to change."""
    try:
        PredictRequest.model_validate_json(body, context=limits)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error["type"] == "json_invalid" for error in errors):
            return 400, (f"the body is not JSON ({errors[0]['msg']}): send {{\"text\": \"...\"}} or "
                         "{\"texts\": [\"...\", ...]}")
        return 422, "; ".join(f"{field_name(error['loc'])}: {error['msg']}" for error in errors)
    return None


def field_name(location: tuple[int | str, ...]) -> str:
    """``('texts', 3)`` -> ``texts[3]``; the body itself when pydantic names no field."""
    if not location:
        return "body"
    head, *rest = location
    return str(head) + "".join(f"[{part}]" for part in rest)


class RequestCheck:
    """ASGI middleware: reads each POST /predict body (at most ``limits.max_bytes``), answers a bad one itself, and
    passes a good one on unchanged."""

    def __init__(self, app: ASGIApp, limits: RequestLimits, path: str = PREDICT_PATH) -> None:
        self.app = app
        self.limits = limits
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        problem = media_type_problem(scope)
        body = b"" if problem else await read_body(receive, self.limits.max_bytes)
        if body is None:
            problem = 413, (f"the body is over {self.limits.max_bytes} bytes: send at most {self.limits.max_texts} "
                            f"texts of at most {self.limits.max_text_chars} characters each")
        problem = problem or request_problem(body, self.limits)
        if problem is not None:
            status, message = problem
            await JSONResponse({"detail": message}, status_code=status)(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)


def media_type_problem(scope: Scope) -> tuple[int, str] | None:
    """A body declared as anything but JSON (curl's ``-d`` sends a form unless told otherwise) is a 415."""
    declared = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    if declared and declared != "application/json" and not declared.endswith("+json"):
        return 415, f"Content-Type is {declared}; send the body as JSON with Content-Type: application/json"
    return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` as soon as it passes ``limit`` bytes."""
    parts, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        more = message.get("more_body", False)
    return b"".join(parts)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then listens to the client as before."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again
