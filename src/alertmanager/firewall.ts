// firewall.ts is the receivers' firewall (-alertmanager.receivers-firewall-*):
// notifications to blocked CIDR networks, or to private addresses when that
// is enabled, are refused before any connection is made.

import { isIP, BlockList } from 'node:net';
import type { UrlChecker } from './notifiers/registry.js';

const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10'];
const PRIVATE_V6 = ['fc00::/7', 'fe80::/10', '::1/128'];

/** receiverFirewall builds the URL check from the flags' values. */
export function receiverFirewall(blockCidrs: string, blockPrivate: boolean): UrlChecker {
  const list = new BlockList();
  let rules = 0;
  for (const c of blockCidrs.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [net, bits] = c.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net as string, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
    rules++;
  }
  if (blockPrivate) {
    for (const c of PRIVATE_V4) {
      const [net, bits] = c.split('/');
      list.addSubnet(net as string, Number(bits), 'ipv4');
    }
    for (const c of PRIVATE_V6) {
      const [net, bits] = c.split('/');
      list.addSubnet(net as string, Number(bits), 'ipv6');
    }
    rules++;
  }
  if (rules === 0) return () => undefined;
  return (url) => {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    const v = isIP(host);
    const blocked = v !== 0 ? list.check(host, v === 6 ? 'ipv6' : 'ipv4') : blockPrivate && host === 'localhost';
    if (blocked) throw new Error(`firewall: notification to ${host} is blocked`);
  };
}
