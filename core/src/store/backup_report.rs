/// What a backup wrote, or a restore read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackupReport {
    /// The layout of the store backed up.
    pub layout: u64,
    /// Table entries in the stream.
    pub records: u64,
    /// Bytes of the stream.
    pub bytes: u64,
}
