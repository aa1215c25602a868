import JSONValue
import SocketIOProtocol

extension SocketIOClient {
    /// How a client connects, reconnects and buffers. Every field has a documented default.
    public struct Configuration: Sendable {
        public enum Transport: String, Sendable {
            /// Engine.IO over a WebSocket from the start (`transport=websocket`).
            case websocket
            /// Engine.IO over HTTP long-polling only (no upgrade).
            case polling
        }

        /// Server base URL, `http://host:port` or `https://host:port` (a path is ignored; see `path`).
        public var url: String
        /// Engine.IO path. Default `/socket.io/`.
        public var path: String
        /// Socket.IO namespace to connect. Default `/`.
        public var namespace: String
        /// Default `.websocket`.
        public var transport: Transport
        /// Payload of the Socket.IO CONNECT packet (`40{...}`); must be an object or nil. Default nil.
        public var auth: JSONValue?
        /// Default ``ReconnectPolicy/default``.
        public var reconnect: ReconnectPolicy
        /// Time allowed from opening the transport to the Socket.IO CONNECT reply. Default 10 s.
        /// (WSClient's TCP connect and HTTP upgrade cannot be cancelled: a frozen server
        /// that accepted the TCP connection holds an attempt until it answers or dies.)
        public var connectTimeout: Duration
        /// Extra query items added to every Engine.IO request.
        public var query: [(name: String, value: String)]
        /// Extra HTTP headers for the WebSocket upgrade and polling requests.
        public var headers: [(name: String, value: String)]
        /// Largest inbound message accepted, in bytes. Default 1_000_000 (python-engineio's maxPayload).
        public var maxPayload: Int
        /// Time to wait for the server's WebSocket close reply. Default 2 s.
        public var closeTimeout: Duration
        /// Queue packets sent while not connected and send them after the next
        /// (re)connect, as socket.io-client does. When false, sending while not
        /// connected throws ``SocketIOClientError/notConnected``. Default true.
        public var bufferWhileDisconnected: Bool
        /// Deliver received events and unmatched acks as ``Event/packet(_:text:)``
        /// (for relays) instead of ``Event/event(name:args:attachments:ackID:)``. Default false.
        public var rawPackets: Bool
        /// A cheap look at each text Socket.IO EVENT packet (`2...`, as received) once connected:
        /// `false` drops it before it is decoded (no handler, no ``Event``). For load generators
        /// that wait for one broadcast among many; a relay must not set it. Default nil: none dropped.
        public var eventFilter: (@Sendable (String) -> Bool)? = nil
        /// Text EVENT packets decoded once for every client sharing the cache: a relay whose
        /// clients each receive the same broadcast parses it once. Default nil: each decodes.
        public var eventCache: SocketIOEventCache? = nil
        /// The socket's send buffer (`SO_SNDBUF`, which Linux doubles and caps at
        /// `net.core.wmem_max`) for ``SocketIORelayClient``: fixed instead of grown by the
        /// kernel up to megabytes, it bounds what a connection to a server that stopped
        /// reading holds before ``SocketIORelayClient/sendUnlessBackedUp(_:)`` says no.
        /// Default nil: the kernel's.
        public var sendBufferSize: Int? = nil

