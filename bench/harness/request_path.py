"""Request path: GET /api/sessions through the app, straight to the agent, and through nginx
proxy_pass, all three in front of the same agent (SQLite store, demo model, a few sessions).

nginx gets the same job as the app's proxy: keep-alive to the agent and an X-User-Id header
naming the local user, so that the comparison is proxy against proxy.
"""
import json
import os
import pathlib
import subprocess
import tempfile
import time
import urllib.request

from . import processes

LOCAL_USER = "bench-user"
SEEDED_SESSIONS = 20

NGINX_PROXY_CONF = """daemon off;
worker_processes {workers};
worker_rlimit_nofile 20000;
pid {dir}/proxy.pid;
error_log {dir}/proxy-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 10000000;
  upstream agent {{ server 127.0.0.1:{agent_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location /api/ {{
      proxy_pass http://agent/v1/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-User-Id {user};
    }}
  }}
}}
"""

TARGETS = [("app", "app → agent"), ("agent", "agent directly"), ("nginx", "nginx proxy_pass → agent")]


def _seed(agent_port):
    for i in range(SEEDED_SESSIONS):
        request = urllib.request.Request(
            f"http://127.0.0.1:{agent_port}/v1/sessions", method="POST",
            data=json.dumps({"title": f"bench session {i}"}).encode(),
            headers={"Content-Type": "application/json", "X-User-Id": LOCAL_USER})
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"seeding sessions: status {response.status}")


def run_once(build_dir, seconds, connections, log):
    """One repetition: fresh agent, app and nginx; each target measured in turn."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench-request-path-"))
    started = []
    try:
        agent_port, app_port, nginx_port = (processes.free_port() for _ in range(3))
        env = dict(os.environ)
        env.update({
            "AGENT_LISTEN": f"127.0.0.1:{agent_port}",
            "AGENT_STORE": "sqlite",
            "AGENT_SQLITE_PATH": str(scratch / "agent.db"),
            "AGENT_MODEL_PROVIDER": "demo",
            # No hub in this scenario: the agent only lists sessions.
            "AGENT_HUB_URL": f"http://127.0.0.1:{processes.free_port()}/.well-known/mercure",
            "MERCURE_PUBLISHER_JWT_KEY": "bench-publisher-key-0123456789abcdef",
            "MERCURE_SUBSCRIBER_JWT_KEY": "bench-subscriber-key-0123456789abcdef",
            "LOG_LEVEL": "warn",
        })
        agent = processes.start([f"{build_dir}/agent/agent"], scratch / "agent.log", env=env)
        started.append(agent)
        processes.wait_for_http(f"http://127.0.0.1:{agent_port}/healthz", proc=agent)
        _seed(agent_port)
        app_env = dict(env)
        app_env.update({
            "APP_LISTEN": f"127.0.0.1:{app_port}",
            "APP_AGENT_URL": f"http://127.0.0.1:{agent_port}",
            "APP_AUTH": "none",
            "APP_LOCAL_USER": LOCAL_USER,
            # The per-user rate limit would turn a benchmark into a 429 test.
            "APP_RATE_LIMIT_PER_MINUTE": "1000000",
            "APP_RATE_LIMIT_BURST": "1000000",
        })
        app = processes.start([f"{build_dir}/app/app"], scratch / "app.log", env=app_env)
        started.append(app)
        processes.wait_for_http(f"http://127.0.0.1:{app_port}/healthz", proc=app)
        conf = scratch / "proxy.conf"
        conf.write_text(NGINX_PROXY_CONF.format(dir=scratch, port=nginx_port, agent_port=agent_port,
                                                user=LOCAL_USER, workers=2))
        nginx = processes.start(["nginx", "-c", str(conf)], scratch / "nginx.log")
        started.append(nginx)
        processes.wait_for_port(nginx_port, proc=nginx)

        targets = {
            "app": (app_port, "/api/sessions", None, [app.pid, agent.pid]),
            "agent": (agent_port, "/v1/sessions", f"X-User-Id: {LOCAL_USER}", [agent.pid]),
            "nginx": (nginx_port, "/api/sessions", None, [nginx.pid, agent.pid]),
        }
        results = {}
        for key, _label in TARGETS:
            port, path, header, pids = targets[key]
            argv = [f"{build_dir}/bench/sse_load", "request-path", "--port", str(port), "--path", path,
                    "--connections", str(connections), "--seconds", str(seconds), "--warmup", "1",
                    "--server-pid", ",".join(map(str, pids))]
            if header:
                argv += ["--header", header]
            log(f"    $ {' '.join(argv)}")
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 3 + 60)
            if proc.returncode != 0:
                results[key] = {"error": f"sse_load exited {proc.returncode}: {proc.stderr[-300:]}"}
                continue
            raw = json.loads(proc.stdout)
            raw["metrics"] = {
                "rps": raw["requests_per_second"],
                "p50_ms": raw["latency_us"]["p50"] / 1000.0,
                "p99_ms": raw["latency_us"]["p99"] / 1000.0,
                "cpu_cores": raw["server_cpu_cores"],
                "failed": raw["failed"],
            }
            results[key] = raw
            time.sleep(0.5)
        return results
    except Exception as e:  # reported in the table rather than ending the whole run
        return {"error": str(e)}
    finally:
        for proc in reversed(started):
            processes.stop(proc)
