//! buffers keeps the byte buffers of WAL records and their compressed form
//! per thread between pushes: a push's records are written and dropped, and
//! the next push on the same thread builds its records in the same memory,
//! instead of allocating (and the kernel zeroing) fresh pages for each one.

use std::cell::RefCell;

/// MAX_KEPT is how many buffers a thread keeps.
const MAX_KEPT: usize = 8;
/// MAX_KEPT_CAPACITY bounds the capacity of a kept buffer (larger ones are freed).
const MAX_KEPT_CAPACITY: usize = 8 << 20;

thread_local! {
    static KEPT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// take_buffer returns an empty buffer, with the capacity of one given back
/// earlier on this thread when there is one.
pub fn take_buffer() -> Vec<u8> {
    KEPT.with(|k| k.borrow_mut().pop()).unwrap_or_default()
}

/// give_back keeps `b` for a later take_buffer on this thread.
pub fn give_back(mut b: Vec<u8>) {
    if b.capacity() == 0 || b.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    b.clear();
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() < MAX_KEPT {
            k.push(b);
        }
    });
}

/// give_back_all keeps every buffer of `bs` (see give_back).
pub fn give_back_all(bs: impl IntoIterator<Item = Vec<u8>>) {
    for b in bs {
        give_back(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_capacity() {
        let mut b = take_buffer();
        b.extend_from_slice(&[1u8; 4096]);
        let cap = b.capacity();
        give_back(b);
        let again = take_buffer();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), cap);
        give_back(vec![0u8; MAX_KEPT_CAPACITY + 1]);
        assert_eq!(take_buffer().capacity(), 0, "too large to keep");
    }
}
