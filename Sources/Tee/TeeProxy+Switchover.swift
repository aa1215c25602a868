
import Foundation
import JSONDiff
import JSONValue
import Logging
import SocketIOProtocol

/// What a switchover or rollback request ended with.
public struct SwitchoverOutcome: Sendable, Equatable {
    /// `switchover` (to the engine) or `rollback` (to the legacy).
    public var action: String
    public var ok: Bool
    /// The primary after the attempt.
    public var primary: UpstreamID
    /// Why it was refused or failed (nil when ok).
    public var refusal: Switchover.Refusal?
    /// Whether the target's state was loaded from the old primary's.
    public var loadedState: Bool
    /// Sessions refreshed with a `game_state_update` from the new primary.
    public var refreshedSessions: Int
    /// Sessions closed because their leg to the new primary was not connected (they reconnect).
    public var droppedSessions: Int
    public var duration: Duration

    public var json: JSONValue {
        var object: JSONObject = [
            "action": .string(action), "ok": .bool(ok), "primary": .string(primary.rawValue),
            "loaded_state": .bool(loadedState), "refreshed_sessions": .int(refreshedSessions),
            "dropped_sessions": .int(droppedSessions),
            "duration_ms": .int(Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)),
        ]
        if let refusal {
            object["refusal"] = .string(refusal.shortDescription)
            object["message"] = .string(refusal.description)
        } else {
            object["message"] = .string("\(primary) is now the primary")
        }
        return .object(object)
    }
}

