use super::*;

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| k.to_string()).collect()
}

#[test]
fn record_keys_tell_connect_and_registry_topics() {
    assert_eq!(
        keys_role(&keys(&["connector-a", "task-a-0", "session-key"])),
        Some(TopicRole::ConnectConfigs)
    );
    assert_eq!(
        keys_role(&keys(&[r#"["a",{"file":"x"}]"#])),
        Some(TopicRole::ConnectOffsets)
    );
    assert_eq!(
        keys_role(&keys(&["status-connector-a", "status-task-a-1"])),
        Some(TopicRole::ConnectStatus)
    );
    assert_eq!(
        keys_role(&keys(&[r#"{"keytype":"NOOP","magic":0}"#])),
        Some(TopicRole::Schemas)
    );
    // One key that does not fit is enough to say it is none of them.
    assert_eq!(keys_role(&keys(&["connector-a", "order-17"])), None);
    assert_eq!(keys_role(&keys(&["session-key"])), None);
    assert_eq!(keys_role(&[]), None);
}

#[test]
fn connect_topics_pair_by_the_connectors_they_name() {
    let residents = Residents {
        topics: ["a-configs", "a-offsets", "b-configs", "b-status"]
            .iter()
            .map(|t| t.to_string())
            .collect(),
        groups: [
            ("a".to_string(), "connect".to_string()),
            ("b".to_string(), "connect".to_string()),
        ]
        .into(),
        keys: [
            ("a-configs".to_string(), keys(&["connector-one"])),
            ("b-configs".to_string(), keys(&["connector-two"])),
            ("a-offsets".to_string(), keys(&[r#"["one",{"f":1}]"#])),
            ("b-status".to_string(), keys(&["status-task-two-0"])),
        ]
        .into(),
        framed: Default::default(),
    };
    let found: Vec<(String, Option<String>, Vec<String>)> = recognise(&residents)
        .into_iter()
        .map(|r| (r.name, r.group, r.topics.into_iter().map(|t| t.0).collect()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "a".into(),
                Some("a".into()),
                vec!["a-configs".into(), "a-offsets".into()]
            ),
            (
                "b".into(),
                Some("b".into()),
                vec!["b-configs".into(), "b-status".into()]
            ),
        ]
    );
}
