//! The model-file parser on arbitrary text: a located error, or a definition whose
//! normalised form parses back to the same definition (and fingerprint).
#![no_main]

use dmr_model::{ModelDef, parse_model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match parse_model(src, "fuzz.json") {
        Ok(def) => {
            assert_eq!(def.fingerprint.len(), 16);
            let again = ModelDef::from_source_json(&def.source_json(), "db")
                .unwrap_or_else(|e| panic!("normalised form does not parse: {e}"));
            assert_eq!(again, def);
        }
        Err(e) => assert!(e.line >= 1 && e.column >= 1, "{e}"),
    }
});
