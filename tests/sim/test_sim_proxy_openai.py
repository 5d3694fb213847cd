"""The service proxy to the OpenAI-compatible stand-in."""

from __future__ import annotations

import json
import time

import httpx
import pytest

PROXY = "/api/v1/namespaces/default/services/{}/proxy"


@pytest.mark.parametrize("spec", ["ws:80", "ws:http", "ws", "http:ws:80", "http:ws:http"])
def test_models_through_every_proxy_form(sim, http, spec):
    sim.seed_workspace("ws", model="phi-4-mini-instruct")
    r = http.get(PROXY.format(spec) + "/v1/models")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [m["id"] for m in data] == ["phi-4-mini-instruct"]


def test_hf_model_id_is_served_lowercased(sim, http):
    sim.seed_workspace("qw", model="Qwen/Qwen3-0.6B")
    assert http.get(PROXY.format("qw:80") + "/v1/models").json()["data"][0]["id"] == "qwen3-0.6b"


def test_chat_completion_deterministic_and_recorded(sim, http):
    sim.seed_workspace("ws")
    payload = {
        "model": "phi-4-mini-instruct",
        "temperature": 0.2,
        "max_tokens": 100,
        "top_p": 0.9,
        "messages": [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "again"},
        ],
    }
    r = http.post(PROXY.format("ws:80") + "/v1/chat/completions", json=payload)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "phi-4-mini-instruct"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello from phi-4-mini-instruct. You said: again (turn 2)",
        "reasoning_content": None,
        "tool_calls": [],
    }
    assert body["choices"][0]["finish_reason"] == "stop" and body["usage"]["completion_tokens"] > 0
    rec = sim.openai.requests[-1]
    assert rec["path"] == "/v1/chat/completions" and rec["via"] == "proxy" and rec["workspace"] == "ws"
    assert (rec["model"], rec["temperature"], rec["max_tokens"], rec["top_p"], rec["stream"]) == (
        "phi-4-mini-instruct",
        0.2,
        100,
        0.9,
        None,
    )
    assert rec["messages"] == payload["messages"]


def test_chat_streaming_sse(sim, http):
    sim.seed_workspace("ws")
    payload = {"model": "phi-4-mini-instruct", "stream": True, "messages": [{"role": "user", "content": "yo"}]}
    chunks, raw = [], b""
    with http.stream("POST", PROXY.format("ws:80") + "/v1/chat/completions", json=payload) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for part in r.iter_bytes():
            raw += part
    events = [e for e in raw.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    for e in events[:-1]:
        assert e.startswith("data: ")
        chunks.append(json.loads(e[6:]))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Hello from phi-4-mini-instruct. You said: yo (turn 1)"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert sim.openai.requests[-1]["stream"] is True


def test_completions_and_health(sim, http):
    sim.seed_workspace("ws")
    r = http.post(PROXY.format("ws:80") + "/v1/completions", json={"model": "phi-4-mini-instruct", "prompt": "abc"})
    assert r.json()["choices"][0]["text"] == "Hello from phi-4-mini-instruct. You said: abc (turn 1)"
    with http.stream(
        "POST",
        PROXY.format("ws:80") + "/v1/completions",
        json={"model": "phi-4-mini-instruct", "prompt": "abc", "stream": True},
    ) as r:
        body = r.read().decode()
    assert body.endswith("data: [DONE]\n\n") and '"text_completion"' in body
    assert http.get(PROXY.format("ws:80") + "/health").status_code == 200
    assert http.get(PROXY.format("ws:80") + "/nope").status_code == 404


def test_openai_style_errors(sim, http):
    sim.seed_workspace("ws")
    r = http.post(
        PROXY.format("ws:80") + "/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]},
    )
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "The model `gpt-4` does not exist." and r.json()["error"]["code"] == 404
    sim.openai.max_prompt_chars = 10
    r = http.post(
        PROXY.format("ws:80") + "/v1/chat/completions",
        json={"model": "phi-4-mini-instruct", "messages": [{"role": "user", "content": "x" * 50}]},
    )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "BadRequestError" and err["code"] == 400
    assert err["message"].startswith("This model's maximum context length is ")
    r = http.post(
        PROXY.format("ws:80") + "/v1/chat/completions",
        content=b"not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400


def test_proxy_unavailable_until_ready(sim, http):
    sim.seed_workspace("slow", ready=False)
    r = http.get(PROXY.format("slow:80") + "/v1/models")
    assert r.status_code == 503 and r.json()["reason"] == "ServiceUnavailable"
    assert r.json()["message"] == 'no endpoints available for service "slow"'
    sim.controller.make_ready("slow")
    sim.wait_until(lambda: http.get(PROXY.format("slow:80") + "/v1/models").status_code == 200, timeout=5)
    assert http.get(PROXY.format("slow:9999") + "/v1/models").status_code == 503
    assert http.get(PROXY.format("nosuch:80") + "/v1/models").status_code == 404
    assert http.get(PROXY.format("slow:ray")).status_code == 503
    sim.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "plain"}, "spec": {"ports": [{"port": 80}]}})
    assert http.get(PROXY.format("plain:80") + "/").status_code == 503


