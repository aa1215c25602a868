/// Configuration of a Socket.IO v5 server.
public struct SocketIOConfiguration: Sendable {
    /// The Engine.IO endpoint underneath; its path defaults to `/socket.io/`.
    public var engine: EngineIOConfiguration
    /// How long a client has to send its first CONNECT before the connection is closed
    /// (socket.io's `connectTimeout`, default 45 s; nil: wait forever, as python-socketio does).
    public var connectTimeout: Duration?
    /// Most binary attachments accepted in one packet. Default 10.
    public var maxAttachments: Int

    public init(
        engine: EngineIOConfiguration = .init(path: "/socket.io/"),
        connectTimeout: Duration? = .milliseconds(45000),
        maxAttachments: Int = 10
    ) {
        self.engine = engine
        self.connectTimeout = connectTimeout
        self.maxAttachments = maxAttachments
    }

    /// A copy with another Engine.IO configuration.
    public func with(engine: EngineIOConfiguration) -> Self {
        var copy = self
        copy.engine = engine
        return copy
    }

    /// A copy with another connect timeout.
    public func with(connectTimeout: Duration?) -> Self {
        var copy = self
        copy.connectTimeout = connectTimeout
        return copy
    }
}
