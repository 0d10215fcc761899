"""The benchmark run: peers' venv, mock server, interleaved rounds, table, targets, JSON."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_OUT = BENCH / "results" / "latest.json"
REQUIREMENTS = BENCH / "requirements-peers.txt"
REQUIREMENTS_NODEPS = BENCH / "requirements-peers-nodeps.txt"

FULL = {
    "warmup": 20,
    "chat_tokens": 50,
    "seq_requests": 300,
    "seq_blocks": 3,
    "inflight": 200,
    "inflight_batches": 3,
    "stream_chunks": 20_000,
    "ttft_chunks": 20,
    "ttft_reps": 100,
    "tool_fragments": 2_000,
    "tool_reps": 3,
    "concurrent_streams": 100,
    "concurrent_chunks": 500,
}
QUICK = {
    "warmup": 3,
    "chat_tokens": 20,
    "seq_requests": 20,
    "seq_blocks": 1,
    "inflight": 20,
    "inflight_batches": 1,
    "stream_chunks": 500,
    "ttft_chunks": 10,
    "ttft_reps": 10,
    "tool_fragments": 100,
    "tool_reps": 1,
    "concurrent_streams": 10,
    "concurrent_chunks": 50,
}


@dataclass(frozen=True)
class Spec:
    name: str
    peer: bool  # runs in the peers' venv
    modes: tuple[str, ...]
    module: str  # what the import probe imports


SPECS = (
    Spec("httpx", False, ("sync", "async"), "httpx"),
    Spec("llmx", False, ("sync", "async"), "llmx"),
    Spec("llmx-aiohttp", False, ("async",), "llmx"),
    Spec("aiohttp", True, ("async",), "aiohttp"),
    Spec("groq", True, ("sync", "async"), "groq"),
    Spec("openai", True, ("sync", "async"), "openai"),
    Spec("litellm", True, ("sync", "async"), "litellm"),
)
NAMES = tuple(spec.name for spec in SPECS)
SDKS = ("groq", "openai", "litellm")

# (key, header, unit) of the table's columns; mode metrics are looked up as "<mode>.<key>".
COLUMNS = (
    ("import_ms", "import ms", "ms"),
    ("req_us", "request µs", "µs"),
    ("inflight_us_per_req", "{inflight} in flight µs/req", "µs"),
    ("stream_us_per_chunk", "stream µs/chunk", "µs"),
    ("ttft_us", "first delta µs", "µs"),
    ("tool_us_per_fragment", "tool call µs/fragment", "µs"),
    ("concurrent_wall_ms", "{concurrent_streams}×{concurrent_chunks} wall ms", "ms"),
    ("concurrent_rss_mb", "{concurrent_streams}×{concurrent_chunks} peak RSS MB", "MB"),
)
CPU_COLUMNS = (
    ("req_cpu_us", "request", "µs"),
    ("inflight_cpu_us_per_req", "{inflight} in flight, per request", "µs"),
    ("stream_cpu_us_per_chunk", "stream, per chunk", "µs"),
    ("tool_cpu_us_per_fragment", "tool call, per fragment", "µs"),
    ("concurrent_cpu_ms", "{concurrent_streams}×{concurrent_chunks} streams", "ms"),
)
_PER_CLIENT = ("import_ms",)
_CONCURRENT = ("concurrent_wall_ms", "concurrent_cpu_ms", "concurrent_rss_mb", "rss_before_mb")

_IMPORT_PROBE = """\
import time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
import json, sys
print(json.dumps({{"import_ms": (t1 - t0) * 1e3,
    "llmx_providers": sorted(m for m in sys.modules if m.startswith("llmx.providers"))}}))
"""


_CLIENT_MAIN = """\
import sys
sys.path.append({root!r})
from benchmarks._clients import main
sys.exit(main(sys.argv[1:]))
"""


class BenchmarkError(Exception):
    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    """The environment of every child: loopback only, no keys, .pyc caching on (as installed)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY")
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
        and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no network fetch at import
    env["LITELLM_LOG"] = "ERROR"
    # litellm counts tokens with a Hugging Face tokenizer it downloads on first use; offline, the
    # hub would retry for ~30 s per process. Fail fast instead (it then falls back to tiktoken).
    env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


# -- the peers' venv -----------------------------------------------------------------------------


def default_peer_venv() -> Path:
    configured = os.environ.get("LLMX_BENCH_VENV")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "llmx-bench-venv"


