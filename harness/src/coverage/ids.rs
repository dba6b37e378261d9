//! The requirement ids ovms-hil reports coverage for.
//!
//! `V3-*` ids come from `server-v3-draft.md` (a copy lives in `features/requirements/`); the list
//! below is checked against that copy by a unit test, so a new requirement in the spec fails the
//! build until it is listed here. `SHIP-*` ids are section numbers of `server-v3-as-shipped.md`.

/// Every requirement id of `server-v3-draft.md`, in spec order, with a short title.
pub const DRAFT_IDS: &[(&str, &str)] = &[
    ("V3-SES-1", "MQTT 3.1(.1) over TCP, TLS where configured"),
    ("V3-SES-2", "configurable topic prefix"),
    (
        "V3-SES-3",
        "last will on the connected topic: no, retained, QoS 0",
    ),
    ("V3-SES-4", "connected = yes after CONNACK, retained"),
    ("V3-SES-5", "will delivered on loss without DISCONNECT"),
    (
        "V3-MET-1",
        "metric topic = prefix + name with dots as slashes",
    ),
    ("V3-MET-2", "payload = the metric's string value"),
    ("V3-MET-3", "metrics retained, QoS 0"),
    ("V3-MET-4", "only modified metrics per cadence tick"),
    ("V3-MET-5", "s.v3.connected and s.v3.peers maintained"),
    ("V3-CLI-1", "client heartbeat 1, QoS 1, once a minute"),
    ("V3-CLI-2", "client will 0 on the heartbeat topic"),
    ("V3-CLI-3", "module counts live clients in s.v3.peers"),
    (
        "V3-CLI-4",
        "client expires after 2 minutes without heartbeat",
    ),
    ("V3-CLI-5", "client re-announces when connected turns yes"),
    ("V3-CAD-1", "clients live: modified metrics once a minute"),
    ("V3-CAD-2", "no clients: modified metrics every ten minutes"),
    ("V3-CAD-3", "cadence follows s.v3.peers"),
    ("V3-NOT-1", "notifications on notify/<type>, not retained"),
    ("V3-NOT-2", "one wildcard for all vehicles' notifications"),
    ("V3-CMD-1", "client command topic"),
    ("V3-CMD-2", "module response topic"),
    ("V3-CMD-3", "command identifiers match responses"),
    ("V3-CMD-4", "own responses only; executed once"),
    ("V3-CMD-5", "no numeric commands; config via commands"),
    ("V3-EVT-1", "events published, ticker.* excluded"),
    ("V3-LOG-1", "log lines published"),
    ("V3-SEC-1", "TLS to the broker"),
    ("V3-SEC-2", "per-user ACL ovms/<user>/#"),
    ("V3-SEC-3", "only username and password needed"),
];

/// Section numbers of `server-v3-as-shipped.md` that `@SHIP-<n>` tags may name.
pub const SHIP_SECTIONS: &[&str] = &[
    "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "2", "3", "4",
    "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "5", "9",
];

/// The behaviour sections of `server-v3-as-shipped.md` (every section but §5, the change history,
/// and §9, the seed-vs-shipped comparison), with their titles: the suite must cover each.
pub const SHIP_BEHAVIOUR_SECTIONS: &[(&str, &str)] = &[
    ("SHIP-1", "topic layout"),
    ("SHIP-1.1", "prefix"),
    ("SHIP-1.2", "metrics"),
    ("SHIP-1.3", "connection state s.v3.connected"),
    ("SHIP-1.4", "client presence and s.v3.peers"),
    ("SHIP-1.5", "commands and responses"),
    ("SHIP-1.6", "on-demand requests (3.3.006+)"),
    ("SHIP-1.7", "notifications"),
    ("SHIP-1.8", "events"),
    ("SHIP-1.9", "logs (none shipped)"),
    ("SHIP-1.10", "config access"),
    ("SHIP-2", "QoS / retain summary"),
    ("SHIP-3", "MQTT connection parameters"),
    ("SHIP-4", "cadence and what gets sent"),
    ("SHIP-4.1", "config keys and defaults"),
    ("SHIP-4.2", "tick logic, full and modified passes"),
    ("SHIP-4.3", "priority and immediate paths"),
    ("SHIP-4.4", "include/exclude filters"),
    ("SHIP-4.5", "how modified is tracked"),
    ("SHIP-4.6", "rate limits and queues"),
];

/// The ids a requirements markdown defines: every `**V3-XXX-N**` that opens a list item.
pub fn parse_draft_ids(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- **"))
        .filter_map(|rest| rest.split_once("**").map(|(id, _)| id))
        .filter(|id| id.starts_with("V3-"))
        .map(str::to_string)
        .collect()
}

/// Whether `tag` (without `@`) names a requirement: a known or well-formed `V3-*` id or a `SHIP-<section>`.
pub fn is_requirement_tag(tag: &str) -> bool {
    tag.starts_with("V3-") || tag.starts_with("SHIP-")
}

/// Whether a requirement tag names something that exists (lint warns about the others).
pub fn is_known_requirement(tag: &str) -> bool {
    if let Some(sec) = tag.strip_prefix("SHIP-") {
        return SHIP_SECTIONS.contains(&sec);
    }
    DRAFT_IDS.iter().any(|(id, _)| *id == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_matches_the_spec_copy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../features/requirements/server-v3-draft.md"
        );
        let md = std::fs::read_to_string(path).expect("spec copy in features/requirements");
        let from_spec = parse_draft_ids(&md);
        let listed: Vec<String> = DRAFT_IDS.iter().map(|(id, _)| id.to_string()).collect();
        assert_eq!(from_spec, listed);
    }

    #[test]
    fn ship_sections_exist_in_the_spec_copy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../features/requirements/server-v3-as-shipped.md"
        );
        let md = std::fs::read_to_string(path).expect("spec copy in features/requirements");
        for sec in SHIP_SECTIONS {
            let heading = format!(" {sec} ");
            let dotted = format!(" {sec}. ");
            assert!(
                md.lines()
                    .any(|l| l.starts_with('#') && (l.contains(&heading) || l.contains(&dotted))),
                "section {sec} not found"
            );
        }
    }

    #[test]
    fn known_and_unknown_tags() {
        assert!(is_known_requirement("V3-MET-3"));
        assert!(is_known_requirement("SHIP-1.4"));
        assert!(!is_known_requirement("V3-MET-9"));
        assert!(!is_known_requirement("SHIP-7.7"));
        assert!(is_requirement_tag("V3-MET-9"));
    }
}
