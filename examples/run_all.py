"""Run every example: against Groq when GROQ_API_KEY is set, else against the bundled emulator.

``make demo`` runs this. Each example runs as its own process, exactly as a user would start it;
against the emulator, GROQ_API_KEY and GROQ_BASE_URL in its environment point it at a local
server from ``llmx.testing``. ``python examples/run_all.py basic_chat streaming`` runs a subset.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from llmx.testing import Emulator

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
TIMEOUT = 120.0  # seconds per example; real rate limits can make Groq slow
FIRST = [
    "basic_chat",
    "streaming",
    "function_calling",
    "client_options",
    "custom_endpoint",
    "system_prompt",
    "multi_turn",
    "generation_params",
]


def examples(names: list[str]) -> list[Path]:
    found = {p.stem: p for p in EXAMPLES.glob("*.py") if p.name != Path(__file__).name}
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise SystemExit(f"unknown example(s): {', '.join(unknown)}; known: {', '.join(found)}")
    order = [n for n in FIRST if n in found] + sorted(set(found) - set(FIRST))
    return [found[n] for n in order if not names or n in names]


def summary_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.splitlines()[0] if doc else ""


def run(path: Path, env: Mapping[str, str]) -> bool:
    print(f"\n=== {path.name}: {summary_line(path)}", flush=True)
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, str(path)],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.output or b""
        print(output.decode("utf-8", "replace").rstrip())
        print(f"--- FAILED: no exit after {TIMEOUT:g}s")
        return False
    print(result.stdout.decode("utf-8", "replace").rstrip())
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        print(f"--- FAILED: exit status {result.returncode} ({elapsed:.1f}s)")
        return False
    print(f"--- ok ({elapsed:.1f}s)")
    return True


def run_all(paths: list[Path], env: Mapping[str, str]) -> int:
    results = [run(path, env) for path in paths]
    failed = [path.name for path, ok in zip(paths, results, strict=True) if not ok]
    print(f"\n{len(paths) - len(failed)} passed, {len(failed)} failed", end="")
    print(f": {', '.join(failed)}" if failed else "")
    return 1 if failed else 0


def main() -> int:
    paths = examples(sys.argv[1:])
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    if os.environ.get("GROQ_API_KEY"):
        print(f"Running {len(paths)} examples against Groq (GROQ_API_KEY is set)")
        return run_all(paths, env)
    with Emulator() as emulator:
        print(f"GROQ_API_KEY is not set: running {len(paths)} examples against the llmx emulator")
        print(f"at {emulator.base_url} (set GROQ_API_KEY to run them against Groq)")
        env = {k: v for k, v in env.items() if not k.startswith("LLMX_")}
        env["GROQ_API_KEY"] = emulator.api_key or ""
        env["GROQ_BASE_URL"] = emulator.base_url
        return run_all(paths, env)


if __name__ == "__main__":
    sys.exit(main())
