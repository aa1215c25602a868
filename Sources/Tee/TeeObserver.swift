import Foundation
import JSONValue
import SocketIOProtocol

/// The comparator's seam: what the proxy reports as traffic flows, and the
/// readiness verdict it asks for before a switchover.
///
/// Every reporting method is called on the traffic path and must not wait:
/// implementations buffer and do their work elsewhere.
public protocol TeeObserver: Sendable {
    /// A client event was forwarded to the primary and queued for the shadow.
    func mirrored(_ event: ClientEvent)
    /// An upstream sent a packet on a client's leg: relayed to the client
    /// (`role == .primary`) or recorded only (`.shadow`).
    func output(_ output: UpstreamOutput)
    /// Mirrored events never reached the shadow; the shadow must be resynced.
    func gap(_ gap: SequenceGap)
    /// The shadow upstream became unreachable (`healthy == false`) or came back.
    func shadowHealthChanged(healthy: Bool, reason: String)
    /// The roles were flipped; the comparison starts afresh.
    func rolesChanged(primary: UpstreamID)
    /// The verdict for the switchover gate.
    func readiness() async -> Readiness
    /// The mirror delivered event `sequence` to the shadow; called on the mirror's own task
    /// (never on a client's path), which waits for it before delivering anything newer. The
    /// comparator uses it to copy the primary's dice into the shadow before the next event.
    func deliveredToShadow(sequence: Int64, packet: SocketIOPacket) async
}

/// A client event on its way to both upstreams.
public struct ClientEvent: Sendable {
    /// Global, gap-free over all mirrored events (dropped ones included).
    public var sequence: Int64
    /// The client's Engine.IO session id.
    public var session: String
    public var packet: SocketIOPacket
    public var receivedAt: Date
    /// Whether it was queued for the shadow (false: dropped, part of a gap).
    public var queued: Bool

    public init(sequence: Int64, session: String, packet: SocketIOPacket, receivedAt: Date, queued: Bool) {
        self.sequence = sequence
        self.session = session
        self.packet = packet
        self.receivedAt = receivedAt
        self.queued = queued
    }
}

/// The role an upstream plays for one packet.
public enum UpstreamRole: String, Sendable, Hashable {
    case primary
    case shadow
}

/// A packet an upstream sent on one client's leg.
public struct UpstreamOutput: Sendable {
    public var upstream: UpstreamID
    public var role: UpstreamRole
    public var session: String
    public var packet: SocketIOPacket
    public var receivedAt: Date
    /// For acks: the sequence of the mirrored event they answer, when known.
    public var answersSequence: Int64?

    public init(
        upstream: UpstreamID, role: UpstreamRole, session: String, packet: SocketIOPacket, receivedAt: Date,
        answersSequence: Int64? = nil
    ) {
        self.upstream = upstream
        self.role = role
        self.session = session
        self.packet = packet
        self.receivedAt = receivedAt
        self.answersSequence = answersSequence
    }
}

/// An observer that records nothing and is always ready (the proxy adds its
/// own checks: shadow reachable, no unresolved gap).
public struct NullObserver: TeeObserver {
    public init() {}
    public func mirrored(_ event: ClientEvent) {}
    public func output(_ output: UpstreamOutput) {}
    public func gap(_ gap: SequenceGap) {}
    public func shadowHealthChanged(healthy: Bool, reason: String) {}
    public func rolesChanged(primary: UpstreamID) {}
    public func readiness() async -> Readiness { Readiness(ready: true, reason: "no comparator attached") }
    public func deliveredToShadow(sequence: Int64, packet: SocketIOPacket) async {}
}
