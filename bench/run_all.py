"""Runs every benchmark (`bench/bench_*.py`), each in its own process, and reports any that failed.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME]...

Each script prints its figures as `name: value unit` lines (shown as they come) and merges them into
`bench/results.json`. With `--quick`, scripts that have a quick mode get `--quick`; those without one run
as they are, except the ones listed in `SLOW_WITHOUT_QUICK`, which are skipped. A failed benchmark (non-zero
exit, or a floor it reports as broken) is named at the end, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# No quick mode, and minutes long: not part of `make bench-quick`.
SLOW_WITHOUT_QUICK = frozenset({"bench_checkthat.py"})


@dataclass(frozen=True)
class Outcome:
    script: str
    status: int | None  # None: skipped
    seconds: float


def benchmark_scripts(folder: Path = BENCH_DIR) -> list[Path]:
    return sorted(folder.glob("bench_*.py"))


def has_quick_mode(script: Path) -> bool:
    """Whether the script takes `--quick` (it declares the option)."""
    return '"--quick"' in script.read_text(encoding="utf-8")


def command_for(script: Path, *, quick: bool) -> list[str] | None:
    """The command that runs `script`, or None when it is skipped in quick mode."""
    if not quick:
        return [sys.executable, str(script)]
    if has_quick_mode(script):
        return [sys.executable, str(script), "--quick"]
    if script.name in SLOW_WITHOUT_QUICK:
        return None
    return [sys.executable, str(script)]


def run(script: Path, *, quick: bool) -> Outcome:
    command = command_for(script, quick=quick)
    if command is None:
        print(f"== {script.name}: skipped (no quick mode)", flush=True)
        return Outcome(script.name, None, 0.0)
    print(f"== {script.name}{' --quick' if '--quick' in command else ''}", flush=True)
    started = time.monotonic()
    status = subprocess.run(command, cwd=BENCH_DIR.parent, check=False).returncode
    return Outcome(script.name, status, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the short runs only")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only bench_NAME.py (repeatable)")
    args = parser.parse_args(argv)
    scripts = benchmark_scripts()
    if args.only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in args.only}
        scripts = [script for script in scripts if script.stem.removeprefix("bench_") in wanted]
    outcomes = [run(script, quick=args.quick) for script in scripts]
    print("== summary", flush=True)
    for outcome in outcomes:
        if outcome.status is None:
            state = "skipped"
        else:
            state = "ok" if outcome.status == 0 else f"FAILED (exit status {outcome.status})"
        print(f"{outcome.script}: {state} in {outcome.seconds:.0f} s", flush=True)
    failed = [outcome.script for outcome in outcomes if outcome.status not in (None, 0)]
    if failed:
        print(f"bench: {len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
