import JSONValue
import SocketIOProtocol

/// Errors thrown by ``SocketIOClient``. A struct over a private enum, so cases
/// can be added without breaking callers.
public struct SocketIOClientError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Reason: Equatable, Sendable {
        case invalidURL(String)
        case alreadyRunning
        case connectTimeout
        case connectError(JSONValue)
        case notConnected
        case stopped
        case ackTimeout
        case reconnectFailed(attempts: Int)
        case invalidHandshake
        case httpStatus(Int)
        case protocolError(ProtocolError)
    }

    let reason: Reason
    init(_ reason: Reason) { self.reason = reason }

    /// The configured URL is not `http(s)://host[:port]` (or `ws(s)://`).
    public static func invalidURL(_ url: String) -> Self { Self(.invalidURL(url)) }
    /// ``SocketIOClient/run()`` was called twice.
    public static let alreadyRunning = Self(.alreadyRunning)
    /// No Socket.IO CONNECT reply within the connect timeout.
    public static let connectTimeout = Self(.connectTimeout)
    /// The server refused the namespace connection with this payload (`44{...}`).
    public static func connectError(_ data: JSONValue) -> Self { Self(.connectError(data)) }
    /// Sent while not connected, with buffering disabled.
    public static let notConnected = Self(.notConnected)
    /// The client stopped (``SocketIOClient/run()`` ended) before the operation completed.
    public static let stopped = Self(.stopped)
    /// No ack arrived in time.
    public static let ackTimeout = Self(.ackTimeout)
    /// The reconnect policy gave up after this many attempts.
    public static func reconnectFailed(attempts: Int) -> Self { Self(.reconnectFailed(attempts: attempts)) }
    /// The server's first packet was not a valid Engine.IO open packet.
    public static let invalidHandshake = Self(.invalidHandshake)
    /// A polling request answered with this HTTP status.
    public static func httpStatus(_ code: Int) -> Self { Self(.httpStatus(code)) }
    /// The server sent something the codec refused.
    public static func protocolError(_ error: ProtocolError) -> Self { Self(.protocolError(error)) }

    public var shortDescription: String {
        switch reason {
        case .invalidURL: "invalid_url"
        case .alreadyRunning: "already_running"
        case .connectTimeout: "connect_timeout"
        case .connectError: "connect_error"
        case .notConnected: "not_connected"
        case .stopped: "stopped"
        case .ackTimeout: "ack_timeout"
        case .reconnectFailed: "reconnect_failed"
        case .invalidHandshake: "invalid_handshake"
        case .httpStatus: "http_status"
        case .protocolError: "protocol_error"
        }
    }

    public var description: String {
        switch reason {
        case .invalidURL(let url): "invalid Socket.IO server URL \(url)"
        case .alreadyRunning: "the client is already running"
        case .connectTimeout: "timed out connecting"
        case .connectError(let data): "the server refused the connection: \(data)"
        case .notConnected: "not connected"
        case .stopped: "the client stopped"
        case .ackTimeout: "timed out waiting for an ack"
        case .reconnectFailed(let attempts): "gave up reconnecting after \(attempts) attempts"
        case .invalidHandshake: "invalid Engine.IO handshake"
        case .httpStatus(let code): "HTTP status \(code)"
        case .protocolError(let error): "protocol error: \(error)"
        }
    }
}
