#!/usr/bin/env python3
"""Runs the benchmark scenarios against sse_hub, nginx+nchan and pushpin side by side, and the
agent paths that have no peer (token-latency, request-path).

Usage: bench/run.py --build-dir DIR [--quick] [--only NAME[,NAME]] [--servers hub,nchan,pushpin]
Prints the Markdown results table; writes raw JSON and the table into DIR/bench-results/.
bench/run.sh is the documented entry point (it installs the peers and builds first).
"""
import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness import report, request_path, scenarios  # noqa: E402


def machine_info():
    model = "unknown"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": mem_kib / 2**20,
            "kernel": platform.release(), "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "nice": os.nice(0),
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build-bench")
    parser.add_argument("--rerender", default="", help="print the table of a stored results JSON")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated scenario names (prefix match)")
    parser.add_argument("--servers", default="hub,nchan,pushpin")
    parser.add_argument("--repeats", type=int, default=0, help="override repetitions per scenario")
    parser.add_argument("--command", default="", help="the command line to quote in the report")
    parser.add_argument("--out", default="results", help="name of the result files in bench-results/")
    args = parser.parse_args()

    if args.rerender:
        # Recompute the metrics from the stored raw results (after a change in how they are read).
        stored = json.loads(pathlib.Path(args.rerender).read_text())
        extractors = {s.name: s.extract for s in scenarios.build_scenarios(False) + scenarios.build_scenarios(True)}
        for entry in stored["results"]:
            for runs in entry["runs"].values():
                for run in runs:
                    if run.get("metrics") is not None:
                        run["metrics"] = extractors[entry["scenario"]["name"]](run["raw"])
        print(report.markdown(stored["results"], stored["machine"], args.command or "bench/run.sh")
              + "\n" + report.slow_consumer_effect(stored["results"]) + "\n"
              + report.request_path_markdown(stored.get("request_path", []), request_path.TARGETS))
        return

    build_dir = str(pathlib.Path(args.build_dir).resolve())
    out_dir = pathlib.Path(build_dir) / "bench-results"
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted_servers = [s for s in args.servers.split(",") if s]
    only = [o for o in args.only.split(",") if o]
    machine = machine_info()
    started = time.monotonic()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    results = []
    for scenario in scenarios.build_scenarios(args.quick):
        if only and not any(scenario.name.startswith(o) for o in only):
            continue
        repeats = args.repeats or scenario.repeats
        log(f"== {scenario.name}: {scenario.title} (x{repeats})")
        entry = {"scenario": dataclasses.asdict(scenario) | {"extract": None, "runner": None}, "runs": {}}
        entry["scenario"]["servers"] = [s for s in scenario.servers if s in wanted_servers]
        # Interleave servers within each repetition so that background noise hits all alike.
        for repetition in range(repeats):
            for server_key in entry["scenario"]["servers"]:
                metrics, raw = scenarios.run_once(scenario, server_key, build_dir, log)
                log(f"  [{repetition + 1}/{repeats}] {server_key}: "
                    f"{json.dumps(metrics) if metrics else raw}")
                entry["runs"].setdefault(server_key, []).append({"metrics": metrics, "raw": raw})
        results.append(entry)
        (out_dir / f"{args.out}.json").write_text(json.dumps({"machine": machine, "results": results}, indent=1))

    path_runs = []
    if not only or any("request-path".startswith(o) for o in only):
        repeats = args.repeats or (1 if args.quick else 3)
        log(f"== request-path: GET /api/sessions through app, agent, nginx (x{repeats})")
        for repetition in range(repeats):
            result = request_path.run_once(build_dir, 5 if args.quick else 10, 16, log)
            log(f"  [{repetition + 1}/{repeats}] " + json.dumps(
                {k: (v.get("metrics") or v.get("error")) if isinstance(v, dict) else v for k, v in result.items()}))
            path_runs.append(result)

    machine["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    machine["minutes"] = (time.monotonic() - started) / 60
    command = args.command or "bench/run.sh" + (" --quick" if args.quick else "")
    table = (report.markdown(results, machine, command) + "\n" + report.slow_consumer_effect(results)
             + "\n" + report.request_path_markdown(path_runs, request_path.TARGETS))
    (out_dir / f"{args.out}.json").write_text(json.dumps(
        {"machine": machine, "results": results, "request_path": path_runs}, indent=1))
    (out_dir / f"{args.out}.md").write_text(table)
    print(table)
    log(f"raw results: {out_dir / (args.out + '.json')}")


if __name__ == "__main__":
    main()
