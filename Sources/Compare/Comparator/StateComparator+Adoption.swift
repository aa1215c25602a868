import JSONDiff
import JSONValue
import Logging
import Synchronization

// MARK: - Adopting the primary's dice before the shadow's next event
//
// A checkpoint adopts the primary's dice into the shadow after it compared,
// but under fast traffic the shadow may already have handled the next event
// with its own dice: the second roll of a tie the legacy saw but the shadow
// did not, say, which the shadow then ignores ("winner already set"), and one
// broadcast goes missing. So after each event whose outcome is adopted, the
// proxy holds the shadow's feed (``adoptBeforeNext(_:)``) until the primary's
// outcome of that very event is in the shadow: the state the primary sent
// along with its answer to that event, on the sender's session (its
// `game_state_update` between the event and its ack), or the primary's state
// when nothing newer reached it.

/// Per adoption event: where to find the primary's outcome.
struct AdoptionTracker: Sendable {
    struct Mark: Sendable {
        var session: String
        /// The primary's `game_state_update` count on that session when the event was mirrored.
        var stateCount: Int
    }

    /// Open adoption events by sequence.
    var marks: [Int64: Mark] = [:]
    /// For sessions with an open mark: how many states the primary sent them, and the last.
    var latest: [String: (count: Int, state: JSONValue)] = [:]
    /// The primary's state right after the event (from its answer), once its ack came.
    var outcomes: [Int64: JSONValue] = [:]
    /// Events the proxy holds the shadow after, waiting for ``StateComparator/adoptBeforeNext(_:)``.
    var requested: Set<Int64> = []
    /// Values adopted before the next event, by event, until its checkpoint records them.
    var adopted: [Int64: Int] = [:]

    /// The values adopted for events up to `sequence` (counted once, by the checkpoint).
    mutating func takeAdopted(through sequence: Int64) -> Int {
        let due = adopted.filter { $0.key <= sequence }
        for key in due.keys { adopted.removeValue(forKey: key) }
        return due.values.reduce(0, +)
    }

    mutating func mirrored(_ event: MirroredEvent) {
        marks[event.sequence] = Mark(session: event.sessionID, stateCount: latest[event.sessionID]?.count ?? 0)
        if latest[event.sessionID] == nil { latest[event.sessionID] = (0, .null) }
    }

    mutating func primaryOutput(_ output: SideOutput) {
        guard latest[output.sessionID] != nil else { return }
        if let sequence = output.ackFor {
            guard let mark = marks[sequence], mark.session == output.sessionID,
                  let seen = latest[output.sessionID], seen.count > mark.stateCount
            else { return }
            outcomes[sequence] = seen.state
        } else if output.name == "game_state_update", let payload = output.payload, case .object = payload {
            latest[output.sessionID]!.count += 1
            latest[output.sessionID]!.state = payload
        }
    }

    /// Forgets event `sequence` (adopted, given up, or compared).
    mutating func finish(_ sequence: Int64) {
        requested.remove(sequence)
        outcomes.removeValue(forKey: sequence)
        guard let mark = marks.removeValue(forKey: sequence) else { return }
        if !marks.values.contains(where: { $0.session == mark.session }) { latest.removeValue(forKey: mark.session) }
    }
}

