"""The benchmark scenarios of issue 9 and how each one's numbers are read.

A scenario runs sse_load against each server with a fresh server per repetition, and extracts
named metrics from sse_load's JSON. run.py takes medians over repetitions and ratios
(ours / peer).
"""
import dataclasses
import json
import subprocess
import tempfile
import time

from . import servers, token_latency


@dataclasses.dataclass
class Metric:
    key: str        # name in the results
    label: str      # table row label
    unit: str
    better: str     # "lower" or "higher"
    goal: str = ""  # the goal for sse_hub, as text


@dataclasses.dataclass
class Scenario:
    name: str
    title: str
    mode: str                      # sse_load scenario: deliver, storm or token-latency
    args: list                     # sse_load arguments (beyond the server's own)
    metrics: list
    subscribers: int
    private: bool = False
    repeats: int = 1
    timeout: int = 300
    servers: tuple = ("hub", "nchan", "pushpin")
    extract: callable = None       # (sse_load json) -> {metric key: value}
    # Starts its own processes instead of one server: (scenario, build_dir, log) -> (metrics, raw)
    runner: callable = None
    peer_note: str = "n/a"         # the cell of a server the scenario does not run


def _lat_ms(result, path, field):
    node = result
    for part in path:
        node = node.get(part, {})
    value = node.get(field)
    # No deliveries at all is not a latency of 0.
    if value is None or not node.get("count"):
        return None
    return value / 1000.0


def idle_metrics(result):
    per_sub = result.get("pss_per_subscriber_bytes")
    connect = result.get("connect", {})
    return {
        "kib_per_subscriber": None if per_sub is None else per_sub / 1024.0,
        "connects_per_second": connect.get("per_second"),
        "connected": connect.get("ok"),
        "failed": connect.get("failed"),
    }


def _per_item_us(result, items):
    cores = result.get("server_cpu_cores")
    seconds = result.get("publish", {}).get("seconds")
    if not items or cores is None or not seconds:
        return None
    return cores * seconds / items * 1e6


def delivery_metrics(result):
    report = result.get("subscribers_report", {})
    expected = result.get("expected_deliveries") or 0
    delivered = report.get("deliveries", 0)
    publish = result.get("publish", {})
    return {
        "p50_ms": _lat_ms(result, ["latency_us"], "p50"),
        "p99_ms": _lat_ms(result, ["latency_us"], "p99"),
        "cpu_cores": result.get("server_cpu_cores"),
        "delivered_ratio": (delivered / expected) if expected else None,
        "publish_failed": publish.get("failed"),
        "publishes_per_second": publish.get("ok_per_second"),
        "deliveries_per_second": (delivered / publish["seconds"]) if publish.get("seconds") else None,
        "peak_rss_mib": (result.get("server_peak_rss_bytes") or 0) / 2**20,
        "rss_growth_mib": ((result.get("server_peak_rss_bytes") or 0)
                           - result.get("server_connected", {}).get("rss_bytes", 0)) / 2**20,
        "slow_dropped": report.get("slow_closed_by_server"),
        "kernel_tcp_growth_mib": ((result.get("kernel_tcp_buffers_published_bytes") or 0)
                                  - (result.get("kernel_tcp_buffers_connected_bytes") or 0)) / 2**20,
        "closed_by_server": report.get("closed_by_server"),
        "generator_cpu_cores": result.get("generator_cpu_cores"),
        # Server CPU time per delivered update (and per accepted publish): unlike latency, this
        # hardly depends on how much CPU the shared machine left the server.
        "cpu_us_per_delivery": _per_item_us(result, delivered),
        "cpu_us_per_publish": _per_item_us(result, publish.get("ok")),
    }


def storm_metrics(result):
    return {
        "all_caught_up_s": result.get("all_caught_up_seconds"),
        "catch_up_p50_ms": _lat_ms(result, ["catch_up_us"], "p50"),
        "catch_up_p99_ms": _lat_ms(result, ["catch_up_us"], "p99"),
        "caught_up": result.get("caught_up"),
        "reconnects_per_second": result.get("reconnect", {}).get("per_second"),
    }


