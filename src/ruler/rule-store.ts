// rule-store.ts keeps rule groups in object storage laid out as Mimir's
// bucket rule store does: `rules/<tenant>/<ns>/<group>`, where <ns> and
// <group> are the namespace and group name in base64 with the URL alphabet
// and padding (Go's base64.URLEncoding), and each object is a marshalled
// rules.RuleGroupDesc. The bucket is -ruler-storage.* (filesystem or s3).

import type { Bucket } from '../storage/bucket/bucket.js';
import { isNotFound } from '../storage/bucket/bucket.js';
import { log } from '../log.js';
import { decodeRuleGroupDesc, encodeRuleGroupDesc, type StoredGroup } from './rulespb.js';

/** RULES_PREFIX is the bucket prefix under which every tenant's rule groups live. */
export const RULES_PREFIX = 'rules/';

/** GROUP_NOT_FOUND and NAMESPACE_NOT_FOUND are Mimir's rulestore error texts. */
export const GROUP_NOT_FOUND = 'group does not exist';
export const NAMESPACE_NOT_FOUND = 'group namespace does not exist';

/** RuleStoreError is a missing group or namespace (404). */
export class RuleStoreError extends Error {}

/** encodeKeyPart is Go's base64.URLEncoding (URL alphabet, with padding). */
export function encodeKeyPart(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** decodeKeyPart reverses encodeKeyPart; undefined when the text is not such base64 or decodes empty. */
export function decodeKeyPart(s: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const out = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return out === '' ? undefined : out;
}

/** GroupKey names a group of a tenant. */
export interface GroupKey {
  namespace: string;
  name: string;
}

/** RuleStore reads and writes rule groups in a bucket. */
export class RuleStore {
  private readonly logger = log.with({ component: 'ruler' });

  constructor(readonly bucket: Bucket) {}

  private groupKey(user: string, namespace: string, group: string): string {
    return `${RULES_PREFIX}${user}/${encodeKeyPart(namespace)}/${encodeKeyPart(group)}`;
  }

  /** listAllUsers lists the tenants that have a rules folder. */
  async listAllUsers(): Promise<string[]> {
    const entries = await this.bucket.list(RULES_PREFIX);
    return entries.filter((e) => e.endsWith('/')).map((e) => e.slice(RULES_PREFIX.length, -1)).filter((u) => u !== '');
  }

  /** listGroups lists a tenant's groups (of one namespace when given) in the bucket's key order (as Mimir lists them). */
  async listGroups(user: string, namespace = ''): Promise<GroupKey[]> {
    const prefix = `${RULES_PREFIX}${user}/` + (namespace === '' ? '' : `${encodeKeyPart(namespace)}/`);
    const keys = await this.bucket.list(prefix, { recursive: true });
    const out: GroupKey[] = [];
    for (const key of keys) {
      const parts = key.slice(`${RULES_PREFIX}${user}/`.length).split('/');
      const ns = parts.length === 2 ? decodeKeyPart(parts[0]!) : undefined;
      const name = parts.length === 2 ? decodeKeyPart(parts[1]!) : undefined;
      if (ns === undefined || name === undefined) {
        this.logger.warn('invalid rule group object key found while listing rule groups', { user, key });
        continue;
      }
      out.push({ namespace: ns, name });
    }
    const key = (g: GroupKey): string => `${encodeKeyPart(g.namespace)}/${encodeKeyPart(g.name)}`;
    out.sort((a, b) => cmp(key(a), key(b)));
    return out;
  }

  /** getGroup loads one group; throws RuleStoreError when missing. */
  async getGroup(user: string, namespace: string, name: string): Promise<StoredGroup> {
    let buf: Buffer;
    try {
      buf = await this.bucket.get(this.groupKey(user, namespace, name));
    } catch (err) {
      if (isNotFound(err)) throw new RuleStoreError(GROUP_NOT_FOUND);
      throw err;
    }
    const g = decodeRuleGroupDesc(buf);
    // The key is what names the group (a copied object may carry other names).
    return { ...g, user, namespace, name };
  }

  /** loadGroups loads every group of a tenant (of one namespace when given); groups gone meanwhile are skipped. */
  async loadGroups(user: string, namespace = ''): Promise<StoredGroup[]> {
    const keys = await this.listGroups(user, namespace);
    const out: StoredGroup[] = [];
    for (let i = 0; i < keys.length; i += 10) {
      const batch = await Promise.all(
        keys.slice(i, i + 10).map((k) =>
          this.getGroup(user, k.namespace, k.name).catch((err: unknown) => {
            if (err instanceof RuleStoreError) return undefined;
            throw err;
          }),
        ),
      );
      for (const g of batch) if (g !== undefined) out.push(g);
    }
    return out;
  }

  /** setGroup stores a group (replacing one of the same namespace and name). */
  async setGroup(g: StoredGroup): Promise<void> {
    await this.bucket.put(this.groupKey(g.user, g.namespace, g.name), encodeRuleGroupDesc(g));
  }

  /** deleteGroup removes one group; throws RuleStoreError when missing. */
  async deleteGroup(user: string, namespace: string, name: string): Promise<void> {
    const key = this.groupKey(user, namespace, name);
    if (!(await this.bucket.exists(key))) throw new RuleStoreError(GROUP_NOT_FOUND);
    await this.bucket.delete(key);
  }

  /** deleteNamespace removes every group of a namespace ('' = all of the tenant's); throws RuleStoreError when there were none. */
  async deleteNamespace(user: string, namespace: string): Promise<void> {
    const keys = await this.listGroups(user, namespace);
    if (keys.length === 0) throw new RuleStoreError(NAMESPACE_NOT_FOUND);
    for (const k of keys) await this.bucket.delete(this.groupKey(user, k.namespace, k.name));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
