//! MongoDB ObjectIds as 24 lowercase hex characters.

/// A new ObjectId in MongoDB's layout: 4 bytes of seconds since the epoch
/// (big-endian, wrapping like the drivers'), 5 random bytes, and a 3-byte
/// counter. Processing is pure, so there is no process-wide counter: it is
/// seeded from `random` on every call, which keeps ids unique as long as
/// `random` is (64 random bits per id and second).
pub fn generate(now_millis: u64, random: &mut dyn FnMut() -> u64) -> String {
    let seconds = (now_millis / 1000) as u32;
    let process = random() & 0xff_ffff_ffff;
    let counter = random() & 0xff_ffff;
    format!("{seconds:08x}{process:010x}{counter:06x}")
}

/// Whether `s` is 24 hexadecimal characters (either case; stored lowercase).
pub fn is_valid(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut calls = [0x0102_0304_0506_0708u64, 0x0a0b_0c0d].into_iter();
        let id = generate(1_700_000_000_999, &mut || calls.next().unwrap_or(0));
        // seconds 0x6553f100, low 5 bytes of the first draw, low 3 of the second
        assert_eq!(id, "6553f1000405060708 0b0c0d".replace(' ', ""));
        assert!(is_valid(&id));
        assert!(is_valid("507F1F77BCF86CD799439011"));
        assert!(!is_valid("507f1f77bcf86cd79943901"));
        assert!(!is_valid("507f1f77bcf86cd79943901g"));
    }
}
