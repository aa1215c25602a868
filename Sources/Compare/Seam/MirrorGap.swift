import Foundation

/// Mirrored events `fromSequence...toSequence` that never reached the shadow
/// (the mirror queue overflowed). The shadow is resynced from the primary at
/// the next checkpoint, which is marked as after a gap and not judged.
public struct MirrorGap: Sendable, Hashable, CustomStringConvertible {
    public var fromSequence: Int64
    public var toSequence: Int64
    /// How many events were lost (the range may hold events that did arrive).
    public var count: Int
    /// When the proxy dropped the first of them.
    public var time: Date

    public init(fromSequence: Int64, toSequence: Int64, count: Int, time: Date) {
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.count = count
        self.time = time
    }

    public var description: String { "gap \(fromSequence)...\(toSequence) (\(count) lost)" }
}
