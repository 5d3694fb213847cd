"""A chat session: the conversation history, slash commands and the prompt loop.

Everything is written through the console it is given, and the network sits behind a
two-method `Backend`, so tests drive whole sessions with a fake console and fake answers.
The answer goes to stdout; the prompt, banner and notes go to stderr, so
`kubectl kaito chat ... > transcript.txt` keeps only the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

from kubectl_kaito.errors import ExitCode, KaitoError, UsageError
from kubectl_kaito.inference import (
    Params,
    apply_setting,
    assemble_response,
    build_messages,
    build_payload,
    delta_text,
    describe_params,
    finish_reason,
    message_text,
)

if TYPE_CHECKING:
    from kubectl_kaito.console import Console

PROMPT = ">>> "

HELP = """Commands:
  /help                 show this help
  /quit, /exit          end the session (also Ctrl-D)
  /clear                forget the conversation so far
  /model                show the model and where it is served
  /params               show the parameters sent with each message
  /set temperature 0.3  change a parameter: temperature (0-2), max_tokens (>0), top_p (0-1],
                        system <text> (the system prompt; `/set system` alone removes it)
Ctrl-C stops the answer being written; at the prompt it ends the session."""

ReadLine = Callable[[str], "str | None"]


class Backend(Protocol):
    """What a session needs from the network (inference.ChatClient implements it)."""

    def complete(self, payload: dict[str, Any]) -> dict[str, Any]: ...

    def stream(self, payload: dict[str, Any]) -> Iterator[dict[str, Any]]: ...


@dataclass
class Answer:
    """One model answer: its text, the chat.completion object, and why it ended."""

    text: str
    response: dict[str, Any]
    finish_reason: str | None = None


@dataclass
class Session:
    """One conversation with one model."""

    backend: Backend
    model: str
    console: Console
    params: Params = field(default_factory=Params)
    stream: bool = True
    where: str = ""
    history: list[dict[str, str]] = field(default_factory=list)

    # ---- one question -------------------------------------------------------------------

    def payload(self, text: str, *, stream: bool | None = None) -> dict[str, Any]:
        """The request for `text` asked after the history so far."""
        turn = [*self.history, {"role": "user", "content": text}]
        messages = build_messages(turn, self.params.system_prompt)
        return build_payload(self.model, messages, self.params, stream=self.stream if stream is None else stream)

    def ask(self, text: str, *, live: bool = True, stream: bool | None = None) -> Answer:
        """Send `text`; with `live` write the answer to stdout as it arrives (then a newline).

        The turn joins the history only when the answer completed: an error or Ctrl-C
        (KeyboardInterrupt, which propagates) leaves the history as it was, so the roles keep
        alternating user/assistant, which some chat templates insist on.
        """
        streaming = self.stream if stream is None else stream
        payload = self.payload(text, stream=streaming)
        if streaming:
            answer = self._ask_streaming(payload, live)
        else:
            response = self.backend.complete(payload)
            answer = Answer(message_text(response), response, finish_reason(response))
            if live:
                self._write(answer.text + "\n")
        self.history.append({"role": "user", "content": text})
        self.history.append({"role": "assistant", "content": answer.text})
        if answer.finish_reason == "length":
            self._note(
                f"warning: the answer was cut off at max_tokens={self.params.max_tokens} "
                "(raise --max-tokens, or /set max_tokens in a session)"
            )
        return answer

    def _ask_streaming(self, payload: dict[str, Any], live: bool) -> Answer:
        chunks: list[dict[str, Any]] = []
        parts: list[str] = []
        gen = self.backend.stream(payload)
        done = False
        try:
            for chunk in gen:
                chunks.append(chunk)
                piece = delta_text(chunk)
                if piece:
                    parts.append(piece)
                    if live:
                        self._write(piece)
            done = True
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()  # closes the HTTP response: the server stops generating
            if live and (done or parts):
                self._write("\n")  # end the answer's line, also before an error message
        text = "".join(parts)
        reason = next((r for r in map(finish_reason, reversed(chunks)) if r), None)
        return Answer(text, assemble_response(chunks, text), reason)

    # ---- the prompt loop ------------------------------------------------------------------

    def run(self, read_line: ReadLine, banner: str | None = None) -> int:
        """Read lines until /quit, Ctrl-D (None) or Ctrl-C at the prompt; return the exit code.

        An error answering one message is printed and the session goes on; Ctrl-C while an
        answer is being written stops that answer only.
        """
        if banner:
            self._note(banner)
        while True:
            try:
                line = read_line(PROMPT)
            except KeyboardInterrupt:
                self._note("")
                return int(ExitCode.INTERRUPTED)
            if line is None:  # Ctrl-D / end of input
                self._note("")
                return int(ExitCode.OK)
            text = line.strip()
            if not text:
                continue
            if text.startswith("/"):
                if not self.command(text):
                    return int(ExitCode.OK)
                continue
            try:
                self.ask(text)
            except KeyboardInterrupt:
                self._note("(answer stopped; it is not kept in the history)")
            except KaitoError as e:
                self._error(e)

    def command(self, line: str) -> bool:
        """Run one slash command; False means end the session."""
        name, _, rest = line[1:].partition(" ")
        name = name.lower()
        if name in ("quit", "exit", "q", "bye"):
            return False
        if name in ("help", "h", "?"):
            self._note(HELP)
        elif name == "clear":
            self.history.clear()
            self._note("History cleared.")
        elif name == "model":
            self._note(f"model: {self.model}" + (f" ({self.where})" if self.where else ""))
        elif name == "params":
            rows = [*describe_params(self.params), ("stream", "on" if self.stream else "off")]
            self._note("\n".join(f"{k}: {v}" for k, v in rows))
        elif name == "set":
            self._set(rest)
        else:
            self._error(UsageError(f"unknown command /{name}", hint="type /help for the commands"))
        return True

    def _set(self, rest: str) -> None:
        key, _, value = rest.strip().partition(" ")
        if not key:
            self._error(UsageError("usage: /set NAME VALUE", hint="names: temperature, max_tokens, top_p, system"))
            return
        try:
            self.params, canonical = apply_setting(self.params, key, value)
        except UsageError as e:
            self._error(e)
            return
        shown = dict(describe_params(self.params))[canonical]
        self._note(f"{canonical} = {shown}")

    # ---- writing --------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self.console.write(text)

    def _note(self, text: str) -> None:
        self.console.info(text)

    def _error(self, e: KaitoError) -> None:
        self.console.error(e)


# ---- reading lines ---------------------------------------------------------------------------------


def stream_reader(stdin: IO[str], err: IO[str]) -> ReadLine:
    """Prompt on `err`, read one line from `stdin`; None at end of input."""

    def read(prompt: str) -> str | None:
        err.write(prompt)
        err.flush()
        line = stdin.readline()
        if not line:
            return None
        return line.rstrip("\r\n")

    return read


def _is_real_tty(stream: IO[str], fd: int) -> bool:
    try:
        return stream.isatty() and stream.fileno() == fd
    except (OSError, ValueError, AttributeError):
        return False


def terminal_reader(stdin: IO[str], stdout: IO[str], err: IO[str]) -> ReadLine:
    """Line editing and history (readline) when stdin and stdout are the real terminal;
    otherwise `stream_reader`. input() writes its prompt to stdout, so it is used only when
    stdout is that same terminal: a redirected stdout still gets only the answers."""
    if not (_is_real_tty(stdin, 0) and _is_real_tty(stdout, 1)):
        return stream_reader(stdin, err)
    try:
        import readline  # noqa: F401, PLC0415  (gives input() editing and history)
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return stream_reader(stdin, err)

    def read(prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            return None

    return read
