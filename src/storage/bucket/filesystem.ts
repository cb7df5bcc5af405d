// filesystem.ts is the `-blocks-storage.backend=filesystem` bucket: each
// object is a file under the root directory, written to a temporary name
// and renamed so readers never see half an object.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type Bucket, NotFoundError, type ObjectAttributes, checkKey } from './bucket.js';

function rethrow(err: unknown, key: string): never {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') {
    throw new NotFoundError(key);
  }
  throw err;
}

/** FilesystemBucket stores objects as files below `root`. */
export class FilesystemBucket implements Bucket {
  readonly name: string;

  constructor(private readonly root: string) {
    this.name = `filesystem:${root}`;
  }

  /** localPath is the file or directory of `key` under the bucket's root. */
  localPath(key: string): string {
    return this.path(key);
  }

  private path(key: string): string {
    checkKey(key);
    return join(this.root, ...key.split('/'));
  }

  private tmpPath(path: string): string {
    return `${path}.tmp-${randomBytes(6).toString('hex')}`;
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      rethrow(err, key);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    let fh;
    try {
      fh = await open(this.path(key), constants.O_RDONLY);
    } catch (err) {
      rethrow(err, key);
    }
    try {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpPath(path);
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  async upload(key: string, localPath: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpPath(path);
    await copyFile(localPath, tmp);
    await rename(tmp, path);
  }

  async download(key: string, localPath: string): Promise<void> {
    await mkdir(dirname(localPath), { recursive: true });
    const tmp = this.tmpPath(localPath);
    try {
      await copyFile(this.path(key), tmp);
    } catch (err) {
      rethrow(err, key);
    }
    await rename(tmp, localPath);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    try {
      const st = await stat(this.path(key));
      if (!st.isFile()) throw new NotFoundError(key);
      return { size: st.size, lastModified: st.mtimeMs };
    } catch (err) {
      rethrow(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
    // Drop directories left empty, as an object store has no directories.
    let dir = dirname(this.path(key));
    while (dir.startsWith(this.root) && dir !== this.root) {
      try {
        if ((await readdir(dir)).length > 0) break;
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  async list(prefix: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`list prefix must end in /: ${prefix}`);
    const dir = prefix === '' ? this.root : this.path(prefix.slice(0, -1));
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.includes('.tmp-')) continue;
        const full = join(d, e.name);
        const key = relative(this.root, full).split(sep).join('/');
        if (e.isDirectory()) {
          if (opts.recursive) await walk(full);
          else out.push(`${key}/`);
        } else if (e.isFile()) {
          out.push(key);
        }
      }
    };
    await walk(dir);
    return out.sort();
  }

  async close(): Promise<void> {}
}
