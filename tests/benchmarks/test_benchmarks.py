"""The benchmark harness itself: it runs, it checks what it times, it writes its report.

No timing is asserted anywhere here: only that the numbers exist and are sane in kind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import _harness, _wire  # noqa: E402


def _bench(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "llmx,httpx", "--out", str(out)]
        + list(args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


def test_quick_run_measures_llmx_and_httpx_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = _bench(out=out)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["meta"]["quick"] is True
    assert report["skipped"] == {}  # peers were not asked for, so none was skipped
    for client in ("llmx", "httpx"):
        metrics = report["medians"][client]
        for mode in ("sync", "async"):
            for key in ("req_us", "stream_us_per_chunk", "ttft_us", "tool_us_per_fragment"):
                assert metrics[f"{mode}.{key}"] > 0, (client, mode, key)
        assert metrics["async.inflight_us_per_req"] > 0
        assert metrics["concurrent_wall_ms"] > 0
        assert metrics["concurrent_rss_mb"] > 10
        assert metrics["import_ms"] > 0
    assert report["ratios_to_httpx"]["llmx"]["sync.stream_us_per_chunk"] > 0
    targets = {row["target"]: row for row in report["targets"]}
    assert targets["import llmx imports no provider"]["holds"] in (True, False)
    assert targets["import llmx ≤ 0.8× import groq"]["holds"] is None  # groq not measured
    assert "| llmx sync" in report["table"] and "| httpx async" in report["table"]
    assert "| llmx sync" in done.stdout  # the table is printed too


def test_a_corrupted_response_fails_the_run(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = _bench("--corrupt-mock", out=out)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "VALIDATION FAILED" in done.stderr
    assert not out.exists()


def test_unknown_client_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "llmx,nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "nope" in done.stderr


@pytest.mark.parametrize("tool", [False, True])
def test_rendered_stream_is_what_the_checks_expect(tool: bool) -> None:
    n = 7
    events = _wire.stream_events(n, tool=tool)
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    if tool:
        pieces = [d["tool_calls"][0]["function"]["arguments"] for d in deltas if "tool_calls" in d]
        pieces = [p for p in pieces if p]
        _wire.check_arguments("rendered", n, _wire.TOOL_NAME, "".join(pieces), len(pieces))
    else:
        pieces = [d["content"] for d in deltas if d.get("content")]
        _wire.check_text("rendered", n, pieces, "".join(pieces))
    assert chunks[-1]["choices"][0]["finish_reason"] == ("tool_calls" if tool else "stop")


@pytest.mark.parametrize("tool", [False, True])
def test_corrupted_stream_fails_the_checks(tool: bool) -> None:
    n = 9
    events = _wire.stream_events(n, tool=tool, corrupt=True)
    deltas = [json.loads(e[6:])["choices"][0]["delta"] for e in events[:-1]]
    with pytest.raises(_wire.ValidationError):
        if tool:
            pieces = [
                d["tool_calls"][0]["function"]["arguments"] for d in deltas if "tool_calls" in d
            ]
            pieces = [p for p in pieces if p]
            _wire.check_arguments("corrupt", n, _wire.TOOL_NAME, "".join(pieces), len(pieces))
        else:
            pieces = [d["content"] for d in deltas if d.get("content")]
            _wire.check_text("corrupt", n, pieces, "".join(pieces))


def test_checks_catch_missing_and_extra_deltas() -> None:
    n = 5
    pieces = [_wire.token(i) for i in range(n)]
    _wire.check_text("ok", n, pieces, "".join(pieces))
    with pytest.raises(_wire.ValidationError, match="text deltas"):
        _wire.check_text("merged", n, [pieces[0] + pieces[1], *pieces[2:]], "".join(pieces))
    with pytest.raises(_wire.ValidationError, match="wrong text"):
        _wire.check_text("short", n, None, "".join(pieces[:-1]))


def test_targets_are_ratios_of_medians() -> None:
    med = {
        "httpx": {"sync.stream_us_per_chunk": 10.0, "sync.ttft_us": 100.0, "import_ms": 50.0},
        "llmx": {"sync.stream_us_per_chunk": 12.0, "sync.ttft_us": 250.0, "import_ms": 40.0},
        "groq": {"sync.stream_us_per_chunk": 70.0, "import_ms": 100.0},
    }
    rows = {row["target"]: row for row in _harness.targets(med, [])}
    assert rows["stream µs/chunk, sync: llmx ≤ 1.3× raw httpx"]["holds"] is True
    assert rows["stream µs/chunk, sync: groq SDK ≥ 5× llmx"]["holds"] is True
    assert rows["import llmx ≤ 0.8× import groq"]["holds"] is True
    assert rows["first text delta, sync: llmx ≤ raw httpx + 100 µs"]["holds"] is False
    assert rows["stream µs/chunk, async: llmx ≤ 1.3× raw httpx"]["holds"] is None
    assert rows["import llmx imports no provider"]["holds"] is True