extension TeeProxy {
    /// Makes `target` the primary: gate, hold, drain, handoff, flip, refresh,
    /// release (DESIGN.md "Switchover, step by step"). Rollback is the same call
    /// with `.legacy`. Never throws: a refusal leaves the roles as they were.
    ///
    /// - Parameters:
    ///   - target: the upstream that should become primary
    ///   - force: skip the readiness gate, and switch even when the states
    ///     differ and the target cannot be loaded
    ///   - actor: who asked, for the admin log
    public func switchover(to target: UpstreamID, force: Bool, actor: String) async -> SwitchoverOutcome {
        let action = target == .engine ? "switchover" : "rollback"
        let clock = ContinuousClock()
        let started = clock.now
        let readiness = await self.readiness(for: target)
        let targetHealth = monitor(target).health
        let reachable: Result<Void, Switchover.Refusal> =
            targetHealth.isHealthy ? .success(()) : .failure(.targetUnavailable(targetHealth.reason ?? targetHealth.name))

        // Catch up first, clients not held but paced: a shadow far behind (a primary faster than
        // it) would otherwise keep the clients held while it works through the backlog.
        var pacer: ShadowPacer?
        if force || readiness.ready, targetHealth.isHealthy, primary != target {
            switch await catchUp(action: action) {
            case .success(let used): pacer = used
            case .failure(let refusal):
                return await finish(action: action, actor: actor, refusal: refusal, loaded: false, refreshed: 0, dropped: 0, started: started)
            }
        }

        let request = withRegistry { registry -> (Switchover.StateMachine<ContinuousClock>.RequestAction, [ProxySession]) in
            let action = registry.machine.requested(
                target: target, force: force, readiness: readiness, targetReachable: reachable, now: clock.now)
            guard case .hold = action else { return (action, []) }
            registry.holding = true
            return (action, Array(registry.sessions.values))
        }
        if case .refuse(let refusal) = request.0 {
            if let pacer { endPacing(pacer) }
            return await finish(action: action, actor: actor, refusal: refusal, loaded: false, refreshed: 0, dropped: 0, started: started)
        }
        logger.info(
            "Switchover started",
            metadata: ["statetee.action": .string(action), "statetee.target": .string(target.rawValue), "statetee.force": "\(force)"])
        for session in request.1 { session.hold() }
        // The paced events waiting for a token now go into the hold.
        if let pacer { endPacing(pacer) }

        // Drain: nothing in flight, both states settled. Every event forwarded or mirrored in the
        // last second carried an ack id and was answered: both servers applied it, one read each
        // suffices. Otherwise (an event without an ack id: nothing tells when it was applied; a
        // threaded legacy on a busy machine may take a while) two reads a settle interval apart
        // must agree, and while that event is under a second old the two servers' states must
        // agree too: one that has not read its last copies yet shows the same state twice.
        let current = target.other
        let evaluator = RulesEvaluator(configuration.rules)
        var previous: (primary: JSONValue, target: JSONValue)?
        var states: (primary: JSONValue, target: JSONValue)?
        drain: while true {
            var idle = false
            let held = sessions
            let quiet = mirrorQueue.isIdle && held.allSatisfy(\.isQuiet)
            // Sessions that already left count too: their last events may still be applied.
            let lastUnacked = (held.compactMap(\.lastUnackedEvent) + [counters.lastUnackedEventAt].compactMap { $0 }).max()
            let recent = lastUnacked.map { clock.now - $0 < max(Self.unackedQuiet, configuration.settleInterval) } ?? false
            if quiet, let read = try? await readStates(current: current, target: target) {
                if previous == nil, !recent {
                    idle = true
                    states = read
                } else if let previous,
                    evaluator.compare(primary: previous.primary, shadow: read.primary).isClean,
                    evaluator.compare(primary: previous.target, shadow: read.target).isClean,
                    !recent || Self.handoffComparison(read, evaluator).isClean
                {
                    idle = true
                    states = read
                }
                previous = read
            } else {
                previous = nil
            }
            logger.debug(
                "Draining",
                metadata: [
                    "statetee.mirror_idle": "\(mirrorQueue.isIdle)", "statetee.backlog": "\(mirrorQueue.depth)",
                    "statetee.quiet_sessions": "\(sessions.filter(\.isQuiet).count)/\(sessions.count)",
                    "statetee.settled": "\(idle)",
                ])
            let step = withRegistry { $0.machine.drainChecked(idle: idle, now: clock.now) }
            switch step {
            case .wait:
                // Settling: the next read a settle interval later; in-flight work: look again soon.
                try? await Task.sleep(for: previous == nil ? Self.pollInterval : configuration.settleInterval)
            case .handOff:
                break drain
            case .abort(let refusal):
                await releaseAll(flippedTo: nil)
                return await finish(action: action, actor: actor, refusal: refusal, loaded: false, refreshed: 0, dropped: 0, started: started)
            }
        }

        // Handoff: compare after rules (dice adopted); load the target when it can be.
        guard let states else { preconditionFailure("drained without states") }
        let comparison = Self.handoffComparison(states, evaluator)
        var loaded = false
        var handoff = withRegistry {
            $0.machine.compared(differs: !comparison.isClean, summary: comparison.summary, targetCanLoad: monitor(target).canLoadState)
        }
        if case .load = handoff {
            var failure: String?
            do {
                try await monitor(target).loadState(states.primary)
                loaded = true
            } catch {
                failure = String(describing: error)
            }
            handoff = withRegistry { $0.machine.loaded(failure) }
        }
        guard case .flip = handoff else {
            guard case .abort(let refusal) = handoff else { preconditionFailure("unexpected handoff action \(handoff)") }
            await releaseAll(flippedTo: nil)
            return await finish(action: action, actor: actor, refusal: refusal, loaded: loaded, refreshed: 0, dropped: 0, started: started)
        }

        // Flip: durable first, then every session. An embedded target makes each commit
        // durable before it is relayed as the primary.
        var persistFailure: String?
        do {
            try await monitor(target).setRole(primary: true)
        } catch {
            persistFailure = "the engine could not make its commits durable: \(error)"
        }
        if persistFailure == nil {
            do {
                try await roleStore.setPrimary(target, reason: "\(action) by \(actor)\(force ? " (forced)" : "")", at: Date())
            } catch {
                persistFailure = String(describing: error)
            }
        }
        let flip = withRegistry { registry -> Switchover.StateMachine<ContinuousClock>.FlipAction in
            let flip = registry.machine.persisted(persistFailure)
            if case .swap(let primary) = flip { registry.primary = primary }
            return flip
        }
        guard case .swap(let primary) = flip else {
            guard case .abort(let refusal) = flip else { preconditionFailure("unexpected flip action") }
            await releaseAll(flippedTo: nil)
            return await finish(action: action, actor: actor, refusal: refusal, loaded: loaded, refreshed: 0, dropped: 0, started: started)
        }
        observer.rolesChanged(primary: primary)
        let (refreshed, dropped) = await releaseAll(flippedTo: primary)
        await setRole(of: current, primary: false)
        return await finish(action: action, actor: actor, refusal: nil, loaded: loaded, refreshed: refreshed, dropped: dropped, started: started)
    }

