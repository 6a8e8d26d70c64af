//! A deterministic pseudo-random stream for unit tests: xorshift64
//! (Marsaglia, 2003), shifts 13, 7, 17. The state is the last value
//! returned, so a test that seeds it the same way sees the same values on
//! every run and machine. Test builds only.

/// xorshift64; the seed must not be 0 (0 is a fixed point).
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A stream starting after `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        debug_assert_ne!(seed, 0, "xorshift64 stays at 0");
        XorShift(seed)
    }

    /// The next value.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_xorshift64_and_repeats_from_its_seed() {
        let mut r = XorShift::new(1);
        // x = 1: 1 ^ 1 << 13 = 0x2001; ^ >> 7 = 0x2041; ^ << 17 = 0x4082_2041.
        assert_eq!(r.next_u64(), 0x4082_2041);
        let a: Vec<u64> = (0..5).map(|_| r.next_u64()).collect();
        let mut s = XorShift::new(0x4082_2041);
        let b: Vec<u64> = (0..5).map(|_| s.next_u64()).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|&v| v != 0));
    }
}
