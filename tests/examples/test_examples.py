"""The examples, the README and the docs run against the emulator and print what they promise.

Every script runs as its own process, exactly as a user starts it; GROQ_API_KEY and GROQ_BASE_URL
point it at an in-process ``llmx.testing.Emulator``. The processes run in parallel, once per
module; each test then checks one script's output and what the emulator received. Python blocks
in README.md and docs/*.md that follow a ``<!-- runnable -->`` line run the same way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import llmx
from llmx.testing import Emulator, Reply

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = re.compile(
    r"^<!-- runnable(: pytest)? -->\n```python\n(.*?)^```", re.MULTILINE | re.DOTALL
)
PROCESS_TIMEOUT = 50.0

# What each example must print (substrings of its combined stdout and stderr).
EXPECTED: dict[str, tuple[str, ...]] = {
    "async_batch": (
        "12 questions, at most 10 requests in flight",
        "问题12：用一句话解释数字 12 -> ",
    ),
    "basic_chat": (
        "你好！我是 llama-3.3-70b-versatile（llmx 模拟器）。你说：“你好，介绍一下 Groq”",
    ),
    "chatbot": ("你: Groq 为什么这么快？", "助手: 你好！", "[6 messages in the conversation]"),
    "choose_model": (
        "[simple] llama-3.1-8b-instant: context 131,072 tokens, $0.05/$0.08",
        "[complex] openai/gpt-oss-120b",
        "  reasoning: ",
        "  cost: $0.0000",
        "deepseek-r1-distill-llama-70b is retired; use openai/gpt-oss-120b",
    ),
    "client_options": (
        "Client(provider=..., api_key=..., model=...): groq/llama-3.3-70b-versatile",
        "ClientBuilder()...build(): groq/llama-3.3-70b-versatile",
        "Client.from_model(...): groq/llama-3.1-8b-instant",
        "Client.from_config({...}): groq/llama-3.3-70b-versatile",
        "Client.from_env(): groq/llama-3.1-8b-instant",
    ),
    "code_assistant": ("你说：“实现一个二分查找算法”",),
    "custom_endpoint": (
        "Client(provider='groq', model='llama-3.3-70b-versatile', base_url='http://127.0.0.1:",
    ),
    "error_handling": (
        "answer: 你好！",
        "tuned: Hello from llama-3.3-70b-versatile",
        "401 caught: status=401 code=invalid_api_key",
        "retryable=False, attempts=1",
        "timeout caught: phase=",
        "connection error caught after 2 attempts",
    ),
    "function_calling": (
        'tool call: get_weather({"city": "北京"})',
        'tool result: {"city": "北京", "weather": "晴", "temperature_c": 23}',
        'answer: 工具 get_weather 返回：{"city": "北京", "weather": "晴", "temperature_c": 23}',
    ),
    "generation_params": (
        "warning: groq: frequency_penalty is accepted but has no effect",
        "warning: groq: presence_penalty is accepted but has no effect",
        "warnings: none",
    ),
    "json_mode": (
        "json_mode -> dict with keys ['answer', 'model']",
        "json_schema -> Contact(name='Zhang San', city='Hangzhou')",
    ),
    "list_models": ("llama-3.3-70b-versatile", "context   131,072  max out    32,768", "8 models"),
    "multi_turn": (
        "用户: 那写入呢？",
        "助手: 你好！",
        "history: 5 messages (system, user, assistant, user, assistant)",
    ),
    "response_cache": ("(使用缓存结果 / from cache)", "cache: 2 hits, 2 misses, 2 entries"),
    "streaming": (
        "你说：“用 Go 写一个 HTTP 服务器”",
        "你说：“写一篇关于AI的文章”",
        "finish_reason=stop",
    ),
    "aiohttp_backend": (
        "backend: aiohttp",
        "8 questions at once on httpx: ",
        "8 questions at once on aiohttp: ",
    ),
    "swap_providers": (
        "groq (GROQ_API_KEY, llama-3.3-70b-versatile): The get_weather tool returned",
        "openai (emulator, gpt-4.1-mini): The get_weather tool returned",
        "anthropic (emulator, claude-sonnet-4-5): The get_weather tool returned",
        "gemini (emulator, gemini-2.5-flash): The get_weather tool returned",
        "ollama (emulator, llama3.2): The get_weather tool returned",
    ),
    "system_prompt": ("你说：“什么是机器学习？”", 'You said: "What is machine learning?"'),
    "usage_logging": (
        "INFO usage: tokens: prompt=",
        "INFO usage: groq timings: queue=",
        "INFO usage: cost: $0.0000",
        "INFO usage: request id: req_",
        "INFO usage: rate limit: ",
    ),
}


@dataclass(frozen=True)
class Snippet:
    document: Path
    line: int
    code: str
    pytest: bool

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for document in DOCUMENTS:
        if not document.exists():
            continue
        text = document.read_text(encoding="utf-8")
        for match in RUNNABLE.finditer(text):
            line = text.count("\n", 0, match.start(2)) + 1
            found.append(Snippet(document, line, match.group(2), bool(match.group(1))))
    return found


SNIPPETS = snippets()


@dataclass
class Run:
    returncode: int
    output: str

    def check(self, *expected: str) -> None:
        assert self.returncode == 0, f"exit status {self.returncode}:\n{self.output}"
        for text in expected:
            assert text in self.output, f"missing {text!r} in:\n{self.output}"


def environment(emulator: Emulator, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and not k.startswith("LLMX_")
    }
    env.update(
        PYTHONIOENCODING="utf-8",
        GROQ_API_KEY=emulator.api_key or "",
        GROQ_BASE_URL=emulator.base_url,
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str], stdin: str = "", cwd: Path = ROOT) -> Run:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        input=stdin.encode(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )
    return Run(result.returncode, result.stdout.decode("utf-8", "replace"))


@dataclass
class Results:
    emulator: Emulator
    runs: dict[str, Run] = field(default_factory=dict)

    def bodies(self, text: str, position: int = -1) -> list[dict[str, Any]]:
        """Chat request bodies whose message at ``position`` has exactly this content."""
        return [
            r.json
            for r in self.emulator.chat_requests
            if isinstance(r.json, dict) and r.json["messages"][position].get("content") == text
        ]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    """Every example, the demo runner and every runnable doc block, in parallel."""
    with Emulator() as emulator:
        env = environment(emulator)
        demo_env = {k: v for k, v in env.items() if not k.startswith("GROQ_")}
        snippet_env = environment(emulator, LLMX_MODEL="groq:llama-3.1-8b-instant")
        # the demo runs every example one after the other: the longest job, so it starts first
        jobs: dict[str, tuple[list[str], dict[str, str], Path]] = {
            "run_all": ([str(EXAMPLES / "run_all.py")], demo_env, ROOT)
        }
        for name in EXPECTED:
            jobs[name] = ([str(EXAMPLES / f"{name}.py")], env, ROOT)
        for snippet in SNIPPETS:
            if snippet.pytest:  # its own directory and an empty config: not this repo's
                where = tmp_path_factory.mktemp("snippet")
                (where / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
                (where / "test_snippet.py").write_text(snippet.code, encoding="utf-8")
                args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_snippet.py"]
                jobs[snippet.id] = (args, snippet_env, where)
            else:
                jobs[snippet.id] = (["-c", snippet.code], snippet_env, ROOT)
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {
                key: pool.submit(run, args, job_env, cwd=cwd)
                for key, (args, job_env, cwd) in jobs.items()
            }
            done = Results(emulator, {key: future.result() for key, future in futures.items()})
        yield done


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_against_the_emulator(results: Results, name: str) -> None:
    results.runs[name].check(*EXPECTED[name])


def test_every_example_is_covered_and_listed_in_the_readme() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py")} - {"run_all"}
    assert scripts == set(EXPECTED)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(scripts) if f"examples/{name}.py" not in readme]
    assert not missing, f"README.md does not list {missing}"


# Not from the seed documents (swap_providers starts emulators itself for the providers without
# a key).
BEYOND_THE_SEEDS = {"swap_providers", "aiohttp_backend"}


def test_every_example_names_its_seed() -> None:
    for name in set(EXPECTED) - BEYOND_THE_SEEDS:
        source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
        assert re.search(r'^"""[^\n]*seed 00[02]', source), f"{name}.py: docstring names no seed"
        assert "llmx.testing" not in source and "Emulator" not in source, name


