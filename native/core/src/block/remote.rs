//! remote reads the files of a block kept in an S3 bucket by byte range,
//! as Mimir's store-gateway does: the block's index-header (symbol table
//! and postings offset table) is kept locally, and postings lists, series
//! entries and chunks are fetched from the bucket when a query reads them.
//!
//! [`S3Client`] signs ranged GETs with AWS Signature Version 4 (or sends
//! them unsigned without keys, as minio-go does). [`RemoteFile`] is one
//! object read through a small page cache: reads are served in whole pages,
//! a run of missing pages is fetched with one request, and a run that
//! continues the pages already read is extended ahead (series entries and
//! postings are read in file order). Every request and byte fetched from
//! the bucket is counted ([`Counted`], [`read_stats`]), so "bytes read per
//! query" can be measured; the chunks and index caches sit between the page
//! cache and the bucket (`super::bucket_cache`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

use super::BlockError;

/// PAGE_SIZE is the unit of fetching and caching.
pub const PAGE_SIZE: usize = 4 * 1024;
/// READAHEAD is how many pages a small read that continues the pages
/// already cached (a scan in file order) fetches beyond what it asked for.
const READAHEAD: usize = 63;
/// CACHED_PAGES bounds the pages one file keeps (1 MiB).
const CACHED_PAGES: usize = 256;
/// SHA-256 of an empty payload (a GET's body).
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// S3Config is what the store-gateway's bucket reader needs of the
/// `-blocks-storage.s3.*` flags.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// `host[:port]`, empty for AWS's regional endpoint.
    pub endpoint: String,
    pub bucket: String,
    /// The signing region (the caller resolves the default).
    pub region: String,
    /// Empty with `secret_access_key`: requests go unsigned.
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// http instead of https.
    pub insecure: bool,
    /// The bucket in the path instead of the host name.
    pub path_style: bool,
    pub insecure_skip_verify: bool,
    /// Attempts per request (at least one).
    pub max_attempts: u32,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret and token stay out of logs.
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("insecure", &self.insecure)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// ReadStats are the totals of every remote read in the process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub requests: u64,
    pub bytes: u64,
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// read_stats returns the requests sent and bytes fetched so far.
pub fn read_stats() -> ReadStats {
    ReadStats {
        requests: REQUESTS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// RangeSource reads byte ranges of stored objects (S3, or a test double).
pub trait RangeSource: Send + Sync + fmt::Debug {
    /// get_range returns `len` bytes of `key` at `off` (fewer at its end).
    fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String>;
}

/// Counted is a bucket whose reads are counted in [`read_stats`]: the
/// store-gateway wraps the bucket itself in it, under its caches, so the
/// totals are what reached the bucket.
#[derive(Debug)]
pub struct Counted(pub Arc<dyn RangeSource>);

impl RangeSource for Counted {
    fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String> {
        let bytes = self.0.get_range(key, off, len)?;
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
}

/// The bucket blocks are read from, set once the store-gateway knows it.
static BUCKET: OnceLock<RwLock<Option<Arc<dyn RangeSource>>>> = OnceLock::new();

/// set_bucket makes `source` the bucket remote blocks are read from (None:
/// remote blocks cannot be opened).
pub fn set_bucket(source: Option<Arc<dyn RangeSource>>) {
    *BUCKET.get_or_init(|| RwLock::new(None)).write() = source;
}

/// bucket is the configured bucket.
pub fn bucket() -> Option<Arc<dyn RangeSource>> {
    BUCKET.get().and_then(|b| b.read().clone())
}

/// S3Client sends ranged GETs to one S3 bucket.
pub struct S3Client {
    cfg: S3Config,
    agent: ureq::Agent,
}

impl fmt::Debug for S3Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Client").field("cfg", &self.cfg).finish()
    }
}

impl S3Client {
    /// new builds a client; requests time out after 30 s.
    pub fn new(cfg: S3Config) -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(cfg.insecure_skip_verify)
            .build();
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .tls_config(tls)
                .build(),
        );
        S3Client { cfg, agent }
    }

    fn region(&self) -> &str {
        &self.cfg.region
    }

    /// host_and_path are the Host header and the canonical path of `key`.
    fn host_and_path(&self, key: &str) -> (String, String) {
        let endpoint = if self.cfg.endpoint.is_empty() {
            format!("s3.{}.amazonaws.com", self.region())
        } else {
            self.cfg.endpoint.clone()
        };
        let key = uri_encode_path(key);
        if self.cfg.path_style {
            (
                endpoint,
                format!("/{}/{key}", uri_encode_path(&self.cfg.bucket)),
            )
        } else {
            (format!("{}.{endpoint}", self.cfg.bucket), format!("/{key}"))
        }
    }

    /// signed_headers are the headers of a GET of `range` at `now`.
    fn headers(
        &self,
        host: &str,
        path: &str,
        range: &str,
        now: SystemTime,
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_string(), host.to_string()),
            ("range".to_string(), range.to_string()),
        ];
        if self.cfg.access_key_id.is_empty() {
            return headers;
        }
        let (date, stamp) = amz_date(now);
        headers.push(("x-amz-content-sha256".into(), EMPTY_SHA256.into()));
        headers.push(("x-amz-date".into(), stamp.clone()));
        if !self.cfg.session_token.is_empty() {
            headers.push((
                "x-amz-security-token".into(),
                self.cfg.session_token.clone(),
            ));
        }
        headers.sort();
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        let signed = names.join(";");
        let mut canonical = format!("GET\n{path}\n\n");
        for (n, v) in &headers {
            canonical.push_str(&format!("{n}:{}\n", v.trim()));
        }
        canonical.push_str(&format!("\n{signed}\n{EMPTY_SHA256}"));
        let scope = format!("{date}/{}/s3/aws4_request", self.region());
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac(
            format!("AWS4{}", self.cfg.secret_access_key).as_bytes(),
            date.as_bytes(),
        );
        for part in [self.region(), "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        headers.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                self.cfg.access_key_id
            ),
        ));
        headers
    }

    fn get_once(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, (bool, String)> {
        let (host, path) = self.host_and_path(key);
        let range = format!("bytes={off}-{}", off + len - 1);
        let scheme = if self.cfg.insecure { "http" } else { "https" };
        let mut req = self.agent.get(format!("{scheme}://{host}{path}"));
        for (n, v) in self.headers(&host, &path, &range, SystemTime::now()) {
            if n != "host" {
                req = req.header(n, v);
            }
        }
        let mut resp = req
            .call()
            .map_err(|e| (true, format!("s3 get_range {key}: {e}")))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(len.saturating_add(1 << 20))
            .read_to_vec();
        match status {
            206 => body.map_err(|e| (true, format!("s3 get_range {key}: {e}"))),
            // A server that ignores Range answers the whole object.
            200 => {
                let all = body.map_err(|e| (true, format!("s3 get_range {key}: {e}")))?;
                let start = (off as usize).min(all.len());
                let end = (off.saturating_add(len) as usize).min(all.len());
                Ok(all[start..end].to_vec())
            }
            416 => Ok(Vec::new()),
            _ => {
                let text = body
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let code = xml_tag(&text, "Code").unwrap_or("error");
                Err((
                    status >= 500 || status == 429,
                    format!("s3 get_range {key}: {code} (HTTP {status})"),
                ))
            }
        }
    }
}

