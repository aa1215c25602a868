import JSONValue
import Synchronization

/// The last few EVENT texts decoded, shared by the connections that receive the same frames.
///
/// A server's broadcast reaches every connection with the same bytes: a proxy with one
/// upstream connection per client would otherwise parse the same ~1 KB JSON once per
/// client. Only complete text events (`2...`, no attachments) are kept: their packet
/// depends on nothing but their text. A lookup compares lengths, then bytes, newest first.
public final class SocketIOEventCache: Sendable {
    /// How many texts are kept.
    public let capacity: Int
    private let entries: Mutex<RecentTexts<SocketIOPacket>>

    /// - Parameter capacity: texts kept (a few: a broadcast's copies arrive together).
    public init(capacity: Int = 8) {
        precondition(capacity > 0, "an event cache keeps at least one text")
        self.capacity = capacity
        self.entries = Mutex(RecentTexts(capacity: capacity))
    }

    /// Whether `text` is one the cache keeps: an EVENT (kind `2`, so no attachments).
    public static func accepts(_ text: String) -> Bool {
        text.utf8.first == UInt8(ascii: "2")
    }

    /// The packet decoded earlier from exactly these bytes.
    public func packet(for text: String) -> SocketIOPacket? {
        entries.withLock { $0.value(for: text) }
    }

    /// Keeps `packet` as the decoding of `text` (replacing the oldest entry once full).
    public func insert(_ packet: SocketIOPacket, for text: String) {
        guard Self.accepts(text), packet.attachments.isEmpty else { return }
        entries.withLock { $0.insert(packet, for: text) }
    }

    /// Lookups answered from the cache, and lookups that were not.
    public var statistics: (hits: Int, misses: Int) {
        entries.withLock { ($0.hits, $0.misses) }
    }
}

extension SocketIODecoder {
    /// ``decode(_:)``, taking a complete text EVENT from `cache` when it holds the same bytes
    /// (and keeping it there when it did not).
    public mutating func decode(
        _ payload: EngineIOPacket.Payload, cache: SocketIOEventCache?
    ) throws(ProtocolError) -> SocketIOPacket? {
        guard let cache, case .text(let text) = payload, !isAwaitingAttachments, SocketIOEventCache.accepts(text) else {
            return try decode(payload)
        }
        if let packet = cache.packet(for: text) { return packet }
        let packet = try decode(payload)
        if let packet { cache.insert(packet, for: text) }
        return packet
    }
}
