"""Run every benchmark side by side and rewrite benchmarks/README.md with the results.

``python -m benchmarks.run_all`` (``make bench``): the four benchmarks in order, each after waiting
(up to two minutes) for the load average to drop to 1.5, then README.md from README.in.md.
``--quick`` runs each once with small sizes (a smoke test; the README is left alone);
``--only inventory,emulator`` picks benchmarks; ``--json PATH`` writes the raw numbers;
``--only inventory --keep-others`` rewrites the README with the new figures of the benchmarks run
and keeps the other sections (and their summary rows) as they were, saying so.
Exits 1 if a benchmark crashed (a missed target is reported, not an error).
"""

from __future__ import annotations

import argparse
import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .common import Result, load_average, machine_info, wait_for_quiet

HERE = Path(__file__).parent
TEMPLATE = HERE / "README.in.md"
README = HERE / "README.md"


def _benchmarks() -> dict[str, Callable[..., Result]]:
    """Imported lazily: the browser benchmarks need playwright, the others do not."""

    def inventory(**kw: object) -> Result:
        from .inventory_load import run

        return run(**kw)

    def keystroke(**kw: object) -> Result:
        from .keystroke import run

        return run(**kw)

    def fleet(**kw: object) -> Result:
        from .large_fleet import run

        return run(**kw)

    def emulator(**kw: object) -> Result:
        from .emulator_throughput import run

        return run(**kw)

    def workers(**kw: object) -> Result:
        from .fleet_workers import run

        return run(**kw)

    return {"inventory": inventory, "keystroke": keystroke, "fleet": fleet, "emulator": emulator, "workers": workers}


def run_benchmark(key: str, bench: Callable[..., Result], *, quick: bool, quiet_wait: float) -> Result:
    """Run one benchmark; a crash becomes a result that says so."""
    print(f"\n== {key}", flush=True)
    load_before = wait_for_quiet(timeout=quiet_wait) if quiet_wait else load_average()
    started = time.monotonic()
    try:
        result = bench(quick=quick)
    except Exception:  # noqa: BLE001 - reported in the README, the other benchmarks still run
        text = traceback.format_exc()
        print(text, flush=True)
        result = Result(key, f"{key}: CRASHED")
        result.data["error"] = text
        result.note("The benchmark crashed: " + text.strip().splitlines()[-1])
    result.load_before, result.load_after = load_before, load_average()
    result.seconds = time.monotonic() - started
    return result


#: The README section of each benchmark starts with "## <number>." (its title's first word).
ORDER = {"inventory": "1.", "keystroke": "2.", "fleet": "3.", "emulator": "4.", "workers": "5."}


@dataclass(frozen=True)
class Kept:
    """A benchmark not run this time: its README section and summary rows as the last full run left them."""

    key: str
    section: str
    rows: list[str]


def kept_sections(readme: str, keys: list[str]) -> list[Kept]:
    """The sections (and Targets rows) of ``keys`` in ``readme``, each marked as kept from an earlier run."""
    run_on = re.search(r"Run on ([^.]+UTC)", readme)
    when = run_on.group(1) if run_on else "an earlier run"
    kept = []
    for key in keys:
        number = ORDER[key]
        match = re.search(rf"^## {re.escape(number)} .*?(?=^## )", readme, flags=re.S | re.M)
        if match is None:
            continue
        title, body = match.group(0).split("\n", 1)
        if "_Not run this time" not in body:  # kept twice: still the first run's date
            body = f"\n_Not run this time: the figures of the run on {when}._\n{body}"
        rows = [line for line in readme.splitlines() if line.startswith(f"| {number} ")]
        rows = [row if "(earlier run)" in row else row.replace(" |", " (earlier run) |", 1) for row in rows]
        kept.append(Kept(key, f"{title}\n{body}", rows))
    return kept


def summary(results: list[Result], kept: list[Kept] = ()) -> str:  # type: ignore[assignment]
    rows: dict[str, list[str]] = {k.key: k.rows for k in kept}
    for result in results:
        rows[result.key] = [f"| {result.title.split(':')[0]} | {target.goal} | {'yes' if target.met else '**no**'} | {target.detail} |"
                            for target in result.targets]  # fmt: skip
    lines = ["| benchmark | target | met | this run |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + [row for key in sorted(rows, key=lambda k: ORDER.get(k, k)) for row in rows[key]])


def render_readme(results: list[Result], machine: dict[str, str], started: datetime, kept: list[Kept] = ()) -> str:  # type: ignore[assignment]
    machine_table = "\n".join(["| | |", "| --- | --- |"] + [f"| {key} | {value} |" for key, value in machine.items()])
    loads = ", ".join([f"{r.key} {r.load_before:.2f}" for r in results] + [f"{k.key} (not run)" for k in kept])
    sections = {r.key: r.markdown() for r in results} | {k.key: k.section for k in kept}
    return TEMPLATE.read_text().format(
        date=started.strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine_table,
        loads=loads,
        summary=summary(results, kept),
        results="\n".join(sections[key] for key in sorted(sections, key=lambda k: ORDER.get(k, k))),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark once, small sizes; README untouched")
    parser.add_argument("--only", default="", help="comma-separated: inventory, keystroke, fleet, emulator, workers")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite benchmarks/README.md")
    parser.add_argument("--keep-others", action="store_true",
                        help="with --only: rewrite README.md, keeping the sections of the benchmarks not run")
    parser.add_argument("--quiet-wait", type=float, default=None,
                        help="seconds to wait for load average <= 1.5 before each benchmark (default 120, 0 with --quick)")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="only rewrite README.md from a --json file (after editing README.in.md); "
                             "with --keep-others, the benchmarks it lacks keep their sections")
    args = parser.parse_args(argv)
    available = _benchmarks()
    if args.render:
        raw = json.loads(args.render.read_text())
        results = [Result.from_dict(value) for value in raw["results"].values()]
        others = [key for key in available if key not in raw["results"]]
        if others and not args.keep_others:
            parser.error(f"{args.render} has no {', '.join(others)}: add --keep-others to keep their sections")
        kept = kept_sections(README.read_text(), others) if others else []
        README.write_text(render_readme(results, raw["machine"], datetime.fromisoformat(raw["date"]), kept))
        print(f"wrote {README}")
        return 0
    chosen = [key.strip() for key in args.only.split(",") if key.strip()] or list(available)
    unknown = [key for key in chosen if key not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0 if args.quick else 120)
    started = datetime.now(timezone.utc)
    machine = machine_info()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()), flush=True)
    results = [run_benchmark(key, available[key], quick=args.quick, quiet_wait=quiet_wait) for key in chosen]
    print("\n== summary")
    for result in results:
        for target in result.targets:
            print(f"  [{result.key}] {target.line()}")
    if args.json:
        raw = {"date": started.isoformat(), "quick": args.quick, "machine": machine,
               "results": {r.key: r.to_dict() for r in results}}  # fmt: skip
        args.json.write_text(json.dumps(raw, indent=1, default=str))
    others = [key for key in available if key not in chosen]
    if not args.quick and not args.no_readme and (not others or args.keep_others):
        kept = kept_sections(README.read_text(), others) if others else []
        README.write_text(render_readme(results, machine, started, kept))
        print(f"wrote {README}" + (f" (kept: {', '.join(k.key for k in kept)})" if kept else ""))
    return 1 if any("error" in r.data for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
