//! Integration tests of dmr-model, in one binary so they link once.

mod docs;
mod errors;
mod features;
mod fingerprint;
mod fingerprint_props;
mod props;
mod set;
mod shipped;
mod write_cast;
mod write_modes;
mod write_props;
mod write_shipped;
mod write_support;
mod write_validate;

pub const USER: &str = include_str!("../../../../models/User.json");
pub const PRODUCT: &str = include_str!("../../../../models/Product.json");
pub const ORDER: &str = include_str!("../../../../models/Order.json");

/// 1-based line and character column of the first occurrence of `needle`.
pub fn pos(src: &str, needle: &str) -> (usize, usize) {
    pos_from(src, needle, 0)
}

/// Like [`pos`], but searching from byte offset `from`.
pub fn pos_from(src: &str, needle: &str, from: usize) -> (usize, usize) {
    let off = from + src[from..].find(needle).expect("needle not in source");
    let before = &src[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
