// node-exporter.ts generates realistic node_exporter-like series as a
// Kubernetes-scraped fleet exposes them: per host a few hundred series
// (CPU seconds per cpu and mode, memory gauges, network, filesystem and disk
// per device), each with ~10 labels (__name__, instance, job, cluster,
// namespace, pod, node, container plus cpu/mode/device/mountpoint/fstype).
// Counters increase at a per-series rate, gauges wander.

import { Rng } from './prng.js';

/** Labels is a label set sorted by name, as Prometheus sends it. */
export type Labels = Array<[string, string]>;

/** SeriesKind tells how a series' value evolves. */
export const enum SeriesKind {
  Counter = 0,
  Gauge = 1,
}

/** GeneratedSeries is the fleet: label sets plus per-series value models. */
export interface GeneratedSeries {
  labels: Labels[];
  kind: Uint8Array;
  /** Current value of each series. */
  value: Float64Array;
  /** Counter increase per 15s step, or gauge step size. */
  rate: Float64Array;
}

const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
const MEMORY_GAUGES = [
  'node_memory_MemFree_bytes', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes',
  'node_memory_Buffers_bytes', 'node_memory_Cached_bytes', 'node_memory_Active_bytes', 'node_memory_Inactive_bytes',
  'node_memory_Dirty_bytes', 'node_memory_Slab_bytes', 'node_memory_SwapFree_bytes', 'node_memory_SwapTotal_bytes',
  'node_memory_Shmem_bytes', 'node_memory_Mapped_bytes', 'node_memory_PageTables_bytes', 'node_memory_Committed_AS_bytes',
];
const NET_COUNTERS = [
  'node_network_receive_bytes_total', 'node_network_transmit_bytes_total', 'node_network_receive_packets_total',
  'node_network_transmit_packets_total', 'node_network_receive_errs_total', 'node_network_transmit_errs_total',
  'node_network_receive_drop_total', 'node_network_transmit_drop_total',
];
const NET_DEVICES = ['eth0', 'eth1', 'lo', 'cni0', 'flannel.1', 'veth1a2b3c', 'veth4d5e6f', 'docker0'];
const FS_GAUGES = ['node_filesystem_avail_bytes', 'node_filesystem_free_bytes', 'node_filesystem_size_bytes',
  'node_filesystem_files', 'node_filesystem_files_free', 'node_filesystem_readonly'];
const FILESYSTEMS: Array<[device: string, mountpoint: string, fstype: string]> = [
  ['/dev/nvme0n1p1', '/', 'ext4'], ['/dev/nvme0n1p15', '/boot/efi', 'vfat'], ['/dev/nvme1n1', '/var/lib/kubelet', 'xfs'],
  ['tmpfs', '/run', 'tmpfs'], ['tmpfs', '/dev/shm', 'tmpfs'], ['overlay', '/var/lib/docker/overlay2', 'overlay'],
];
const DISK_COUNTERS = ['node_disk_read_bytes_total', 'node_disk_written_bytes_total', 'node_disk_reads_completed_total',
  'node_disk_writes_completed_total', 'node_disk_io_time_seconds_total', 'node_disk_read_time_seconds_total',
  'node_disk_write_time_seconds_total', 'node_disk_io_now'];
const DISKS = ['nvme0n1', 'nvme1n1', 'dm-0'];
const HOST_GAUGES = ['node_load1', 'node_load5', 'node_load15', 'node_procs_running', 'node_procs_blocked',
  'node_context_switches_total', 'node_intr_total', 'node_forks_total', 'node_boot_time_seconds', 'node_time_seconds',
  'node_entropy_available_bits', 'node_filefd_allocated', 'node_filefd_maximum', 'node_sockstat_TCP_inuse',
  'node_sockstat_TCP_tw', 'node_sockstat_UDP_inuse', 'node_netstat_Tcp_ActiveOpens', 'node_netstat_Tcp_PassiveOpens',
  'node_vmstat_pgfault', 'node_vmstat_pgmajfault'];

