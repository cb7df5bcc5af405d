//! memcached is the store-gateway's memcached client in Rust, for the caches
//! that sit under the native ranged reads of bucket blocks (the chunks cache
//! and the index cache, see [`super::bucket_cache`]): chunk and index bytes
//! stay in Rust from memcached to the query, with no N-API call per read.
//! The TypeScript client (src/frontend/memcache.ts) serves the caches that
//! live in TypeScript (the results cache, the store-gateway's metadata
//! cache); the two never share a cache.
//!
//! Text protocol on plain TCP (`get` of many keys, `set`), as dskit's client
//! speaks it: keys are spread over the servers by jump consistent hashing of
//! an FNV-1a hash of the key (stable across processes, so every
//! store-gateway finds a key on the same server); every socket read and
//! write is bounded by the timeout and every connect by the connect
//! timeout; a failed connection is closed, a healthy one goes back to a
//! per-server pool of at most `max_idle_connections`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use parking_lot::Mutex;

/// MemcachedConfig is dskit's `<prefix>.memcached.*` flags the client uses.
#[derive(Debug, Clone)]
pub struct MemcachedConfig {
    /// `host:port` of each server.
    pub addresses: Vec<String>,
    /// Socket read/write timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_idle_connections: usize,
    /// Keys per `get` (0: all in one).
    pub max_get_multi_batch_size: usize,
    /// Largest value stored (0: no bound).
    pub max_item_size: usize,
}

/// Failure is why an operation failed, named as dskit's `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    ConnectTimeout,
    RequestTimeout,
    NetworkError,
    ServerError,
    MalformedKey,
}

impl Failure {
    /// reason is dskit's label value.
    pub fn reason(self) -> &'static str {
        match self {
            Failure::ConnectTimeout => "connect-timeout",
            Failure::RequestTimeout => "request-timeout",
            Failure::NetworkError => "network-error",
            Failure::ServerError => "server-error",
            Failure::MalformedKey => "malformed-key",
        }
    }
}

/// OpError is a failed operation: its kind and a message for the log.
#[derive(Debug, Clone)]
pub struct OpError {
    pub kind: Failure,
    pub message: String,
}

fn io_error(server: &str, e: &std::io::Error, connecting: bool) -> OpError {
    let timeout = matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    );
    let kind = match (timeout, connecting) {
        (true, true) => Failure::ConnectTimeout,
        (true, false) => Failure::RequestTimeout,
        _ => Failure::NetworkError,
    };
    OpError {
        kind,
        message: format!("memcached {server}: {e}"),
    }
}

type Conn = BufReader<TcpStream>;

/// MemcachedClient talks to a set of memcached servers.
#[derive(Debug)]
pub struct MemcachedClient {
    cfg: MemcachedConfig,
    /// idle holds each server's idle connections (by address index).
    idle: Vec<Mutex<Vec<Conn>>>,
}

/// valid_key says whether memcached can hold `key` (1-250 bytes, no
/// whitespace or control characters).
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 250 && key.bytes().all(|b| b > 0x20 && b != 0x7f)
}

