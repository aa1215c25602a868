import JSONValue

/// One Engine.IO v4 packet.
public struct EngineIOPacket: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case open = 0, close, ping, pong, message, upgrade, noop
    }

    public enum Payload: Hashable, Sendable {
        case text(String)
        case binary([UInt8])
    }

    public var kind: Kind
    /// `.text("")` when empty; `.binary` only for `message`.
    public var payload: Payload

    public init(kind: Kind, payload: Payload = .text("")) {
        self.kind = kind
        self.payload = payload
    }

    public static func message(_ text: String) -> EngineIOPacket { .init(kind: .message, payload: .text(text)) }
    public static func binaryMessage(_ bytes: [UInt8]) -> EngineIOPacket { .init(kind: .message, payload: .binary(bytes)) }

    public static let ping = EngineIOPacket(kind: .ping)
    public static let pong = EngineIOPacket(kind: .pong)
    public static let close = EngineIOPacket(kind: .close)
    public static let upgrade = EngineIOPacket(kind: .upgrade)
    public static let noop = EngineIOPacket(kind: .noop)

    /// A ping with a payload, e.g. `ping("probe")` is `2probe`.
    public static func ping(_ text: String) -> EngineIOPacket { .init(kind: .ping, payload: .text(text)) }
    /// A pong with a payload, e.g. `pong("probe")` is `3probe`.
    public static func pong(_ text: String) -> EngineIOPacket { .init(kind: .pong, payload: .text(text)) }
    /// The open packet carrying the handshake JSON.
    public static func open(_ handshake: EngineIOHandshake) -> EngineIOPacket {
        .init(kind: .open, payload: .text(handshake.json.serialized()))
    }

    /// The payload's text (`nil` for binary payloads).
    public var text: String? {
        if case .text(let text) = payload { text } else { nil }
    }

    /// The handshake carried by an `open` packet.
    public func handshake() throws(ProtocolError) -> EngineIOHandshake {
        guard kind == .open, case .text(let text) = payload else { throw .invalidHandshake }
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw .invalidHandshake }
        return try EngineIOHandshake(json: json)
    }
}

/// The JSON of an Engine.IO v4 open packet.
public struct EngineIOHandshake: Hashable, Sendable {
    public var sid: String
    /// `["websocket"]` on polling, `[]` on websocket.
    public var upgrades: [String]
    /// Milliseconds between server pings (default 25000).
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong (default 20000).
    public var pingTimeout: Int
    /// Largest accepted payload in bytes (default 1_000_000).
    public var maxPayload: Int

    public init(
        sid: String,
        upgrades: [String] = [],
        pingInterval: Int = 25000,
        pingTimeout: Int = 20000,
        maxPayload: Int = 1_000_000
    ) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// `{"sid":..,"upgrades":[..],"pingInterval":..,"pingTimeout":..,"maxPayload":..}`
    public var json: JSONValue {
        [
            "sid": .string(sid),
            "upgrades": .array(upgrades.map { .string($0) }),
            "pingInterval": .int(pingInterval),
            "pingTimeout": .int(pingTimeout),
            "maxPayload": .int(maxPayload),
        ]
    }

    /// Reads a handshake. `sid`, `pingInterval` and `pingTimeout` are required;
    /// `upgrades` defaults to `[]` and `maxPayload` to 1_000_000 when absent.
    public init(json: JSONValue) throws(ProtocolError) {
        guard case .object(let object) = json,
              case .string(let sid)? = object["sid"],
              case .int(let pingInterval)? = object["pingInterval"], pingInterval >= 0,
              case .int(let pingTimeout)? = object["pingTimeout"], pingTimeout >= 0
        else { throw .invalidHandshake }
        var upgrades: [String] = []
        switch object["upgrades"] {
        case nil, .null?: break
        case .array(let list)?:
            for item in list {
                guard case .string(let name) = item else { throw .invalidHandshake }
                upgrades.append(name)
            }
        default: throw .invalidHandshake
        }
        var maxPayload = 1_000_000
        switch object["maxPayload"] {
        case nil: break
        case .int(let value)? where value >= 0: maxPayload = value
        default: throw .invalidHandshake
        }
        self.init(sid: sid, upgrades: upgrades, pingInterval: pingInterval, pingTimeout: pingTimeout, maxPayload: maxPayload)
    }
}

/// A WebSocket frame's content.
public enum WebSocketContent: Hashable, Sendable {
    case text(String)
    case binary([UInt8])
}
