"""The bundled models load offline and do their job; the HTTP backend speaks the OpenAI API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import numpy as np
import pytest

from ranker.encoders import resolve_device
from ranker.llm import LlamaCppBackend, LLMError, OpenAICompatibleBackend, load_llm


def test_bundled_encoder_embeds_offline(encoder):
    vectors = encoder.encode(["A man in a suit on a desert island.", "Two cats at a bar."])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert encoder.name == "all-MiniLM-L6-v2"


def test_encoder_cache_returns_identical_vectors(encoder):
    text = "I told you the soup was haunted."
    first = encoder.encode([text])
    assert text in encoder._cache
    np.testing.assert_array_equal(encoder.encode([text, text]), np.vstack([first, first]))
    assert encoder.encode([]).shape == (0, 384)


def test_similar_captions_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode(
        ["The soup is cold again.", "My soup has gone cold.", "The jury is still out."]
    )
    assert a @ b > a @ c


def test_device_auto_falls_back_to_cpu_and_respects_overrides():
    import torch

    assert resolve_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


@pytest.fixture(scope="module")
def gemma():
    return LlamaCppBackend(n_ctx=256, seed=1)


def test_bundled_gemma_generates(gemma):
    prompt = 'New Yorker cartoon captions:\n1. "I told you the soup was haunted."\n2. "'
    completions = gemma.generate(prompt, max_tokens=12, temperature=0.8, n=2, stop=["\n"])
    assert len(completions) == 2
    assert all(isinstance(text, str) for text in completions)
    assert any(text.strip() for text in completions)
    assert all("\n" not in text for text in completions)
    assert gemma.n_gpu_layers in (0, -1)


CAPTIONS = 'New Yorker cartoon captions:\n1. "I told you the soup was haunted."\n2. "'


def test_completions_decoded_side_by_side_each_end_at_the_stop(gemma):
    completions = gemma.complete(CAPTIONS, max_tokens=24, temperature=0.8, n=5, stop=['"'])
    assert len(completions) == 5
    assert len({c.text for c in completions}) > 1, "each sequence samples on its own"
    for completion in completions:
        assert '"' not in completion.text
        assert completion.mean_logprob is not None
        assert completion.mean_logprob < 0


def test_a_completion_cut_by_its_token_limit_or_the_time_is_unfinished(gemma):
    (capped,) = gemma.complete(CAPTIONS, max_tokens=2, temperature=0.0, stop=["\n\n\n\n"])
    assert not capped.finished
    assert len(gemma.model.tokenize(capped.text.encode(), add_bos=False)) <= 2
    for late in gemma.complete(CAPTIONS, max_tokens=24, n=3, stop=['"'], seconds=0.0):
        # the deadline passed before the first step: one token each, cut there
        assert len(gemma.model.tokenize(late.text.encode(), add_bos=False)) <= 1
        assert late.finished == ('"' not in late.text and late.text == "")


def test_a_prompt_that_begins_like_the_last_reuses_its_evaluation(gemma):
    first = gemma.complete(CAPTIONS, max_tokens=8, temperature=0.0, stop=['"'])
    longer = CAPTIONS + "Honestly"
    again = gemma.complete(longer, max_tokens=8, temperature=0.0, stop=['"'])
    prompt_tokens = gemma.model.tokenize(longer.encode(), add_bos=True, special=False)
    assert gemma.sampler._cached == prompt_tokens
    (whole,) = LlamaCppBackend(n_ctx=256).complete(longer, 8, 0.0, stop=['"'])
    (cached,) = again
    assert cached.text == whole.text  # the same tokens, the last digits of their
    assert cached.mean_logprob == pytest.approx(whole.mean_logprob, abs=0.2)  # odds aside
    assert [c.text for c in gemma.complete(CAPTIONS, 8, 0.0, stop=['"'])] == [first[0].text]


def test_more_completions_than_run_at_once_come_in_rounds():
    small = LlamaCppBackend(n_ctx=256, seed=2, max_parallel=2)
    assert len(small.complete(CAPTIONS, max_tokens=4, n=5, stop=['"'])) == 5


def test_missing_gguf_is_a_clear_error(tmp_path):
    with pytest.raises(LLMError, match="not found"):
        LlamaCppBackend(tmp_path / "nope.gguf")


class FakeCompletionServer(BaseHTTPRequestHandler):
    """Answers /v1/completions like an OpenAI-compatible server and records the request."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeCompletionServer.requests.append({"path": self.path, "body": body})
        choices = [{"index": i, "text": f" caption {i}"} for i in range(body["n"])]
        payload = json.dumps({"choices": list(reversed(choices))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def completion_server():
    server = HTTPServer(("127.0.0.1", 0), FakeCompletionServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_openai_compatible_backend_round_trip(completion_server):
    backend = load_llm(completion_server, model="tiny")
    assert isinstance(backend, OpenAICompatibleBackend)
    texts = backend.generate("Caption:", max_tokens=5, temperature=0.5, n=3, stop=["\n"])
    assert texts == [" caption 0", " caption 1", " caption 2"]
    sent = FakeCompletionServer.requests[-1]
    assert sent["path"] == "/v1/completions"
    assert sent["body"] == {
        "model": "tiny",
        "prompt": "Caption:",
        "max_tokens": 5,
        "temperature": 0.5,
        "n": 3,
        "stop": ["\n"],
    }


def test_unreachable_server_is_a_clear_error():
    backend = OpenAICompatibleBackend("http://127.0.0.1:9", timeout=2)
    with pytest.raises(LLMError, match="failed"):
        backend.generate("Caption:")
