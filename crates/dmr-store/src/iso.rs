use std::time::SystemTime;

/// `2026-11-27T05:00:00.123Z`: what JavaScript's `Date.toISOString()` prints, so timestamps
/// read exactly like the Node registry's.
pub fn iso_millis(at: SystemTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from(at)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_javascript() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso_millis(at), "2023-11-14T22:13:20.123Z");
    }
}
