"""The request check in front of the workers: what it answers itself, and that a good body reaches the app unchanged."""

from __future__ import annotations

import asyncio
import json

import pytest

from review_cls.serving.requests import PredictRequest, RequestCheck, field_name, request_problem
from review_cls.serving.serve_settings import RequestLimits

httpx = pytest.importorskip("httpx")

LIMITS = RequestLimits(max_texts=3, max_text_chars=10)


def test_a_good_body_is_no_problem_and_names_its_texts():
    assert request_problem(b'{"texts": ["slow app", "late"]}', LIMITS) is None
    assert PredictRequest.model_validate_json(b'{"text": "slow app"}').all_texts == ["slow app"]
    assert PredictRequest(texts=["a", "b"]).response([{"n": 1}, {"n": 2}]) == {"predictions": [{"n": 1}, {"n": 2}]}
    assert PredictRequest(text="a").response([{"n": 1}]) == {"n": 1}


def test_limits_apply_only_where_they_are_given():
    long = json.dumps({"text": "x" * 11}).encode()
    assert request_problem(long, LIMITS) == (422, "text: 11 characters; at most 10 per text")
    assert PredictRequest.model_validate_json(long).text == "x" * 11  # FastAPI's own parse: already checked


@pytest.mark.parametrize(("location", "name"), [((), "body"), (("text",), "text"), (("texts", 2), "texts[2]")])
def test_field_names_read_like_the_json(location, name):
    assert field_name(location) == name


async def echo(scope, receive, send) -> None:
    """An app that answers with the body it received."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def post_all() -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=RequestCheck(echo, LIMITS))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.post(path, content=body) for path, body in (
            ("/predict", b'{"text": "slow app"}'), ("/predict", b'{"texts": ["a", "b", "c", "d"]}'),
            ("/elsewhere", b"not json"), ("/predict", b" " * (LIMITS.max_bytes + 1)))]


def test_the_app_gets_a_good_body_unchanged_and_never_a_bad_one():
    good, bad, other_path, huge = asyncio.run(post_all())
    assert (good.status_code, good.content) == (200, b'{"text": "slow app"}')
    assert bad.status_code == 422 and bad.json()["detail"].startswith("texts: 4 texts; at most 3")
    assert (other_path.status_code, other_path.content) == (200, b"not json")
    assert huge.status_code == 413
