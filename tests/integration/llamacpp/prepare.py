#!/usr/bin/env python3
"""Prepare the real llama.cpp servers used by tests/integration/llamacpp.

    python tests/integration/llamacpp/prepare.py [--skip-llama-server]

Builds, in ${LLMX_LLAMACPP_CACHE:-~/.cache/llmx-llamacpp}, everything from PyPI:
a venv with llama-cpp-python[server] (built from its sdist, pins in
constraints.txt), llama.cpp's C++ `llama-server` (cmake, from the llama.cpp
source vendored in the same sdist), and two tiny random-weight models made by
make_tiny_gguf.py; then writes manifest.json, which the test fixtures read.

Idempotent: whatever is already there is reused (a warm run takes seconds).
Needs python >= 3.10, cmake >= 3.21, a C++ compiler, and ninja or make.
Stdlib only, so any python can run it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import make_tiny_gguf

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "constraints.txt"
GENERATOR = HERE / "make_tiny_gguf.py"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
SDIST_NAME = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}"
MANIFEST_VERSION = 1
# Build with 2 jobs by default (the project's machines have 2 cores).
JOBS = int(os.environ.get("LLMX_LLAMACPP_JOBS", "2"))
BASE_REQUIREMENTS = ["pip", "gguf", "numpy", "scikit-build-core"]
SERVER_REQUIREMENT = f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON_VERSION}"
LLAMA_SERVER_CMAKE_ARGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    # ON would fetch the web UI from the network at build time
    "-DLLAMA_USE_PREBUILT_UI=OFF",
]


class PrepareError(Exception):
    pass


def cache_dir() -> Path:
    return Path(
        os.environ.get("LLMX_LLAMACPP_CACHE") or Path.home() / ".cache" / "llmx-llamacpp"
    ).absolute()


def manifest_path() -> Path:
    return cache_dir() / "manifest.json"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes() -> dict[str, str]:
    """Hashes of the inputs a manifest was built from (fixtures compare them)."""
    return {
        "constraints_sha256": file_sha256(CONSTRAINTS),
        "generator_sha256": file_sha256(GENERATOR),
    }


@contextlib.contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    print(f"==> {name}", flush=True)
    start = time.monotonic()
    try:
        yield
    except PrepareError as exc:
        raise PrepareError(f"step '{name}' failed: {exc}") from None
    timings[name] = time.monotonic() - start
    print(f"    [time] {name}: {timings[name]:.1f}s", flush=True)


Env = dict[str, str] | None


def run(cmd: list[str | Path], *, log: Path | None = None, env: Env = None) -> str:
    """Run a command; output goes to `log` (long builds) or is returned."""
    args = [str(part) for part in cmd]
    full_env = {**os.environ, **(env or {})}
    if log is None:
        proc = subprocess.run(args, env=full_env, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        print(f"    log: {log}", flush=True)
        with open(log, "w") as fh:
            proc = subprocess.run(args, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
        output = log.read_text(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise PrepareError(f"command failed ({proc.returncode}): {' '.join(args)}\n{tail}")
    return proc.stdout if log is None else output


def require_build_tools() -> None:
    needed = {
        "cmake": ["cmake"],
        "a C++ compiler": ["c++", "g++"],
        "ninja or make": ["ninja", "make"],
    }
    missing = [name for name, tools in needed.items() if not any(map(shutil.which, tools))]
    if missing:
        raise PrepareError(
            f"missing build tools: {', '.join(missing)}"
            " (Debian: apt-get install cmake g++ ninja-build)"
        )


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.python = self.venv / "bin" / "python"
        self.sdist = root / "sdist" / f"{SDIST_NAME}.tar.gz"
        self.src = root / "src" / SDIST_NAME
        self.wheels = root / "wheels"
        self.llama_server = root / "bin" / "llama-server"
        self.models = root / "models"
        self.logs = root / "logs"

    def pip(self, *args: str | Path, log: Path | None = None, env: Env = None) -> str:
        return run([self.python, "-m", "pip", *args], log=log, env=env)

    def ensure_venv(self) -> None:
        if self.python.exists() and subprocess.run([self.python, "-c", ""]).returncode == 0:
            print(f"    reusing {self.venv}")
        else:
            shutil.rmtree(self.venv, ignore_errors=True)
            run([sys.executable, "-m", "venv", self.venv])
        stamp = self.venv / ".llmx-base"
        want = hashlib.sha256(
            CONSTRAINTS.read_bytes() + " ".join(BASE_REQUIREMENTS).encode()
        ).hexdigest()
        if stamp.exists() and stamp.read_text() == want:
            return
        self.pip("install", "-q", "-c", CONSTRAINTS, "pip")
        self.pip("install", "-q", "-c", CONSTRAINTS, *BASE_REQUIREMENTS)
        stamp.write_text(want)

    def ensure_sdist(self) -> None:
        if self.sdist.exists():
            print(f"    reusing {self.sdist}")
        else:
            with tempfile.TemporaryDirectory(dir=self.root) as tmp:
                # no build isolation: pip prepares the sdist's metadata with the
                # pinned scikit-build-core instead of fetching build deps
                self.pip(
                    "download", "-q", "--no-deps", "--no-build-isolation",
                    "--no-binary", "llama-cpp-python", "-d", tmp,
                    f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
                )  # fmt: skip
                self.sdist.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(tmp) / self.sdist.name, self.sdist)
        if (self.src / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
            return
        with tempfile.TemporaryDirectory(dir=self.root) as tmp, tarfile.open(self.sdist) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # python < 3.10.12 / 3.11.4
                tar.extractall(tmp)
            self.src.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.src, ignore_errors=True)
            os.replace(Path(tmp) / SDIST_NAME, self.src)

    def wheel(self) -> Path | None:
        found = sorted(self.wheels.glob(f"{SDIST_NAME}-*.whl"))
        return found[-1] if found else None

    def ensure_wheel(self) -> Path:
        wheel = self.wheel()
        if wheel is not None:
            print(f"    reusing {wheel}")
            return wheel
        print(f"    building the llama-cpp-python wheel from the sdist (-j{JOBS}, minutes)")
        with tempfile.TemporaryDirectory(dir=self.root) as tmp:
            self.pip(
                "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", tmp,
                # persistent source and build dirs: an interrupted build resumes
                f"--config-settings=build-dir={self.root / 'build' / 'wheel'}",
                self.src,
                log=self.logs / "llama-cpp-python-wheel.log",
                env={
                    # no multimodal (mtmd) library: only vision chat handlers use it
                    "CMAKE_ARGS": "-DLLAVA_BUILD=OFF",
                    "CMAKE_BUILD_PARALLEL_LEVEL": str(JOBS),
                },
            )  # fmt: skip
            (built,) = Path(tmp).glob("*.whl")
            self.wheels.mkdir(parents=True, exist_ok=True)
            os.replace(built, self.wheels / built.name)
        wheel = self.wheel()
        assert wheel is not None
        return wheel

    def ensure_server_package(self, wheel: Path) -> str:
        stamp = self.venv / ".llmx-server"
        want = hashlib.sha256(
            CONSTRAINTS.read_bytes() + wheel.name.encode() + SERVER_REQUIREMENT.encode()
        ).hexdigest()
        if not (stamp.exists() and stamp.read_text() == want):
            self.pip(
                "install", "-q", "-c", CONSTRAINTS, "--find-links", self.wheels,
                "--only-binary", "llama-cpp-python", SERVER_REQUIREMENT,
            )  # fmt: skip
            stamp.write_text(want)
        check = "import llama_cpp, llama_cpp.server.app; print(llama_cpp.__version__)"
        version = run([self.python, "-c", check]).strip()
        if version != LLAMA_CPP_PYTHON_VERSION:
            raise PrepareError(f"llama_cpp {version} installed, want {LLAMA_CPP_PYTHON_VERSION}")
        return version

    def ensure_llama_server(self) -> str:
        if not self.llama_server.exists():
            build = self.root / "build" / "llama-server"
            if not (build / "CMakeCache.txt").exists():
                generator = ["-G", "Ninja"] if shutil.which("ninja") else []
                run(
                    ["cmake", "-S", self.src / "vendor" / "llama.cpp", "-B", build,
                     *generator, *LLAMA_SERVER_CMAKE_ARGS],
                    log=self.logs / "llama-server-configure.log",
                )  # fmt: skip
            print(f"    building llama-server (-j{JOBS}, minutes)")
            run(
                ["cmake", "--build", build, "--target", "llama-server", "-j", str(JOBS)],
                log=self.logs / "llama-server-build.log",
            )
            self.llama_server.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.llama_server.with_suffix(".tmp")
            shutil.copy2(build / "bin" / "llama-server", tmp)
            os.replace(tmp, self.llama_server)
        else:
            print(f"    reusing {self.llama_server}")
        proc = subprocess.run(
            [self.llama_server, "--version"], capture_output=True, text=True, check=False
        )
        out = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise PrepareError(f"{self.llama_server} --version failed: {out.strip()}")
        return next((line for line in out.splitlines() if line.startswith("version")), out.strip())

    def drop_build_trees(self) -> None:
        """Free ~350 MB once the artifacts exist (the sdist stays for rebuilds)."""
        if self.wheel() is not None:
            shutil.rmtree(self.root / "build" / "wheel", ignore_errors=True)
        if self.llama_server.exists():
            shutil.rmtree(self.root / "build" / "llama-server", ignore_errors=True)
        if self.wheel() is not None and self.llama_server.exists():
            shutil.rmtree(self.root / "build", ignore_errors=True)
            shutil.rmtree(self.src.parent, ignore_errors=True)

    def ensure_models(self, previous: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        generator_sha = file_sha256(GENERATOR)
        models = {}
        for variant in make_tiny_gguf.VARIANTS:
            path = self.models / f"{make_tiny_gguf.MODEL_NAME}-{variant}.gguf"
            old = previous.get(variant, {})
            if (
                path.exists()
                and old.get("generator_sha256") == generator_sha
                and old.get("sha256") == file_sha256(path)
            ):
                print(f"    reusing {path}")
                models[variant] = old
                continue
            tmp = path.with_suffix(".tmp")
            run([self.python, GENERATOR, tmp, "--variant", variant])
            os.replace(tmp, path)
            print(f"    wrote {path}")
            models[variant] = {
                "path": str(path),
                "sha256": file_sha256(path),
                "generator_sha256": generator_sha,
            }
        return models


def prepare(skip_llama_server: bool) -> dict[str, object]:
    cache = Cache(cache_dir())
    cache.root.mkdir(parents=True, exist_ok=True)
    try:
        previous = json.loads(manifest_path().read_text())
    except (OSError, ValueError):
        previous = {}
    timings: dict[str, float] = {}
    start = time.monotonic()
    print(f"cache: {cache.root}")
    with step("venv", timings):
        cache.ensure_venv()
    build_server = not (skip_llama_server or cache.llama_server.exists())
    if cache.wheel() is None or build_server:
        require_build_tools()  # pip needs cmake even to read the sdist's metadata
        with step("sdist (source of both builds)", timings):
            cache.ensure_sdist()
    with step("llama-cpp-python wheel", timings):
        wheel = cache.ensure_wheel()
    with step("llama-cpp-python[server] install", timings):
        version = cache.ensure_server_package(wheel)
    llama_server: Path | None = None
    llama_server_version = None
    if skip_llama_server and not cache.llama_server.exists():
        print("==> llama-server: skipped (--skip-llama-server)")
    else:
        with step("llama-server", timings):
            llama_server_version = cache.ensure_llama_server()
            llama_server = cache.llama_server
    with step("models", timings):
        models = cache.ensure_models(previous.get("models", {}))
    cache.drop_build_trees()
    gguf_version = run(
        [cache.python, "-c", "import importlib.metadata as m; print(m.version('gguf'))"]
    ).strip()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "cache_dir": str(cache.root),
        "python": str(cache.python),
        "llama_cpp_python_version": version,
        "llama_server": str(llama_server) if llama_server else None,
        "llama_server_version": llama_server_version,
        "gguf_version": gguf_version,
        "model_id": make_tiny_gguf.MODEL_NAME,
        "models": models,
        **input_hashes(),
    }
    tmp = manifest_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, manifest_path())
    print(f"==> done in {time.monotonic() - start:.1f}s; manifest: {manifest_path()}")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-llama-server",
        action="store_true",
        help="do not build the C++ llama-server (its tests will then fail)",
    )
    args = parser.parse_args(argv)
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one prepare at a time per cache dir
        try:
            prepare(args.skip_llama_server)
        except (PrepareError, OSError) as exc:
            print(f"prepare.py: FAILED: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