def build_scenarios(quick):
    seconds = "5" if quick else "10"
    reps = 1 if quick else 3
    # --quick is a smoke run of every scenario (about 5 minutes on an idle machine), not a
    # measurement of the goals: half the subscribers, shorter phases, one repetition.
    main = 5000 if quick else 10000
    idle_sizes = [10000] if quick else [10000, 25000, 50000]
    out = []
    for n in idle_sizes:
        out.append(Scenario(
            name=f"idle-{n // 1000}k", title=f"1. Idle capacity, {n:,} subscribers on distinct topics",
            # One repetition: memory per subscriber varies by a few percent between runs.
            mode="deliver", subscribers=n, repeats=1,
            # Past 10k (pushpin sits those out) connects go 256 in flight, so that 50k
            # connections on a busy machine finish inside the wave timeout.
            args=["--subscribers", str(n), "--topics", str(n), "--settle-ms", "3000"]
            + (["--max-pending", "256", "--wave-timeout-ms", "600000"] if n > 10000 else []),
            metrics=[Metric("kib_per_subscriber", "server memory per subscriber (PSS)", "KiB", "lower",
                            "≤ 4 KiB and < each peer"),
                     Metric("connects_per_second", "connection setup rate (64 in flight; 256 past 10k)",
                            "conn/s", "higher"),
                     Metric("connected", "subscribers connected", "", "higher")],
            extract=idle_metrics, timeout=900))
    out.append(Scenario(
        name="broadcast", title=f"2. Broadcast: {main:,} subscribers on one topic, 10 publishes/s",
        mode="deliver", subscribers=main, repeats=reps,
        args=["--subscribers", str(main), "--topics", "1", "--rate", "10", "--seconds", seconds,
              "--warmup", "2", "--publish-connections", "32"],
        metrics=[Metric("p50_ms", "delivery latency p50", "ms", "lower"),
                 Metric("p99_ms", "delivery latency p99", "ms", "lower", "p99 ≤ 25 ms"),
                 Metric("cpu_cores", "server CPU", "cores", "lower"),
                 Metric("cpu_us_per_delivery", "server CPU per delivery", "µs", "lower"),
                 Metric("delivered_ratio", "delivered / expected", "", "higher")],
        extract=delivery_metrics))
    out.append(Scenario(
        name="chat", title=f"3. Chat: {main:,} subscribers on as many private topics, 2,000 publishes/s",
        mode="deliver", subscribers=main, private=True, repeats=reps,
        args=["--subscribers", str(main), "--topics", str(main), "--topic-format",
              "/users/u{i}/sessions/s{i}", "--rate", "2000", "--seconds", seconds, "--warmup", "2",
              "--publish-connections", "64"],
        metrics=[Metric("p50_ms", "delivery latency p50", "ms", "lower"),
                 Metric("p99_ms", "delivery latency p99", "ms", "lower", "p99 ≤ 10 ms"),
                 Metric("cpu_cores", "server CPU", "cores", "lower", "< 1 core"),
                 Metric("cpu_us_per_delivery", "server CPU per delivery", "µs", "lower"),
                 Metric("delivered_ratio", "delivered / expected", "", "higher")],
        extract=delivery_metrics))
    out.append(Scenario(
        name="throughput", title="4. Publish throughput: keep-alive publishers, 4 subscribers",
        mode="deliver", subscribers=4, repeats=reps,
        args=["--subscribers", "4", "--topics", "1", "--rate", "max", "--seconds", "5",
              "--warmup", "1", "--publish-connections", "16"],
        metrics=[Metric("publishes_per_second", "accepted publishes", "/s", "higher", "≥ 50,000/s"),
                 Metric("deliveries_per_second", "deliveries to the 4 subscribers", "/s", "higher"),
                 Metric("cpu_cores", "server CPU", "cores", "lower"),
                 Metric("cpu_us_per_publish", "server CPU per accepted publish", "µs", "lower")],
        extract=delivery_metrics))
    slow_subs = "2000" if quick else "10000"
    for fraction, label in (("0", "baseline"), ("0.1", "10% slow")):
        out.append(Scenario(
            name=f"slow-{label.split('%')[0] if fraction != '0' else 'baseline'}",
            title=f"5. Slow consumers ({label}): {int(slow_subs):,} on one topic, 10/s, 1 KiB updates",
            mode="deliver", subscribers=int(slow_subs), repeats=1 if quick else 2,
            args=["--subscribers", slow_subs, "--topics", "1", "--rate", "10", "--seconds", seconds,
                  "--warmup", "1", "--payload", "1024", "--slow-fraction", fraction,
                  "--publish-connections", "32"],
            metrics=[Metric("p99_ms", "p99 of the reading subscribers", "ms", "lower",
                            "moves ≤ 10% vs baseline"),
                     Metric("rss_growth_mib", "server RSS growth while publishing", "MiB", "lower",
                            "bounded"),
                     Metric("kernel_tcp_growth_mib", "kernel TCP buffer growth (whole machine)", "MiB",
                            "lower"),
                     Metric("slow_dropped", "slow subscribers dropped by the server", "", "higher")],
            extract=delivery_metrics))
    # The same with a backlog no socket buffer absorbs: 10 of 100 subscribers stop reading while
    # 32 KiB updates arrive 15 times a second (about 10 MB each over 20 s), so a server either
    # buffers it (memory grows), or bounds it and drops the slow ones.
    out.append(Scenario(
        name="slow-heavy", title="5b. Slow consumers with a large backlog: 100 on one topic, 10% slow, 32 KiB at 15/s",
        mode="deliver", subscribers=100, repeats=1,
        # 20 s: longer than the hub's 15 s HUB_WRITE_TIMEOUT, so its drop rule can act.
        args=["--subscribers", "100", "--topics", "1", "--rate", "15",
              "--seconds", "5" if quick else "20",
              "--warmup", "0", "--payload", "32768", "--slow-fraction", "0.1",
              "--publish-connections", "8"],
        metrics=[Metric("p99_ms", "p99 of the reading subscribers", "ms", "lower"),
                 Metric("rss_growth_mib", "server RSS growth while publishing", "MiB", "lower",
                        "bounded"),
                 Metric("kernel_tcp_growth_mib", "kernel TCP buffer growth (whole machine)", "MiB",
                        "lower"),
                 Metric("slow_dropped", "slow subscribers dropped by the server", "", "higher"),
                 Metric("delivered_ratio", "delivered / expected (reading ones)", "", "higher")],
        extract=delivery_metrics))
    out.append(Scenario(
        name="storm", title=f"6. Reconnect storm: {main:,} subscribers resume with Last-Event-ID at once",
        mode="storm", subscribers=main, repeats=1 if quick else 2,
        servers=("hub", "nchan"),
        args=["--subscribers", str(main), "--before", "5", "--missed", "10", "--max-pending", "1000"],
        metrics=[Metric("all_caught_up_s", "time until all caught up", "s", "lower"),
                 Metric("catch_up_p50_ms", "catch-up p50", "ms", "lower"),
                 Metric("catch_up_p99_ms", "catch-up p99", "ms", "lower"),
                 Metric("caught_up", "subscribers caught up", "", "higher")],
        extract=storm_metrics))
    turns = "5" if quick else "20"
    window, goal = token_latency.COALESCE_WINDOW_MS, token_latency.GOAL_MS
    out.append(Scenario(
        name="token-latency",
        title=f"7. Token latency: {turns} turns × 100 tokens 5 ms apart, fake Bedrock → agent "
              f"(coalescing window {window} ms, its default) → sse_hub → 1 subscriber",
        mode="token-latency", subscribers=1, repeats=reps, servers=("hub",),
        peer_note="n/a: no peer (agent path)",
        args=["--turns", turns, "--warmup-turns", "1", "--tokens", "100", "--delay-ms", "5"],
        metrics=[Metric("p50_ms", "token latency p50, fake Bedrock → subscriber", "ms", "lower",
                        f"≤ window + 5 ms = {goal} ms"),
                 Metric("p90_ms", "token latency p90", "ms", "lower"),
                 Metric("p99_ms", "token latency p99", "ms", "lower"),
                 Metric("newest_p50_ms", "newest token of each update p50 (no wait in the window)", "ms",
                        "lower"),
                 Metric("newest_p99_ms", "newest token of each update p99", "ms", "lower"),
                 Metric("delivered_ratio", f"tokens delivered / expected ({int(turns) * 100:,} per run)", "",
                        "higher"),
                 Metric("tokens_per_update", "tokens per text.delta update", "", "higher"),
                 Metric("coalesce_window_ms", "coalescing window (AGENT_PUBLISH_COALESCE, default)", "ms", ""),
                 Metric("cpu_cores", "agent + sse_hub CPU", "cores", "lower")],
        extract=token_latency.metrics, runner=token_latency.run_once, timeout=600))
    return out


