//! Compatibility gates between versions of a model, in the modes schema-registry users know
//! (Confluent's): whether a new version may be accepted given the versions before it, and
//! every reason it may not.
//!
//! Backward: every document written under an earlier version is still valid under the new
//! one (the registry reads old documents with the new model). Forward: every document the
//! new version writes is valid under the earlier one (instances still on it can read them).
//! Both are [`diff`] read one way or the other: a change is breaking exactly when some
//! document valid on its old side is rejected on its new side.

use std::fmt;
use std::str::FromStr;

use crate::diff::{Change, ChangeKind, diff};
use crate::model::ModelDef;

/// How a new version must relate to the versions before it. The default is `Backward`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityMode {
    /// Any change is accepted.
    None,
    /// Documents written under the latest version stay valid.
    #[default]
    Backward,
    /// Documents written under the new version are valid under the latest one.
    Forward,
    /// Both, against the latest version.
    Full,
    /// Backward, against every earlier version.
    BackwardTransitive,
    /// Forward, against every earlier version.
    ForwardTransitive,
    /// Both, against every earlier version.
    FullTransitive,
}

impl CompatibilityMode {
    pub const ALL: [Self; 7] = [
        Self::None,
        Self::Backward,
        Self::Forward,
        Self::Full,
        Self::BackwardTransitive,
        Self::ForwardTransitive,
        Self::FullTransitive,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::Forward => "FORWARD",
            Self::Full => "FULL",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    const fn directions(self) -> (bool, bool) {
        match self {
            Self::None => (false, false),
            Self::Backward | Self::BackwardTransitive => (true, false),
            Self::Forward | Self::ForwardTransitive => (false, true),
            Self::Full | Self::FullTransitive => (true, true),
        }
    }

    const fn transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is not one of [`CompatibilityMode::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown compatibility mode {0:?}: expected one of NONE, BACKWARD, FORWARD, FULL, BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, FULL_TRANSITIVE"
)]
pub struct UnknownMode(pub String);

impl FromStr for CompatibilityMode {
    type Err = UnknownMode;

    /// Case-insensitive, as Confluent's clients send it either way.
    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

/// Which way a version pair was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A document written under the earlier version would be rejected by the new one.
    Backward,
    /// A document the new version writes would be rejected by the earlier one.
    Forward,
}

/// One reason a candidate is refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incompatibility {
    /// The earlier version it conflicts with.
    pub version: u32,
    pub direction: Direction,
    /// Dotted field path, or `(model)`.
    pub path: String,
    /// What the candidate changed, from the earlier version to the candidate.
    pub kind: ChangeKind,
    pub message: String,
}

/// Every reason `candidate` breaks `mode` against `previous` (numbered versions, oldest
/// first); empty when it may be accepted. With no previous version, anything is accepted.
pub fn check_compatibility<'a>(
    mode: CompatibilityMode,
    previous: impl IntoIterator<Item = (u32, &'a ModelDef)>,
    candidate: &ModelDef,
) -> Vec<Incompatibility> {
    let (backward, forward) = mode.directions();
    let previous: Vec<(u32, &ModelDef)> = previous.into_iter().collect();
    let against = if mode.transitive() {
        &previous[..]
    } else {
        &previous[previous.len().saturating_sub(1)..]
    };
    let mut reasons = Vec::new();
    // Newest first: the version a reader most likely still runs is named first.
    for &(version, earlier) in against.iter().rev() {
        if backward {
            reasons.extend(
                breaking(diff(earlier, candidate)).map(|change| backward_reason(version, change)),
            );
        }
        if forward {
            reasons.extend(
                breaking(diff(candidate, earlier)).map(|change| forward_reason(version, change)),
            );
        }
    }
    reasons
}

fn breaking(changes: Vec<Change>) -> impl Iterator<Item = Change> {
    changes.into_iter().filter(|change| change.breaking)
}

fn backward_reason(version: u32, change: Change) -> Incompatibility {
    Incompatibility {
        version,
        direction: Direction::Backward,
        message: format!(
            "documents written under version {version} would be rejected: {}",
            change.description
        ),
        path: change.path,
        kind: change.kind,
    }
}

/// `change` was read from the candidate to the earlier version; its kind is turned round
/// so that it says what the candidate did.
fn forward_reason(version: u32, change: Change) -> Incompatibility {
    Incompatibility {
        version,
        direction: Direction::Forward,
        message: format!(
            "version {version} would reject documents this version writes (from this version to {version}: {})",
            change.description
        ),
        path: change.path,
        kind: reversed(change.kind),
    }
}

/// The kind of the opposite change: what a change from B to A is, given A to B's.
const fn reversed(kind: ChangeKind) -> ChangeKind {
    use ChangeKind as K;
    match kind {
        K::FieldAdded | K::RequiredFieldAdded => K::FieldRemoved,
        K::FieldRemoved => K::FieldAdded,
        K::NowRequired => K::NoLongerRequired,
        K::NoLongerRequired => K::NowRequired,
        K::EnumAdded => K::EnumRemoved,
        K::EnumRemoved => K::EnumAdded,
        K::EnumValuesRemoved => K::EnumValuesAdded,
        K::EnumValuesAdded => K::EnumValuesRemoved,
        K::BoundTightened => K::BoundRelaxed,
        K::BoundRelaxed => K::BoundTightened,
        K::MatchChanged => K::MatchChanged,
        K::MatchRemoved => K::MatchChanged,
        K::IndexAdded | K::UniqueIndexAdded => K::IndexRemoved,
        K::IndexRemoved => K::IndexAdded,
        K::TypeWidened => K::TypeChanged,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(schema: &str) -> ModelDef {
        let src = format!(r#"{{"model":"M","collection":"ms","schema":{schema}}}"#);
        crate::parse_model(&src, "m.json").unwrap()
    }

    fn kinds(reasons: &[Incompatibility]) -> Vec<(u32, Direction, &str, ChangeKind)> {
        reasons
            .iter()
            .map(|r| (r.version, r.direction, r.path.as_str(), r.kind))
            .collect()
    }

    const BASE: &str = r#"{"name":{"type":"String","required":true},"age":"Number"}"#;

    #[test]
    fn backward_allows_optional_fields_added_and_fields_removed() {
        let v1 = model(BASE);
        let added =
            model(r#"{"name":{"type":"String","required":true},"age":"Number","x":"String"}"#);
        let removed = model(r#"{"name":{"type":"String","required":true}}"#);
        for candidate in [&added, &removed] {
            assert!(
                check_compatibility(CompatibilityMode::Backward, [(1, &v1)], candidate).is_empty()
            );
        }
    }

    #[test]
    fn backward_refuses_a_new_required_field_and_says_where() {
        let v1 = model(BASE);
        let candidate = model(
            r#"{"name":{"type":"String","required":true},"age":"Number","email":{"type":"String","required":true}}"#,
        );
        let reasons = check_compatibility(CompatibilityMode::Backward, [(1, &v1)], &candidate);
        assert_eq!(
            kinds(&reasons),
            [(
                1,
                Direction::Backward,
                "email",
                ChangeKind::RequiredFieldAdded
            )]
        );
        assert!(
            reasons[0].message.contains("version 1"),
            "{}",
            reasons[0].message
        );
    }

    #[test]
    fn forward_refuses_removing_a_required_field_and_names_the_candidates_change() {
        let v1 = model(BASE);
        let candidate = model(r#"{"age":"Number"}"#);
        assert!(
            check_compatibility(CompatibilityMode::Backward, [(1, &v1)], &candidate).is_empty()
        );
        let reasons = check_compatibility(CompatibilityMode::Forward, [(1, &v1)], &candidate);
        assert_eq!(
            kinds(&reasons),
            [(1, Direction::Forward, "name", ChangeKind::FieldRemoved)]
        );
    }

    #[test]
    fn full_checks_both_ways_and_none_accepts_anything() {
        let v1 = model(r#"{"s":{"type":"String","enum":["a","b"]}}"#);
        let narrowed = model(r#"{"s":{"type":"String","enum":["a"]}}"#);
        let widened = model(r#"{"s":{"type":"String","enum":["a","b","c"]}}"#);
        assert_eq!(
            kinds(&check_compatibility(
                CompatibilityMode::Full,
                [(1, &v1)],
                &narrowed
            )),
            [(1, Direction::Backward, "s", ChangeKind::EnumValuesRemoved)]
        );
        assert_eq!(
            kinds(&check_compatibility(
                CompatibilityMode::Full,
                [(1, &v1)],
                &widened
            )),
            [(1, Direction::Forward, "s", ChangeKind::EnumValuesAdded)]
        );
        assert!(check_compatibility(CompatibilityMode::None, [(1, &v1)], &narrowed).is_empty());
    }

    #[test]
    fn transitive_modes_check_every_earlier_version_newest_first() {
        // v1 has no `n`; v2 adds an optional Number; the candidate makes it a String.
        let v1 = model(r#"{"a":"String"}"#);
        let v2 = model(r#"{"a":"String","n":"Number"}"#);
        let v3 = model(r#"{"a":"Number","n":"String"}"#);
        let history = [(1, &v1), (2, &v2)];
        assert_eq!(
            kinds(&check_compatibility(
                CompatibilityMode::Backward,
                history,
                &v3
            )),
            [
                (2, Direction::Backward, "a", ChangeKind::TypeChanged),
                (2, Direction::Backward, "n", ChangeKind::TypeChanged),
            ]
        );
        assert_eq!(
            kinds(&check_compatibility(
                CompatibilityMode::BackwardTransitive,
                history,
                &v3
            )),
            [
                (2, Direction::Backward, "a", ChangeKind::TypeChanged),
                (2, Direction::Backward, "n", ChangeKind::TypeChanged),
                (1, Direction::Backward, "a", ChangeKind::TypeChanged),
            ]
        );
    }

    #[test]
    fn a_unique_index_added_is_refused_backward() {
        let v1 = model(r#"{"email":"String"}"#);
        let candidate = model(r#"{"email":{"type":"String","unique":true}}"#);
        assert_eq!(
            kinds(&check_compatibility(
                CompatibilityMode::Backward,
                [(1, &v1)],
                &candidate
            )),
            [(
                1,
                Direction::Backward,
                "(model)",
                ChangeKind::UniqueIndexAdded
            )]
        );
    }

    #[test]
    fn the_first_version_is_always_accepted() {
        let candidate = model(BASE);
        for mode in CompatibilityMode::ALL {
            assert!(check_compatibility(mode, [], &candidate).is_empty());
        }
    }

    #[test]
    fn modes_parse_case_insensitively_and_print_as_confluent_does() {
        for mode in CompatibilityMode::ALL {
            assert_eq!(mode.as_str().parse::<CompatibilityMode>(), Ok(mode));
            assert_eq!(
                mode.as_str().to_lowercase().parse::<CompatibilityMode>(),
                Ok(mode)
            );
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
        }
        assert_eq!(CompatibilityMode::default(), CompatibilityMode::Backward);
        let err = "SIDEWAYS".parse::<CompatibilityMode>().unwrap_err();
        assert!(err.to_string().contains("SIDEWAYS"));
    }

    #[test]
    fn every_kind_reverses_to_a_kind_that_reverses_back_or_names_the_same_change() {
        // Turning a change round twice names a change of the same family.
        for kind in [
            ChangeKind::FieldRemoved,
            ChangeKind::NowRequired,
            ChangeKind::EnumValuesRemoved,
            ChangeKind::BoundTightened,
            ChangeKind::IndexRemoved,
        ] {
            assert_eq!(reversed(reversed(kind)), kind);
        }
    }
}