/// Wake-ups by sequence, outside the actor: a waiter that registers after its
/// signal returns at once; a cancelled waiter returns too.
final class SignalBoard: Sendable {
    private struct State {
        var signaled: Set<Int64> = []
        var waiters: [Int64: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    func signal(_ key: Int64) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.signaled.insert(key)
            if state.signaled.count > 256 { state.signaled = state.signaled.filter { $0 > key - 128 } }
            return Array((state.waiters.removeValue(forKey: key) ?? [:]).values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait(_ key: Int64) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.signaled.contains(key) || Task.isCancelled { return true }
                    state.waiters[key, default: [:]][id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters[key]?.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

extension StateComparator {
    /// Returns once the primary's outcome of event `sequence` (an ``adoptionEvents`` event the
    /// shadow has just been given) is in the shadow, or nothing is to be adopted: both sides
    /// answered it and the adopted values were patched in, or the event was already compared
    /// (the checkpoint adopted). The caller bounds the wait (the proxy: ``ComparatorConfiguration/adoptionHold``)
    /// and cancels it; nothing else waits on it.
    public func adoptBeforeNext(_ sequence: Int64) async {
        if sequence <= lastComparedSequence {
            adoption.finish(sequence)
            return
        }
        adoption.requested.insert(sequence)
        logger.debug("Shadow held for adoption", metadata: [
            "statetee.sequence": "\(sequence)", "statetee.pending": "\(pending.map(\.event.sequence))",
            "statetee.early": "\(earlyProcessed.keys.sorted())", "statetee.compared": "\(lastComparedSequence)",
            "statetee.checkpoint_running": "\(checkpointRunning)",
        ])
        await adoptWhereReady()
        await adoptionSignals.wait(sequence)
    }

    /// ``adoptBeforeNext(_:)`` bounded by ``ComparatorConfiguration/adoptionHold``; false (and a
    /// log line) when the hold ran out first: the shadow then goes on with its own outcome,
    /// and the checkpoint judges (and resyncs) as usual.
    @discardableResult
    public nonisolated func holdForAdoption(_ sequence: Int64) async -> Bool {
        let hold = configuration.adoptionHold
        let adopted = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.adoptBeforeNext(sequence)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: hold)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !adopted {
            logger.info("Adoption hold ran out: the shadow goes on without the primary's outcome", metadata: [
                "statetee.sequence": "\(sequence)", "statetee.hold": "\(hold)",
            ])
        }
        return adopted
    }

    /// Adopts into the shadow for every requested event both sides answered.
    func adoptWhereReady() async {
        guard !adoption.requested.isEmpty else { return }
        for sequence in adoption.requested.sorted() {
            if sequence <= lastComparedSequence {
                adoption.finish(sequence)
                adoptionSignals.signal(sequence)
                continue
            }
            guard isProcessedByBoth(sequence) else { continue }
            adoption.requested.remove(sequence)
            await adoptOutcome(of: sequence)
            adoption.finish(sequence)
            adoptionSignals.signal(sequence)
        }
    }

    /// Copies the adopted paths of the primary's outcome of `sequence` into the shadow.
    private func adoptOutcome(of sequence: Int64) async {
        var outcome = adoption.outcomes[sequence]
        if outcome == nil, isQuiet(after: sequence) { outcome = try? await primarySource.readState() }
        guard let outcome else {
            logger.debug("Nothing to adopt from: the primary sent no state for the event", metadata: [
                "statetee.sequence": "\(sequence)",
            ])
            return
        }
        let shadow: JSONValue
        do {
            shadow = try await shadowSource.readState()
        } catch {
            metrics.failed("read_shadow")
            status.failures += 1
            return
        }
        var adopted = shadow
        let paths = evaluator.adopt(from: outcome, into: &adopted)
        guard !paths.isEmpty else { return }
        do {
            try await shadowControl.patch(
                paths.map { StatePatch(path: $0, value: outcome.value(at: $0)) },
                reason: "adopt the primary's outcome of event \(sequence) before the next")
            status.adoptedValues += paths.count
            adoption.adopted[sequence, default: 0] += paths.count
            logger.debug("Adopted the primary's outcome before the next event", metadata: [
                "statetee.sequence": "\(sequence)", "statetee.paths": "\(paths.map(\.description))",
            ])
        } catch {
            metrics.failed("patch_shadow")
            status.failures += 1
            logger.debug("Adopting into the shadow failed", metadata: ["statetee.error": "\(error)"])
        }
    }

    /// Releases every hold up to the last compared event (a checkpoint adopted for them).
    func releaseComparedAdoptions() {
        for sequence in adoption.marks.keys where sequence <= lastComparedSequence {
            adoption.finish(sequence)
            adoptionSignals.signal(sequence)
        }
    }

    /// Releases every hold (the comparison restarts).
    func releaseAllAdoptions() {
        for sequence in Array(adoption.marks.keys) + Array(adoption.requested) {
            adoptionSignals.signal(sequence)
        }
        adoption = AdoptionTracker()
    }
}

extension EventEffects {
    /// The events that may write a path covered by one of `patterns`. An event that rewrites
    /// the whole document (template `""`, a reset) is not counted: it writes constants.
    public func events(writingAnyOf patterns: [PathPattern]) -> Set<String> {
        guard !patterns.isEmpty else { return [] }
        var names: Set<String> = []
        for (name, list) in templates {
            for template in list where !template.isEmpty {
                let text = Self.substitute(template, payload: nil)
                guard let written = try? PathPattern(text), let writtenPointer = JSONPointer(text) else { continue }
                if patterns.contains(where: { pattern in
                    JSONPointer(pattern.description).map { written.covers($0) } == true || pattern.covers(writtenPointer)
                }) {
                    names.insert(name)
                }
            }
        }
        return names
    }
}