def run_once(scenario, server_key, build_dir, log):
    """Starts a fresh server, runs sse_load once, stops the server; returns (metrics, raw)."""
    if scenario.runner:
        return scenario.runner(scenario, build_dir, log)
    server_class = servers.SERVERS[server_key]
    if server_class.max_subscribers and scenario.subscribers > server_class.max_subscribers:
        return None, {"skipped": f"{server_class.name}: {server_class.note}"}
    scratch = tempfile.mkdtemp(prefix=f"bench-{scenario.name}-{server_key}-")
    server = server_class(build_dir, scratch, subscribers=scenario.subscribers,
                          private=scenario.private)
    try:
        server.start()
    except Exception as e:  # a server that cannot start is reported, not fatal to the run
        server.stop()
        return None, {"error": f"{server_class.name} did not start: {e}"}
    try:
        argv = [f"{build_dir}/bench/sse_load", scenario.mode, *server.load_args(),
                "--server-pid", ",".join(map(str, server.pids)), *scenario.args]
        if scenario.mode == "deliver" and "--max-pending" not in scenario.args:
            # Pushpin fails some subscriptions (502) with more connects in flight; everyone
            # gets the same pacing so that setup rates compare.
            argv += ["--max-pending", "64"]
        log(f"    $ {' '.join(argv)}")
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=scenario.timeout)
        if proc.returncode != 0:
            return None, {"error": f"sse_load exited {proc.returncode}: {proc.stderr[-500:]}"}
        raw = json.loads(proc.stdout)
        raw["wall_seconds"] = time.monotonic() - started
        raw["server_layout"] = server.describe()
        return scenario.extract(raw), raw
    except subprocess.TimeoutExpired:
        return None, {"error": f"sse_load timed out after {scenario.timeout}s"}
    finally:
        server.stop()
