//! Names: models, collections, fields, and Mongoose's default collection name.

/// 1-64 characters: an ASCII letter, then ASCII letters, digits or `_`.
pub fn is_valid_model_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A name MongoDB accepts for a collection: 1-120 characters, no `$`, no NUL,
/// not in the reserved `system.` namespace.
pub fn is_valid_collection_name(s: &str) -> bool {
    collection_name_problem(s).is_none()
}

pub(crate) fn collection_name_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("is empty")
    } else if s.chars().count() > 120 {
        Some("is longer than 120 characters")
    } else if s.contains('$') {
        Some("contains \"$\"")
    } else if s.contains('\0') {
        Some("contains a NUL character")
    } else if s.starts_with("system.") {
        Some("starts with \"system.\", which MongoDB reserves")
    } else {
        None
    }
}

/// Why a field (or virtual) name cannot be used, if it cannot.
pub(crate) fn field_name_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("field names cannot be empty")
    } else if s.contains('.') {
        Some("field names cannot contain \".\"; declare a nested object instead")
    } else if s.starts_with('$') {
        Some("field names cannot start with \"$\"")
    } else if s.contains('\0') {
        Some("field names cannot contain a NUL character")
    } else {
        None
    }
}

/// Words Mongoose never pluralises.
const UNCOUNTABLES: [&str; 27] = [
    "advice",
    "energy",
    "excretion",
    "digestion",
    "cooperation",
    "health",
    "justice",
    "labour",
    "machinery",
    "equipment",
    "information",
    "pollution",
    "sewage",
    "paper",
    "money",
    "species",
    "series",
    "rain",
    "rice",
    "fish",
    "sheep",
    "moose",
    "deer",
    "news",
    "expertise",
    "status",
    "media",
];

/// The collection Mongoose would use for a model: its lowercased name run
/// through Mongoose's own pluralisation rules, quirks included, so that a
/// ported model finds the data the Node service wrote ("Person" -> "people",
/// "Category" -> "categories", "Box" -> "boxes", "Buzz" -> "buzzs").
pub fn default_collection_name(model: &str) -> String {
    let s = model.to_lowercase();
    if UNCOUNTABLES.contains(&s.as_str()) {
        return s;
    }
    pluralise(&s)
}

// The rules of mongoose-legacy-pluralize, in its order: the first that
// matches wins. Every suffix tested is ASCII, so slicing it off is safe.
fn pluralise(s: &str) -> String {
    let ends = |suffix: &str| s.ends_with(suffix);
    let stem = |n: usize| &s[..s.len() - n];
    if ends("human") {
        return format!("{s}s");
    }
    if ends("man") {
        return format!("{}en", stem(2));
    }
    if ends("person") {
        return format!("{}ople", stem(4));
    }
    if ends("child") {
        return format!("{s}ren");
    }
    if s == "ox" {
        return "oxen".to_owned();
    }
    if ends("axis") || ends("testis") {
        return format!("{}es", stem(2));
    }
    if ends("octopus") || ends("virus") {
        return format!("{}i", stem(2));
    }
    if ends("alias") || ends("status") || ends("bus") {
        return format!("{s}es");
    }
    if ends("buffalo") || ends("tomato") || ends("potato") {
        return format!("{s}es");
    }
    if ends("tum") || ends("ium") {
        return format!("{}a", stem(2));
    }
    if ends("sis") {
        return format!("{}ses", stem(3));
    }
    if ends("fe") && s.len() > 2 && !stem(2).ends_with('f') {
        return format!("{}ves", stem(2));
    }
    if ends("lf") || ends("rf") {
        return format!("{}ves", stem(1));
    }
    if ends("hive") {
        return format!("{s}s");
    }
    if ends("y") {
        let before = stem(1).chars().last();
        if ends("quy") || before.is_some_and(|c| !"aeiouy".contains(c)) {
            return format!("{}ies", stem(1));
        }
    }
    if ends("x") || ends("ch") || ends("ss") || ends("sh") {
        return format!("{s}es");
    }
    if let Some(out) = matrix_rule(s) {
        return out;
    }
    if ends("mouse") || ends("louse") || ends("|ouse") {
        return format!("{}ice", stem(4));
    }
    if ends("knife") || ends("wife") || ends("life") {
        return format!("{}ives", stem(3));
    }
    if ends("quiz") {
        return format!("{s}zes");
    }
    if s == "goose" {
        return "geese".to_owned();
    }
    if ends("s") || s.chars().last().is_some_and(|c| !c.is_ascii_lowercase()) {
        return s.to_owned();
    }
    format!("{s}s")
}