impl RangeSource for S3Client {
    fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let attempts = self.cfg.max_attempts.max(1);
        let mut wait = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            match self.get_once(key, off, len) {
                Ok(b) => return Ok(b),
                Err((retry, e)) if !retry || attempt >= attempts => return Err(e),
                Err(_) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(2));
                    attempt += 1;
                }
            }
        }
    }
}

/// RemoteFile is one object of a bucket block read through a page cache.
#[derive(Debug)]
pub struct RemoteFile {
    source: Arc<dyn RangeSource>,
    key: String,
    size: u64,
    cache: Mutex<Pages>,
}

/// Pages are the cached pages of a file by number, with the tick of
/// their last use; the least recently used is evicted.
#[derive(Debug, Default)]
struct Pages {
    pages: ahash::AHashMap<u64, (Arc<[u8]>, u64)>,
    tick: u64,
}

impl Pages {
    fn get(&mut self, n: u64) -> Option<Arc<[u8]>> {
        self.tick += 1;
        let tick = self.tick;
        self.pages.get_mut(&n).map(|p| {
            p.1 = tick;
            Arc::clone(&p.0)
        })
    }

    fn has(&self, n: u64) -> bool {
        self.pages.contains_key(&n)
    }

    fn put(&mut self, n: u64, page: Arc<[u8]>) {
        self.tick += 1;
        if self.pages.len() >= CACHED_PAGES && !self.pages.contains_key(&n) {
            let oldest = self
                .pages
                .iter()
                .min_by_key(|(_, p)| p.1)
                .map(|(k, _)| *k)
                .expect("a full cache has pages");
            self.pages.remove(&oldest);
        }
        self.pages.insert(n, (page, self.tick));
    }
}

