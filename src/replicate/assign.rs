//! Splitting partitions over tasks: each task owns a disjoint set, balanced by count, with a
//! topic's partitions spread over tasks so one busy topic is not left to one task.

/// How many tasks `tasks` asked for run over `partitions` distinct partitions: at least one,
/// and none without a partition of its own.
pub fn task_count(tasks: usize, partitions: usize) -> usize {
    tasks.max(1).min(partitions.max(1))
}

/// Deals `partitions` (sorted) round-robin over at most `tasks` tasks; empty tasks are dropped.
pub fn assign(mut partitions: Vec<(String, i32)>, tasks: usize) -> Vec<Vec<(String, i32)>> {
    partitions.sort();
    partitions.dedup();
    let tasks = task_count(tasks, partitions.len());
    let mut out = vec![Vec::new(); tasks];
    // Partition-major order: partition 0 of every topic, then partition 1, … so that the
    // partitions of one topic land on different tasks.
    partitions.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    for (i, p) in partitions.into_iter().enumerate() {
        out[i % tasks].push(p);
    }
    out.retain(|t| !t.is_empty());
    for t in &mut out {
        t.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(spec: &[(&str, i32)]) -> Vec<(String, i32)> {
        spec.iter()
            .flat_map(|(t, n)| (0..*n).map(move |p| (t.to_string(), p)))
            .collect()
    }

    #[test]
    fn every_partition_is_owned_by_exactly_one_task() {
        let all = parts(&[("a", 6), ("b", 3), ("c", 1)]);
        let tasks = assign(all.clone(), 4);
        assert_eq!(tasks.len(), 4);
        let mut owned: Vec<_> = tasks.concat();
        owned.sort();
        let mut expected = all;
        expected.sort();
        assert_eq!(owned, expected);
        let sizes: Vec<usize> = tasks.iter().map(Vec::len).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
    }

    #[test]
    fn a_topic_is_spread_over_tasks() {
        let tasks = assign(parts(&[("busy", 4)]), 4);
        assert!(tasks.iter().all(|t| t.len() == 1));
    }

    #[test]
    fn more_tasks_than_partitions_leaves_no_empty_task() {
        assert_eq!(assign(parts(&[("a", 2)]), 8).len(), 2);
        assert!(assign(Vec::new(), 3).is_empty());
    }
}
