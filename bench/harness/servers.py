"""The servers under test, each started with a private configuration in a scratch folder.

HubServer      our sse_hub (one or several processes on separate ports)
NchanServer    nginx + nchan: EventSource subscribers, HTTP publish
PushpinServer  pushpin (condure, proxy, handler, zurl) in front of a GRIP backend (a tiny nginx
               that answers every stream request with Grip-Hold: stream, Grip-Channel: topic)

Each exposes the ports sse_load needs, the root pids whose process trees are sampled, the extra
sse_load arguments, and how many subscribers it can hold (the 20k open-files limit per process).
"""
import math
import os
import pathlib

from . import processes

PUBLISHER_KEY = "bench-publisher-key-0123456789abcdef"
SUBSCRIBER_KEY = "bench-subscriber-key-0123456789abcdef"
# Connections one server process can hold under the 20,000 open-files hard limit, with margin.
PER_PROCESS_CONNECTIONS = 17000


class HubServer:
    name = "sse_hub"
    protocol = "hub"
    resumes = True

    def __init__(self, build_dir, scratch, subscribers=0, private=False):
        self.binary = pathlib.Path(build_dir) / "sse_hub" / "sse_hub"
        self.scratch = pathlib.Path(scratch)
        self.instances = max(1, math.ceil(subscribers / PER_PROCESS_CONNECTIONS))
        self.private = private
        self.procs = []
        self.ports = []

    max_subscribers = None  # several processes when needed
    note = ""

    def start(self):
        for i in range(self.instances):
            port = processes.free_port()
            env = dict(os.environ)
            env.update({
                "HUB_LISTEN": f"127.0.0.1:{port}",
                "MERCURE_PUBLISHER_JWT_KEY": PUBLISHER_KEY,
                "MERCURE_SUBSCRIBER_JWT_KEY": SUBSCRIBER_KEY,
                "MERCURE_ANONYMOUS": "1",
                "LOG_LEVEL": "warn",
            })
            proc = processes.start([str(self.binary)], self.scratch / f"sse_hub-{i}.log", env=env)
            self.procs.append(proc)
            self.ports.append(port)
        for proc, port in zip(self.procs, self.ports):
            processes.wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc)

    def stop(self):
        for proc in self.procs:
            processes.stop(proc)
        self.procs = []

    @property
    def pids(self):
        return [p.pid for p in self.procs]

    def load_args(self):
        args = ["--server", "hub", "--ports", ",".join(map(str, self.ports)),
                "--publisher-key", PUBLISHER_KEY]
        if self.private:
            args += ["--private", "--subscriber-key", SUBSCRIBER_KEY]
        return args

    def describe(self):
        return f"{self.instances} process(es)"


NCHAN_CONF = """daemon off;
worker_processes {workers};
worker_rlimit_nofile 20000;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
events {{ worker_connections 19500; multi_accept on; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  # Publishes up to 1 MiB kept in memory (the default 16k buffer spills 32 KiB ones to files).
  client_max_body_size 1m;
  client_body_buffer_size 1m;
  # History for Last-Event-ID resumption, like the hub's.
  nchan_message_buffer_length 1000;
  nchan_message_timeout 10m;
  nchan_shared_memory_size 512M;
  server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    location = /sub {{ nchan_subscriber eventsource; nchan_channel_id $arg_topic; }}
    location = /pub {{ nchan_publisher; nchan_channel_id $arg_topic; }}
  }}
}}
"""


class NchanServer:
    name = "nginx+nchan"
    protocol = "nchan"
    resumes = True
    max_subscribers = None
    note = ""

    def __init__(self, build_dir, scratch, subscribers=0, private=False):
        del build_dir, private  # nchan has no per-topic authorization to compare
        self.dir = pathlib.Path(scratch) / "nchan"
        # Two workers for the two cores; more only when one worker cannot hold its share.
        self.workers = max(2, math.ceil(subscribers / PER_PROCESS_CONNECTIONS) + 1)
        self.proc = None
        self.port = None

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = processes.free_port()
        conf = self.dir / "nginx.conf"
        conf.write_text(NCHAN_CONF.format(workers=self.workers, dir=self.dir, port=self.port))
        self.proc = processes.start(["nginx", "-c", str(conf)], self.dir / "stdout.log")
        processes.wait_for_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc:
            processes.stop(self.proc)
        self.proc = None

    @property
    def pids(self):
        return [self.proc.pid]

    def load_args(self):
        return ["--server", "nchan", "--ports", str(self.port)]

    def describe(self):
        return f"{self.workers} workers"


