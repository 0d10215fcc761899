"""Start and stop the real llama.cpp servers that prepare.py built.

    manifest = load_manifest()
    server = start_server(manifest, "llama_server", api_key="secret")
    ...  # server.base_url == "http://127.0.0.1:PORT/v1"
    server.stop()

Each server runs in its own process group on 127.0.0.1 with a free port, its
output captured to a log file; `start_server` waits (bounded) until
`/v1/models` answers and reports the log tail when the server dies or hangs.
The process gets SIGKILL if the test process dies without stopping it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import prepare

KINDS = ("llama_cpp_python", "llama_server")
PREPARE_HINT = "run: python tests/integration/llamacpp/prepare.py"
# Only these variables reach the servers: both read settings from the environment
# (llama-cpp-python: API_KEY, MODEL, PORT, ...; llama-server: LLAMA_ARG_*).
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH")


class ManifestError(Exception):
    pass


class ServerError(Exception):
    pass


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """Read prepare.py's manifest; ManifestError (saying what to run) if unusable."""
    path = path or prepare.manifest_path()
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"no llama.cpp test manifest at {path}; {PREPARE_HINT}") from None
    except ValueError as exc:
        raise ManifestError(f"unreadable manifest {path} ({exc}); {PREPARE_HINT}") from None
    if manifest.get("manifest_version") != prepare.MANIFEST_VERSION:
        raise ManifestError(f"manifest {path} is from another prepare.py; {PREPARE_HINT}")
    stale = [k for k, v in prepare.input_hashes().items() if manifest.get(k) != v]
    if stale:
        raise ManifestError(
            f"manifest {path} is stale ({', '.join(stale)} changed since); {PREPARE_HINT}"
        )
    files = [manifest["python"], *(m["path"] for m in manifest["models"].values())]
    missing = [f for f in [*files, manifest["llama_server"]] if f and not Path(f).exists()]
    if missing:
        raise ManifestError(f"missing {', '.join(missing)}; {PREPARE_HINT}")
    return manifest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(
    manifest: dict[str, Any], kind: str, port: int, api_key: str | None
) -> list[str]:
    model_id = manifest["model_id"]
    model = manifest["models"][kind]["path"]
    if kind == "llama_cpp_python":
        cmd = [
            manifest["python"], "-m", "llama_cpp.server",
            "--model", model, "--model_alias", model_id,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
            "--seed", "42",
            # the handler that implements tools + tool_choice; the GGUF's own
            # template (no --chat_format) only renders tools into the prompt
            "--chat_format", "chatml-function-calling",
            # the default (True) lets a new request cut an in-flight stream short
            "--interrupt_requests", "False",
        ]  # fmt: skip
        return [*cmd, "--api_key", api_key] if api_key else cmd
    if kind == "llama_server":
        if not manifest.get("llama_server"):
            raise ManifestError(
                f"llama-server was not built (prepare.py --skip-llama-server); {PREPARE_HINT}"
                " without --skip-llama-server"
            )
        cmd = [
            manifest["llama_server"], "-m", model, "--alias", model_id,
            "--host", "127.0.0.1", "--port", str(port),
            "--ctx-size", "2048", "--parallel", "1", "--threads", "1",
            "--jinja",  # the GGUF's chat template: tool calls, grammars
            "--no-webui",
        ]  # fmt: skip
        return [*cmd, "--api-key", api_key] if api_key else cmd
    raise ValueError(f"unknown server kind {kind!r}; expected one of {KINDS}")


_PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux only


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL it when the parent dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Server:
    kind: str
    base_url: str
    api_key: str | None
    model: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if still alive after `timeout`."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):  # anything left in the group
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def wait_ready(self, timeout: float) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise ServerError(
                        f"{self.kind} exited with status {self.process.returncode} during"
                        f" startup; log {self.log_path}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/models").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{self.kind} did not answer {self.base_url}/models within"
                        f" {timeout:.0f}s; log {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(0.05)


def start_server(
    manifest: dict[str, Any],
    kind: str,
    *,
    api_key: str | None = None,
    log_dir: Path | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> Server:
    """Start a server and wait until it answers; retries when the port was taken."""
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="llmx-llamacpp-"))
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    for attempt in range(1, attempts + 1):
        port = free_port()
        log_path = log_dir / f"{kind}{'-key' if api_key else ''}-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                server_command(manifest, kind, port, api_key),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: stop() kills it whole
                preexec_fn=_die_with_parent,
            )
        server = Server(
            kind=kind,
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key=api_key,
            model=manifest["model_id"],
            process=process,
            log_path=log_path,
        )
        try:
            server.wait_ready(timeout)
        except ServerError:
            server.stop()
            tail = server.log_tail().lower()
            if attempt < attempts and ("address already in use" in tail or "bind" in tail):
                continue
            raise
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")