interface MetricTemplate {
  name: string;
  kind: SeriesKind;
  extra: Labels;
}

function hostTemplates(rng: Rng): MetricTemplate[] {
  const out: MetricTemplate[] = [];
  const cpus = rng.pick([4, 8, 16, 32]);
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (const mode of CPU_MODES) {
      out.push({ name: 'node_cpu_seconds_total', kind: SeriesKind.Counter, extra: [['cpu', String(cpu)], ['mode', mode]] });
    }
  }
  for (const name of MEMORY_GAUGES) out.push({ name, kind: SeriesKind.Gauge, extra: [] });
  for (const device of NET_DEVICES) {
    for (const name of NET_COUNTERS) out.push({ name, kind: SeriesKind.Counter, extra: [['device', device]] });
  }
  for (const [device, mountpoint, fstype] of FILESYSTEMS) {
    for (const name of FS_GAUGES) {
      out.push({ name, kind: SeriesKind.Gauge, extra: [['device', device], ['fstype', fstype], ['mountpoint', mountpoint]] });
    }
  }
  for (const device of DISKS) {
    for (const name of DISK_COUNTERS) out.push({ name, kind: SeriesKind.Counter, extra: [['device', device]] });
  }
  for (const name of HOST_GAUGES) {
    out.push({ name, kind: name.endsWith('_total') ? SeriesKind.Counter : SeriesKind.Gauge, extra: [] });
  }
  return out;
}

/** generateFleet returns exactly n series from as many hosts as needed. */
export function generateFleet(n: number, seed: number): GeneratedSeries {
  const rng = new Rng(seed);
  const fleet: GeneratedSeries = {
    labels: new Array<Labels>(n),
    kind: new Uint8Array(n),
    value: new Float64Array(n),
    rate: new Float64Array(n),
  };
  let i = 0;
  for (let host = 0; i < n; host++) {
    const cluster = `prod-${rng.pick(['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1'])}-${host % 7}`;
    const ip = `10.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}`;
    const nodeName = `ip-${ip.replaceAll('.', '-')}.ec2.internal`;
    const common: Labels = [
      ['cluster', cluster],
      ['container', 'node-exporter'],
      ['instance', `${ip}:9100`],
      ['job', 'integrations/node_exporter'],
      ['namespace', 'monitoring'],
      ['node', nodeName],
      ['pod', `node-exporter-${rng.word(5)}`],
    ];
    for (const tpl of hostTemplates(rng)) {
      if (i >= n) break;
      const labels: Labels = [['__name__', tpl.name], ...common, ...tpl.extra];
      labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      fleet.labels[i] = labels;
      fleet.kind[i] = tpl.kind;
      if (tpl.kind === SeriesKind.Counter) {
        fleet.value[i] = Math.floor(rng.next() * 1e9);
        fleet.rate[i] = rng.next() < 0.2 ? 0 : rng.next() * 10 ** rng.int(7);
      } else {
        fleet.value[i] = rng.next() * 10 ** rng.int(11);
        fleet.rate[i] = fleet.value[i]! * 0.01;
      }
      i++;
    }
  }
  return fleet;
}

/** stepFleet advances every series by one 15s scrape. */
export function stepFleet(fleet: GeneratedSeries, rng: Rng): void {
  const { kind, value, rate } = fleet;
  for (let i = 0; i < value.length; i++) {
    if (kind[i] === SeriesKind.Counter) {
      // Counters move by whole units mostly, sometimes fractional (seconds counters).
      const inc = rate[i]! * (0.5 + rng.next());
      value[i] = value[i]! + (rate[i]! >= 1 ? Math.round(inc) : inc);
    } else if (rng.next() < 0.7) {
      // Gauges: most wander, about a third stay put between scrapes.
      value[i] = Math.max(0, value[i]! + (rng.next() - 0.5) * rate[i]!);
    }
  }
}
