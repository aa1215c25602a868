/// Settings shared by ``EngineStore`` and ``ProxyStore``.
///
/// The durability settings are not configurable: every file store runs in
/// WAL mode with `synchronous = FULL` (see ``EngineStore``).
public struct StorageConfiguration: Sendable, Equatable {
    /// How long a write waits for a lock held by another connection (for example
    /// an operator's `sqlite3` shell) before failing with `SQLITE_BUSY`.
    /// Default 5 seconds.
    public var busyTimeout: Duration

    /// The engine journal keeps the full resulting state on every entry whose
    /// sequence is a multiple of this interval (and on every control entry and
    /// every `start_new_game`); other entries keep only the state's hash.
    /// `1` stores the state with every entry, `0` only on control and new-game
    /// entries. Default 25 (about 40 bytes of hash per event, plus a ~1 KB state
    /// every 25 events). Ignored by ``ProxyStore``.
    public var journalSnapshotInterval: Int

    /// Upper bound of the `-wal` file kept after a checkpoint (`PRAGMA journal_size_limit`).
    /// Default 4 MiB.
    public var walSizeLimit: Int

    public init(
        busyTimeout: Duration = .seconds(5),
        journalSnapshotInterval: Int = 25,
        walSizeLimit: Int = 4 << 20
    ) {
        self.busyTimeout = busyTimeout
        self.journalSnapshotInterval = journalSnapshotInterval
        self.walSizeLimit = walSizeLimit
    }

    public func with(busyTimeout: Duration) -> Self {
        var copy = self
        copy.busyTimeout = busyTimeout
        return copy
    }

    public func with(journalSnapshotInterval: Int) -> Self {
        var copy = self
        copy.journalSnapshotInterval = journalSnapshotInterval
        return copy
    }

    public func with(walSizeLimit: Int) -> Self {
        var copy = self
        copy.walSizeLimit = walSizeLimit
        return copy
    }
}