def test_demo_runs_every_example_against_the_emulator(results: Results) -> None:
    demo = results.runs["run_all"]
    demo.check("against the llmx emulator", f"{len(EXPECTED)} passed, 0 failed")
    for name in EXPECTED:
        assert f"=== {name}.py: " in demo.output


def test_multi_turn_sends_the_whole_history(results: Results) -> None:
    (second,) = results.bodies("那写入呢？")
    roles = [message["role"] for message in second["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "如何读取文件？" in second["messages"][2]["content"]


def test_chatbot_sends_the_whole_history(results: Results) -> None:
    (last,) = results.bodies("谢谢！")
    assert [m["role"] for m in last["messages"]] == ["user", "assistant"] * 2 + ["user"]
    assert last["stream"] is True


def test_generation_parameters_reach_the_wire(results: Results) -> None:
    (body,) = results.bodies("写一首诗")
    assert body["temperature"] == 0.9
    assert body["top_p"] == 0.95
    assert body["max_completion_tokens"] == 1024
    assert body["frequency_penalty"] == body["presence_penalty"] == 0.5
    (assistant,) = results.bodies("实现一个二分查找算法")
    assert assistant["temperature"] == 0.2
    assert "Python" in assistant["messages"][0]["content"]


def test_client_options_defaults_reach_the_wire(results: Results) -> None:
    bodies = results.bodies("用一句话介绍你自己")
    assert len(bodies) == 5
    with_defaults = [b for b in bodies if b.get("temperature") == 0.7]
    assert len(with_defaults) == 2  # the builder and from_config
    assert all(b["max_completion_tokens"] == 1024 for b in with_defaults)


def test_function_calling_sends_the_tool_result_back(results: Results) -> None:
    first, second = sorted(
        results.bodies("北京今天天气怎么样？", 0), key=lambda b: len(b["messages"])
    )
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assistant, tool = second["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == tool["tool_call_id"]
    assert json.loads(tool["content"])["city"] == "北京"


def test_response_cache_sends_each_question_once(results: Results) -> None:
    assert len(results.bodies("什么是 LPU？")) == 1
    assert len(results.bodies("Groq 有多快？")) == 1


def test_async_batch_sends_every_question(results: Results) -> None:
    for n in range(1, 13):
        (body,) = results.bodies(f"问题{n}：用一句话解释数字 {n}")
        assert body["model"] == "llama-3.1-8b-instant"


def test_error_handling_waits_out_a_rate_limit() -> None:
    with Emulator() as emulator:
        # llmx makes 4 attempts (max_retries=3), then the example's own loop waits and asks again
        emulator.script(*[Reply.error(429, headers={"retry-after": "0.1"})] * 4)
        result = run([str(EXAMPLES / "error_handling.py")], environment(emulator))
        assert emulator.pending == 0
    result.check("429 rate limited after 4 HTTP attempts; waiting 0.1s", "answer: 你好！")


def test_chatbot_reads_turns_from_stdin() -> None:
    with Emulator() as emulator:
        turns = "第一个问题\n\n第二个问题\n"
        result = run([str(EXAMPLES / "chatbot.py")], environment(emulator), stdin=turns)
        last = emulator.chat_requests[-1].json
    result.check("你: 第一个问题", "你: 第二个问题", "[4 messages in the conversation]")
    assert "Groq 为什么这么快" not in result.output
    assert [m["content"] for m in last["messages"]][::2] == ["第一个问题", "第二个问题"]


def test_readme_has_runnable_quick_tour() -> None:
    readme = [s for s in SNIPPETS if s.document.name == "README.md"]
    assert len(readme) >= 5


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_documented_snippet_runs(results: Results, snippet: Snippet) -> None:
    outcome = results.runs[snippet.id]
    outcome.check(" passed" if snippet.pytest else "")
    assert outcome.output.strip(), "a runnable snippet should print something"
    assert "Traceback" not in outcome.output


def test_configuration_doc_lists_every_provider_environment_variable() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \| `([A-Z_]+)` \| `([A-Z_]+)` \|", text, re.MULTILINE)
    documented = {name: (key, url) for name, key, url in rows}
    registry = llmx.Registry()
    actual = {}
    for name in registry.names():
        spec = registry.create(name).spec
        actual[name] = (spec.api_key_env, spec.base_url_env)
    assert documented == actual