impl RemoteFile {
    /// new reads object `key` of `size` bytes from `source`.
    pub fn new(source: Arc<dyn RangeSource>, key: String, size: u64) -> Self {
        RemoteFile {
            source,
            key,
            size,
            cache: Mutex::new(Pages::default()),
        }
    }

    /// size is the object's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// key is the object's name in the bucket.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// read returns bytes [off, off + len) clipped to the object's end.
    pub fn read(&self, off: u64, len: usize) -> Result<Vec<u8>, BlockError> {
        let end = off.saturating_add(len as u64).min(self.size);
        if off >= end {
            return Ok(Vec::new());
        }
        let page = PAGE_SIZE as u64;
        let (first, last) = (off / page, (end - 1) / page);
        let mut have: Vec<Option<Arc<[u8]>>> = {
            let mut c = self.cache.lock();
            (first..=last).map(|n| c.get(n)).collect()
        };
        let mut i = 0;
        while i < have.len() {
            if have[i].is_some() {
                i += 1;
                continue;
            }
            let run_start = i;
            while i < have.len() && have[i].is_none() {
                i += 1;
            }
            let p0 = first + run_start as u64;
            // The run is pages p0..p1.
            let mut p1 = first + i as u64;
            // A small read that follows a cached page continues a scan
            // (series entries, postings, chunks in file order): read ahead.
            if i == have.len() && len <= PAGE_SIZE && p0 > 0 {
                let c = self.cache.lock();
                if c.has(p0 - 1) {
                    let pages_total = self.size.div_ceil(page);
                    let mut extra = 0;
                    while extra < READAHEAD && p1 < pages_total && !c.has(p1) {
                        p1 += 1;
                        extra += 1;
                    }
                }
            }
            let from = p0 * page;
            let to = (p1 * page).min(self.size);
            let bytes = self
                .source
                .get_range(&self.key, from, to - from)
                .map_err(BlockError::corrupt)?;
            if (bytes.len() as u64) < to - from {
                return Err(BlockError::corrupt(format!(
                    "{}: {} bytes at offset {from} read, {} expected: object shorter than its listed size",
                    self.key,
                    bytes.len(),
                    to - from
                )));
            }
            let mut c = self.cache.lock();
            for (k, chunk) in bytes.chunks(PAGE_SIZE).enumerate() {
                let n = p0 + k as u64;
                let page: Arc<[u8]> = Arc::from(chunk);
                if n <= last {
                    have[(n - first) as usize] = Some(Arc::clone(&page));
                }
                c.put(n, page);
            }
        }
        let mut out = Vec::with_capacity((end - off) as usize);
        for (k, p) in have.iter().enumerate() {
            let p = p.as_ref().expect("every page fetched above");
            let base = (first + k as u64) * page;
            let a = off.max(base) - base;
            let b = end.min(base + p.len() as u64) - base;
            out.extend_from_slice(&p[a as usize..b as usize]);
        }
        Ok(out)
    }
}

/// uri_encode_path encodes an object key for a URL and a SigV4 canonical
/// request: unreserved characters and `/` as they are, every other byte
/// as `%XX`.
fn uri_encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// amz_date is SigV4's `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` of `t` (UTC).
fn amz_date(t: SystemTime) -> (String, String) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    (date, stamp)
}

