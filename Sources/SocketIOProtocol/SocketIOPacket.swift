import JSONValue

/// One Socket.IO v5 packet.
///
/// Binary attachments are kept apart from the data: `data` holds placeholders
/// `{"_placeholder":true,"num":i}` where the i-th attachment belongs, exactly
/// as on the wire, so packets can be relayed without reinterpretation.
public struct SocketIOPacket: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
    }

    public var kind: Kind
    /// `"/"` by default; written only when it is not `"/"`.
    public var namespace: String
    /// The ack id (non-negative).
    public var id: Int?
    /// Event/ack: `.array`; connect: object or nil; connect error: object or string; disconnect: nil.
    public var data: JSONValue?
    /// Binary attachments, referenced from `data` by placeholders.
    public var attachments: [[UInt8]]

    public init(kind: Kind, namespace: String = "/", id: Int? = nil, data: JSONValue? = nil, attachments: [[UInt8]] = []) {
        self.kind = kind
        self.namespace = namespace
        self.id = id
        self.data = data
        self.attachments = attachments
    }

    /// An event `[name, args...]`; `.binaryEvent` when `attachments` is non-empty.
    public static func event(
        _ name: String, _ args: [JSONValue], namespace: String = "/", id: Int? = nil, attachments: [[UInt8]] = []
    ) -> SocketIOPacket {
        var data: [JSONValue] = []
        data.reserveCapacity(args.count + 1)
        data.append(.string(name))
        data.append(contentsOf: args)
        return SocketIOPacket(
            kind: attachments.isEmpty ? .event : .binaryEvent, namespace: namespace, id: id, data: .array(data),
            attachments: attachments)
    }

    /// An ack for `id`; `.binaryAck` when `attachments` is non-empty.
    public static func ack(_ args: [JSONValue], id: Int, namespace: String = "/", attachments: [[UInt8]] = []) -> SocketIOPacket {
        SocketIOPacket(
            kind: attachments.isEmpty ? .ack : .binaryAck, namespace: namespace, id: id, data: .array(args),
            attachments: attachments)
    }

    public static func connect(namespace: String = "/", data: JSONValue? = nil) -> SocketIOPacket {
        SocketIOPacket(kind: .connect, namespace: namespace, data: data)
    }

    /// `{"message": message}`, as python-socketio and the JS server send.
    public static func connectError(namespace: String = "/", message: String) -> SocketIOPacket {
        SocketIOPacket(kind: .connectError, namespace: namespace, data: ["message": .string(message)])
    }

    public static func disconnect(namespace: String = "/") -> SocketIOPacket {
        SocketIOPacket(kind: .disconnect, namespace: namespace)
    }

    /// Whether the packet is an event or binary event.
    public var isEvent: Bool { kind == .event || kind == .binaryEvent }
    /// Whether the packet is an ack or binary ack.
    public var isAck: Bool { kind == .ack || kind == .binaryAck }

    /// `data[0]` for events.
    public var eventName: String? {
        guard isEvent, case .array(let items)? = data, case .string(let name)? = items.first else { return nil }
        return name
    }

    /// `data[1...]` for events, `data` for acks, `[]` otherwise.
    public var eventArguments: [JSONValue] {
        guard case .array(let items)? = data else { return [] }
        if isEvent { return Array(items.dropFirst()) }
        if isAck { return items }
        return []
    }

    /// `{"_placeholder":true,"num":num}`
    public static func placeholder(_ num: Int) -> JSONValue {
        ["_placeholder": true, "num": .int(num)]
    }

    /// The attachment index if `value` is a placeholder object.
    public static func placeholderIndex(_ value: JSONValue) -> Int? {
        guard case .object(let object) = value, case .bool(true)? = object["_placeholder"],
              case .int(let num)? = object["num"]
        else { return nil }
        return num
    }
}

extension SocketIOPacket: CustomStringConvertible {
    /// The text form plus the attachment sizes, for logs.
    public var description: String {
        let text = SocketIOCodec.encodeText(self)
        return attachments.isEmpty ? text : text + " +\(attachments.map(\.count)) bytes"
    }
}
