import JSONValue

/// Handles one event: the socket, the arguments after the event name (binary arguments are
/// `{"_placeholder":true,"num":i}` objects pointing into `attachments`), and the ack to call
/// when the client asked for one.
public typealias SocketIOEventHandler =
    @Sendable (_ socket: SocketIOSocket, _ args: [JSONValue], _ attachments: [[UInt8]], _ ack: SocketIOAck?) async -> Void

/// Handles every event that has no handler of its own, with its name.
public typealias SocketIOAnyEventHandler =
    @Sendable (_ socket: SocketIOSocket, _ event: String, _ args: [JSONValue], _ attachments: [[UInt8]], _ ack: SocketIOAck?) async -> Void

/// Decides a CONNECT: return to accept (the client then gets its CONNECT packet, followed by
/// whatever the handler emitted), throw ``SocketIOConnectionRefused`` to answer CONNECT_ERROR.
/// `auth` is the CONNECT payload (nil when the client sent none).
public typealias SocketIOConnectHandler = @Sendable (_ socket: SocketIOSocket, _ auth: JSONValue?) async throws -> Void

/// Called once when a connected socket goes away.
public typealias SocketIODisconnectHandler = @Sendable (_ socket: SocketIOSocket, _ reason: DisconnectReason) async -> Void

/// Thrown by a connect handler to refuse the connection: the client gets
/// `CONNECT_ERROR {"message": message[, "data": data]}`.
/// Any other error refuses with `{"message":"Connection rejected by server"}` (python-socketio's text).
public struct SocketIOConnectionRefused: Error, Sendable, Equatable {
    public var message: String
    public var data: JSONValue?

    public init(message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }

    var payload: JSONValue {
        var object: JSONObject = ["message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }
}

/// A namespace and its handlers, registered before the server starts.
///
/// Handlers of one client connection run one at a time, in the order of its packets (connect,
/// events, disconnect), so a handler sees the effects of the previous ones. Acks the client sends
/// back are resolved as they arrive, so a handler may await ``SocketIOSocket/emitWithAck(_:_:attachments:timeout:)``.
public struct SocketIONamespace: Sendable {
    public let name: String
    var connectHandler: SocketIOConnectHandler?
    var disconnectHandler: SocketIODisconnectHandler?
    var eventHandlers: [String: SocketIOEventHandler] = [:]
    var anyEventHandler: SocketIOAnyEventHandler?

    /// - Parameter name: `/` or a path such as `/custom`
    public init(_ name: String = "/") {
        self.name = name.hasPrefix("/") ? name : "/" + name
    }

    /// Set the connect handler (accepts every connection when unset).
    public mutating func onConnect(_ handler: @escaping SocketIOConnectHandler) {
        connectHandler = handler
    }

    /// Set the disconnect handler.
    public mutating func onDisconnect(_ handler: @escaping SocketIODisconnectHandler) {
        disconnectHandler = handler
    }

    /// Set the handler of one event name.
    public mutating func on(_ event: String, _ handler: @escaping SocketIOEventHandler) {
        eventHandlers[event] = handler
    }

    /// Set the handler of events that have no handler of their own (ignored when unset).
    public mutating func onAny(_ handler: @escaping SocketIOAnyEventHandler) {
        anyEventHandler = handler
    }
}
