import AsyncHTTPClient
import JSONValue
import Logging
import SocketIOClient
import SocketIOProtocol
import Synchronization

/// What one upstream leg reports, in order.
enum LegEvent: Sendable {
    /// The namespace is connected (again, after a reconnect).
    case connected(sid: String)
    /// An event or an ack from the upstream (raw, ack ids as on the leg), with the text it
    /// came in when it was one Engine.IO message (the bytes to relay unchanged).
    case packet(SocketIOPacket, text: String?)
    /// The connection was lost; a shadow leg reconnects by itself.
    case lost(reason: String)
    /// A connect attempt failed (or the connection was lost); the leg tries again after a backoff.
    case retrying
    /// The upstream refused the namespace connection.
    case refused(JSONValue)
    /// The leg stopped for good (closed, or gave up).
    case ended(reason: String)
}

/// Where a leg reports to: every ``LegEvent`` in order through `event`; a leg that
/// can hand packets over without a task hop may call `packet` instead for events and
/// acks, from any thread, once its `.connected` was reported and handled (and every
/// event after it). The socket leg to a plain `http://` upstream does, from its event
/// loop; the embedded leg does not.
struct LegReporter: Sendable {
    let event: @Sendable (LegEvent) async -> Void
    /// An event or ack (raw, ack ids as on the leg) with the text it came in when it was one
    /// Engine.IO message; must not wait.
    let packet: @Sendable (SocketIOPacket, String?) -> Void
}

/// One client's Socket.IO session with one upstream.
protocol UpstreamLeg: Sendable {
    /// Runs the leg until ``close()`` or a final failure, reporting events in order.
    func run(_ reporter: LegReporter) async
    /// Queues a packet; false (nothing queued) when the leg is not connected. Never waits on the network.
    func send(_ packet: SocketIOPacket) async -> Bool
    /// Queues a mirror copy as ``send(_:)`` does; also false (nothing queued) when the leg
    /// holds more than it may unsent (an upstream that stopped reading): a shadow that is
    /// hung takes what its connection holds, and the rest is lost, not piled up here.
    func sendCopy(_ packet: SocketIOPacket) async -> Bool
    /// Disconnects (Socket.IO DISCONNECT when connected); ``run(_:)`` then returns.
    func close() async
}

/// A leg over the network: a Socket.IO client over WebSocket (python-engineio drops
/// long-polling batches of more than 16 packets), raw packets, no buffering while
/// disconnected (the mirror records a gap instead). Its events reach the session in
/// order, through ``LegReporter/event`` or, for packets, ``LegReporter/packet``.
///
/// For a plain `http://` upstream the client is a ``SocketIORelayClient``: the connection
/// is read, heartbeats answered and packets written on its NIO event loop, and the leg's
/// task is the only one it has. Once connected, the upstream's events and acks go to
/// ``LegReporter/packet`` from the event loop (relayed to the client without a task hop);
/// the rest goes through ``LegReporter/event`` from the leg's task. An `https://`
/// upstream gets a ``SocketIOClient`` (TLS), whose events all come from the task reading
/// its connection.
struct SocketLeg: UpstreamLeg {
    private enum Client: Sendable {
        case relay(SocketIORelayClient)
        case general(SocketIOClient, ReporterBox)
    }

    private let client: Client

    /// Where a ``SocketIOClient``'s events go once ``run(_:)`` is called (none come before: `run` starts the client).
    private final class ReporterBox: Sendable {
        let reporter = Mutex<LegReporter?>(nil)

        func report(_ event: SocketIOClient.Event) async {
            guard let reporter = reporter.withLock({ $0 }) else { return }
            await reporter.event(SocketLeg.legEvent(event))
        }
    }

    /// - Parameter eventCache: shared by the proxy's legs to one upstream: a broadcast reaches
    ///   every leg with the same bytes and is parsed once.
    init(url: String, auth: JSONValue?, reconnect: SocketIOClient.ReconnectPolicy, connectTimeout: Duration,
         eventCache: SocketIOEventCache?, httpClient: HTTPClient, logger: Logger) {
        var configuration = SocketIOClient.Configuration(
            url: url, transport: .websocket, auth: auth, reconnect: reconnect, connectTimeout: connectTimeout,
            bufferWhileDisconnected: false, rawPackets: true)
        configuration.eventCache = eventCache
        // What a leg to a server that stopped reading may hold (it may be the shadow's leg):
        // this in the kernel, NIO's 64 KiB high-water mark in the proxy; then copies are lost.
        configuration.sendBufferSize = Self.sendBufferSize
        if SocketIORelayClient.supports(url: url) {
            client = .relay(SocketIORelayClient(configuration: configuration, logger: logger))
        } else {
            let box = ReporterBox()
            client = .general(
                SocketIOClient(configuration: configuration, httpClient: httpClient, logger: logger) { event in
                    await box.report(event)
                }, box)
        }
    }

    /// `SO_SNDBUF` of a leg's socket: far more than a client's events need, a few hundred KiB
    /// per session at most for a hung shadow (Linux doubles it, capped by `net.core.wmem_max`).
    static let sendBufferSize = 256 * 1024

    func run(_ reporter: LegReporter) async {
        let reason: String
        do {
            switch client {
            case .relay(let relay):
                try await relay.run(onPacket: reporter.packet) { event in await reporter.event(Self.legEvent(event)) }
            case .general(let general, let box):
                box.reporter.withLock { $0 = reporter }
                try await general.run()
            }
            reason = "closed"
        } catch {
            reason = String(describing: error)
        }
        await reporter.event(.ended(reason: reason))
    }

    /// (Synchronous: the reading task's async frame stays in its allocator for the session's life.)
    @inline(never)
    static func legEvent(_ event: SocketIOClient.Event) -> LegEvent {
        switch event {
        case .connected(let sid): .connected(sid: sid)
        case .packet(let packet, let text): .packet(packet, text: text)
        case .event(let name, let args, let attachments, let ackID):
            .packet(.event(name, args, id: ackID, attachments: attachments), text: nil)
        case .disconnected(let reason): .lost(reason: reason.rawValue)
        case .connectError(let data): .refused(data)
        case .reconnecting: .retrying
        }
    }

    func send(_ packet: SocketIOPacket) async -> Bool {
        do {
            switch client {
            case .relay(let relay): try relay.send(packet)
            case .general(let general, _): try await general.send(packet)
            }
            return true
        } catch {
            return false
        }
    }

    /// A relay leg writes unless its connection is over its high-water mark (NIO's default,
    /// 64 KiB, above what the socket's buffers already hold); the TLS client's send takes
    /// what its connection takes.
    func sendCopy(_ packet: SocketIOPacket) async -> Bool {
        guard case .relay(let relay) = client else { return await send(packet) }
        do {
            return try relay.sendUnlessBackedUp(packet)
        } catch {
            return false
        }
    }

    func close() async {
        switch client {
        case .relay(let relay): relay.disconnect()
        case .general(let general, _): await general.disconnect()
        }
    }
}
