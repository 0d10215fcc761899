"""Capability probes of every registered adapter, and the generated tables of docs/providers.md.

Request settings: for each generic setting the probe builds a request with a distinctive value
and compares the HTTP request the adapter builds (body, params, headers) with the same request
without the setting. The setting must reach the wire (its value visible), or be named in a new
``adapter.warnings(request)`` entry, or raise UnsupportedFeatureError. ``reasoning.include=False``
may also be honoured on the response side: reasoning the server still sends is not returned.
Anything else is a silent drop, which the contract forbids.

Decoding: the canonical scenarios of ``scenarios.py``, rendered in the adapter's wire by the
emulator and decoded whole and streamed.

``python tests/contract/capabilities.py`` rewrites the generated part of docs/providers.md;
``--check`` only says whether it is current (tests/contract/test_capability_docs.py does too).
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from scenarios import (
    FAILURES,
    MIDSTREAM,
    SCENARIOS,
    adapter,
    decode_until_error,
    event_problems,
    exchange,
    mismatches,
    model_for,
    names,
    request_for,
    wire_of,
)
from support import same_content

from llmx import (
    ImagePart,
    JSONSchemaFormat,
    LLMXError,
    Message,
    ReasoningOptions,
    Request,
    ServerError,
    TextPart,
    Tool,
    UnsupportedFeatureError,
)
from llmx.adapter import HttpRequest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "providers.md"
BEGIN = "<!-- BEGIN GENERATED: python tests/contract/capabilities.py -->"
END = "<!-- END GENERATED -->"

Outcome = Literal["sent", "sent+warned", "warned", "unsupported", "dropped"]
SYMBOLS: dict[Outcome, str] = {
    "sent": "✓",
    "sent+warned": "✓⚠",
    "warned": "⚠",
    "unsupported": "✗",
    "dropped": "‼",
}

PROBE_TOOL = Tool(
    name="lookup_probe",
    description="Look something up.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}},
)
OTHER_TOOL = Tool(name="other_probe", description="Another tool.")
IMAGE_URL = "https://example.com/probe.png"
IMAGE_BYTES = b"\x89PNG\r\n\x1a\nllmx-probe-image"
SCHEMA = JSONSchemaFormat(
    name="probe_answer",
    schema={
        "type": "object",
        "properties": {"probe_field_xyz": {"type": "string"}},
        "required": ["probe_field_xyz"],
    },
)


def _image(part: ImagePart) -> list[Message]:
    return [Message.user([TextPart(text="Describe the image."), part])]


@dataclass(frozen=True)
class Setting:
    key: str
    """The column heading in docs/providers.md."""
    label: str
    fields: dict[str, Any]
    base: dict[str, Any] = field(default_factory=dict)
    """Fields of both the baseline and the probe (tools for the tool_choice probes)."""
    marker: str | None = None
    """Text that must appear on the wire when the setting is sent."""
    response_side: bool = False
    """Also honoured when the response is adjusted (reasoning not returned)."""


_TWO_TOOLS = {"tools": [PROBE_TOOL, OTHER_TOOL]}
SETTINGS: tuple[Setting, ...] = (
    Setting("temp", "temperature=0.37", {"temperature": 0.37}, marker="0.37"),
    Setting("top_p", "top_p=0.91", {"top_p": 0.91}, marker="0.91"),
    Setting("max_tok", "max_tokens=777", {"max_tokens": 777}, marker="777"),
    Setting("stop", 'stop=["STOPSEQ"]', {"stop": ["STOPSEQ"]}, marker="STOPSEQ"),
    Setting("seed", "seed=4242", {"seed": 4242}, marker="4242"),
    Setting("freq_pen", "frequency_penalty=0.33", {"frequency_penalty": 0.33}, marker="0.33"),
    Setting("pres_pen", "presence_penalty=0.44", {"presence_penalty": 0.44}, marker="0.44"),
    Setting("user", 'user="user-xyz"', {"user": "user-xyz"}, marker="user-xyz"),
    Setting("tools", "tools=[lookup_probe]", {"tools": [PROBE_TOOL]}, marker="lookup_probe"),
    Setting("tc_req", 'tool_choice="required"', {"tool_choice": "required"}, _TWO_TOOLS),
    Setting("tc_name", 'tool_choice="lookup_probe"', {"tool_choice": "lookup_probe"}, _TWO_TOOLS),
    Setting("tc_none", 'tool_choice="none"', {"tool_choice": "none"}, _TWO_TOOLS),
    Setting("no_par", "parallel_tool_calls=False", {"parallel_tool_calls": False}, _TWO_TOOLS),
    Setting("json", 'response_format="json_object"', {"response_format": "json_object"}),
    Setting(
        "schema",
        "response_format=JSONSchemaFormat",
        {"response_format": SCHEMA},
        marker="probe_field_xyz",
    ),
    Setting("effort", 'reasoning.effort="high"', {"reasoning": ReasoningOptions(effort="high")}),
    Setting(
        "budget",
        "reasoning.budget_tokens=3333",
        {"reasoning": ReasoningOptions(budget_tokens=3333)},
        marker="3333",
    ),
    Setting(
        "hide_rsn",
        "reasoning.include=False",
        {"reasoning": ReasoningOptions(include=False)},
        response_side=True,
    ),
    Setting(
        "img_url",
        "image by https URL",
        {"messages": _image(ImagePart.from_url(IMAGE_URL))},
        marker=IMAGE_URL,
    ),
    Setting(
        "img_b64",
        "image as bytes",
        {"messages": _image(ImagePart.from_bytes(IMAGE_BYTES, "image/png"))},
        marker=base64.b64encode(IMAGE_BYTES).decode(),
    ),
)
SETTING = {s.key: s for s in SETTINGS}


def _wire_text(built: HttpRequest) -> str:
    return json.dumps(
        [built.method, built.path, built.body, dict(built.headers), dict(built.params)],
        sort_keys=True,
        ensure_ascii=False,
    )


def _requests(name: str, setting: Setting) -> tuple[Request, Request]:
    base = {"messages": [Message.user("probe")], **setting.base}
    return (
        Request(model=model_for(name), **base),
        Request(model=model_for(name), **{**base, **setting.fields}),
    )


def _reasoning_hidden(name: str, request: Request) -> bool:
    """Reasoning the server sends anyway is not returned, streamed or not."""
    reply = SCENARIOS["reasoning"].reply
    return all(not exchange(name, request, reply, stream=s)[0].reasoning for s in (False, True))


@cache
def setting_outcome(name: str, key: str) -> Outcome:
    """What provider ``name`` does with setting ``key`` (see the module docstring)."""
    setting, a = SETTING[key], adapter(name)
    base, probe = _requests(name, setting)
    try:
        sent = [_wire_text(a.build_request(probe, stream=s)) for s in (False, True)]
    except UnsupportedFeatureError:
        return "unsupported"
    plain = [_wire_text(a.build_request(base, stream=s)) for s in (False, True)]
    warned = bool(set(a.warnings(probe)) - set(a.warnings(base)))
    expressed = all(
        new != old
        and (setting.marker is None or (setting.marker in new and setting.marker not in old))
        for new, old in zip(sent, plain, strict=True)
    )
    if not expressed and setting.response_side:
        expressed = _reasoning_hidden(name, probe)
    if expressed:
        return "sent+warned" if warned else "sent"
    return "warned" if warned else "dropped"


# --- decoding probes ---------------------------------------------------------------------------


@cache
def scenario_problems(name: str, scenario: str) -> tuple[str, ...]:
    """Everything wrong with decoding ``scenario`` on ``name`` (empty: it passes)."""
    expect, reply = SCENARIOS[scenario].expect, SCENARIOS[scenario].reply
    request = request_for(name)
    problems: list[str] = []
    try:
        whole, _ = exchange(name, request, reply, stream=False)
        streamed, events = exchange(name, request, reply, stream=True)
    except LLMXError as error:
        return (f"raised {type(error).__name__}: {error}",)
    problems += [f"json: {m}" for m in mismatches(whole, expect)]
    problems += [f"stream: {m}" for m in mismatches(streamed, expect)]
    problems += [f"stream: {p}" for p in event_problems(events)]
    try:
        same_content(whole, streamed)
    except AssertionError:
        problems.append("the stream does not accumulate to the non-streamed response")
    return tuple(problems)


@cache
def failure_problems(name: str, failure: str) -> tuple[str, ...]:
    spec = FAILURES[failure]
    try:
        exchange(name, request_for(name), spec.reply, stream=False)
    except spec.error as error:
        found = []
        if error.status_code != spec.status:
            found.append(f"status {error.status_code} != {spec.status}")
        if error.provider != name:
            found.append(f"provider {error.provider!r} != {name!r}")
        if spec.retry_after is not None and error.retry_after != spec.retry_after:
            found.append(f"retry_after {error.retry_after} != {spec.retry_after}")
        if spec.text is not None and spec.text not in str(error):
            found.append(f"{spec.text!r} not in the message {str(error)!r}")
        if error.is_retryable != (spec.status == 429 or spec.status >= 500):
            found.append(f"is_retryable is {error.is_retryable}")
        return tuple(found)
    except Exception as error:  # a probe reports, never raises
        return (f"raised {type(error).__name__}, not {spec.error.__name__}: {error}",)
    return (f"no error for {failure}",)


@cache
def midstream_problems(name: str) -> tuple[str, ...]:
    """An error event after part of the answer: ServerError, retryable, partial text kept."""
    partial, error = decode_until_error(name, request_for(name), MIDSTREAM)
    if not isinstance(error, ServerError):
        return (f"raised {type(error).__name__}, not ServerError: {error}",)
    problems = [] if error.is_retryable else ["the error is not retryable"]
    if not partial.text or not "Partial answer.".startswith(partial.text):
        problems.append(f"partial text {partial.text!r}")
    return tuple(problems)


DECODING: tuple[tuple[str, str, Callable[[str], tuple[str, ...]]], ...] = (
    *((s.name, s.label, (lambda n, k=s.name: scenario_problems(n, k))) for s in SCENARIOS.values()),
    (
        "http_errors",
        "HTTP errors",
        lambda n: tuple(p for f in FAILURES for p in failure_problems(n, f)),
    ),
    ("midstream", "error mid-stream", midstream_problems),
)


# --- docs/providers.md -----------------------------------------------------------------------

_WIRES = {
    "groq": "OpenAI Chat Completions + Groq fields",
    "openai": "OpenAI Chat Completions",
    "anthropic": "Anthropic Messages",
    "gemini": "Gemini `generateContent`",
    "ollama": "Ollama `/api/chat`",
}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _models_path(name: str) -> str:
    try:
        return f"`{adapter(name).models_request().path}`"
    except UnsupportedFeatureError:
        return "—"


def providers_table() -> list[str]:
    lines = [
        _row(["Provider", "Wire", "Stream", "Default base URL", "Key variable", "Models"]),
        _row(["---"] * 6),
    ]
    for name in names():
        spec = adapter(name).spec
        key = f"`{spec.api_key_env}`" if spec.api_key_env else "—"
        if not spec.key_required:
            key += " (optional)"
        url = f"`{spec.default_base_url}`" if spec.default_base_url else "none: pass `base_url=`"
        framing = spec.framing.upper()
        lines.append(
            _row([f"`{name}`", _WIRES[wire_of(name)], framing, url, key, _models_path(name)])
        )
    return lines


def settings_table() -> list[str]:
    lines = [
        _row(["Provider", *(s.key for s in SETTINGS)]),
        _row(["---", *(":-:" for _ in SETTINGS)]),
    ]
    lines += [
        _row([f"`{name}`", *(SYMBOLS[setting_outcome(name, s.key)] for s in SETTINGS)])
        for name in names()
    ]
    return lines


def decoding_table() -> list[str]:
    lines = [
        _row(["Provider", *(label for _, label, _ in DECODING)]),
        _row(["---", *(":-:" for _ in DECODING)]),
    ]
    lines += [
        _row([f"`{name}`", *("✓" if not probe(name) else "✗" for _, _, probe in DECODING)])
        for name in names()
    ]
    return lines


def generated() -> str:
    legend = [
        _row(["Column", "Probe (the request setting with this value)"]),
        _row(["---", "---"]),
        *(_row([f"`{s.key}`", f"`{s.label}`"]) for s in SETTINGS),
    ]
    parts = [
        "### Providers",
        "",
        *providers_table(),
        "",
        "### Request settings",
        "",
        "✓ sent · ✓⚠ sent, with a warning · ⚠ not sent, with a warning · "
        "✗ raises `UnsupportedFeatureError` · ‼ dropped silently (a contract violation)",
        "",
        *settings_table(),
        "",
        *legend,
        "",
        "### Decoding",
        "",
        "✓: the adapter decodes the emulator's rendering of the scenario in its wire to the "
        "canonical text, reasoning, tool calls, usage and finish reason, streamed (in every "
        "chunking) and not, and the stream accumulates to the non-streamed response. HTTP "
        "errors: 400, 401, 404, 429 with `retry-after`, 500 and 503 with an HTML body map to "
        "the typed errors; mid-stream: an error event after partial text is a retryable "
        "`ServerError` that keeps the partial answer.",
        "",
        *decoding_table(),
    ]
    return "\n".join(parts) + "\n"


def updated(document: str) -> str:
    """``document`` with the generated block replaced by the current tables."""
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOC} has no {BEGIN!r} ... {END!r} block")
    return f"{head}{BEGIN}\n{generated()}{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    fresh = updated(current)
    if "--check" in argv:
        if fresh != current:
            script = Path(__file__).relative_to(ROOT)
            print(f"{DOC.relative_to(ROOT)} is out of date: run python {script}")
            return 1
        return 0
    if fresh != current:
        DOC.write_text(fresh, encoding="utf-8")
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
