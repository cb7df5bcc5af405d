// config.ts declares the hash rings of the process and their flags, with
// Mimir's names (-ingester.ring.*, -store-gateway.sharding-ring.*, ...), and
// turns the flag values into a RingConfig.

import { hostname, networkInterfaces } from 'node:os';
import type { FlagDef } from '../config/flags.js';
import type { ConfigValues } from '../config/parse.js';

/** RingName names one of the process's rings. */
export type RingName = 'ingester' | 'distributor' | 'store-gateway' | 'compactor' | 'ruler' | 'alertmanager' | 'query-scheduler' | 'overrides-exporter';

/** RingFamily describes one ring: its flag and YAML prefixes, KV key and defaults. */
export interface RingFamily {
  name: RingName;
  /** flag is the flag prefix without the leading dash (`ingester.ring`). */
  flag: string;
  /** yaml is the YAML path prefix (`ingester.ring`). */
  yaml: string;
  /** key is the KV key the ring is stored under (after the prefix). */
  key: string;
  /** prefix is the default KV prefix. */
  prefix: string;
  /** numTokens is the default token count; 0: the ring has no tokens flag (members only). */
  numTokens: number;
  /** replicationFactor is the default replication factor; 0: the ring has no such flag. */
  replicationFactor: number;
  /** title heads the ring page. */
  title: string;
  /** fixedTokens is the token count of a ring without a num-tokens flag whose tokens matter (shown on its page); default 1, hidden. */
  fixedTokens?: number;
  /** keepOnShutdown: a stopping member stays in the ring, LEAVING (Mimir's KeepInstanceInTheRingOnShutdown). */
  keepOnShutdown?: boolean;
  /** autoForgetPeriods: members unhealthy for this many heartbeat timeouts are removed by the others (dskit's AutoForgetDelegate); 0 or absent: never. */
  autoForgetPeriods?: number;
}

/** RING_FAMILIES are the rings, as Mimir names them. */
export const RING_FAMILIES: readonly RingFamily[] = [
  { name: 'ingester', flag: 'ingester.ring', yaml: 'ingester.ring', key: 'ring', prefix: 'collectors/', numTokens: 128, replicationFactor: 3, title: 'Ingester Ring Status' },
  { name: 'distributor', flag: 'distributor.ring', yaml: 'distributor.ring', key: 'distributor', prefix: 'collectors/', numTokens: 0, replicationFactor: 0, title: 'Distributor Ring Status' },
  { name: 'store-gateway', flag: 'store-gateway.sharding-ring', yaml: 'store_gateway.sharding_ring', key: 'store-gateway', prefix: 'collectors/', numTokens: 512, replicationFactor: 3, title: 'Store-gateway Ring Status' },
  { name: 'compactor', flag: 'compactor.ring', yaml: 'compactor.sharding_ring', key: 'compactor', prefix: 'collectors/', numTokens: 512, replicationFactor: 0, title: 'Compactor Ring Status' },
  { name: 'ruler', flag: 'ruler.ring', yaml: 'ruler.ring', key: 'ring', prefix: 'rulers/', numTokens: 128, replicationFactor: 0, title: 'Ruler Ring Status' },
  { name: 'alertmanager', flag: 'alertmanager.sharding-ring', yaml: 'alertmanager.sharding_ring', key: 'alertmanager', prefix: 'alertmanagers/', numTokens: 128, replicationFactor: 3, title: 'Alertmanager Ring Status' },
  { name: 'query-scheduler', flag: 'query-scheduler.ring', yaml: 'query_scheduler.ring', key: 'query-scheduler', prefix: 'collectors/', numTokens: 0, replicationFactor: 0, title: 'Query-scheduler Ring Status' },
  // One token each: the owner of token 0 is the leader, the one exporter of the limits (Mimir's exporter ring).
  {
    name: 'overrides-exporter',
    flag: 'overrides-exporter.ring',
    yaml: 'overrides_exporter.ring',
    key: 'overrides-exporter',
    prefix: 'collectors/',
    numTokens: 0,
    replicationFactor: 0,
    title: 'Overrides-exporter Ring Status',
    fixedTokens: 1,
    keepOnShutdown: true,
    autoForgetPeriods: 4,
  },
];

/** KV_STORES are the -<ring>.store values: memberlist (the default, gossip) is served as inmemory (this process only). */
export const KV_STORES = ['consul', 'etcd', 'inmemory', 'memberlist', 'multi'] as const;

