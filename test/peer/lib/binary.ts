// binary.ts finds the peer programs the peer and browser suites run
// (Prometheus, promtool, node_exporter, Chromium, amtool...) and decides
// what a missing one means. A program is found through its environment
// variable (a path, or a command name looked up on PATH) or else by its
// command names on PATH; never at a fixed path. Under CI (CI=true, which
// .ci/run sets) a missing program is a failure: the test runs and fails on
// the first use of the binary, and `failIfMissing` says which one and why.
// Run by hand, the test is skipped with the reason.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** PeerBinary is one peer program as resolved for this run. */
export interface PeerBinary {
  /** name is what the messages call it (e.g. "promtool"). */
  readonly name: string;
  /** env is the variable that overrides where it is. */
  readonly env: string;
  /** path is the executable found, or the command asked for when not found (so running it fails loudly). */
  readonly path: string;
  /** found reports whether path is an executable file. */
  readonly found: boolean;
  /** missing explains how it was looked up and how to install it; empty when found. */
  readonly missing: string;
}

/** inCi reports whether the run is under CI, where no peer test may skip. */
export function inCi(): boolean {
  return process.env['CI'] === 'true';
}

/** isExecutable reports whether path is a regular file this process may execute. */
function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** lookPath finds command as a shell would: a path as given, a bare name in the PATH directories. */
export function lookPath(command: string): string | undefined {
  if (command.includes('/')) {
    const p = isAbsolute(command) ? command : resolve(command);
    return isExecutable(p) ? p : undefined;
  }
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, command);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/**
 * peerBinary resolves a peer program: the value of env when set (a path or a command name),
 * else the first of names found on PATH. install says where the program comes from.
 */
export function peerBinary(name: string, env: string, names: readonly string[], install: string): PeerBinary {
  const override = process.env[env];
  const asked = override !== undefined && override !== '' ? [override] : names;
  for (const command of asked) {
    const path = lookPath(command);
    if (path !== undefined) return { name, env, path, found: true, missing: '' };
  }
  const where = override !== undefined && override !== '' ? `${env}=${override} is not an executable` : `none of ${names.join(', ')} on PATH (or set ${env})`;
  return { name, env, path: asked[0]!, found: false, missing: `${name} not found: ${where}; ${install}` };
}

/**
 * skipUnless is the tap `skip` option of a test that runs the given programs: false when all are
 * there, and false under CI whatever is missing (the test must then fail); the reason otherwise.
 */
export function skipUnless(...bins: PeerBinary[]): string | false {
  const missing = bins.filter((b) => !b.found);
  if (missing.length === 0 || inCi()) return false;
  return missing.map((b) => b.missing).join('; ');
}

/** Failer is the part of a tap test failIfMissing uses. */
interface Failer {
  fail(message: string): void;
}

/**
 * failIfMissing fails t once per missing program (with how it was looked up) and reports whether
 * any is missing, so a test that runs under CI without its program stops with a clear message.
 */
export function failIfMissing(t: Failer, ...bins: PeerBinary[]): boolean {
  let any = false;
  for (const b of bins) {
    if (b.found) continue;
    t.fail(`${b.missing}${inCi() ? ' (CI=true: a missing peer is a failure)' : ''}`);
    any = true;
  }
  return any;
}

/** The peer programs of the suites, each overridable by its environment variable. */
export const DEBIAN_INSTALL = 'Debian package (apt-get install prometheus prometheus-node-exporter chromium; .ci/run installs it)';
export const PEERS_INSTALL = 'built by scripts/install-peers.sh (.ci/run runs it and puts its bin/ on PATH)';

/** PROMETHEUS is Prometheus 2.42 (Debian `prometheus`), PROMETHEUS_BIN overrides it. */
export const PROMETHEUS = peerBinary('prometheus', 'PROMETHEUS_BIN', ['prometheus'], DEBIAN_INSTALL);
/** PROMETHEUS3 is Prometheus 3.x (`prometheus3`), PROMETHEUS3_BIN overrides it. */
export const PROMETHEUS3 = peerBinary('prometheus3', 'PROMETHEUS3_BIN', ['prometheus3'], PEERS_INSTALL);
/** VICTORIAMETRICS is VictoriaMetrics single-node (`victoria-metrics`, the benchmarks' ingestion reference), VICTORIAMETRICS_BIN overrides it. */
export const VICTORIAMETRICS = peerBinary('victoria-metrics', 'VICTORIAMETRICS_BIN', ['victoria-metrics'], 'built by `scripts/install-peers.sh victoriametrics` (benchmarks only)');
/** PROMTOOL_PEER is promtool 2.42 (Debian `promtool`), PROMTOOL_BIN overrides it. */
export const PROMTOOL_PEER = peerBinary('promtool', 'PROMTOOL_BIN', ['promtool'], DEBIAN_INSTALL);
/** NODE_EXPORTER is node_exporter (Debian `prometheus-node-exporter`), NODE_EXPORTER_BIN overrides it. */
export const NODE_EXPORTER = peerBinary('node_exporter', 'NODE_EXPORTER_BIN', ['prometheus-node-exporter', 'node_exporter'], DEBIAN_INSTALL);
/** CHROMIUM is headless Chromium (Debian `chromium`), CHROMIUM_BIN overrides it. */
export const CHROMIUM = peerBinary('chromium', 'CHROMIUM_BIN', ['chromium', 'chromium-browser'], DEBIAN_INSTALL);
/** AMTOOL is amtool 0.35 (`amtool`), AMTOOL_BIN overrides it. */
export const AMTOOL = peerBinary('amtool', 'AMTOOL_BIN', ['amtool'], PEERS_INSTALL);
/** ALERTMANAGER is Alertmanager 0.35 (`alertmanager`), ALERTMANAGER_BIN overrides it. */
export const ALERTMANAGER = peerBinary('alertmanager', 'ALERTMANAGER_BIN', ['alertmanager'], PEERS_INSTALL);
/** OTELCOL is the OpenTelemetry Collector (`otelcol`, scripts/otelcol: otlp receiver, otlphttp exporter), OTELCOL_BIN overrides it. */
export const OTELCOL = peerBinary('otelcol', 'OTELCOL_BIN', ['otelcol'], PEERS_INSTALL);
/** GO is the Go toolchain (`go tool pprof` reads our profiles), GO_BIN overrides it. */
export const GO = peerBinary('go', 'GO_BIN', ['go'], 'the Go toolchain (Go 1.26 is on the machines; .ci/run needs it on PATH)');
/** PROTOC is protoc (Debian `protobuf-compiler`): `protoc --decode` reads our protobuf against message definitions; PROTOC_BIN overrides it. */
export const PROTOC = peerBinary('protoc', 'PROTOC_BIN', ['protoc'], 'Debian package (apt-get install protobuf-compiler; .ci/run installs it)');
/** ETCD is etcd (Debian `etcd-server`), ETCD_BIN overrides it: the rings' KV store. */
export const ETCD = peerBinary('etcd', 'ETCD_BIN', ['etcd'], 'Debian package (apt-get install etcd-server; .ci/run installs it)');