/// Mongoose's `/(matr|vert|ind)ix|ex$/gi -> '$1ices'`: a global replace, so
/// "matrix" anywhere in the name is rewritten, and a trailing "ex" too.
fn matrix_rule(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() + 4);
    let mut matched = false;
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        let stem = [&b"matr"[..], b"vert", b"ind"]
            .into_iter()
            .find(|p| rest.starts_with(p) && rest[p.len()..].starts_with(b"ix"));
        if let Some(p) = stem {
            out.extend_from_slice(p);
            out.extend_from_slice(b"ices");
            i += p.len() + 2;
            matched = true;
        } else if rest == b"ex" {
            out.extend_from_slice(b"ices");
            i += 2;
            matched = true;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if matched {
        String::from_utf8(out).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        assert!(is_valid_model_name("User"));
        assert!(is_valid_model_name("a_1"));
        assert!(is_valid_model_name(&"A".repeat(64)));
        assert!(!is_valid_model_name(&"A".repeat(65)));
        assert!(!is_valid_model_name(""));
        assert!(!is_valid_model_name("1User"));
        assert!(!is_valid_model_name("_User"));
        assert!(!is_valid_model_name("Us-er"));
        assert!(!is_valid_model_name("Usér"));
    }

    #[test]
    fn collection_names() {
        assert!(is_valid_collection_name("users"));
        assert!(is_valid_collection_name("my.users"));
        assert!(!is_valid_collection_name(""));
        assert!(!is_valid_collection_name("a$b"));
        assert!(!is_valid_collection_name("a\0b"));
        assert!(!is_valid_collection_name("system.users"));
        assert!(!is_valid_collection_name(&"c".repeat(121)));
        assert!(is_valid_collection_name(&"c".repeat(120)));
    }

    #[test]
    fn mongoose_pluralisation() {
        let cases = [
            ("User", "users"),
            ("Product", "products"),
            ("Order", "orders"),
            ("Category", "categories"),
            ("Day", "days"),
            ("Person", "people"),
            ("Woman", "women"),
            ("Human", "humans"),
            ("Child", "children"),
            ("Ox", "oxen"),
            ("Box", "boxes"),
            ("Church", "churches"),
            ("Address", "addresses"),
            ("Dish", "dishes"),
            ("Users", "users"),
            ("Status", "status"),
            ("News", "news"),
            ("Alias", "aliases"),
            ("Bus", "buses"),
            ("Potato", "potatoes"),
            ("Datum", "data"),
            ("Medium", "media"),
            ("Analysis", "analyses"),
            ("Knife", "knives"),
            ("Wolf", "wolves"),
            ("Hive", "hives"),
            ("Soliloquy", "soliloquies"),
            ("Index", "indexes"), // the x rule comes first
            ("Vertex", "vertexes"),
            ("Indixa", "indicesa"), // only "...ix" inside a name reaches the matrix rule
            ("Matrix", "matrixes"), // the x rule comes first
            ("Mouse", "mice"),
            ("Quiz", "quizzes"),
            ("Goose", "geese"),
            ("Buzz", "buzzs"),
            ("Item2", "item2"),
            ("Log_", "log_"),
            ("Octopus", "octopi"),
            ("Axis", "axes"),
        ];
        for (model, want) in cases {
            assert_eq!(default_collection_name(model), want, "{model}");
        }
    }

    #[test]
    fn field_names() {
        assert!(field_name_problem("email").is_none());
        assert!(field_name_problem("").is_some());
        assert!(field_name_problem("a.b").is_some());
        assert!(field_name_problem("$a").is_some());
    }
}
