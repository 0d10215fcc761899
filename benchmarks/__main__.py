"""``python -m benchmarks``: llmx against raw httpx and its peers, on a loopback mock of Groq.

Run it from the repository root with the project's venv (``make bench`` does). The first run
creates a separate venv for the peers (groq, openai, litellm, aiohttp; pinned in
benchmarks/requirements-peers*.txt) at ``$LLMX_BENCH_VENV`` (default
``~/.cache/llmx-bench-venv``); if that fails, llmx and raw httpx are still measured and the
skipped peers are named. A full run takes a few minutes; ``--quick`` is a smoke run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import _harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only",
        default=",".join(_harness.NAMES),
        help=f"comma-separated clients (default: all of {','.join(_harness.NAMES)})",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 round: a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=_harness.DEFAULT_OUT, help="JSON report path")
    parser.add_argument(
        "--peer-venv", type=Path, default=_harness.default_peer_venv(), help="the peers' venv"
    )
    parser.add_argument(
        "--no-install", action="store_true", help="use the peers' venv only if it is ready"
    )
    parser.add_argument(
        "--llmx-python",
        metavar="install|project|PATH",
        help="where llmx and the raw-httpx baseline run: 'install' (this tree installed as a "
        "user gets it into $LLMX_BENCH_VENV-llmx; the default), 'project' (this venv, "
        "editable, with dev extras; the default of --quick), or a python to use as it is",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: profile llmx's streaming hot path (stage costs and cProfile)",
    )
    parser.add_argument("--corrupt-mock", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.profile:
        from . import _profile

        return _profile.main(quick=args.quick)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(_harness.NAMES))
    if unknown:
        parser.error(f"unknown client(s) {unknown}; choose from {','.join(_harness.NAMES)}")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        report = _harness.run(
            only=only,
            quick=args.quick,
            rounds=args.rounds,
            out=args.out,
            peer_venv=args.peer_venv,
            install=not args.no_install,
            corrupt=args.corrupt_mock,
            llmx_python=args.llmx_python,
        )
    except _harness.BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return exc.status
    _harness.print_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
