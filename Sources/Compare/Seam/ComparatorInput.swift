/// Everything the proxy tells the comparator, in the order it happens.
/// Hand each to ``Comparator/submit(_:)``, which never waits.
public enum ComparatorInput: Sendable, Equatable {
    /// (a) A client event was forwarded to the primary and queued for the
    /// shadow (or dropped: ``MirroredEvent/mirroredToShadow``).
    case mirrored(MirroredEvent)
    /// (b) A side emitted a message to a client session (an ack implies (c)).
    case output(SideOutput)
    /// (c) A side has processed event `sequence`, when the proxy can tell
    /// (its ack arrived, or the broadcast it causes was seen on the sender's leg).
    case processed(Side, sequence: Int64)
    /// (d) Mirrored events that the shadow never got.
    case gap(MirrorGap)
    /// The shadow became unreachable (`false`) or came back (`true`). While it
    /// is down the comparator is not ready; when it is back it is resynced.
    case shadowHealth(healthy: Bool, reason: String)
    /// The roles were flipped (switchover or rollback): the comparison starts
    /// afresh, readiness included.
    case rolesChanged(reason: String)
}
