/// Why an Engine.IO session or a Socket.IO socket ended.
///
/// The descriptions are python-socketio's reason strings (`socketio.Server.reason`), plus
/// `parse error` for a malformed packet (socket.io's name for it).
public struct DisconnectReason: Hashable, Sendable, CustomStringConvertible {
    enum Base: Hashable, Sendable {
        case clientDisconnect, serverDisconnect, pingTimeout, transportClose, transportError, parseError, serverShutdown
    }

    let base: Base

    init(_ base: Base) { self.base = base }

    /// The client asked for it (Engine.IO `close` packet or Socket.IO `DISCONNECT`).
    public static let clientDisconnect = Self(.clientDisconnect)
    /// The server application asked for it.
    public static let serverDisconnect = Self(.serverDisconnect)
    /// The client did not answer a ping within `pingTimeout`.
    public static let pingTimeout = Self(.pingTimeout)
    /// The transport (WebSocket) closed without a `close` packet.
    public static let transportClose = Self(.transportClose)
    /// The client broke a transport rule (concurrent polls, oversized payload, cancelled poll).
    public static let transportError = Self(.transportError)
    /// The client sent a packet that does not parse.
    public static let parseError = Self(.parseError)
    /// The server is shutting down.
    public static let serverShutdown = Self(.serverShutdown)

    public var description: String {
        switch base {
        case .clientDisconnect: "client disconnect"
        case .serverDisconnect: "server disconnect"
        case .pingTimeout: "ping timeout"
        case .transportClose: "transport close"
        case .transportError: "transport error"
        case .parseError: "parse error"
        case .serverShutdown: "server shutting down"
        }
    }
}