/** ringFlags declares the flags of one ring family. */
function ringFlags(f: RingFamily): FlagDef[] {
  const n = (s: string): string => `${f.flag}.${s}`;
  const y = (s: string): string => `${f.yaml}.${s}`;
  const out: FlagDef[] = [
    { name: n('store'), yaml: y('kvstore.store'), type: 'string', default: 'memberlist', choices: KV_STORES, help: `Backend storage of the ${f.name} ring: etcd, or inmemory (this process only; memberlist is served as inmemory, consul and multi are not supported).` },
    { name: n('prefix'), yaml: y('kvstore.prefix'), type: 'string', default: f.prefix, help: `Prefix of the ${f.name} ring's keys in the KV store.` },
    { name: n('etcd.endpoints'), yaml: y('kvstore.etcd.endpoints'), type: 'string', list: true, default: '', help: 'The etcd endpoints to connect to (host:port or URLs, comma-separated).' },
    { name: n('etcd.dial-timeout'), yaml: y('kvstore.etcd.dial_timeout'), type: 'duration', default: 10_000, help: 'The dial timeout of the etcd connection.' },
    { name: n('etcd.max-retries'), yaml: y('kvstore.etcd.max_retries'), type: 'int', default: 10, help: 'The maximum number of retries of an etcd operation.' },
    { name: n('heartbeat-period'), yaml: y('heartbeat_period'), type: 'duration', default: 15_000, help: 'Period at which to heartbeat to the ring. 0 = disabled.' },
    { name: n('heartbeat-timeout'), yaml: y('heartbeat_timeout'), type: 'duration', default: 60_000, help: 'The heartbeat timeout after which instances are considered unhealthy within the ring. 0 = never (timeout disabled).' },
    { name: n('instance-id'), yaml: y('instance_id'), type: 'string', default: '', help: 'Instance ID to register in the ring (default: the hostname).' },
    { name: n('instance-interface-names'), yaml: y('instance_interface_names'), type: 'string', list: true, default: '', help: 'List of network interface names to look up when finding the instance IP address (default: the first non-loopback address).' },
    { name: n('instance-addr'), yaml: y('instance_addr'), type: 'string', default: '', help: 'IP address to advertise in the ring (default: the first non-loopback address).' },
    { name: n('instance-port'), yaml: y('instance_port'), type: 'int', default: 0, help: 'Port to advertise in the ring (defaults to -server.grpc-listen-port).' },
    { name: n('instance-availability-zone'), yaml: y('instance_availability_zone'), type: 'string', default: '', help: 'The availability zone where this instance is running.' },
  ];
  if (f.numTokens > 0) out.push({ name: n('num-tokens'), yaml: y('num_tokens'), type: 'int', default: f.numTokens, help: 'Number of tokens for each instance.' });
  if (f.replicationFactor > 0) {
    out.push(
      { name: n('replication-factor'), yaml: y('replication_factor'), type: 'int', default: f.replicationFactor, help: 'Number of instances to replicate to (write) and read from.' },
      { name: n('zone-awareness-enabled'), yaml: y('zone_awareness_enabled'), type: 'bool', default: false, help: 'True to enable the zone-awareness and replicate across different availability zones.' },
    );
  }
  return out;
}

/** RING_FLAGS are every ring's flags, plus the internal API's listen flags. */
export const RING_FLAGS: readonly FlagDef[] = [
  { name: 'server.grpc-listen-address', yaml: 'server.grpc_listen_address', type: 'string', default: '', help: 'Address the internal API (component to component, cleartext HTTP/2) binds to (empty: all interfaces).' },
  { name: 'server.grpc-listen-port', yaml: 'server.grpc_listen_port', type: 'int', default: 9095, help: 'Port of the internal API the components call each other on; 0 picks a free port.' },
  ...RING_FAMILIES.flatMap(ringFlags),
  {
    name: 'overrides-exporter.ring.enabled',
    yaml: 'overrides_exporter.ring.enabled',
    type: 'bool',
    default: false,
    help: 'Enable the ring used by override-exporters to deduplicate exported limit metrics.',
  },
  { name: 'distributor.remote-timeout', yaml: 'distributor.remote_timeout', type: 'duration', default: 2_000, help: 'Timeout for downstream ingesters (one internal push call).' },
  {
    name: 'querier.query-ingesters-within',
    yaml: 'querier.query_ingesters_within',
    type: 'duration',
    default: 46_800_000,
    help: 'Maximum lookback beyond which queries are not sent to ingesters (distributed mode). 0 means all queries are sent to ingesters.',
  },
  {
    name: 'querier.minimize-ingester-requests',
    yaml: 'querier.minimize_ingester_requests',
    type: 'bool',
    default: true,
    help: 'Ask only as many ingesters as a read needs (all but the tolerated failures), another one when one fails, and the rest after the hedging delay (distributed mode). false asks every ingester at once.',
  },
  {
    name: 'querier.minimize-ingester-requests-hedging-delay',
    yaml: 'querier.minimize_ingester_requests_hedging_delay',
    type: 'duration',
    default: 3_000,
    help: 'How long a minimized read waits for the ingesters it asked before asking the others too.',
  },
  {
    name: 'querier.query-store-after',
    yaml: 'querier.query_store_after',
    type: 'duration',
    default: 43_200_000,
    help: 'Queries reaching further back than this are also sent to the store-gateways (distributed mode); newer ranges are answered by the ingesters alone. 0 sends every query to the store-gateways.',
  },
  {
    name: 'querier.prefer-availability-zones',
    yaml: 'querier.prefer_availability_zones',
    type: 'string',
    list: true,
    default: '',
    help: 'Comma-separated list of availability zones to prefer when querying store-gateways (with -store-gateway.sharding-ring.zone-awareness-enabled): a block is read from an owner in one of them when it has one. All zones in the list are given equal priority.',
  },
];

