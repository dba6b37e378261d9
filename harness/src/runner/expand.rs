//! Running every feature once per profile.
//!
//! Each parsed feature is cloned once per selected profile: the copy's name gets a ` [<profile>]`
//! suffix (so reports tell the runs apart) and a hidden tag `ovms-hil-profile=<profile>` that the
//! scenario's world reads in its before-hook. Scenarios restricted to other profiles are dropped from
//! that copy:
//! - `@profile:<name>` — run only for that profile (several such tags: any of them; a trailing `*`
//!   matches a prefix, e.g. `@profile:fw-*`);
//! - `@only-<name>` — shorthand for `@profile:<name>` (e.g. `@only-draft`);
//! - `@not-profile:<name>` — never for that profile.
//!
//! The copies are handed to cucumber through [`ExpandedParser`].

use cucumber::feature::Ext as _;
use cucumber::{cli, gherkin, parser, Parser};
use futures::stream;

/// Prefix of the hidden tag carrying a feature copy's profile.
pub const PROFILE_TAG_PREFIX: &str = "ovms-hil-profile=";

/// The profile a feature copy runs for (from its hidden tag).
pub fn profile_of(feature: &gherkin::Feature) -> Option<String> {
    feature
        .tags
        .iter()
        .find_map(|t| t.strip_prefix(PROFILE_TAG_PREFIX))
        .map(str::to_string)
}

/// The feature name without the ` [<profile>]` suffix.
pub fn strip_profile_suffix(name: &str) -> &str {
    match name.rfind(" [") {
        Some(i) if name.ends_with(']') => &name[..i],
        _ => name,
    }
}

fn matches(pattern: &str, profile: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => profile.starts_with(prefix),
        None => pattern == profile,
    }
}

/// Whether a scenario with `tags` (feature, rule and scenario tags together) runs for `profile`.
pub fn applies_to<'a>(profile: &str, tags: impl IntoIterator<Item = &'a String> + Clone) -> bool {
    let mut restricted = false;
    let mut allowed = false;
    for t in tags {
        if let Some(p) = t.strip_prefix("not-profile:") {
            if matches(p, profile) {
                return false;
            }
            continue;
        }
        let only = t
            .strip_prefix("profile:")
            .or_else(|| t.strip_prefix("only-"));
        if let Some(p) = only {
            restricted = true;
            allowed |= matches(p, profile);
        }
    }
    !restricted || allowed
}

/// One copy of every feature per profile, with scenarios for other profiles removed.
/// A copy left without scenarios is dropped.
pub fn expand(features: &[gherkin::Feature], profiles: &[String]) -> Vec<gherkin::Feature> {
    let mut out = Vec::new();
    for f in features {
        for p in profiles {
            let mut copy = f.clone();
            copy.name = format!("{} [{p}]", f.name);
            copy.tags.push(format!("{PROFILE_TAG_PREFIX}{p}"));
            let ftags = f.tags.clone();
            copy.scenarios
                .retain(|s| applies_to(p, ftags.iter().chain(s.tags.iter())));
            for r in &mut copy.rules {
                let rtags: Vec<String> = ftags.iter().chain(r.tags.iter()).cloned().collect();
                r.scenarios
                    .retain(|s| applies_to(p, rtags.iter().chain(s.tags.iter())));
            }
            copy.rules.retain(|r| !r.scenarios.is_empty());
            if !copy.scenarios.is_empty() || !copy.rules.is_empty() {
                out.push(copy);
            }
        }
    }
    out
}

/// A cucumber parser that yields already parsed (and expanded) features.
#[derive(Clone, Debug, Default)]
pub struct ExpandedParser;

impl Parser<Vec<gherkin::Feature>> for ExpandedParser {
    type Cli = cli::Empty;
    type Output = stream::Iter<std::vec::IntoIter<parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _cli: Self::Cli) -> Self::Output {
        let items: Vec<parser::Result<gherkin::Feature>> = input
            .into_iter()
            .map(|f| f.expand_examples().map_err(parser::Error::from))
            .collect();
        stream::iter(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn restriction_tags() {
        assert!(applies_to("draft", &tags(&["V3-MET-1"])));
        assert!(applies_to("draft", &tags(&["only-draft"])));
        assert!(!applies_to("fw-3.3.006", &tags(&["only-draft"])));
        assert!(applies_to(
            "fw-3.3.006",
            &tags(&["profile:draft", "profile:fw-3.3.006"])
        ));
        assert!(applies_to("fw-3.3.005", &tags(&["profile:fw-*"])));
        assert!(!applies_to("draft", &tags(&["profile:fw-*"])));
        assert!(!applies_to("draft", &tags(&["not-profile:draft"])));
    }

    #[test]
    fn expands_per_profile_and_drops_restricted() {
        let text =
            "Feature: F\n  @only-draft\n  Scenario: a\n    Given x\n  Scenario: b\n    Given y\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.feature");
        std::fs::write(&p, text).unwrap();
        let f = crate::features::parse_feature(&p).unwrap();
        let out = expand(&[f], &tags(&["draft", "fw-3.3.006"]));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "F [draft]");
        assert_eq!(out[0].scenarios.len(), 2);
        assert_eq!(out[1].scenarios.len(), 1);
        assert_eq!(profile_of(&out[1]).as_deref(), Some("fw-3.3.006"));
        assert_eq!(strip_profile_suffix(&out[1].name), "F");
    }
}
