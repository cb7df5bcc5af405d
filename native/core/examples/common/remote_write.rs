//! remote_write builds remote-write 1.0 requests for the examples: `n`
//! node_exporter-like series from `first_series`, one sample each at `t`.

pub fn varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

pub fn field(out: &mut Vec<u8>, f: u64, b: &[u8]) {
    varint(out, f << 3 | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub fn request(first_series: usize, n: usize, t: i64) -> Vec<u8> {
    let mut req = Vec::with_capacity(n * 128);
    for i in first_series..first_series + n {
        let mut ts = Vec::with_capacity(160);
        let labels = [
            ("__name__", format!("metric_{}", i % 100)),
            ("instance", format!("host-{}.example:9100", i / 100)),
            ("job", "node".to_string()),
            ("mode", format!("m{}", i % 7)),
        ];
        for (n, v) in &labels {
            let mut l = Vec::new();
            field(&mut l, 1, n.as_bytes());
            field(&mut l, 2, v.as_bytes());
            field(&mut ts, 1, &l);
        }
        let mut s = vec![0x09];
        s.extend_from_slice(&((t / 1000 + i as i64) as f64 * 0.5).to_le_bytes());
        s.push(0x10);
        varint(&mut s, t as u64);
        field(&mut ts, 2, &s);
        field(&mut req, 1, &ts);
    }
    req
}
