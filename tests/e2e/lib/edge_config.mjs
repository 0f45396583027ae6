// The edge that plays the ALB with its WAF: nginx from Debian with the ModSecurity module and the
// OWASP Core Rule Set in blocking mode. It terminates TLS with a certificate from a CA made for
// this run, redirects HTTP to HTTPS, and routes like the ALB listener rules: the Mercure path to
// the hub (unbuffered, long read timeout, since it carries SSE) and everything else to the app.
//
// Differences from the AWS managed rule groups are narrow and deliberate (see crsTuning below).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MODSECURITY_MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
export const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';
export const CRS_RULES = '/usr/share/modsecurity-crs/rules';
const UNICODE_MAPPING = '/etc/nginx/unicode.mapping';

export function checkEdgePrerequisites() {
  const missing = [];
  for (const [path, pkg] of [
    ['/usr/sbin/nginx', 'nginx'],
    [MODSECURITY_MODULE, 'libnginx-mod-http-modsecurity'],
    [CRS_SETUP, 'modsecurity-crs'],
    [CRS_RULES, 'modsecurity-crs'],
    ['/usr/bin/openssl', 'openssl'],
  ]) {
    if (!existsSync(path)) missing.push(`${path} (Debian package ${pkg})`);
  }
  if (missing.length) throw new Error(`the edge needs: ${missing.join(', ')}; run scripts/setup.sh`);
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

// A throwaway CA and a server certificate for the task address (and the loopback names that
// scripts/prod_like.sh --publish relays from); clients of this run trust the CA
// (browsers are told to ignore certificate errors instead).
export function writeEdgeCertificates(dir, address) {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=suite e2e edge CA'], dir);
  openssl(['req', ...ec, '-keyout', 'edge.key', '-out', 'edge.csr', '-subj', '/CN=suite e2e edge'], dir);
  writeFileSync(join(dir, 'edge.ext'), `subjectAltName=IP:${address},DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'edge.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'edge.pem', '-days', '2', '-extfile', 'edge.ext'], dir);
  return { caPath: join(dir, 'ca.pem'), certPath: join(dir, 'edge.pem'), keyPath: join(dir, 'edge.key') };
}

// Rules that run after the Debian CRS setup and before the CRS rules, so that the CRS defaults
// (which only apply when a variable is still unset) see our values.
function crsTuning() {
  return `# The agent API renames with PATCH and deletes with DELETE; the CRS default allows only
# GET HEAD POST OPTIONS (rule 911100). The AWS managed common rule set has no such restriction.
SecAction "id:10001,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PATCH DELETE'"
`;
}

export function modsecurityConf({ runDir }) {
  return `# ModSecurity for the e2e edge: blocking mode, request inspection only (AWS WAF does not
# inspect response bodies either, and response inspection would buffer the SSE stream).
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:10010,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 64
SecArgumentsLimit 1000
SecRule REQBODY_ERROR "!@eq 0" "id:10011,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:10012,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecResponseBodyAccess Off
SecTmpDir ${runDir}/modsec_tmp
SecDataDir ${runDir}/modsec_data
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABHZ
SecAuditLogType Serial
SecAuditLog ${runDir}/edge_waf_audit.log
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile ${UNICODE_MAPPING} 20127
SecStatusEngine Off
Include ${CRS_SETUP}
${crsTuning()}
Include ${CRS_RULES}/*.conf
`;
}

function proxyHeaders() {
  // What the ALB adds; it passes every other client header through unchanged, X-User-Id included,
  // so stripping that one is the app's job, as in production.
  return `      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_connect_timeout 5s;`;
}

// address: where the edge listens (the task address); ports: {https, http}; upstreams: host:port
// of the app and the hub inside the namespace.
export function nginxConf({ runDir, address, ports, tls, appUpstream, hubUpstream, modsecurityRules }) {
  const temp = join(runDir, 'nginx_temp');
  return `# nginx as the ALB + WAF in front of the task (generated for one e2e run).
daemon off;
worker_processes 1;
pid ${runDir}/nginx.pid;
error_log ${runDir}/edge_error.log warn;
load_module ${MODSECURITY_MODULE};

events {
  worker_connections 4096;
}

http {
  # One JSON object per line, with the upstream that served it and the Last-Event-ID a
  # reconnecting EventSource sent: tests read routing and stream resumption from it. Written when
  # the request ends (end_time, in seconds; an SSE stream ends when it closes).
  log_format edge escape=json '{"request_id":"$http_x_request_id","method":"$request_method",'
                              '"uri":"$request_uri","status":$status,"upstream":"$upstream_addr",'
                              '"last_event_id":"$http_last_event_id","end_time":$msec}';
  access_log ${runDir}/edge_access.log edge;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 1m;
  server_tokens off;
  # The ALB idle timeout is 60 s by default; the hub's heartbeats keep SSE under it.
  keepalive_timeout 60s;

  modsecurity on;
  modsecurity_rules_file ${modsecurityRules};

  upstream app {
    server ${appUpstream};
    keepalive 16;
  }
  upstream hub {
    server ${hubUpstream};
    keepalive 16;
  }

  server {
    listen ${address}:${ports.http};
    location / {
      return 301 https://$host$request_uri;
    }
  }

  server {
    listen ${address}:${ports.https} ssl;
    ssl_certificate ${tls.certPath};
    ssl_certificate_key ${tls.keyPath};
    ssl_protocols TLSv1.2 TLSv1.3;

    # ALB rule: path pattern /.well-known/mercure* -> hub target group.
    location /.well-known/mercure {
      proxy_pass http://hub;
${proxyHeaders()}
      proxy_buffering off;
      proxy_cache off;
      proxy_request_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }

    # ALB default action -> app target group.
    location / {
      proxy_pass http://app;
${proxyHeaders()}
      proxy_buffering off;
      proxy_read_timeout 120s;
    }
  }
}
`;
}

export function writeEdgeConfig({ runDir, address, ports, appUpstream, hubUpstream }) {
  checkEdgePrerequisites();
  for (const sub of ['nginx_temp', 'modsec_tmp', 'modsec_data']) mkdirSync(join(runDir, sub), { recursive: true });
  const tls = writeEdgeCertificates(join(runDir, 'tls'), address);
  const modsecurityRules = join(runDir, 'modsecurity.conf');
  writeFileSync(modsecurityRules, modsecurityConf({ runDir }));
  const confPath = join(runDir, 'nginx.conf');
  writeFileSync(confPath, nginxConf({ runDir, address, ports, tls, appUpstream, hubUpstream, modsecurityRules }));
  return { confPath, tls };
}
