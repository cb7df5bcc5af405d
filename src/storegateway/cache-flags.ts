// cache-flags.ts is the store-gateway's cache flags, with Mimir's names and
// defaults (pkg/storage/tsdb/caching_config.go, dskit's memcached client):
// the chunks, index and metadata caches. cache-config.ts reads them.

import type { FlagDef } from '../config/flags.js';

export const PREFIX = 'blocks-storage.bucket-store';
const YAML = 'blocks_storage.bucket_store';

/** memcachedFlags are dskit's memcached client flags under `<prefix>.memcached.`. */
function memcachedFlags(flag: string, yaml: string, what: string): FlagDef[] {
  const f = `${PREFIX}.${flag}.memcached`;
  const y = `${YAML}.${yaml}.memcached`;
  return [
    { name: `${f}.addresses`, yaml: `${y}.addresses`, type: 'string', default: '', list: true, help: `Comma-separated list of memcached addresses (host:port) of the ${what}.` },
    { name: `${f}.timeout`, yaml: `${y}.timeout`, type: 'duration', default: 200, help: 'The socket read/write timeout.' },
    { name: `${f}.connect-timeout`, yaml: `${y}.connect_timeout`, type: 'duration', default: 200, help: 'The connection timeout.' },
    { name: `${f}.max-idle-connections`, yaml: `${y}.max_idle_connections`, type: 'int', default: 100, help: 'The maximum number of idle connections that will be maintained per address.' },
    { name: `${f}.max-async-concurrency`, yaml: `${y}.max_async_concurrency`, type: 'int', default: 50, help: 'The maximum number of concurrent asynchronous operations can occur.' },
    { name: `${f}.max-async-buffer-size`, yaml: `${y}.max_async_buffer_size`, type: 'int', default: 25_000, help: 'The maximum number of enqueued asynchronous operations allowed.' },
    { name: `${f}.max-get-multi-concurrency`, yaml: `${y}.max_get_multi_concurrency`, type: 'int', default: 100, help: 'The maximum number of concurrent connections running get operations. If set to 0, concurrency is unlimited.' },
    { name: `${f}.max-get-multi-batch-size`, yaml: `${y}.max_get_multi_batch_size`, type: 'int', default: 100, help: 'The maximum number of keys a single underlying get operation should run. If set to 0, the max batch size is unlimited.' },
    { name: `${f}.max-item-size`, yaml: `${y}.max_item_size`, type: 'int', default: 1_048_576, help: 'The maximum size of an item stored in memcached, in bytes. Bigger items are not stored. If set to 0, no maximum size is enforced.' },
  ];
}