/// xml_tag is the text of the first `<tag>` of an S3 error body.
fn xml_tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..start + len])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// MemSource is a bucket in memory that counts requests.
    #[derive(Debug, Default)]
    pub(crate) struct MemSource {
        pub objects: Mutex<std::collections::HashMap<String, Vec<u8>>>,
        pub requests: AtomicU64,
        pub bytes: AtomicU64,
    }

    impl RangeSource for MemSource {
        fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let o = self.objects.lock();
            let b = o.get(key).ok_or_else(|| format!("no object {key}"))?;
            let s = (off as usize).min(b.len());
            let e = (off.saturating_add(len) as usize).min(b.len());
            self.bytes.fetch_add((e - s) as u64, Ordering::Relaxed);
            Ok(b[s..e].to_vec())
        }
    }

    #[test]
    fn reads_any_range_through_pages() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let src = Arc::new(MemSource::default());
        src.objects.lock().insert("k".into(), data.clone());
        let f = RemoteFile::new(src.clone(), "k".into(), data.len() as u64);
        for (off, len) in [
            (0, 1),
            (5, 100),
            (32_760, 20),
            (100_000, 70_000),
            (199_990, 50),
        ] {
            let got = f.read(off as u64, len).unwrap();
            let end = (off + len).min(data.len());
            assert_eq!(got, &data[off..end], "read {off}+{len}");
        }
        assert!(f.read(300_000, 10).unwrap().is_empty());
        // A second read of cached pages sends nothing.
        let before = src.requests.load(Ordering::Relaxed);
        f.read(5, 100).unwrap();
        assert_eq!(src.requests.load(Ordering::Relaxed), before);
    }

    #[test]
    fn a_scan_reads_ahead_and_a_short_object_is_an_error() {
        let data = vec![1u8; (READAHEAD + 20) * PAGE_SIZE];
        let src = Arc::new(MemSource::default());
        src.objects.lock().insert("k".into(), data.clone());
        let f = RemoteFile::new(src.clone(), "k".into(), data.len() as u64);
        for p in 0..READAHEAD + 2 {
            f.read((p * PAGE_SIZE) as u64, PAGE_SIZE).unwrap();
        }
        // Page 0, then page 1 with the pages ahead of it; the next page
        // after those is a third request.
        assert_eq!(src.requests.load(Ordering::Relaxed), 2);
        f.read(((READAHEAD + 2) * PAGE_SIZE) as u64, 10).unwrap();
        assert_eq!(src.requests.load(Ordering::Relaxed), 3);
        // A large read asks for what it needs only.
        let big = RemoteFile::new(src.clone(), "k".into(), data.len() as u64);
        big.read(0, 10).unwrap();
        let before = src.bytes.load(Ordering::Relaxed);
        big.read(PAGE_SIZE as u64, 2 * PAGE_SIZE).unwrap();
        assert_eq!(
            src.bytes.load(Ordering::Relaxed) - before,
            2 * PAGE_SIZE as u64
        );
        let short = RemoteFile::new(src, "k".into(), data.len() as u64 + 10);
        let e = short
            .read(data.len() as u64 - 5, 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("shorter than its listed size"), "{e}");
    }

    #[test]
    fn signs_as_aws_documents() {
        // The GET Object example of AWS's "Signature Calculations for the
        // Authorization Header" (range 0-9 of test.txt in examplebucket).
        let c = S3Client::new(S3Config {
            bucket: "examplebucket".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ..S3Config::default()
        });
        let (host, path) = c.host_and_path("test.txt");
        assert_eq!(
            (host.as_str(), path.as_str()),
            ("examplebucket.s3.us-east-1.amazonaws.com", "/test.txt")
        );
        // 20130524T000000Z
        let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        assert_eq!(amz_date(t).1, "20130524T000000Z");
        let h = c.headers("examplebucket.s3.amazonaws.com", &path, "bytes=0-9", t);
        let auth = &h.iter().find(|(n, _)| n == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn keys_are_encoded_and_path_style_names_the_bucket() {
        let c = S3Client::new(S3Config {
            endpoint: "127.0.0.1:9000".into(),
            bucket: "blocks".into(),
            path_style: true,
            ..S3Config::default()
        });
        let (host, path) = c.host_and_path("team a/01H/chunks/000001");
        assert_eq!(host, "127.0.0.1:9000");
        assert_eq!(path, "/blocks/team%20a/01H/chunks/000001");
        // Unsigned without keys.
        let h = c.headers(&host, &path, "bytes=0-1", SystemTime::now());
        assert!(h.iter().all(|(n, _)| n != "authorization"));
    }
}