        public init(
            url: String,
            path: String = "/socket.io/",
            namespace: String = "/",
            transport: Transport = .websocket,
            auth: JSONValue? = nil,
            reconnect: ReconnectPolicy = .default,
            connectTimeout: Duration = .seconds(10),
            query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)] = [],
            maxPayload: Int = 1_000_000,
            closeTimeout: Duration = .seconds(2),
            bufferWhileDisconnected: Bool = true,
            rawPackets: Bool = false
        ) {
            self.url = url
            self.path = path
            self.namespace = namespace
            self.transport = transport
            self.auth = auth
            self.reconnect = reconnect
            self.connectTimeout = connectTimeout
            self.query = query
            self.headers = headers
            self.maxPayload = maxPayload
            self.closeTimeout = closeTimeout
            self.bufferWhileDisconnected = bufferWhileDisconnected
            self.rawPackets = rawPackets
        }

        /// Checks the URL (``SocketIOClientError/invalidURL(_:)``).
        public func validate() throws(SocketIOClientError) {
            _ = try endpoint()
        }

        /// A copy with the transport changed.
        public func with(transport: Transport) -> Self {
            var copy = self
            copy.transport = transport
            return copy
        }

        /// A copy with the reconnect policy changed.
        public func with(reconnect: ReconnectPolicy) -> Self {
            var copy = self
            copy.reconnect = reconnect
            return copy
        }
    }

    /// Exponential backoff with jitter, as socket.io-client's defaults
    /// (delay `initialDelay * multiplier^(attempt-1)`, capped at `maxDelay`,
    /// randomized by ±`jitter`).
    public struct ReconnectPolicy: Sendable, Equatable {
        public var enabled: Bool
        /// Attempts after a connection was lost before ``SocketIOClient/run()``
        /// throws ``SocketIOClientError/reconnectFailed(attempts:)``; nil: unlimited.
        public var maxAttempts: Int?
        public var initialDelay: Duration
        public var maxDelay: Duration
        public var multiplier: Double
        /// 0...1; 0.5 means the delay is randomized within ±50 %.
        public var jitter: Double
        /// Also retry when the very first connection attempt fails. Default false:
        /// the first failure is thrown from ``SocketIOClient/run()``.
        public var retryInitialConnect: Bool

        public init(
            enabled: Bool = true,
            maxAttempts: Int? = nil,
            initialDelay: Duration = .milliseconds(500),
            maxDelay: Duration = .seconds(5),
            multiplier: Double = 2,
            jitter: Double = 0.5,
            retryInitialConnect: Bool = false
        ) {
            self.enabled = enabled
            self.maxAttempts = maxAttempts
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
            self.multiplier = multiplier
            self.jitter = jitter
            self.retryInitialConnect = retryInitialConnect
        }

        /// Unlimited attempts, 0.5 s doubling to 5 s, ±50 % jitter.
        public static let `default` = ReconnectPolicy()
        /// Never reconnect: ``SocketIOClient/run()`` ends when the connection is lost.
        public static let disabled = ReconnectPolicy(enabled: false)

        /// The wait before attempt `attempt` (1-based).
        public func delay(attempt: Int, random: Double = Double.random(in: -1...1)) -> Duration {
            let base = Self.seconds(initialDelay) * pow(multiplier, attempt - 1)
            let capped = min(base, Self.seconds(maxDelay))
            let jittered = max(0, capped * (1 + jitter * max(-1, min(1, random))))
            return .nanoseconds(Int64(min(jittered, 86_400) * 1e9))
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        private func pow(_ base: Double, _ exponent: Int) -> Double {
            var result = 1.0
            for _ in 0..<max(0, min(exponent, 64)) { result *= base }
            return result
        }
    }
}

// MARK: URLs

extension SocketIOClient.Configuration {
    struct Endpoint: Equatable {
        var secure: Bool
        var authority: String  // host[:port]
    }

    func endpoint() throws(SocketIOClientError) -> Endpoint {
        let secure: Bool
        let rest: Substring
        if url.hasPrefix("http://") || url.hasPrefix("ws://") {
            secure = false
            rest = url[url.index(after: url.firstIndex(of: "/")!)...].dropFirst()
        } else if url.hasPrefix("https://") || url.hasPrefix("wss://") {
            secure = true
            rest = url[url.index(after: url.firstIndex(of: "/")!)...].dropFirst()
        } else {
            throw .invalidURL(url)
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty else { throw .invalidURL(url) }
        return Endpoint(secure: secure, authority: String(authority))
    }

    /// `/socket.io/?EIO=4&transport=X[&sid=..][&extra query]`
    func requestTarget(transport: Transport, sid: String? = nil) -> String {
        var path = self.path.hasPrefix("/") ? self.path : "/" + self.path
        if !path.hasSuffix("/") { path += "/" }
        var target = path + "?EIO=4&transport=" + transport.rawValue
        if let sid { target += "&sid=" + Self.percentEncode(sid) }
        for (name, value) in query {
            target += "&" + Self.percentEncode(name) + "=" + Self.percentEncode(value)
        }
        return target
    }

    func webSocketURL() throws(SocketIOClientError) -> String {
        let endpoint = try endpoint()
        return (endpoint.secure ? "wss://" : "ws://") + endpoint.authority + requestTarget(transport: .websocket)
    }

    func pollingURL(sid: String?) throws(SocketIOClientError) -> String {
        let endpoint = try endpoint()
        return (endpoint.secure ? "https://" : "http://") + endpoint.authority + requestTarget(transport: .polling, sid: sid)
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX of its UTF-8 bytes.
    static func percentEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
