import Foundation
import JSONValue
import Logging
import Metrics
import ScorerState
import Storage

/// Group commit: events are applied in arrival order as they come, and the
/// states they leave are committed together, one transaction (one fsync)
/// for all the events that arrived while the previous transaction was being
/// written. What an event sends (its broadcasts, its replies, even a reply
/// that changed nothing but shows a state not yet durable) waits in order in
/// an outbox until every state applied before it is on disk: nothing is sent
/// that is not durable, and every client sees the events' emissions in the
/// order the events were applied.
///
/// No task of its own: the first event that finds the disk idle commits the
/// group (its caller's task does the write); the others wait, and when a
/// write ends, the oldest waiting event of the next group is woken to write
/// it. A failed write rolls the game back to before the group and refuses
/// every event applied since (`SERVER_ERROR`), as a failed single commit did.
struct CommitPipeline {
    /// What an event sends, in order.
    enum Outgoing {
        case toClient(String, JSONValue)
        case toAll(String, JSONValue)
    }

    /// One event's emissions and result, waiting for durability.
    struct Delivery {
        var event: String
        var now: Double
        var client: EngineClient
        /// The commit ticket of this event's own state, when it changed one.
        var ticket: Int?
        var outgoing: [Outgoing]
        var result: EngineEventResult
        /// Whether a failed commit before it refuses it (its emissions show state); false for refusals.
        var failable = true
        /// Every ticket applied up to this event must be durable before it is delivered.
        var dependsOn = 0
        var id = 0
    }

    /// The result of an operation inside the gate.
    enum Step: Sendable {
        case done(EngineEventResult)
        /// Waiting in the outbox under this id.
        case queued(Int)
    }

    /// A waiter is resumed to collect its result or to write the next group.
    enum Wakeup: Sendable {
        case delivered(EngineEventResult)
        case lead
    }

    struct Pending {
        var ticket: Int
        var entry: JournalEntry
        var state: JSONValue
        /// The game before this event (restored when its group fails).
        var before: ScorerGame
    }

    /// Applied in memory, not yet being written.
    var pending: [Pending] = []
    /// True while a group is being written.
    var writing = false
    /// The last ticket handed out, and the last one durable.
    var appliedTicket = 0
    var durableTicket = 0
    /// Emissions waiting for durability, in event order.
    var outbox: [Delivery] = []
    var nextDeliveryID = 0
    /// Events waiting in ``ScorerEngine/completion(of:)``, by delivery id.
    var waiters: [Int: CheckedContinuation<Wakeup, Never>] = [:]
    /// Results delivered before their event started waiting.
    var delivered: [Int: EngineEventResult] = [:]
    /// Operations waiting for everything to be durable (``ScorerEngine/settle()``).
    var settleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Transactions written (tests: several events share one).
    var transactions = 0

    /// Whether nothing is waiting to be written or sent.
    var isIdle: Bool { pending.isEmpty && !writing && outbox.isEmpty }

    /// Records an applied event's state for the next group; returns its ticket.
    mutating func apply(_ entry: JournalEntry, resultingState: JSONValue, before: ScorerGame) -> Int {
        appliedTicket += 1
        pending.append(Pending(ticket: appliedTicket, entry: entry, state: resultingState, before: before))
        return appliedTicket
    }
}

extension ScorerEngine {
    /// Sends a delivery's emissions now when everything before it is durable
    /// and nothing is queued ahead of it; queues it otherwise.
    func deliverOrQueue(_ delivery: CommitPipeline.Delivery) -> CommitPipeline.Step {
        var delivery = delivery
        delivery.dependsOn = commits.appliedTicket
        if commits.outbox.isEmpty, delivery.dependsOn <= commits.durableTicket {
            emit(delivery.outgoing, to: delivery.client)
            return .done(delivery.result)
        }
        commits.nextDeliveryID += 1
        delivery.id = commits.nextDeliveryID
        commits.outbox.append(delivery)
        return .queued(delivery.id)
    }

