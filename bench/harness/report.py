"""Medians, spreads, ratios and the Markdown results table."""
import statistics

SERVER_ORDER = [("hub", "sse_hub"), ("nchan", "nginx+nchan"), ("pushpin", "pushpin")]


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}



def fmt(value):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell(summary, note=None, runs=0):
    if summary is None:
        return note or "–"
    text = fmt(summary["median"])
    if summary["n"] > 1 and summary["min"] != summary["max"]:
        text += f" ({fmt(summary['min'])}–{fmt(summary['max'])})"
    if runs > summary["n"]:
        text += f" [{summary['n']} of {runs} runs]"
    return text


def ratio(ours, peer):
    if ours is None or peer is None or not peer["median"]:
        return "–"
    return f"{ours['median'] / peer['median']:.2f}"


def markdown(results, machine, command):
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']:.1f} GiB RAM, "
        f"Linux {machine['kernel']}; niceness {machine.get('nice', 0)}; load average {machine['load_before']} before and "
        f"{machine.get('load_after', '?')} after the run (the machine is shared: other builds ran "
        "during it). Started {started}, took {minutes:.1f} min.".format(
            started=machine["started"], minutes=machine.get("minutes", 0)),
        "",
        "Cells are medians over repetitions with (min–max); ratios are sse_hub ÷ peer.",
        "",
        "| scenario | metric | goal (sse_hub) | sse_hub | nginx+nchan | pushpin | ÷ nchan | ÷ pushpin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in results:
        scenario = entry["scenario"]
        for metric in scenario["metrics"]:
            summaries = {}
            notes = {}
            counts = {key: len([r for r in entry["runs"].get(key, []) if r.get("metrics")])
                      for key, _ in SERVER_ORDER}
            for key, _ in SERVER_ORDER:
                runs = entry["runs"].get(key, [])
                summaries[key] = summarize([r["metrics"].get(metric["key"]) for r in runs if r.get("metrics")])
                problems = [r["raw"].get("skipped") or r["raw"].get("error") for r in runs
                            if not r.get("metrics")]
                if key not in scenario["servers"]:
                    notes[key] = scenario.get("peer_note") or "n/a"
                elif problems:
                    notes[key] = str(problems[0]).replace("|", "/")[:120]
            unit = f" ({metric['unit']})" if metric["unit"] else ""
            lines.append(
                f"| {scenario['name']} | {metric['label']}{unit} | {metric['goal']} | "
                f"{cell(summaries['hub'], notes.get('hub'), counts['hub'])} | "
                f"{cell(summaries['nchan'], notes.get('nchan'), counts['nchan'])} | "
                f"{cell(summaries['pushpin'], notes.get('pushpin'), counts['pushpin'])} | "
                f"{ratio(summaries['hub'], summaries['nchan'])} | {ratio(summaries['hub'], summaries['pushpin'])} |")
    return "\n".join(lines) + "\n"


def slow_consumer_effect(results):
    """p99 of the reading subscribers with 10% slow ones, relative to the baseline run."""
    by_name = {e["scenario"]["name"]: e for e in results}
    base, slow = by_name.get("slow-baseline"), by_name.get("slow-10")
    if not base or not slow:
        return ""
    parts = []
    for key, label in SERVER_ORDER:
        b = summarize([r["metrics"].get("p99_ms") for r in base["runs"].get(key, []) if r.get("metrics")])
        s = summarize([r["metrics"].get("p99_ms") for r in slow["runs"].get(key, []) if r.get("metrics")])
        if b and s and b["median"]:
            parts.append(f"{label} {100.0 * (s['median'] / b['median'] - 1):+.0f}%")
    return ("Slow consumers, change of the reading subscribers' p99 against the baseline "
            "(goal for sse_hub: within ±10%): " + ", ".join(parts) + "\n") if parts else ""


def request_path_markdown(runs, targets):
    """Table of GET /api/sessions per target, with the app's cost relative to nginx."""
    if not runs:
        return ""
    errors = [r["error"] for r in runs if "error" in r]
    lines = ["GET /api/sessions, 16 keep-alive connections, closed loop (server CPU counts the "
             "proxy and the agent):", "",
             "| target | requests/s | p50 (ms) | p99 (ms) | server CPU (cores) |", "|---|---|---|---|---|"]
    summaries = {}
    for key, label in targets:
        per_metric = {}
        for metric in ("rps", "p50_ms", "p99_ms", "cpu_cores"):
            per_metric[metric] = summarize([r[key]["metrics"][metric] for r in runs
                                            if isinstance(r.get(key), dict) and r[key].get("metrics")])
        summaries[key] = per_metric
        problem = next((r[key]["error"] for r in runs if isinstance(r.get(key), dict) and "error" in r[key]), None)
        if problem is None and errors:
            problem = errors[0]
        note = ("n/a: " + str(problem).replace("|", "/")[:120]) if problem else None
        lines.append(f"| {label} | {cell(per_metric['rps'], note)} | {cell(per_metric['p50_ms'])} | "
                     f"{cell(per_metric['p99_ms'])} | {cell(per_metric['cpu_cores'])} |")
    app, nginx = summaries.get("app", {}), summaries.get("nginx", {})
    if app.get("rps") and nginx.get("rps") and app.get("p99_ms") and nginx.get("p99_ms"):
        throughput_cost = 100.0 * (nginx["rps"]["median"] / app["rps"]["median"] - 1)
        p99_cost = 100.0 * (app["p99_ms"]["median"] / nginx["p99_ms"]["median"] - 1)
        lines += ["", f"The app against nginx (goal: adds ≤ 15%): {throughput_cost:+.0f}% time per request "
                      f"(from requests/s), {p99_cost:+.0f}% p99."]
    return "\n".join(lines) + "\n"