def _stamp() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in (REQUIREMENTS, REQUIREMENTS_NODEPS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_peer_venv(path: Path, *, install: bool) -> tuple[Path | None, str | None]:
    """The peers' python, or None and why not. Creates or updates the venv when needed."""
    python = path / "bin" / "python"
    stamp_file = path / ".llmx-bench-stamp"
    stamp = _stamp()
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return python, None
    if not install:
        return None, f"no up-to-date peers' venv at {path} and --no-install was given"
    log(f"setting up the peers' venv at {path} (once; a minute or two) ...")
    path.parent.mkdir(parents=True, exist_ok=True)
    logfile = path.parent / (path.name + "-install.log")
    steps = [
        [sys.executable, "-m", "venv", str(path)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "-r",
            str(REQUIREMENTS_NODEPS),
        ],
    ]
    with logfile.open("w") as out:
        for step in steps:
            try:
                done = subprocess.run(
                    step, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return None, f"peers' venv setup failed ({exc}); see {logfile}"
            if done.returncode != 0:
                return None, f"peers' venv setup failed at {' '.join(step[-3:])}; see {logfile}"
    stamp_file.write_text(stamp)
    return python, None


def install_llmx(venv: Path) -> Path:
    """Install this tree, as a user would get it (not editable, no dev extras), into ``venv``.

    Reinstalled on every run, from a copy of llmx/, providers/ and the project files, so that
    the build writes nothing into the tree. The raw-httpx baseline runs in the same venv, with
    the httpx, httpcore and anyio that llmx's own requirements resolve to.
    """
    python = venv / "bin" / "python"
    logfile = venv.parent / (venv.name + "-install.log")
    log(f"installing this tree's llmx into {venv} ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, logfile.open("w") as out:
        source = Path(tmp) / "llmx-src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in ("llmx", "providers"):
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, source / name)
        steps = []
        if not python.exists():
            steps.append([sys.executable, "-m", "venv", str(venv)])
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        # the dependencies, once they are missing (with the aiohttp extra, for llmx-aiohttp)
        steps.append([*pip, f"{source}[aiohttp]"])
        steps.append([*pip, "--force-reinstall", "--no-deps", str(source)])
        for step in steps:
            try:
                done = subprocess.run(
                    step, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BenchmarkError(f"installing llmx failed ({exc}); see {logfile}") from None
            if done.returncode != 0:
                raise BenchmarkError(f"installing llmx failed; see {logfile}")
    return python


# -- the mock server -----------------------------------------------------------------------------


class Mock:
    """The mock server process; it also exits by itself when our end of its stdin closes."""

    def __init__(self, *, corrupt: bool, max_seconds: float) -> None:
        cmd = [sys.executable, "-m", "benchmarks._mock", "--max-seconds", str(max_seconds)]
        if corrupt:
            cmd.append("--corrupt")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.stop()
            raise BenchmarkError("the mock server did not start")
        self.host = f"http://127.0.0.1:{int(line)}"
        self._probes = 0

    def stats(self) -> dict[str, int]:
        """Connections and requests served so far (the harness's own probes not counted)."""
        host, port = self.host.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/stats")
            stats: dict[str, int] = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        self._probes += 1
        stats["connections"] -= self._probes  # not ours: the probes' own connections
        return stats

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# -- running one client --------------------------------------------------------------------------


def import_probe(python: Path | str, spec: Spec) -> dict[str, Any]:
    code = _IMPORT_PROBE.format(module=spec.module)
    with tempfile.TemporaryDirectory() as cwd:  # nothing of this tree on sys.path (-I)
        done = subprocess.run(
            [str(python), "-I", "-c", code],
            cwd=cwd,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise BenchmarkError(f"`import {spec.module}` failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_client(
    python: Path | str, spec: Spec, mode: str, host: str, sizes: dict[str, int], timeout: float
) -> dict[str, Any]:
    # -I and a neutral cwd, with this tree appended to sys.path last: the benchmark code is
    # found, but `import llmx` means the llmx installed for that python (see --llmx-python).
    cmd = [str(python), "-I", "-c", _CLIENT_MAIN.format(root=str(ROOT)), spec.name, mode]
    cmd += ["--host", host, "--sizes", json.dumps(sizes)]
    try:
        done = subprocess.run(
            cmd,
            cwd=tempfile.gettempdir(),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{spec.name} {mode}: no result within {timeout:.0f}s") from None
    if done.returncode == 3:
        raise BenchmarkError(done.stderr.strip().splitlines()[-1], status=3)
    if done.returncode != 0:
        raise BenchmarkError(
            f"{spec.name} {mode} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- aggregation ---------------------------------------------------------------------------------


def medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per client, the median of each metric over the rounds."""
    values: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for client, metrics in run.items():
            for key, value in metrics.items():
                values.setdefault(client, {}).setdefault(key, []).append(value)
    return {
        client: {key: statistics.median(vals) for key, vals in metrics.items()}
        for client, metrics in values.items()
    }


def git_state() -> dict[str, Any]:
    """The llmx commit measured, and whether the tree had uncommitted changes (read-only git)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20, check=False
            )
        except OSError:
            return ""
        return done.stdout.rstrip("\n") if done.returncode == 0 else ""

    changed = [
        line[3:] for line in git("status", "--porcelain", "--", "llmx", "providers").splitlines()
    ]
    commit = git("rev-parse", "HEAD").strip()
    return {"commit": commit or None, "uncommitted_llmx_files": changed}


def metric_key(key: str, mode: str) -> str:
    if key in _PER_CLIENT or key in _CONCURRENT:
        return key
    return f"{mode}.{key}"


def value_for(med: dict[str, dict[str, float]], client: str, mode: str, key: str) -> float | None:
    if key in _CONCURRENT and mode != "async":
        return None
    return med.get(client, {}).get(metric_key(key, mode))


def ratio(
    med: dict[str, dict[str, float]], client: str, mode: str, key: str, base: str = "httpx"
) -> float | None:
    value = value_for(med, client, mode, key)
    reference = value_for(med, base, mode, key)
    if value is None or not reference:
        return None
    return value / reference


def table(
    specs: Sequence[Spec],
    med: dict[str, dict[str, float]],
    sizes: dict[str, int],
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
) -> str:
    headers = ["client", *(header.format(**sizes) for _, header, _ in columns)]
    rows = []
    for spec in specs:
        for mode in spec.modes:
            cells = [f"{spec.name} {mode}"]
            for key, _, _ in columns:
                value = value_for(med, spec.name, mode, key)
                if value is None:
                    cells.append("–")
                    continue
                text = f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"
                r = ratio(med, spec.name, mode, key)
                if r is not None and spec.name != "httpx":
                    text += f" ({r:.2f}×)"
                cells.append(text)
            rows.append(cells)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join(("-" * (w + 1) + (":" if i else "-")) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def targets(med: dict[str, dict[str, float]], providers: list[str] | None) -> list[dict[str, Any]]:
    """The issue's targets, as ratios of this run's medians (None where a client is missing)."""
    out: list[dict[str, Any]] = []

    def add(
        name: str,
        value: float | None,
        limit: float,
        *,
        at_least: bool = False,
        cpu: float | None = None,
    ) -> None:
        holds = None if value is None else (value >= limit if at_least else value <= limit)
        row = {"target": name, "value": value, "limit": limit, "holds": holds}
        if cpu is not None:
            row["cpu_value"] = cpu  # the same ratio of client CPU time: less noisy when shared
        out.append(row)

    for mode in ("sync", "async"):
        add(
            f"stream µs/chunk, {mode}: llmx ≤ 1.3× raw httpx",
            ratio(med, "llmx", mode, "stream_us_per_chunk"),
            1.3,
            cpu=ratio(med, "llmx", mode, "stream_cpu_us_per_chunk"),
        )
    for sdk in ("groq", "openai"):
        for mode in ("sync", "async"):
            add(
                f"stream µs/chunk, {mode}: {sdk} SDK ≥ 5× llmx",
                _inverse(ratio(med, "llmx", mode, "stream_us_per_chunk", base=sdk)),
                5.0,
                at_least=True,
                cpu=_inverse(ratio(med, "llmx", mode, "stream_cpu_us_per_chunk", base=sdk)),
            )
    for mode in ("sync", "async"):
        add(
            f"non-streaming µs/request, {mode}: llmx ≤ 1.1× raw httpx",
            ratio(med, "llmx", mode, "req_us"),
            1.1,
            cpu=ratio(med, "llmx", mode, "req_cpu_us"),
        )
    add(
        "100×500 concurrent streams, wall: llmx ≤ 1.3× raw httpx",
        ratio(med, "llmx", "async", "concurrent_wall_ms"),
        1.3,
        cpu=ratio(med, "llmx", "async", "concurrent_cpu_ms"),
    )
    add(
        "100×500 concurrent streams, peak RSS: llmx ≤ 1.2× raw httpx",
        ratio(med, "llmx", "async", "concurrent_rss_mb"),
        1.2,
    )
    add(
        "import llmx ≤ 0.8× import groq",
        ratio(med, "llmx", "sync", "import_ms", base="groq"),
        0.8,
    )
    if providers is not None:
        out.append(
            {
                "target": "import llmx imports no provider",
                "value": len(providers),
                "limit": 0,
                "holds": not providers,
                "detail": providers,
            }
        )
    for mode in ("sync", "async"):
        llmx_ttft = value_for(med, "llmx", mode, "ttft_us")
        raw_ttft = value_for(med, "httpx", mode, "ttft_us")
        overhead = None if llmx_ttft is None or raw_ttft is None else llmx_ttft - raw_ttft
        add(f"first text delta, {mode}: llmx ≤ raw httpx + 100 µs", overhead, 100.0)
    return out


FLOOR_KEYS = (
    ("req_us", "request"),
    ("inflight_us_per_req", "in flight"),
    ("stream_us_per_chunk", "stream"),
    ("ttft_us", "first delta"),
    ("tool_us_per_fragment", "tool call"),
    ("concurrent_wall_ms", "concurrent wall"),
    ("concurrent_rss_mb", "concurrent RSS"),
)


def floor(med: dict[str, dict[str, float]]) -> dict[str, float]:
    """llmx on its aiohttp backend as a multiple of aiohttp alone (the floor of this run)."""
    out = {}
    for key, _ in FLOOR_KEYS:
        value = ratio(med, "llmx-aiohttp", "async", key, base="aiohttp")
        if value is not None:
            out[key] = value
    return out


def _inverse(value: float | None) -> float | None:
    return None if not value else 1 / value


def format_targets(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        value = row["value"]
        if row["holds"] is None:
            verdict, shown = "n/a ", "not measured"
        else:
            verdict = "PASS" if row["holds"] else "FAIL"
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            if row.get("cpu_value") is not None:
                shown += f" (client CPU time: {row['cpu_value']:.2f})"
        lines.append(f"- {verdict} {row['target']}: {shown}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "arch": platform.machine(),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


# -- the run -------------------------------------------------------------------------------------


def run(
    *,
    only: Sequence[str],
    quick: bool,
    rounds: int | None,
    out: Path,
    peer_venv: Path,
    install: bool,
    corrupt: bool = False,
    llmx_python: str | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    tree = git_state()  # before the run: other work may change the tree while it runs
    sizes = dict(QUICK if quick else FULL)
    rounds = rounds if rounds is not None else (1 if quick else 3)
    specs = [spec for spec in SPECS if spec.name in only]
    skipped: dict[str, str] = {}
    pythons: dict[str, Path | str] = {}
    llmx_env = llmx_python or ("project" if quick else "install")
    if llmx_env == "project":
        own_python: Path | str = sys.executable
    elif llmx_env == "install":
        own_python = install_llmx(Path(str(peer_venv) + "-llmx"))
    else:
        own_python = Path(llmx_env)
    if any(spec.peer for spec in specs):
        peer_python, why = ensure_peer_venv(peer_venv, install=install)
        if peer_python is None:
            log(f"skipping the peers: {why}")
    else:
        peer_python, why = None, None
    for spec in list(specs):
        python: Path | str | None = peer_python if spec.peer else own_python
        if python is None:
            skipped[spec.name] = why or "no peers' venv"
            specs.remove(spec)
            continue
        try:  # untimed: also fills the .pyc caches
            import_probe(python, spec)
        except BenchmarkError as exc:
            if not spec.peer:
                raise
            skipped[spec.name] = str(exc)
            log(f"skipping {spec.name}: {exc}")
            specs.remove(spec)
            continue
        pythons[spec.name] = python
    if not specs:
        raise BenchmarkError("no client to benchmark")

    load_before = os.getloadavg()
    timeout = 120.0 if quick else 900.0
    mock = Mock(corrupt=corrupt, max_seconds=timeout * 4 * rounds * len(specs) + 60)
    runs: list[dict[str, dict[str, float]]] = []
    versions: dict[str, dict[str, str]] = {}
    providers: list[str] | None = None
    try:
        for number in range(rounds):
            shift = number % len(specs)
            order = specs[shift:] + specs[:shift]  # round-robin: drift hits every client alike
            log(f"round {number + 1}/{rounds}: {', '.join(s.name for s in order)}")
            current: dict[str, dict[str, float]] = {spec.name: {} for spec in order}
            for spec in order:
                probe = import_probe(pythons[spec.name], spec)
                current[spec.name]["import_ms"] = probe["import_ms"]
                if spec.name == "llmx":
                    providers = probe["llmx_providers"]
            # one workload at a time across the clients, so that neighbours in time compare
            for mode in ("sync", "async", "concurrent"):
                for spec in order:
                    if mode not in spec.modes and not (
                        mode == "concurrent" and "async" in spec.modes
                    ):
                        continue
                    t0 = time.monotonic()
                    before = mock.stats()
                    result = run_client(pythons[spec.name], spec, mode, mock.host, sizes, timeout)
                    opened = mock.stats()["connections"] - before["connections"]
                    versions[spec.name] = result["versions"]
                    metrics = current[spec.name]
                    for key, value in {**result["result"], "connections": opened}.items():
                        name = (
                            key
                            if mode == "concurrent" and key != "connections"
                            else f"{mode}.{key}"
                        )
                        metrics[name] = value
                    log(f"  {spec.name} {mode}: {time.monotonic() - t0:.1f}s")
            runs.append(current)
    finally:
        mock.stop()

    med = medians(runs)
    goal_rows = targets(med, providers)
    report = {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "llmx_tree": tree if llmx_env in ("project", "install") else None,
            "llmx_env": llmx_env,
            "llmx_python": str(own_python),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "duration_s": round(time.monotonic() - started, 1),
            "versions": versions,
            "quick": quick,
            "rounds": rounds,
        },
        "sizes": sizes,
        "skipped": skipped,
        "runs": runs,
        "medians": med,
        "ratios_to_httpx": {
            spec.name: {
                metric_key(key, mode): r
                for mode in spec.modes
                for key, _, _ in (*COLUMNS, *CPU_COLUMNS)
                if (r := ratio(med, spec.name, mode, key)) is not None
            }
            for spec in specs
        },
        "targets": goal_rows,
        "floor": floor(med),
        "table": table(specs, med, sizes),
        "cpu_table": table(specs, med, sizes, CPU_COLUMNS),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def print_report(report: dict[str, Any], out: Path) -> None:
    meta = report["meta"]
    m = meta["machine"]
    print()
    print(
        f"llmx benchmark, {meta['date']}; {m['nproc']} cores {m['arch']} ({m['cpu']}), "
        f"Python {m['python']}; load average {meta['loadavg_before'][0]:.2f} before, "
        f"{meta['loadavg_after'][0]:.2f} after; medians of {meta['rounds']} round(s)"
        + (" (--quick)" if meta["quick"] else "")
    )
    env = meta["versions"].get("llmx") or meta["versions"].get("httpx") or {}
    libs = ", ".join(f"{k} {v}" for k, v in env.items() if k != "llmx-ai")
    where = meta["llmx_python"]
    if meta["llmx_env"] != where:
        where = f"{meta['llmx_env']}: {where}"
    print(f"llmx and raw httpx ran in {where} ({libs})")
    print()
    print(report["table"])
    print()
    print("Client CPU time (the client process only; steadier than wall time on a shared machine):")
    print()
    print(report["cpu_table"])
    print()
    print("Ratios in parentheses: to raw httpx in the same mode. Targets (issue #6):")
    print(format_targets(report["targets"]))
    if report.get("floor"):
        shown = ", ".join(
            f"{label} {report['floor'][key]:.2f}×"
            for key, label in FLOOR_KEYS
            if key in report["floor"]
        )
        print(f"llmx on aiohttp (http_backend='aiohttp') against aiohttp alone: {shown}")
    versions = ", ".join(
        f"{name} {v.get(name, v.get(name + '-ai', '?'))}"
        for name, v in report["meta"]["versions"].items()
        if name != "httpx"
    )
    if versions:
        print(f"Versions: {versions}")
    for name, why in report["skipped"].items():
        print(f"Skipped {name}: {why}")
    print(f"JSON: {out} ({meta['duration_s']:.0f}s)")