/** STORE_GATEWAY_CACHE_FLAGS are the chunks, index and metadata cache flags. */
export const STORE_GATEWAY_CACHE_FLAGS: readonly FlagDef[] = [
  { name: `${PREFIX}.chunks-cache.backend`, yaml: `${YAML}.chunks_cache.backend`, type: 'string', default: '', choices: ['', 'memcached'], help: 'Backend for chunks cache, if not empty. Supported values: memcached.' },
  ...memcachedFlags('chunks-cache', 'chunks_cache', 'chunks cache'),
  { name: `${PREFIX}.chunks-cache.max-get-range-requests`, yaml: `${YAML}.chunks_cache.max_get_range_requests`, type: 'int', default: 3, help: 'Maximum number of sub-GetRange requests that a single GetRange request can be split into when fetching chunks. Zero or negative value = unlimited number of sub-requests.' },
  { name: `${PREFIX}.chunks-cache.attributes-ttl`, yaml: `${YAML}.chunks_cache.attributes_ttl`, type: 'duration', default: 604_800_000, help: 'TTL for caching object attributes for chunks (kept in the metadata cache when it is configured).' },
  { name: `${PREFIX}.chunks-cache.subrange-ttl`, yaml: `${YAML}.chunks_cache.subrange_ttl`, type: 'duration', default: 86_400_000, help: 'TTL for caching individual chunks subranges.' },
  { name: `${PREFIX}.index-cache.backend`, yaml: `${YAML}.index_cache.backend`, type: 'string', default: '', choices: ['', 'inmemory', 'memcached'], help: 'The index cache backend type. Supported values: inmemory, memcached.' },
  { name: `${PREFIX}.index-cache.inmemory.max-size-bytes`, yaml: `${YAML}.index_cache.inmemory.max_size_bytes`, type: 'int', default: 1_073_741_824, help: 'Maximum size in bytes of in-memory index cache used to speed up blocks index lookups (shared between all tenants).' },
  ...memcachedFlags('index-cache', 'index_cache', 'index cache'),
  { name: `${PREFIX}.metadata-cache.backend`, yaml: `${YAML}.metadata_cache.backend`, type: 'string', default: '', choices: ['', 'memcached'], help: 'Backend for metadata cache, if not empty. Supported values: memcached.' },
  ...memcachedFlags('metadata-cache', 'metadata_cache', 'metadata cache'),
  { name: `${PREFIX}.metadata-cache.tenants-list-ttl`, yaml: `${YAML}.metadata_cache.tenants_list_ttl`, type: 'duration', default: 900_000, help: 'How long to cache list of tenants in the bucket.' },
  { name: `${PREFIX}.metadata-cache.tenant-blocks-list-ttl`, yaml: `${YAML}.metadata_cache.tenant_blocks_list_ttl`, type: 'duration', default: 300_000, help: 'How long to cache list of blocks for each tenant.' },
  { name: `${PREFIX}.metadata-cache.chunks-list-ttl`, yaml: `${YAML}.metadata_cache.chunks_list_ttl`, type: 'duration', default: 86_400_000, help: 'How long to cache list of chunks for a block.' },
  { name: `${PREFIX}.metadata-cache.metafile-exists-ttl`, yaml: `${YAML}.metadata_cache.metafile_exists_ttl`, type: 'duration', default: 7_200_000, help: 'How long to cache information that block metafile exists. Also used for tenant deletion mark file.' },
  { name: `${PREFIX}.metadata-cache.metafile-doesnt-exist-ttl`, yaml: `${YAML}.metadata_cache.metafile_doesnt_exist_ttl`, type: 'duration', default: 300_000, help: "How long to cache information that block metafile doesn't exist. Also used for tenant deletion mark file." },
  { name: `${PREFIX}.metadata-cache.metafile-content-ttl`, yaml: `${YAML}.metadata_cache.metafile_content_ttl`, type: 'duration', default: 86_400_000, help: 'How long to cache content of the metafile.' },
  { name: `${PREFIX}.metadata-cache.metafile-max-size-bytes`, yaml: `${YAML}.metadata_cache.metafile_max_size_bytes`, type: 'int', default: 1_048_576, help: 'Maximum size of metafile content to cache in bytes. Caching will be skipped if the content exceeds this size.' },
  { name: `${PREFIX}.metadata-cache.metafile-attributes-ttl`, yaml: `${YAML}.metadata_cache.metafile_attributes_ttl`, type: 'duration', default: 604_800_000, help: 'How long to cache attributes of the block metafile.' },
  { name: `${PREFIX}.metadata-cache.block-index-attributes-ttl`, yaml: `${YAML}.metadata_cache.block_index_attributes_ttl`, type: 'duration', default: 604_800_000, help: 'How long to cache attributes of the block index.' },
  { name: `${PREFIX}.metadata-cache.bucket-index-content-ttl`, yaml: `${YAML}.metadata_cache.bucket_index_content_ttl`, type: 'duration', default: 300_000, help: 'How long to cache content of the bucket index.' },
  { name: `${PREFIX}.metadata-cache.bucket-index-max-size-bytes`, yaml: `${YAML}.metadata_cache.bucket_index_max_size_bytes`, type: 'int', default: 1_048_576, help: 'Maximum size of bucket index content to cache in bytes. Caching will be skipped if the content exceeds this size.' },
];
