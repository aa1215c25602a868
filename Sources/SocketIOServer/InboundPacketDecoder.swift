import SocketIOProtocol
import Synchronization

/// One connection's Socket.IO decoder for an ``EngineIOSessionHandler``'s
/// ``EngineIOSessionHandler/received(_:)`` (one call at a time, so its lock is never
/// contended). After the first malformed packet, or ``stop()``, it decodes nothing more:
/// the connection is being closed, and what the client sent after does not count.
public final class InboundPacketDecoder: Sendable {
    private let decoder: Mutex<SocketIODecoder?>

    public init(maxAttachments: Int = 10) {
        decoder = Mutex(SocketIODecoder(maxAttachments: maxAttachments))
    }

    /// The packet `payload` completes; nil while attachments are still to come, or once stopped.
    /// Throws the malformed packet's error (once: the decoder stops).
    public func decode(_ payload: EngineIOPacket.Payload) throws(ProtocolError) -> SocketIOPacket? {
        let decoded = decoder.withLock { decoder -> Result<SocketIOPacket?, ProtocolError> in
            guard decoder != nil else { return .success(nil) }
            do throws(ProtocolError) {
                return .success(try decoder!.decode(payload))
            } catch {
                decoder = nil
                return .failure(error)
            }
        }
        return try decoded.get()
    }

    /// Decode nothing more.
    public func stop() {
        decoder.withLock { $0 = nil }
    }
}
