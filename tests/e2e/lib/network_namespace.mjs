// A fresh network namespace joined to the host by one veth pair on a link-local /30: the stand-in
// for an ECS task's awsvpc namespace. Everything of the task runs inside it; the host reaches it
// only through the task address, where only the edge listens.
//
// Names carry the creating process id so that a later run can tell a namespace whose creator
// died without cleaning up (SIGKILL, a CI timeout) from one that belongs to a live run, and
// remove only the former.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

const NAME_PREFIX = 'suite-e2e-';
// 169.254.169.254 is the instance metadata address on clouds; never hand out that /24.
const METADATA_OCTET = 169;

// Where `ip netns add` keeps a namespace (iproute2's NETNS_RUN_DIR).
const NETNS_DIR = '/var/run/netns';

function run(argv, { allowFailure = false } = {}) {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    if (allowFailure) return '';
    const stderr = err.stderr ? String(err.stderr).trim() : err.message;
    throw new Error(`${argv.join(' ')}: ${stderr}`);
  }
}

function ip(args, options) {
  return run(['ip', ...args], options);
}

// Commands inside the namespace enter only its network with nsenter. `ip -n` and `ip netns exec`
// also remount / and /sys, which fails where / is not a mount point (a chroot, some containers)
// and which nothing here needs.
function enter(name) {
  return ['nsenter', `--net=${NETNS_DIR}/${name}`];
}

function processIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// Processes still running in a namespace, by pid (what `ip netns pids` reports).
export function namespacePids(name) {
  return ip(['netns', 'pids', name], { allowFailure: true })
    .split('\n')
    .map((line) => Number.parseInt(line, 10))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killAll(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

// Removes namespaces (and what runs in them) that earlier runs of this harness created and could
// not remove because their process died first.
export function sweepAbandonedNamespaces() {
  const listing = ip(['netns', 'list'], { allowFailure: true });
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0];
    if (!name.startsWith(NAME_PREFIX)) continue;
    const creator = Number.parseInt(name.slice(NAME_PREFIX.length).split('-')[0], 10);
    if (Number.isInteger(creator) && processIsAlive(creator)) continue;
    killAll(namespacePids(name));
    ip(['netns', 'delete', name], { allowFailure: true });
  }
}

function addressesInUse() {
  return ip(['-o', '-4', 'addr', 'show'], { allowFailure: true });
}

function pickLinkLocalSubnet() {
  const inUse = addressesInUse();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    let third = randomInt(1, 255);
    if (third === METADATA_OCTET) third = 170;
    const base = randomInt(0, 64) * 4;
    const host = `169.254.${third}.${base + 1}`;
    const task = `169.254.${third}.${base + 2}`;
    if (!inUse.includes(` ${host}/`) && !inUse.includes(` ${task}/`)) return { host, task };
  }
  throw new Error('no free link-local /30 found for the task namespace');
}

export class NetworkNamespace {
  constructor({ name, hostInterface, hostAddress, taskAddress }) {
    this.name = name;
    this.hostInterface = hostInterface;
    this.hostAddress = hostAddress;
    this.taskAddress = taskAddress;
    this.destroyed_ = false;
  }

  // Creates the namespace with loopback up and a veth pair: hostAddress on the host side,
  // taskAddress inside. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
  static create() {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new Error('the production-like stack needs root: it creates a network namespace with `ip netns add`');
    }
    sweepAbandonedNamespaces();
    const tag = randomInt(0, 0xffffff).toString(16).padStart(6, '0');
    const name = `${NAME_PREFIX}${process.pid}-${tag}`;
    const hostInterface = `se2e${tag}h`;
    const taskInterface = `se2e${tag}t`;
    const { host, task } = pickLinkLocalSubnet();
    const ns = new NetworkNamespace({ name, hostInterface, hostAddress: host, taskAddress: task });
    try {
      ip(['netns', 'add', name]);
      run([...enter(name), 'ip', 'link', 'set', 'lo', 'up']);
      ip(['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', taskInterface, 'netns', name]);
      ip(['addr', 'add', `${host}/30`, 'dev', hostInterface]);
      ip(['link', 'set', hostInterface, 'up']);
      run([...enter(name), 'ip', 'addr', 'add', `${task}/30`, 'dev', taskInterface]);
      run([...enter(name), 'ip', 'link', 'set', taskInterface, 'up']);
    } catch (err) {
      ns.destroy();
      throw err;
    }
    return ns;
  }

  // The argv that runs a command inside the namespace. nsenter execs the command in place, so
  // the pid the caller gets is the command's own and signals reach it directly.
  wrap(argv) {
    return [...enter(this.name), ...argv];
  }

  pids() {
    return namespacePids(this.name);
  }

  // Kills whatever still runs inside and deletes the namespace; deleting it also removes the
  // veth pair. Safe to call more than once; synchronous so that it can run from an exit hook.
  destroy() {
    if (this.destroyed_) return;
    this.destroyed_ = true;
    killAll(this.pids());
    ip(['netns', 'delete', this.name], { allowFailure: true });
    ip(['link', 'delete', this.hostInterface], { allowFailure: true });
  }
}
