/// When a commit may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Return only once the batch is on disk (fsync): a crash or power loss afterwards keeps it.
    /// The server acknowledges a change to a peer only after such a commit.
    #[default]
    Immediate,
    /// Return once the batch is visible to readers, before it reaches the disk. A crash, a kill
    /// or a storage failure loses every relaxed commit since the last durable one (an immediate
    /// commit, a compaction or a clean close), leaving the store as of that commit, never
    /// half-written. For benchmarks and for data that can be rebuilt.
    Relaxed,
}
