import Compare
import Foundation
import JSONDiff
import JSONValue
import Logging
import ServiceLifecycle
import SocketIOProtocol
import Synchronization

/// The proxy's ``TeeObserver`` feeding the comparator (`Compare.StateComparator`):
/// mirrored events, what each side sent each client (acks with the sequence of
/// the event they answer), gaps, the shadow's health and role flips; and the
/// comparator's readiness verdict for the switchover gate.
///
/// The comparator reads and resyncs the sides through the proxy, so the three
/// are built in order: observer, proxy (with the observer), comparator
/// (``TeeProxy/makeComparator(observer:rules:store:configuration:logger:)``),
/// which attaches itself to the observer.
public final class ComparatorObserver: TeeObserver {
    private let box = Mutex<StateComparator<ContinuousClock>?>(nil)

    public init() {}

    /// The attached comparator (nil before ``TeeProxy/makeComparator(observer:rules:store:configuration:logger:)``).
    public var comparator: StateComparator<ContinuousClock>? { box.withLock { $0 } }

    func attach(_ comparator: StateComparator<ContinuousClock>) {
        box.withLock { $0 = comparator }
    }

    /// The Pi's events (acknowledged); everything else is a phone's.
    static let piEvents: Set<String> = [
        "start_new_game", "set_player_name", "start_deployment_phase", "deployment_roll", "deployment_role_choice",
        "start_first_turn_phase", "first_turn_roll", "first_turn_choice", "start_game", "pi_concede",
    ]

    public func mirrored(_ event: ClientEvent) {
        guard let comparator, let name = event.packet.eventName else { return }
        comparator.mirrored(
            MirroredEvent(
                sequence: event.sequence, sessionID: event.session,
                clientRole: Self.piEvents.contains(name) ? "pi" : "phone", name: name,
                arguments: event.packet.eventArguments, receivedAt: event.receivedAt, mirroredToShadow: event.queued,
                expectsAck: event.packet.id != nil))
    }

    public func output(_ output: UpstreamOutput) {
        guard let comparator else { return }
        let side: Side = output.role == .primary ? .primary : .shadow
        if output.packet.isAck {
            guard let sequence = output.answersSequence else { return }
            comparator.emitted(
                .ack(side: side, sessionID: output.session, sequence: sequence, payload: output.packet.eventArguments.first))
        } else if let name = output.packet.eventName {
            comparator.emitted(
                SideOutput(side: side, sessionID: output.session, name: name, payload: output.packet.eventArguments.first))
        }
    }

    public func gap(_ gap: SequenceGap) {
        comparator?.gap(MirrorGap(fromSequence: gap.fromSequence, toSequence: gap.toSequence, count: gap.count, time: Date()))
    }

    public func shadowHealthChanged(healthy: Bool, reason: String) {
        comparator?.submit(.shadowHealth(healthy: healthy, reason: reason))
    }

    public func rolesChanged(primary: UpstreamID) {
        comparator?.submit(.rolesChanged(reason: "\(primary) is now the primary"))
    }

    /// After an event whose outcome the shadow adopts (a dice roll), hold the mirror until the
    /// comparator copied the primary's outcome into the shadow, at most `adoptionHold`.
    public func deliveredToShadow(sequence: Int64, packet: SocketIOPacket) async {
        guard let comparator, let name = packet.eventName, comparator.adoptionEvents.contains(name) else { return }
        await comparator.holdForAdoption(sequence)
    }

    public func readiness() async -> Tee.Readiness {
        guard let comparator else { return Tee.Readiness(ready: false, reason: "no comparator attached") }
        let verdict = await comparator.readiness()
        var details = verdict.json
        // How far the comparison got (what a script waits for before it reports).
        let status = await comparator.currentStatus()
        if case .object(var object) = details {
            object["last_compared_sequence"] = .int(Int(status.lastComparedSequence))
            object["pending_events"] = .int(status.pendingEvents)
            details = .object(object)
        }
        return Tee.Readiness(
            ready: verdict.ready, reason: verdict.ready ? verdict.description : verdict.reasons.joined(separator: "; "),
            details: details)
    }
}

extension TeeProxy {
    /// The comparator for this proxy: it reads the current primary's and shadow's state
    /// through the proxy's upstream connections and resyncs the shadow through them (the
    /// engine loads; the legacy, when it is the shadow, cannot be written and the resync
    /// fails, as recorded). Attached to `observer`, which must be the proxy's observer.
    /// Run the returned service in the proxy's group, before the proxy.
    public func makeComparator(
        observer: ComparatorObserver, rules: ComparisonRules, store: any ComparisonStore,
        configuration: ComparatorConfiguration = .init(), logger: Logger = Logger(label: "statetee.comparator")
    ) -> ComparatorService {
        var configuration = configuration
        if configuration.minCheckpointInterval == nil { configuration.minCheckpointInterval = .milliseconds(50) }
        let comparator = StateComparator(
            configuration: configuration, rules: RulesEvaluator(rules),
            primary: SideStateSource(proxy: self, side: .primary), shadow: SideStateSource(proxy: self, side: .shadow),
            shadowControl: ShadowWriter(proxy: self), store: store, logger: logger)
        observer.attach(comparator)
        return ComparatorService(comparator: comparator)
    }
}

/// Runs the comparator until graceful shutdown, then lets it compare what is pending.
public struct ComparatorService: Service {
    public let comparator: StateComparator<ContinuousClock>

    public func run() async throws {
        await withGracefulShutdownHandler {
            await comparator.run()
        } onGracefulShutdown: {
            comparator.finish()
        }
    }
}

/// The state of whichever upstream plays `side` now.
struct SideStateSource: StateSource {
    let proxy: TeeProxy
    let side: Side

    func readState() async throws -> JSONValue {
        let primary = proxy.primary
        return try await proxy.monitor(side == .primary ? primary : primary.other).readState()
    }
}

/// Writes into whichever upstream is the shadow now.
struct ShadowWriter: ShadowControl {
    let proxy: TeeProxy

    func loadState(_ state: JSONValue, reason: String) async throws {
        try await proxy.monitor(proxy.primary.other).loadState(state)
    }

    func patch(_ patches: [StatePatch], reason: String) async throws {
        let monitor = proxy.monitor(proxy.primary.other)
        var state = try await monitor.readState()
        for patch in patches { _ = state.set(patch.value, at: patch.path) }
        try await monitor.loadState(state)
    }

    /// Through the mirror: once the shadow handled every event up to `sequence`, and only if
    /// no newer event was mirrored.
    func loadState(_ state: JSONValue, reason: String, through sequence: Int64) async throws {
        let proxy = self.proxy
        try await ShadowWriteRequest(through: sequence) {
            try await proxy.monitor(proxy.primary.other).loadState(state)
        }.run(on: proxy.mirrorQueue)
    }

    func patch(_ patches: [StatePatch], reason: String, through sequence: Int64) async throws {
        let writer = self
        try await ShadowWriteRequest(through: sequence) {
            try await writer.patch(patches, reason: reason)
        }.run(on: proxy.mirrorQueue)
    }
}