def test_hang_mode_times_out_client(sim, http):
    sim.seed_workspace("ws")
    sim.openai.mode = "hang"
    t0 = time.time()
    with pytest.raises(httpx.ReadTimeout):
        http.get(PROXY.format("ws:80") + "/v1/models", timeout=0.5)
    assert time.time() - t0 < 2
    sim.openai.mode = "normal"
    assert http.get(PROXY.format("ws:80") + "/v1/models").status_code == 200


def test_fail_midstream_and_slow(sim, http):
    sim.seed_workspace("ws")
    payload = {"model": "phi-4-mini-instruct", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    sim.openai.mode = "fail_midstream"
    with http.stream("POST", PROXY.format("ws:80") + "/v1/chat/completions", json=payload) as r:
        body = r.read().decode()
    events = [e for e in body.split("\n\n") if e]
    assert "[DONE]" not in body
    assert json.loads(events[-1][6:])["error"]["type"] == "InternalServerError"
    assert len(events) == 1 + sim.openai.midstream_chunks + 1  # role chunk, content chunks, error
    sim.openai.mode = "drop_midstream"
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with http.stream("POST", PROXY.format("ws:80") + "/v1/chat/completions", json=payload) as r:
            r.read()
    sim.openai.mode = "slow"
    sim.openai.slow_delay = 0.05
    t0 = time.time()
    r = http.post(PROXY.format("ws:80") + "/v1/chat/completions", json=dict(payload, stream=False))
    assert r.status_code == 200 and time.time() - t0 >= 0.05


def test_max_tokens_truncates(sim, http):
    sim.seed_workspace("ws")
    r = http.post(
        PROXY.format("ws:80") + "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 3},
    )
    choice = r.json()["choices"][0]
    assert choice["message"]["content"] == "Hello from phi-4-mini-instruct." and choice["finish_reason"] == "length"


def test_direct_openai_url(sim):
    r = httpx.post(
        sim.openai_url + "/v1/chat/completions",
        json={"model": "phi-4-mini-instruct", "messages": [{"role": "user", "content": "direct"}]},
    )
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"].endswith("You said: direct (turn 1)")
    assert sim.openai.requests[-1]["via"] == "direct"
    assert httpx.get(sim.openai_url + "/v1/models").json()["data"][0]["id"] == "phi-4-mini-instruct"


def test_custom_proxy_handler(sim, http):
    from kaito_sim import Response

    sim.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"}, "spec": {"ports": [{"port": 80}]}})
    sim.proxy_handlers[("default", "echo")] = lambda method, path, headers, body: Response(
        200, [("Content-Type", "text/plain")], f"{method} {path} {body.decode()}".encode()
    )
    r = http.put(PROXY.format("echo") + "/a/b?x=1", content=b"payload")
    assert r.text == "PUT /a/b?x=1 payload"


def test_proxied_requests_show_in_the_pod_log(sim, http):
    sim.seed_workspace("ws")
    http.get(PROXY.format("ws:80") + "/v1/models")
    last = http.get("/api/v1/namespaces/default/pods/ws-0/log", params={"tailLines": 1}).text
    assert last.startswith("INFO:     10.244.0.1:") and last.endswith('"GET /v1/models HTTP/1.1" 200 OK\n')