    /// The result of an operation: at once, or once its group is durable
    /// (writing the group itself when the disk is idle).
    func completion(of step: CommitPipeline.Step) async -> EngineEventResult {
        let id: Int
        switch step {
        case .done(let result): return result
        case .queued(let queued): id = queued
        }
        while true {
            if let result = commits.delivered.removeValue(forKey: id) { return result }
            if !commits.writing, !commits.pending.isEmpty {
                await writePendingGroup()
                continue
            }
            let wakeup = await withCheckedContinuation { commits.waiters[id] = $0 }
            if case .delivered(let result) = wakeup { return result }
        }
    }

    /// Waits until every applied event is durable and its emissions sent
    /// (control operations, closing). Call it inside the gate.
    func settle() async {
        while !commits.isIdle {
            if !commits.writing, !commits.pending.isEmpty {
                await writePendingGroup()
            } else {
                await withCheckedContinuation { commits.settleWaiters.append($0) }
            }
        }
    }

    /// Writes every pending state in one transaction, then sends what became
    /// durable and wakes whoever writes the next group.
    private func writePendingGroup() async {
        let group = commits.pending
        commits.pending = []
        commits.writing = true
        let started = ContinuousClock.now
        let outcome: Result<[Int64], StorageError>
        do {
            outcome = .success(try await store.commit(group.map { ($0.entry, $0.state) }))
        } catch {
            outcome = .failure(error)
        }
        commits.writing = false
        commits.transactions += 1
        switch outcome {
        case .success(let sequences):
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            Timer(label: "statetee_engine_commit_duration_seconds")
                .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            if let last = sequences.last { sequence = last }
            var sequenceOf: [Int: Int64] = [:]
            for (pending, committed) in zip(group, sequences) { sequenceOf[pending.ticket] = committed }
            commits.durableTicket = group.last?.ticket ?? commits.durableTicket
            deliverDurable(sequenceOf)
        case .failure(let error):
            // Everything applied since the group's first event stands on a state that is not stored.
            if let first = group.first { game = first.before }
            commits.pending = []
            commits.durableTicket = commits.appliedTicket
            logger.error(
                "Engine commit failed; events rolled back",
                metadata: [
                    "statetee.events": .stringConvertible(group.count),
                    "statetee.error": .string(error.description),
                ])
            Counter(label: "statetee_engine_commit_failures_total").increment(by: group.count)
            failQueued()
        }
        if !commits.pending.isEmpty {
            // The next group: its oldest waiting event writes it.
            if let next = commits.outbox.first(where: { commits.waiters[$0.id] != nil }),
                let waiter = commits.waiters.removeValue(forKey: next.id)
            {
                waiter.resume(returning: .lead)
                return
            }
        }
        if commits.isIdle || !commits.pending.isEmpty {
            let waiters = commits.settleWaiters
            commits.settleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Sends, in order, every queued delivery whose states are all durable.
    private func deliverDurable(_ sequenceOf: [Int: Int64]) {
        while let delivery = commits.outbox.first, delivery.dependsOn <= commits.durableTicket {
            commits.outbox.removeFirst()
            var result = delivery.result
            if let ticket = delivery.ticket { result.sequence = sequenceOf[ticket] }
            emit(delivery.outgoing, to: delivery.client)
            hand(result, to: delivery.id)
        }
    }

    /// A write failed: every queued event is refused (refusals keep their own answer).
    private func failQueued() {
        let queued = commits.outbox
        commits.outbox = []
        for delivery in queued {
            if delivery.failable {
                let refusal = serverError(delivery.event, client: delivery.client, now: delivery.now, reason: "the state could not be stored")
                emit(refusal.replies.map { .toClient($0.event, $0.payload) }, to: delivery.client)
                hand(refusal, to: delivery.id)
            } else {
                emit(delivery.outgoing, to: delivery.client)
                hand(delivery.result, to: delivery.id)
            }
        }
    }

    private func hand(_ result: EngineEventResult, to id: Int) {
        if let waiter = commits.waiters.removeValue(forKey: id) {
            waiter.resume(returning: .delivered(result))
        } else {
            commits.delivered[id] = result
        }
    }

    private func emit(_ outgoing: [CommitPipeline.Outgoing], to client: EngineClient) {
        for item in outgoing {
            switch item {
            case .toClient(let event, let payload): send(event, payload, to: client)
            case .toAll(let event, let payload): broadcast(event, payload)
            }
        }
    }
}