    /// Tells an upstream its role (the embedded engine's durability), logging a failure: a
    /// shadow that keeps full durability is only slower.
    func setRole(of upstream: UpstreamID, primary: Bool) async {
        do {
            try await monitor(upstream).setRole(primary: primary)
        } catch {
            logger.warning(
                "Setting an upstream's role failed",
                metadata: [
                    "statetee.upstream": .string(upstream.rawValue), "statetee.primary": "\(primary)",
                    "statetee.error": "\(error)",
                ])
        }
    }

    /// How often the drain and the catch-up look at the in-flight work.
    static var pollInterval: Duration { .milliseconds(1) }

    /// How long before a switchover no event without an ack id may have been sent for the
    /// drain to read each state once instead of twice.
    static var unackedQuiet: Duration { .seconds(1) }

    /// The target's state against the primary's under the rules, the primary's dice adopted:
    /// whether they match, and the first three unexpected differences.
    private static func handoffComparison(
        _ states: (primary: JSONValue, target: JSONValue), _ evaluator: RulesEvaluator
    ) -> (isClean: Bool, summary: String) {
        var target = states.target
        _ = evaluator.adopt(from: states.primary, into: &target)
        let comparison = evaluator.compare(primary: states.primary, shadow: target)
        return (comparison.isClean, comparison.unexpected.prefix(3).map { "\($0)" }.joined(separator: "; "))
    }

    /// Both states, read at the same time.
    private func readStates(current: UpstreamID, target: UpstreamID) async throws -> (primary: JSONValue, target: JSONValue) {
        async let primaryState = monitor(current).readState()
        async let targetState = monitor(target).readState()
        return try await (primaryState, targetState)
    }

    /// Events the shadow has still to process: the mirror queue and the copies it has not answered.
    func shadowBacklog() -> Int {
        mirrorQueue.depth + sessions.reduce(0) { $0 + $1.shadowBacklog }
    }

    /// Waits, pacing the clients' events, until the shadow's backlog is under `holdBacklog`.
    /// On success the pacer (if pacing started) is still pacing: end it once the sessions hold.
    private func catchUp(action: String) async -> Result<ShadowPacer?, Switchover.Refusal> {
        let clock = ContinuousClock()
        let backlog = shadowBacklog()
        guard backlog > configuration.holdBacklog else { return .success(nil) }
        var catchUp = Switchover.CatchUp<ContinuousClock>(
            backlog: backlog, limit: configuration.holdBacklog, timeout: configuration.drainTimeout, now: clock.now)
        let pacer = ShadowPacer()
        for session in sessions { session.pace(with: pacer) }
        logger.debug("Pacing clients while the shadow catches up", metadata: ["statetee.backlog": "\(backlog)"])
        while true {
            try? await Task.sleep(for: Self.pollInterval)
            // Sessions opened meanwhile are paced too.
            for session in sessions { session.pace(with: pacer) }
            let backlog = shadowBacklog()
            switch catchUp.sampled(backlog: backlog, admitted: pacer.takeAdmitted(), now: clock.now) {
            case .hold:
                logger.debug(
                    "Shadow caught up", metadata: ["statetee.backlog": "\(backlog)", "statetee.processed": "\(catchUp.processedCount)"])
                return .success(pacer)
            case .admit(let count):
                pacer.grant(count)
            case .refuse(let refusal):
                endPacing(pacer)
                logger.info(
                    "Switchover not started: the shadow is behind",
                    metadata: [
                        "statetee.backlog": "\(backlog)", "statetee.action": .string(action),
                        "statetee.processed": "\(catchUp.processedCount)",
                    ])
                return .failure(refusal)
            }
        }
    }

