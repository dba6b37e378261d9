//! MQTT topic-filter matching (`+` one level, `#` the rest, `$` topics excluded from wildcards).

/// True when `topic` matches `filter`.
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn wildcards() {
        assert!(topic_matches("ovms/#", "ovms/a/b"));
        assert!(topic_matches("ovms/#", "ovms"));
        assert!(topic_matches("ovms/+/b", "ovms/a/b"));
        assert!(!topic_matches("ovms/+/b", "ovms/a/c"));
        assert!(!topic_matches("ovms/+", "ovms/a/b"));
        assert!(topic_matches("a/b", "a/b"));
        assert!(!topic_matches("#", "$SYS/x"));
        assert!(!topic_matches("a/b", "a/b/c"));
    }
}