/** RingConfig is one ring's effective configuration (durations in ms). */
export interface RingConfig {
  family: RingFamily;
  store: 'etcd' | 'inmemory';
  /** storeName is the configured -<ring>.store value. */
  storeName: string;
  key: string;
  etcdEndpoints: string[];
  etcdDialTimeoutMs: number;
  etcdMaxRetries: number;
  heartbeatPeriodMs: number;
  heartbeatTimeoutMs: number;
  instanceId: string;
  instanceAddr: string;
  /** instancePort is -<ring>.instance-port (0: the internal API's port). */
  instancePort: number;
  zone: string;
  numTokens: number;
  replicationFactor: number;
  zoneAwarenessEnabled: boolean;
}

/** ringConfig reads one ring's settings; an unsupported store fails. */
export function ringConfig(values: ConfigValues, name: RingName): RingConfig {
  const f = RING_FAMILIES.find((x) => x.name === name);
  if (f === undefined) throw new Error(`unknown ring ${name}`);
  const v = (s: string): unknown => values.get(`${f.flag}.${s}`);
  const storeName = String(v('store') ?? 'memberlist');
  if (storeName === 'consul' || storeName === 'multi') throw new Error(`-${f.flag}.store=${storeName} is not supported: use etcd (or inmemory for a single process)`);
  const list = (s: unknown): string[] =>
    String(s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  const store = storeName === 'etcd' ? 'etcd' : 'inmemory';
  const endpoints = list(v('etcd.endpoints'));
  if (store === 'etcd' && endpoints.length === 0) throw new Error(`-${f.flag}.etcd.endpoints must be set when -${f.flag}.store=etcd`);
  const id = String(v('instance-id') ?? '');
  const addr = String(v('instance-addr') ?? '');
  return {
    family: f,
    store,
    storeName,
    key: `${String(v('prefix') ?? f.prefix)}${f.key}`,
    etcdEndpoints: endpoints,
    etcdDialTimeoutMs: Number(v('etcd.dial-timeout') ?? 10_000),
    etcdMaxRetries: Number(v('etcd.max-retries') ?? 10),
    heartbeatPeriodMs: Number(v('heartbeat-period') ?? 15_000),
    heartbeatTimeoutMs: Number(v('heartbeat-timeout') ?? 60_000),
    instanceId: id !== '' ? id : hostname(),
    instanceAddr: addr !== '' ? addr : firstAddress(list(v('instance-interface-names'))),
    instancePort: Number(v('instance-port') ?? 0),
    zone: String(v('instance-availability-zone') ?? ''),
    numTokens: f.numTokens > 0 ? Number(v('num-tokens') ?? f.numTokens) : (f.fixedTokens ?? 1),
    replicationFactor: f.replicationFactor > 0 ? Number(v('replication-factor') ?? f.replicationFactor) : 1,
    zoneAwarenessEnabled: f.replicationFactor > 0 && v('zone-awareness-enabled') === true,
  };
}

/** firstAddress is the first non-loopback IPv4 address (of the named interfaces when given), else 127.0.0.1. */
export function firstAddress(interfaces: string[] = []): string {
  const all = networkInterfaces();
  const names = interfaces.length > 0 ? interfaces : Object.keys(all);
  for (const name of names) {
    for (const a of all[name] ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
