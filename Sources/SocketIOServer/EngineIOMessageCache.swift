import SocketIOProtocol
import Synchronization

/// The WebSocket frames of the last few text messages, shared by the connections that send
/// the same text.
///
/// A proxy relays an upstream's broadcast to each of its clients as the text the upstream
/// sent: with one upstream connection per client, the same text arrives once per client,
/// each time as a string of its own. Taking its message from here, every client's writer
/// writes the one frame encoded for the first (``EngineIOConnection/send(_:)-(EngineIOEncodedMessage)``)
/// instead of encoding a copy of its own.
public final class EngineIOMessageCache: Sendable {
    private let entries: Mutex<RecentTexts<EngineIOEncodedMessage>>

    /// - Parameter capacity: texts kept (a few: a broadcast's copies arrive together).
    public init(capacity: Int = 8) {
        entries = Mutex(RecentTexts(capacity: capacity))
    }

    /// How many texts are kept.
    public var capacity: Int { entries.withLock { $0.capacity } }

    /// The message of `text` (an Engine.IO `message` packet), its frame encoded: the one kept
    /// for the same bytes, else encoded now and kept.
    public func message(_ text: String) -> EngineIOEncodedMessage {
        if let found = entries.withLock({ $0.value(for: text) }) { return found }
        let message = EngineIOEncodedMessage(text: text)  // encoded outside the lock
        entries.withLock { $0.insert(message, for: text) }
        return message
    }

    /// Lookups answered from the cache, and lookups that were not.
    public var statistics: (hits: Int, misses: Int) {
        entries.withLock { ($0.hits, $0.misses) }
    }
}

/// An Engine.IO `message` packet with its WebSocket frame encoded, to send to any number of
/// connections as the same bytes (long-polling connections get the packet in their poll reply).
public struct EngineIOEncodedMessage: Sendable, Hashable {
    let outbound: EngineIOOutboundPacket

    /// The text message `text`, encoded.
    public init(text: String) {
        outbound = EngineIOOutboundPacket(encoding: .message(text))
    }

    /// The message's payload.
    public var payload: EngineIOPacket.Payload { outbound.packet.payload }
}