    private func endPacing(_ pacer: ShadowPacer) {
        for session in sessions { session.pace(with: nil) }
        pacer.end()
    }

    /// Swaps every session to `primary` (when given), then refreshes each client from it and
    /// releases its held frames (sessions concurrently; within one, the refresh first). Every
    /// session is swapped before any is released, so none misses a broadcast of the new primary.
    /// Returns (refreshed, dropped).
    @discardableResult
    private func releaseAll(flippedTo primary: UpstreamID?) async -> (Int, Int) {
        let sessions = withRegistry { registry -> [ProxySession] in
            registry.holding = false
            return Array(registry.sessions.values)
        }
        var dropped = 0
        var refreshing: [(ProxySession, (any UpstreamLeg)?)] = []
        for session in sessions {
            guard let primary else {
                refreshing.append((session, nil))
                continue
            }
            guard let leg = session.swap(to: primary) else {
                if session.isClientConnected {
                    session.drop()
                    dropped += 1
                }
                refreshing.append((session, nil))
                continue
            }
            refreshing.append((session, session.isClientConnected ? leg : nil))
        }
        let refreshed = await withTaskGroup(of: Bool?.self) { group in
            for (session, leg) in refreshing {
                group.addTask {
                    var refreshed: Bool?
                    if let leg {
                        refreshed = await leg.send(.event("request_game_state", []))
                        if refreshed == false { session.drop() }
                    }
                    await session.release()
                    return refreshed
                }
            }
            var counts = (refreshed: 0, dropped: 0)
            for await result in group {
                if result == true { counts.refreshed += 1 } else if result == false { counts.dropped += 1 }
            }
            return counts
        }
        return (refreshed.refreshed, dropped + refreshed.dropped)
    }

    private func finish(
        action: String, actor: String, refusal: Switchover.Refusal?, loaded: Bool, refreshed: Int, dropped: Int,
        started: ContinuousClock.Instant
    ) async -> SwitchoverOutcome {
        let outcome = SwitchoverOutcome(
            action: action, ok: refusal == nil, primary: primary, refusal: refusal, loadedState: loaded,
            refreshedSessions: refreshed, droppedSessions: dropped, duration: ContinuousClock.now - started)
        withRegistry { $0.lastSwitchover = outcome }
        let status = refusal.map { $0.isRefusal ? "refused" : "failed" } ?? "ok"
        metrics.switchover(action: action, outcome: status)
        if let refusal {
            logger.info(
                "Switchover refused",
                metadata: [
                    "statetee.action": .string(action), "statetee.actor": .string(actor),
                    "statetee.reason": .string(refusal.shortDescription), "statetee.detail": .string(refusal.description),
                ])
        } else {
            logger.info(
                "Switchover done",
                metadata: [
                    "statetee.action": .string(action), "statetee.actor": .string(actor),
                    "statetee.primary": .string(outcome.primary.rawValue), "statetee.loaded": "\(loaded)",
                    "statetee.refreshed": "\(refreshed)", "statetee.dropped": "\(dropped)",
                    "statetee.duration": "\(outcome.duration)",
                ])
        }
        do {
            try await roleStore.logAdmin(
                AdminLogEntry(
                    time: Date(), action: action, actor: actor, outcome: status,
                    detail: refusal?.description ?? "primary \(outcome.primary); refreshed \(refreshed), dropped \(dropped)"))
        } catch {
            logger.error("Cannot write the admin log", metadata: ["statetee.error": .string(String(describing: error))])
        }
        return outcome
    }

    /// The comparator's verdict, and the proxy's own: the target must be reachable.
    func readiness(for target: UpstreamID) async -> Readiness {
        let verdict = await observer.readiness()
        let health = monitor(target).health
        guard health.isHealthy else {
            return Readiness(ready: false, reason: "\(target) is \(health.name)", details: verdict.details)
        }
        return verdict
    }
}