GRIP_BACKEND_CONF = """daemon off;
worker_processes 1;
pid {dir}/backend.pid;
error_log {dir}/backend-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location /stream {{
      default_type text/event-stream;
      add_header Grip-Hold stream;
      add_header Grip-Channel $arg_topic;
      return 200 "";
    }}
  }}
}}
"""

PUSHPIN_CONF = """[global]
include={{libdir}}/internal.conf
rundir={dir}/run
ipc_prefix=pushpin-
port_offset=0
stats_connection_ttl=120

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port=127.0.0.1:{http_port}
logdir={dir}/log
log_level={log_level}
client_buffer_size=8192
client_maxconn=50000
condure_bin=condure
zurl_bin=zurl

[proxy]
routesfile={dir}/routes
zurl_out_specs=ipc://{dir}/run/pushpin-zurl-in
zurl_out_stream_specs=ipc://{dir}/run/pushpin-zurl-in-stream
zurl_in_specs=ipc://{dir}/run/pushpin-zurl-out
sig_key=bench-sig-key
updates_check=off

[handler]
push_in_spec=tcp://127.0.0.1:{push_in}
push_in_sub_specs=tcp://127.0.0.1:{push_in_sub}
push_in_sub_connect=false
push_in_http_addr=127.0.0.1
push_in_http_port={publish_port}
push_in_http_max_headers_size=10000
push_in_http_max_body_size=1000000
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
command_spec=tcp://127.0.0.1:{command}
# The defaults (2,500 messages/s, 25,000 queued) would throttle a 10k-subscriber broadcast;
# raised so that pushpin is measured, not its rate limiter.
message_rate=1000000
message_hwm=1000000
message_wait=5000
id_cache_ttl=60
connection_subscription_max=20
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
"""


class PushpinServer:
    name = "pushpin"
    protocol = "pushpin"
    resumes = False  # history is the GRIP backend's job; pushpin only relays
    # condure holds every client connection in one process.
    max_subscribers = PER_PROCESS_CONNECTIONS + 1000
    note = "not run: one condure process, 20k open files"

    def __init__(self, build_dir, scratch, subscribers=0, private=False):
        del build_dir, subscribers, private
        self.dir = pathlib.Path(scratch) / "pushpin"
        self.proc = None
        self.backend = None

    def start(self):
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        (self.dir / "log").mkdir(parents=True, exist_ok=True)
        backend_port = processes.free_port()
        backend_conf = self.dir / "backend.conf"
        backend_conf.write_text(GRIP_BACKEND_CONF.format(dir=self.dir, port=backend_port))
        self.backend = processes.start(["nginx", "-c", str(backend_conf)], self.dir / "backend.log")
        processes.wait_for_port(backend_port, proc=self.backend)
        (self.dir / "routes").write_text(f"* 127.0.0.1:{backend_port}\n")
        self.http_port = processes.free_port()
        self.publish_port = processes.free_port()
        conf = self.dir / "pushpin.conf"
        conf.write_text(PUSHPIN_CONF.format(
            dir=self.dir, http_port=self.http_port, publish_port=self.publish_port,
            log_level=os.environ.get("BENCH_PUSHPIN_LOG_LEVEL", "1"),
            push_in=processes.free_port(), push_in_sub=processes.free_port(),
            command=processes.free_port()))
        self.proc = processes.start(["pushpin", "--config", str(conf), "--merge-output"],
                                    self.dir / "pushpin.log")
        processes.wait_for_port(self.http_port, proc=self.proc)
        processes.wait_for_port(self.publish_port, proc=self.proc)
        # The proxy path (condure -> proxy -> zurl -> backend) must answer before measuring.
        processes.wait_for_http(f"http://127.0.0.1:{self.http_port}/stream?topic=warmup",
                                proc=self.proc, timeout=30)

    def stop(self):
        for proc in (self.proc, self.backend):
            if proc:
                processes.stop(proc)
        self.proc = self.backend = None

    @property
    def pids(self):
        return [self.proc.pid]

    def load_args(self):
        return ["--server", "pushpin", "--ports", str(self.http_port),
                "--publish-port", str(self.publish_port)]

    def describe(self):
        return "condure + proxy + handler + zurl"


SERVERS = {"hub": HubServer, "nchan": NchanServer, "pushpin": PushpinServer}