/// fnv1a64 is the 64-bit FNV-1a hash.
fn fnv1a64(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// jump_hash is Lamping and Veach's jump consistent hash of `key` into
/// `buckets` buckets.
fn jump_hash(mut key: u64, buckets: usize) -> usize {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as usize
}

impl MemcachedClient {
    /// new builds a client of `cfg.addresses` (at least one).
    pub fn new(cfg: MemcachedConfig) -> Result<Self, String> {
        if cfg.addresses.is_empty() {
            return Err("no memcached addresses given".into());
        }
        let idle = cfg
            .addresses
            .iter()
            .map(|_| Mutex::new(Vec::new()))
            .collect();
        Ok(MemcachedClient { cfg, idle })
    }

    /// max_item_size is the largest value stored (0: any).
    pub fn max_item_size(&self) -> usize {
        self.cfg.max_item_size
    }

    /// server_for is the index of the server of `key`.
    pub fn server_for(&self, key: &str) -> usize {
        jump_hash(fnv1a64(key.as_bytes()), self.cfg.addresses.len())
    }

    fn connect(&self, server: usize) -> Result<Conn, OpError> {
        let addr = &self.cfg.addresses[server];
        let addrs = addr
            .to_socket_addrs()
            .map_err(|e| io_error(addr, &e, true))?;
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.cfg.connect_timeout) {
                Ok(s) => {
                    let setup = s
                        .set_read_timeout(Some(self.cfg.timeout))
                        .and_then(|_| s.set_write_timeout(Some(self.cfg.timeout)))
                        .and_then(|_| s.set_nodelay(true));
                    setup.map_err(|e| io_error(addr, &e, true))?;
                    return Ok(BufReader::new(s));
                }
                Err(e) => last = Some(io_error(addr, &e, true)),
            }
        }
        Err(last.unwrap_or_else(|| OpError {
            kind: Failure::NetworkError,
            message: format!("memcached {addr}: the address resolves to nothing"),
        }))
    }

    /// with runs `f` on a connection to `server`; the connection is pooled
    /// again only when `f` succeeds.
    fn with<T>(
        &self,
        server: usize,
        f: impl FnOnce(&mut Conn) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        let pooled = self.idle[server].lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect(server)?,
        };
        let out = f(&mut conn)?;
        let mut idle = self.idle[server].lock();
        if idle.len() < self.cfg.max_idle_connections {
            idle.push(conn);
        }
        Ok(out)
    }

    /// get_multi returns the values found of `keys`. Keys are grouped by
    /// server and batched; a failed batch is reported (and the rest of that
    /// server's keys left as misses) with the values the others found.
    pub fn get_multi(&self, keys: &[String]) -> (HashMap<String, Vec<u8>>, Vec<OpError>) {
        let mut found = HashMap::new();
        let mut errors = Vec::new();
        let mut by_server: Vec<Vec<&str>> = vec![Vec::new(); self.cfg.addresses.len()];
        for k in keys {
            if valid_key(k) {
                by_server[self.server_for(k)].push(k);
            } else {
                errors.push(OpError {
                    kind: Failure::MalformedKey,
                    message: format!("memcached: invalid key {k:?}"),
                });
            }
        }
        for (server, ks) in by_server.iter().enumerate() {
            if ks.is_empty() {
                continue;
            }
            let batch = match self.cfg.max_get_multi_batch_size {
                0 => ks.len(),
                n => n,
            };
            for part in ks.chunks(batch) {
                if let Err(e) = self.with(server, |c| self.get_batch(server, c, part, &mut found)) {
                    // The server's other batches are misses too: one call
                    // waits at most one timeout per server.
                    errors.push(e);
                    break;
                }
            }
        }
        (found, errors)
    }

    fn get_batch(
        &self,
        server: usize,
        c: &mut Conn,
        keys: &[&str],
        found: &mut HashMap<String, Vec<u8>>,
    ) -> Result<(), OpError> {
        let addr = &self.cfg.addresses[server];
        let io = |e: std::io::Error| io_error(addr, &e, false);
        let mut req = Vec::with_capacity(8 + keys.iter().map(|k| k.len() + 1).sum::<usize>());
        req.extend_from_slice(b"get");
        for k in keys {
            req.push(b' ');
            req.extend_from_slice(k.as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        c.get_mut().write_all(&req).map_err(io)?;
        let mut line = String::new();
        loop {
            line.clear();
            if c.read_line(&mut line).map_err(io)? == 0 {
                return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let l = line.trim_end();
            if l == "END" {
                return Ok(());
            }
            let mut parts = l.split(' ');
            let (tag, key, len) = (parts.next(), parts.next(), parts.nth(1));
            let (Some("VALUE"), Some(key), Some(Ok(len))) =
                (tag, key, len.map(str::parse::<usize>))
            else {
                return Err(OpError {
                    kind: Failure::ServerError,
                    message: format!("memcached {addr}: unexpected reply {l:?}"),
                });
            };
            let mut value = vec![0; len + 2];
            c.read_exact(&mut value).map_err(io)?;
            value.truncate(len);
            found.insert(key.to_string(), value);
        }
    }

    /// set stores `value` under `key` for `ttl` (whole seconds, at least
    /// one; memcached reads more than 30 days as a unix time).
    pub fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), OpError> {
        if !valid_key(key) {
            return Err(OpError {
                kind: Failure::MalformedKey,
                message: format!("memcached: invalid key {key:?}"),
            });
        }
        let mut secs = ttl.as_secs().max(1);
        if secs > 30 * 24 * 3600 {
            secs += std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
        }
        let server = self.server_for(key);
        let addr = &self.cfg.addresses[server];
        self.with(server, |c| {
            let io = |e: std::io::Error| io_error(addr, &e, false);
            let mut req = format!("set {key} 0 {secs} {}\r\n", value.len()).into_bytes();
            req.extend_from_slice(value);
            req.extend_from_slice(b"\r\n");
            c.get_mut().write_all(&req).map_err(io)?;
            let mut line = String::new();
            if c.read_line(&mut line).map_err(io)? == 0 {
                return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            match line.trim_end() {
                "STORED" => Ok(()),
                other => Err(OpError {
                    kind: Failure::ServerError,
                    message: format!("memcached {addr}: set answered {other:?}"),
                }),
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::Arc;

    /// FakeMemcached is a memcached speaking `get` and `set` on a loopback
    /// port, counting the keys asked for and found.
    pub(crate) struct FakeMemcached {
        pub address: String,
        pub items: Arc<Mutex<HashMap<String, Vec<u8>>>>,
        pub gets: Arc<std::sync::atomic::AtomicU64>,
        pub hits: Arc<std::sync::atomic::AtomicU64>,
    }

    impl FakeMemcached {
        pub(crate) fn start() -> Self {
            use std::sync::atomic::Ordering;
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = l.local_addr().unwrap().to_string();
            let items: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
            let gets = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let hits = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let (it, g, h) = (items.clone(), gets.clone(), hits.clone());
            std::thread::spawn(move || {
                for s in l.incoming() {
                    let Ok(s) = s else { return };
                    let (it, g, h) = (it.clone(), g.clone(), h.clone());
                    std::thread::spawn(move || {
                        let mut r = BufReader::new(s.try_clone().unwrap());
                        let mut w = s;
                        let mut line = String::new();
                        while r.read_line(&mut line).unwrap_or(0) > 0 {
                            let parts: Vec<String> =
                                line.split_whitespace().map(String::from).collect();
                            line.clear();
                            match parts.first().map(String::as_str) {
                                Some("get") => {
                                    let mut out = Vec::new();
                                    for k in &parts[1..] {
                                        g.fetch_add(1, Ordering::Relaxed);
                                        if let Some(v) = it.lock().get(k) {
                                            h.fetch_add(1, Ordering::Relaxed);
                                            out.extend_from_slice(
                                                format!("VALUE {k} 0 {}\r\n", v.len()).as_bytes(),
                                            );
                                            out.extend_from_slice(v);
                                            out.extend_from_slice(b"\r\n");
                                        }
                                    }
                                    out.extend_from_slice(b"END\r\n");
                                    if w.write_all(&out).is_err() {
                                        return;
                                    }
                                }
                                Some("set") => {
                                    let n: usize = parts[4].parse().unwrap();
                                    let mut v = vec![0; n + 2];
                                    r.read_exact(&mut v).unwrap();
                                    v.truncate(n);
                                    it.lock().insert(parts[1].clone(), v);
                                    if w.write_all(b"STORED\r\n").is_err() {
                                        return;
                                    }
                                }
                                _ => return,
                            }
                        }
                    });
                }
            });
            FakeMemcached {
                address,
                items,
                gets,
                hits,
            }
        }
    }

    pub(crate) fn config(addresses: Vec<String>) -> MemcachedConfig {
        MemcachedConfig {
            addresses,
            timeout: Duration::from_millis(200),
            connect_timeout: Duration::from_millis(200),
            max_idle_connections: 4,
            max_get_multi_batch_size: 2,
            max_item_size: 1 << 20,
        }
    }

    #[test]
    fn sets_and_gets_binary_values_in_batches() {
        let m = FakeMemcached::start();
        let c = MemcachedClient::new(config(vec![m.address.clone()])).unwrap();
        c.set("a", b"x\r\ny", Duration::from_secs(60)).unwrap();
        c.set("b", &[0u8, 255, 13, 10], Duration::from_secs(60))
            .unwrap();
        let keys: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (found, errors) = c.get_multi(&keys);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found.get("a").map(Vec::as_slice), Some(&b"x\r\ny"[..]));
        assert_eq!(
            found.get("b").map(Vec::as_slice),
            Some(&[0u8, 255, 13, 10][..])
        );
        assert!(!found.contains_key("c"));
        let bad = c.set("a b", b"1", Duration::from_secs(1)).unwrap_err();
        assert_eq!(bad.kind, Failure::MalformedKey);
    }

    #[test]
    fn a_dead_server_is_a_network_error() {
        // A port nobody listens on.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let c = MemcachedClient::new(config(vec![addr])).unwrap();
        let (found, errors) = c.get_multi(&["k".to_string()]);
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, Failure::NetworkError);
    }

    #[test]
    fn keys_spread_over_servers_stably() {
        let addrs: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", 1000 + i)).collect();
        let c = MemcachedClient::new(config(addrs.clone())).unwrap();
        let mut per = [0; 3];
        for i in 0..300 {
            per[c.server_for(&format!("subrange:t/01H/chunks/000001:{i}"))] += 1;
        }
        assert!(per.iter().all(|&n| n > 50), "{per:?}");
        let again = MemcachedClient::new(config(addrs)).unwrap();
        assert_eq!(c.server_for("x"), again.server_for("x"));
        assert_eq!(jump_hash(fnv1a64(b"x"), 1), 0);
    }
}
