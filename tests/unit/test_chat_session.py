"""chat.Session driven with fake stdin/stdout and a fake backend: history, slash commands,
streaming output, errors and Ctrl-C."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_kaito.chat import PROMPT, Session, stream_reader
from kubectl_kaito.console import Console
from kubectl_kaito.errors import ExitCode, InvalidError, ServerError
from kubectl_kaito.inference import Params


def _chunk(text: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if text is None else {"content": text}
    return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class FakeBackend:
    """Answers `echo: <last user message>`; records payloads; can fail or be interrupted."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None
        self.interrupt_after: int | None = None  # chunks before a KeyboardInterrupt
        self.error_after: int | None = None  # chunks before a ServerError
        self.closed = 0
        self.finish = "stop"

    def _answer(self, payload: dict[str, Any]) -> str:
        return "echo: " + payload["messages"][-1]["content"]

    def complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.payloads.append(payload)
        if self.fail_with:
            raise self.fail_with
        return {"id": "x", "choices": [{"message": {"content": self._answer(payload)}, "finish_reason": self.finish}]}

    def stream(self, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        self.payloads.append(payload)
        if self.fail_with:
            raise self.fail_with
        words = self._answer(payload).split(" ")
        try:
            yield _chunk()
            for i, w in enumerate(words):
                if self.interrupt_after is not None and i >= self.interrupt_after:
                    raise KeyboardInterrupt
                if self.error_after is not None and i >= self.error_after:
                    raise ServerError("the model server reported an error mid-answer: engine died")
                yield _chunk(w if i == 0 else " " + w)
            yield _chunk(None, self.finish)
        finally:
            self.closed += 1


def _session(backend: FakeBackend, **kw: Any) -> tuple[Session, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    console = Console(stdin=io.StringIO(), stdout=out, stderr=err, env={})
    return Session(backend, "phi", console, where="workspace default/ws", **kw), out, err


def _run(session: Session, text: str) -> int:
    return session.run(stream_reader(io.StringIO(text), session.console.stderr), banner="Connected.")


def test_history_is_kept_and_sent_every_turn() -> None:
    backend = FakeBackend()
    s, out, err = _session(backend, params=Params(system_prompt="be brief"))
    assert _run(s, "first\nsecond\n") == 0
    assert out.getvalue() == "echo: first\necho: second\n"
    last = backend.payloads[-1]["messages"]
    assert last == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"},
        {"role": "user", "content": "second"},
    ]
    assert err.getvalue().startswith("Connected.\n" + PROMPT)
    assert err.getvalue().count(PROMPT) == 3  # two questions, then end of input


def test_clear_forgets_the_history() -> None:
    backend = FakeBackend()
    s, _, err = _session(backend)
    _run(s, "one\n/clear\ntwo\n")
    assert backend.payloads[-1]["messages"] == [{"role": "user", "content": "two"}]
    assert "History cleared." in err.getvalue()


def test_set_and_params_echo_exact_values_and_reach_the_payload() -> None:
    backend = FakeBackend()
    s, _, err = _session(backend)
    _run(s, "/set temperature 0.35\n/set max_tokens 64\n/set top_p 0.5\n/set system Talk like a pirate.\n/params\nhi\n")
    text = err.getvalue()
    assert "temperature = 0.35\n" in text
    assert "max_tokens = 64\n" in text
    assert "top_p = 0.5\n" in text
    assert "system = Talk like a pirate.\n" in text
    assert "temperature: 0.35\nmax_tokens: 64\ntop_p: 0.5\nsystem: Talk like a pirate.\nstream: on\n" in text
    p = backend.payloads[-1]
    assert (p["temperature"], p["max_tokens"], p["top_p"]) == (0.35, 64, 0.5)
    assert p["messages"][0] == {"role": "system", "content": "Talk like a pirate."}


def test_bad_set_is_one_error_line_and_the_session_goes_on() -> None:
    backend = FakeBackend()
    s, out, err = _session(backend)
    assert _run(s, "/set temperature 5\n/set nope 1\n/frobnicate\nhi\n") == 0
    text = err.getvalue()
    assert "error: invalid temperature 5: must be between 0 and 2\n" in text
    assert "error: unknown setting 'nope'" in text
    assert "error: unknown command /frobnicate\nhint: type /help for the commands\n" in text
    assert backend.payloads[-1]["temperature"] == 0.7
    assert out.getvalue() == "echo: hi\n"


def test_help_model_and_quit() -> None:
    backend = FakeBackend()
    s, out, err = _session(backend)
    assert _run(s, "/help\n/model\n/quit\nnever sent\n") == 0
    assert "/clear" in err.getvalue() and "/set temperature 0.3" in err.getvalue()
    assert "model: phi (workspace default/ws)\n" in err.getvalue()
    assert backend.payloads == []
    assert out.getvalue() == ""


def test_exit_and_blank_lines() -> None:
    backend = FakeBackend()
    s, _, _ = _session(backend)
    assert _run(s, "\n   \n/exit\n") == 0
    assert backend.payloads == []


def test_error_mid_stream_is_printed_and_the_turn_is_forgotten() -> None:
    backend = FakeBackend()
    backend.error_after = 1
    s, out, err = _session(backend)
    assert _run(s, "boom now\n") == 0
    assert out.getvalue() == "echo:\n"  # the partial line is ended before the error
    assert "error: the model server reported an error mid-answer: engine died\n" in err.getvalue()
    assert s.history == []
    assert backend.closed == 1
    backend.error_after = None
    _run(s, "again\n")
    assert backend.payloads[-1]["messages"] == [{"role": "user", "content": "again"}]


def test_server_refusal_does_not_end_the_session() -> None:
    backend = FakeBackend()
    backend.fail_with = InvalidError("the model server refused the request: prompt too long")
    s, _, err = _session(backend)
    assert _run(s, "x\ny\n") == 0
    assert err.getvalue().count("error: the model server refused the request: prompt too long") == 2


def test_ctrl_c_during_an_answer_stops_it_and_the_session_continues() -> None:
    backend = FakeBackend()
    backend.interrupt_after = 1
    s, out, err = _session(backend)
    lines = iter(["long question", "next", None])
    calls: list[str] = []

    def read(prompt: str) -> str | None:
        calls.append(prompt)
        line = next(lines)
        if line == "next":
            backend.interrupt_after = None
        return line

    assert s.run(read) == 0
    assert backend.closed == 2  # the interrupted stream was closed (its connection with it)
    assert "(answer stopped; it is not kept in the history)" in err.getvalue()
    assert out.getvalue() == "echo:\necho: next\n"
    assert s.history == [{"role": "user", "content": "next"}, {"role": "assistant", "content": "echo: next"}]
    assert len(calls) == 3


def test_ctrl_c_at_the_prompt_ends_with_130() -> None:
    s, _, _ = _session(FakeBackend())

    def read(prompt: str) -> str | None:
        raise KeyboardInterrupt

    assert s.run(read) == ExitCode.INTERRUPTED
    assert int(ExitCode.INTERRUPTED) == 130


def test_non_streaming_session() -> None:
    backend = FakeBackend()
    s, out, _ = _session(backend, stream=False)
    _run(s, "a\nb\n")
    assert out.getvalue() == "echo: a\necho: b\n"
    assert all(p["stream"] is False for p in backend.payloads)
    assert len(backend.payloads[-1]["messages"]) == 3


def test_ask_not_live_writes_nothing_and_returns_the_answer() -> None:
    backend = FakeBackend()
    s, out, _ = _session(backend)
    answer = s.ask("quiet", live=False)
    assert out.getvalue() == ""
    assert answer.text == "echo: quiet"
    assert answer.response["choices"][0]["message"]["content"] == "echo: quiet"
    assert answer.finish_reason == "stop"


def test_ask_propagates_errors_for_one_shot_use() -> None:
    backend = FakeBackend()
    backend.error_after = 0
    s, out, _ = _session(backend)
    with pytest.raises(ServerError):
        s.ask("x", live=False)
    assert out.getvalue() == ""
    assert s.history == []


def test_cut_off_answer_warns() -> None:
    backend = FakeBackend()
    backend.finish = "length"
    s, _, err = _session(backend, params=Params(max_tokens=3))
    s.ask("x")
    assert "warning: the answer was cut off at max_tokens=3" in err.getvalue()


def test_stream_reader_prompts_on_err_and_returns_none_at_eof() -> None:
    err = io.StringIO()
    read = stream_reader(io.StringIO("hello\r\n"), err)
    assert read(">>> ") == "hello"
    assert read(">>> ") is None
    assert err.getvalue() == ">>> >>> "
