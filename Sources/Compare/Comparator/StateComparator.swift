import Foundation
import JSONDiff
import JSONValue
import Logging
import Metrics
import Synchronization

/// The comparator: judges, event by event, whether the shadow computes what
/// the primary computes, and records every divergence with the event that
/// caused it.
///
/// ## The seam with the proxy
///
/// The proxy hands the comparator, in the order things happen, through
/// ``submit(_:)`` (or the shorthands ``mirrored(_:)``, ``emitted(_:)``,
/// ``processed(_:sequence:)``, ``gap(_:)``), none of which ever waits:
/// - (a) each mirrored client event (``MirroredEvent``), once it was written
///   to the primary leg and offered to the mirror queue, dropped ones included;
/// - (b) each message a side emitted on a client's leg (``SideOutput``: the
///   primary's as relayed, the shadow's as recorded), acks with the sequence
///   of the event they answer;
/// - (c) that a side has processed event n, when the proxy can tell (an ack
///   already says so);
/// - (d) gaps: sequences the shadow never got (``MirrorGap``);
/// - the shadow's reachability and role flips.
///
/// The comparator reads both states through ``StateSource``s, writes into
/// the shadow through ``ShadowControl`` and records into a ``ComparisonStore``.
///
/// ## Checkpoints
///
/// Pending events are compared together, as one checkpoint, when
/// - every one of them was seen processed by both sides and every session
///   received as many messages from each side (the normal case: at once), or
/// - no traffic was seen for the settle window (events without any visible
///   answer, or a message missing on one side), or
/// - the oldest waited ``ComparatorConfiguration/maxCheckpointDelay`` (continuous traffic).
///
/// So events closer together than the settle window become one range. A
/// checkpoint reads both states, adopts the primary's dice into the shadow
/// (and patches the shadow with them), diffs under the rules, compares each
/// session's messages and the acks, records the comparison with its
/// divergences, and after a divergence (unexpected, or accepted in the state)
/// reloads the shadow from the primary so the next event is judged on its own. If newer events arrived
/// while the states were read and something differs unexpectedly, the
/// checkpoint is put off (up to ``ComparatorConfiguration/maxDeferrals``
/// times) and the range grows, since the difference may be a newer event's.
///
/// After a gap, a failed comparison, the shadow coming back or a postponed
/// resync, the next checkpoint is not judged: it reloads the shadow and is
/// recorded as a ``ComparisonEntry/Kind/resync`` (after a gap: marked so).
/// When no checkpoint compared the states for the reconciliation interval
/// and nothing is pending, a reconciliation compares them anyway and records
/// what drifted, blamed on no event.
///
/// ## Running
///
/// ``run()`` consumes the inputs and wakes itself for the settle window and
/// reconciliation with the injected clock; it returns after ``finish()`` (once
/// everything submitted before is compared) or when its task is cancelled.
/// ``handle(_:at:)``, ``tick(at:)`` and ``flush()`` drive the same logic
/// directly, for callers (and tests) that own the loop.
public actor StateComparator<C: Clock> where C.Duration == Duration {
    public nonisolated let configuration: ComparatorConfiguration
    let evaluator: RulesEvaluator
    let judge: CheckpointJudge
    let primarySource: any StateSource
    let shadowSource: any StateSource
    let shadowControl: any ShadowControl
    let store: any ComparisonStore
    nonisolated let clock: C
    let wallClock: @Sendable () -> Date
    let logger: Logger
    let metrics: ComparatorMetrics
    let ignoredEvents: Set<String>
    /// The events whose outcome can be adopted (they may write an `adopt` path of the rules,
    /// by ``ComparatorConfiguration/effects``): the proxy holds the shadow after each of them
    /// until ``adoptBeforeNext(_:)`` returns.
    public nonisolated let adoptionEvents: Set<String>

    struct Stamped: Sendable {
        enum Item: Sendable {
            case input(ComparatorInput)
            case tick
        }

        var item: Item
        var at: C.Instant
    }

    nonisolated let inbox: AsyncStream<Stamped>
    nonisolated let inboxContinuation: AsyncStream<Stamped>.Continuation
    /// The highest event sequence submitted (read after a state read: were there newer events?).
    nonisolated let highestSubmitted = Atomic<Int64>(0)
    nonisolated let droppedInputs = Atomic<Int>(0)
    nonisolated let createdAt: C.Instant

    struct PendingEvent: Sendable {
        var event: MirroredEvent
        var arrivedAt: C.Instant
        var primaryDone: Bool
        var shadowDone: Bool
    }

    /// Why the next checkpoint only reloads the shadow.
    enum ResyncNeed: String, Sendable {
        case gap = "mirrored events were lost"
        case failedComparison = "the last comparison failed"
        case shadowRecovered = "the shadow is reachable again"
        case postponed = "a divergence could not be resynced at once (newer events were in flight)"
        case failedResync = "the last resync failed"
    }

    var pending: [PendingEvent] = []
    var lastActivity: C.Instant?
    var streams: [String: SessionStreams] = [:]
    var acks: [Int64: AckPair] = [:]
    var earlyProcessed: [Int64: Set<Side>] = [:]
    var lastSequence: Int64 = 0
    var lastComparedSequence: Int64 = 0
    var resyncNeed: ResyncNeed?
    /// After a failed load into the shadow (a legacy shadow has no load API, or it is down),
    /// the next standalone resync waits until then: 1 s, doubling per failure, at most 60 s.
    var resyncRetryAt: C.Instant?
    var resyncFailures = 0
    var afterGap = false
    var deferrals = 0
    var checkpointRunning = false
    var ignoredMessages = 0
    var nextReconciliation: C.Instant?
    var nextPrune: C.Instant?
    var seenDroppedInputs = 0
    /// When the last checkpoint started (for ``ComparatorConfiguration/minCheckpointInterval``).
    var lastCheckpointAt: C.Instant?
    /// State divergences of recent checkpoints (within the longest checkpoint delay) and their
    /// events: a broadcast that reaches a session late repeats them (``Judgement/lateRepeats``).
    var recentStateDivergences: [(at: C.Instant, rows: [DivergenceEntry], events: [MirroredEvent])] = []
    /// Adoption before the next event (``adoptBeforeNext(_:)``).
    var adoption = AdoptionTracker()
    nonisolated let adoptionSignals = SignalBoard()
    var tracker: ReadinessTracker
    var status: ComparatorStatus

    /// - Parameters:
    ///   - rules: the compiled comparison rules (their readiness settings drive the gate).
    ///   - primary, shadow: read each side's state.
    ///   - wallClock: the time written into records and reports.
    ///   - metricsFactory: `nil`: the global `MetricsSystem.factory`.
    public init(
        configuration: ComparatorConfiguration = .init(),
        rules: RulesEvaluator,
        primary: any StateSource,
        shadow: any StateSource,
        shadowControl: any ShadowControl,
        store: any ComparisonStore,
        clock: C,
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "statetee.comparator"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.evaluator = rules
        self.judge = CheckpointJudge(evaluator: rules, effects: configuration.effects)
        self.primarySource = primary
        self.shadowSource = shadow
        self.shadowControl = shadowControl
        self.store = store
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        self.metrics = ComparatorMetrics(factory: metricsFactory)
        self.ignoredEvents = Set(rules.rules.ignoreEvents)
        self.adoptionEvents = configuration.effects.events(writingAnyOf: rules.rules.adopt)
        (inbox, inboxContinuation) = AsyncStream.makeStream(
            of: Stamped.self, bufferingPolicy: .bufferingOldest(configuration.inputCapacity))
        let now = clock.now
        createdAt = now
        nextReconciliation = configuration.reconciliationInterval.map { now.advanced(by: $0) }
        nextPrune = configuration.retention.map { _ in now }
        tracker = ReadinessTracker(settings: rules.rules.readiness, game: configuration.game)
        status = ComparatorStatus(readiness: tracker.readiness)
    }

    // MARK: - Inputs (never wait)

    /// Queues an input for the comparator, stamped with the clock's time now.
    /// Never waits; when ``ComparatorConfiguration/inputCapacity`` inputs are
    /// already waiting it is dropped (a dropped event is handled as a gap).
    public nonisolated func submit(_ input: ComparatorInput) {
        if case .mirrored(let event) = input {
            highestSubmitted.max(event.sequence, ordering: .relaxed)
        }
        if case .dropped = inboxContinuation.yield(Stamped(item: .input(input), at: clock.now)) {
            droppedInputs.add(1, ordering: .relaxed)
        }
    }

    public nonisolated func mirrored(_ event: MirroredEvent) { submit(.mirrored(event)) }
    public nonisolated func emitted(_ output: SideOutput) { submit(.output(output)) }
    public nonisolated func processed(_ side: Side, sequence: Int64) { submit(.processed(side, sequence: sequence)) }
    public nonisolated func gap(_ gap: MirrorGap) { submit(.gap(gap)) }

    /// Ends the input: ``run()`` compares what is pending and returns.
    public nonisolated func finish() { inboxContinuation.finish() }

    // MARK: - Running

    /// Consumes the inputs until ``finish()`` or cancellation, waking itself
    /// for the settle window and the reconciliation; then compares what is pending.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.runTicker() }
            for await stamped in inbox {
                await process(stamped)
            }
            group.cancelAll()
        }
        await flush()
    }

    /// Posts a tick into the inbox at every deadline, and at least once per
    /// settle window (so a deadline set after it last looked is never late).
    ///
    /// A deadline already past (a checkpoint waiting for a side's answer, or one running) is
    /// looked at again at most every ``tickSpacing``: inputs wake the comparator themselves, and
    /// without the floor the ticker would spin until the answer came.
    nonisolated func runTicker() async {
        var periodic = createdAt.advanced(by: configuration.settleWindow)
        var lastTick: C.Instant?
        while !Task.isCancelled {
            let deadline = await nextDeadline()
            var wake = deadline.map { min($0, periodic) } ?? periodic
            if let floor = lastTick?.advanced(by: Self.tickSpacing), wake < floor { wake = floor }
            do {
                try await clock.sleep(until: wake, tolerance: nil)
            } catch {
                return
            }
            let now = clock.now
            lastTick = now
            inboxContinuation.yield(Stamped(item: .tick, at: now))
            if periodic <= now { periodic = now.advanced(by: configuration.settleWindow) }
        }
    }

    func process(_ stamped: Stamped) async {
        let dropped = droppedInputs.load(ordering: .relaxed)
        if dropped > seenDroppedInputs {
            logger.info(
                "Comparator inputs dropped", metadata: ["statetee.count": "\(dropped - seenDroppedInputs)"])
            seenDroppedInputs = dropped
            resyncNeed = .gap
            afterGap = true
            tracker.recordGap()
        }
        switch stamped.item {
        case .input(let input): await handle(input, at: stamped.at)
        case .tick: await tick(at: stamped.at)
        }
    }

    /// When the comparator next needs to act (settle window, longest delay, reconciliation).
    public func nextDeadline() -> C.Instant? {
        // (No array of instants: this runs at every tick, and a generic array costs a metadata
        // lookup each time.)
        var earliest: C.Instant?
        func consider(_ instant: C.Instant) {
            if let current = earliest, current <= instant { return }
            earliest = instant
        }
        if pending.isEmpty, resyncNeed != nil, let resyncRetryAt {
            consider(resyncRetryAt)
        } else if !pending.isEmpty || resyncNeed != nil, let lastActivity {
            consider(lastActivity.advanced(by: configuration.settleWindow))
        }
        if let first = pending.first {
            consider(first.arrivedAt.advanced(by: configuration.maxCheckpointDelay))
            if let interval = configuration.minCheckpointInterval, let last = lastCheckpointAt {
                consider(last.advanced(by: interval))
            }
        }
        if let nextReconciliation { consider(nextReconciliation) }
        return earliest
    }

    /// The shortest time between two ticks of ``runTicker()``.
    static var tickSpacing: Duration { .milliseconds(10) }

    // MARK: - Handling

    /// Handles one input as if it arrived at `now`, comparing when a checkpoint is due.
    public func handle(_ input: ComparatorInput, at now: C.Instant) async {
        switch input {
        case .mirrored(let event):
            await accept(event, at: now)
        case .output(let output):
            accept(output, at: now)
            if output.ackFor != nil { await adoptWhereReady() }
        case .processed(let side, let sequence):
            markProcessed(side, sequence: sequence)
            await adoptWhereReady()
        case .gap(let gap):
            await accept(gap)
        case .shadowHealth(let healthy, let reason):
            setShadowHealth(healthy, reason: reason)
        case .rolesChanged(let reason):
            await restart(reason: reason)
        }
        await checkpointIfDue(at: now)
    }

    /// Acts on deadlines that passed by `now`: a settled checkpoint, a
    /// delayed one, a reconciliation.
    public func tick(at now: C.Instant) async {
        await checkpointIfDue(at: now)
        await reconcileIfDue(at: now)
        await pruneIfDue(at: now)
    }

    /// Applies the retention setting (once per ``ComparatorConfiguration/pruneInterval``).
    private func pruneIfDue(at now: C.Instant) async {
        guard let retention = configuration.retention, let due = nextPrune, now >= due, !checkpointRunning else { return }
        nextPrune = now.advanced(by: configuration.pruneInterval)
        let (seconds, attoseconds) = retention.components
        let cutoff = wallClock().addingTimeInterval(-(Double(seconds) + Double(attoseconds) / 1e18))
        do {
            try await store.removeRecords(olderThan: cutoff)
        } catch {
            storeFailed(error)
        }
    }

    /// Compares whatever is pending now, settled or not (shutdown, tests).
    public func flush() async {
        let now = clock.now
        if !pending.isEmpty {
            await checkpoint(at: now, allowDeferral: false)
        } else if resyncNeed != nil {
            await resyncOnly(events: [], at: now, allowDeferral: false)
        }
    }

    private func accept(_ event: MirroredEvent, at now: C.Instant) async {
        metrics.eventsMirrored.increment()
        status.eventsMirrored += 1
        highestSubmitted.max(event.sequence, ordering: .relaxed)
        if lastSequence > 0, event.sequence > lastSequence + 1 {
            // Events the comparator never saw (its own inputs overflowed, or
            // the proxy skipped them): the shadow's history is unknown.
            let gap = MirrorGap(
                fromSequence: lastSequence + 1, toSequence: event.sequence - 1,
                count: Int(event.sequence - lastSequence - 1), time: wallClock())
            await accept(gap)
        }
        lastSequence = max(lastSequence, event.sequence)
        status.lastSequence = lastSequence
        if adoptionEvents.contains(event.name) { adoption.mirrored(event) }
        let early = earlyProcessed.removeValue(forKey: event.sequence) ?? []
        if !event.mirroredToShadow, resyncNeed != .gap {
            resyncNeed = .gap
            afterGap = true
            tracker.recordGap()
        }
        pending.append(PendingEvent(
            event: event, arrivedAt: now, primaryDone: early.contains(.primary),
            shadowDone: early.contains(.shadow) || !event.mirroredToShadow))
        lastActivity = now
    }

    private func accept(_ output: SideOutput, at now: C.Instant) {
        lastActivity = now
        if output.side == .primary { adoption.primaryOutput(output) }
        if let sequence = output.ackFor {
            if sequence > lastComparedSequence {
                acks[sequence, default: AckPair()][output.side] = AckPair.Ack(payload: output.payload)
            } else {
                logger.debug("Late ack ignored", metadata: [
                    "statetee.sequence": "\(sequence)", "statetee.side": "\(output.side)",
                ])
            }
            markProcessed(output.side, sequence: sequence)
            return
        }
        if ignoredEvents.contains(output.name) {
            ignoredMessages += 1
            return
        }
        let message = StreamMessage(output.name, output.payload)
        switch output.side {
        case .primary: streams[output.sessionID, default: SessionStreams()].primary.append(message)
        case .shadow: streams[output.sessionID, default: SessionStreams()].shadow.append(message)
        }
    }

    private func markProcessed(_ side: Side, sequence: Int64) {
        if let index = pending.firstIndex(where: { $0.event.sequence == sequence }) {
            switch side {
            case .primary: pending[index].primaryDone = true
            case .shadow: pending[index].shadowDone = true
            }
        } else if sequence > lastComparedSequence {
            // Not mirrored yet (an answer overtook its event), or in the batch of a checkpoint
            // running now, which may be put off: kept for when the event is pending again.
            earlyProcessed[sequence, default: []].insert(side)
        }
    }

    /// Puts a checkpoint's events back in front (it was put off), with what was seen
    /// processed while it ran.
    private func restorePending(_ batch: [PendingEvent]) {
        var restored = batch
        for index in restored.indices {
            guard let sides = earlyProcessed.removeValue(forKey: restored[index].event.sequence) else { continue }
            if sides.contains(.primary) { restored[index].primaryDone = true }
            if sides.contains(.shadow) { restored[index].shadowDone = true }
        }
        pending = restored + pending
    }

    /// Whether both sides were seen processing event `sequence`.
    func isProcessedByBoth(_ sequence: Int64) -> Bool {
        if let entry = pending.first(where: { $0.event.sequence == sequence }) {
            return entry.primaryDone && entry.shadowDone
        }
        return earlyProcessed[sequence] == [.primary, .shadow]
    }

    private func accept(_ gap: MirrorGap) async {
        logger.info("Mirror gap: the shadow missed events", metadata: [
            "statetee.from": "\(gap.fromSequence)", "statetee.to": "\(gap.toSequence)", "statetee.count": "\(gap.count)",
        ])
        metrics.gaps.increment()
        status.gaps += 1
        resyncNeed = .gap
        afterGap = true
        tracker.recordGap()
        status.readiness = tracker.readiness
        do {
            try await store.recordGap(gap)
        } catch {
            storeFailed(error)
        }
    }

    private func setShadowHealth(_ healthy: Bool, reason: String) {
        logger.info("Shadow reachability changed", metadata: [
            "statetee.reachable": "\(healthy)", "statetee.reason": "\(reason)",
        ])
        status.shadowReachable = healthy
        if healthy {
            tracker.shadowUnavailable(nil)
            if resyncNeed == nil { resyncNeed = .shadowRecovered }
        } else {
            tracker.shadowUnavailable(reason)
        }
        status.readiness = tracker.readiness
    }

    private func restart(reason: String) async {
        logger.info("Comparison restarted", metadata: ["statetee.reason": "\(reason)"])
        let events = pending.map(\.event)
        pending = []
        streams = [:]
        acks = [:]
        earlyProcessed = [:]
        ignoredMessages = 0
        recentStateDivergences = []
        resyncNeed = nil
        afterGap = false
        deferrals = 0
        lastComparedSequence = lastSequence
        tracker.reset()
        status.readiness = tracker.readiness
        releaseAllAdoptions()
        await recordEvents(events)
    }

    // MARK: - Checkpoints

    private func checkpointIfDue(at now: C.Instant) async {
        guard !checkpointRunning else { return }
        guard let first = pending.first else {
            let settled = lastActivity.map { now >= $0.advanced(by: configuration.settleWindow) } ?? true
            if resyncNeed != nil, settled, resyncRetryAt.map({ now >= $0 }) ?? true {
                await resyncOnly(events: [], at: now, allowDeferral: true)
            }
            return
        }
        let overdue = now >= first.arrivedAt.advanced(by: configuration.maxCheckpointDelay)
        if let interval = configuration.minCheckpointInterval, let last = lastCheckpointAt,
            now < last.advanced(by: interval), !overdue
        {
            return  // under heavy traffic, events are compared in ranges at most this often
        }
        // (After that test: this runs for every input, a broadcast's hundreds of messages too.)
        let answered = pending.allSatisfy { $0.primaryDone && $0.shadowDone }
        let balanced = streams.values.allSatisfy(\.isBalanced)
        // A quiet spell alone is not enough while a side still owes an answer it will give
        // (an ack asked for, or messages the other side already sent): a slow side (the legacy
        // on a busy Pi, a shadow catching up) is waited for, up to the longest delay.
        let owing = !balanced || pending.contains { $0.event.expectsAck && !($0.primaryDone && $0.shadowDone) }
        // Under continuous traffic there is no quiet spell, and events without an ack are never
        // seen answered: once the oldest event has had the settle window to reach both sides, a
        // moment when no ack is owed and every session got as many messages from each side is a
        // clean cut between events' messages (a cut elsewhere would split a broadcast across two
        // checkpoints). A side may still be applying the newest events: see the deferral.
        let ripe = !owing && now >= first.arrivedAt.advanced(by: configuration.settleWindow)
        if (answered && balanced) || ripe || overdue {  // (a quiet spell with nothing owed is ripe)
            lastCheckpointAt = now
            await checkpoint(at: now, allowDeferral: !overdue)
        }
    }

    /// Whether no event newer than `sequence` was submitted.
    nonisolated func isQuiet(after sequence: Int64) -> Bool {
        highestSubmitted.load(ordering: .relaxed) <= sequence
    }

    private func checkpoint(at now: C.Instant, allowDeferral: Bool) async {
        checkpointRunning = true
        defer { checkpointRunning = false }
        let batch = pending
        pending = []
        let events = batch.map(\.event)
        if resyncNeed != nil {
            await resyncOnly(events: events, at: now, allowDeferral: allowDeferral, batch: batch)
            return
        }
        let streamBatch = streams
        streams = [:]
        let sequences = Set(events.map(\.sequence))
        let ackBatch = acks.filter { sequences.contains($0.key) }
        acks = acks.filter { $0.key > (events.last?.sequence ?? lastSequence) }
        let ignored = ignoredMessages
        ignoredMessages = 0
        let last = events.last?.sequence ?? lastSequence
        let started = clock.now

        async let primaryRead = Self.read(primarySource, .primary)
        async let shadowRead = Self.read(shadowSource, .shadow)
        let (primaryResult, shadowResult) = await (primaryRead, shadowRead)
        guard case .success(let firstPrimary) = primaryResult, case .success(let shadow) = shadowResult else {
            await recordFailure([primaryResult, shadowResult], events: events, started: started, now: now)
            return
        }
        // Whether the primary's state read holds exactly the events up to `last` (nothing newer
        // was sent to it meanwhile): only then may it be written into the shadow behind `last`.
        let quietAtRead = isQuiet(after: last)
        // Whether a side may still be applying the newest event (taken under continuous traffic
        // before the settle window passed after it, and not seen answered by both).
        let newestIsRecent = batch.last.map {
            !($0.primaryDone && $0.shadowDone) && now < $0.arrivedAt.advanced(by: configuration.settleWindow)
        } ?? false

        let primary = firstPrimary
        let recent = recentDivergences(at: now)
        var judgement = judge.judge(
            primary: primary, shadow: shadow, events: events, fallbackSequence: last, streams: streamBatch,
            acks: ackBatch, recent: recent.rows)
        judgement.ignoredCount += ignored
        if judgement.unexpectedCount > 0, allowDeferral, !quietAtRead || newestIsRecent,
            deferrals < configuration.maxDeferrals
        {
            // A newer event may have reached one side before the read, or the newest one only
            // one side yet: judge again later, with the newer events, as a range.
            deferrals += 1
            restorePending(batch)
            for (session, earlier) in streamBatch { streams[session, default: SessionStreams()].prepend(earlier) }
            acks.merge(ackBatch) { _, newer in newer }
            ignoredMessages += ignored
            logger.debug("Checkpoint deferred", metadata: ["statetee.last": "\(last)", "statetee.deferrals": "\(deferrals)"])
            return
        }
        deferrals = 0
        lastComparedSequence = max(lastComparedSequence, last)
        earlyProcessed = earlyProcessed.filter { $0.key > last }
        acks = acks.filter { $0.key > last }  // answers that came while the states were read
        await recordEvents(events)

        var resynced = false
        if judgement.needsResync {
            if quietAtRead {
                resynced = await loadShadow(primary, reason: "divergence at event \(judgement.firstUnexpectedSequence)", through: last)
                if !resynced { resyncNeed = .failedResync }
            } else {
                resyncNeed = .postponed
            }
        } else if !judgement.adoptPatches.isEmpty, quietAtRead {
            // (With newer events in flight the shadow may be handling one: writing into it now
            // could undo that. The next checkpoint adopts again; dice events were already
            // adopted before the shadow's next event, see adoptBeforeNext.)
            do {
                let reason = "adopt the primary's outcomes after event \(last)"
                if adoption.requested.contains(last) {
                    // The proxy holds the shadow right after this event: nothing can come between.
                    try await shadowControl.patch(judgement.adoptPatches, reason: reason)
                } else {
                    try await shadowControl.patch(judgement.adoptPatches, reason: reason, through: last)
                }
            } catch {
                metrics.failed("patch_shadow")
                status.failures += 1
                logger.debug("Adopting into the shadow failed", metadata: ["statetee.error": "\(error)"])
            }
        }

        let kind: ComparisonEntry.Kind = events.isEmpty ? .reconciliation : events.count == 1 ? .event : .range
        let entry = ComparisonEntry(
            kind: kind, firstSequence: events.first?.sequence ?? last, lastSequence: last, time: wallClock(),
            duration: started.duration(to: clock.now), cleanCount: judgement.cleanCount,
            unexpectedCount: judgement.unexpectedCount, acceptedCount: judgement.acceptedCount,
            ignoredCount: judgement.ignoredCount, toleratedCount: judgement.toleratedCount,
            adoptedCount: judgement.adoptPatches.count + adoption.takeAdopted(through: last), resynced: resynced,
            startsGame: events.contains { $0.name == configuration.game.startEvent },
            phase: primary.value(at: configuration.game.phasePath)?.stringValue)
        remember(judgement, events: events, at: now)
        await record(entry, judgement.divergences + judgement.lateRepeats, events: events + recent.events)
        scheduleReconciliation(after: now)
    }

    /// The state divergences of the checkpoints judged within the longest checkpoint delay.
    private func recentDivergences(at now: C.Instant) -> (rows: [DivergenceEntry], events: [MirroredEvent]) {
        recentStateDivergences.removeAll { now >= $0.at.advanced(by: configuration.maxCheckpointDelay) }
        return (recentStateDivergences.flatMap(\.rows), recentStateDivergences.flatMap(\.events))
    }

    private func remember(_ judgement: Judgement, events: [MirroredEvent], at now: C.Instant) {
        let rows = judgement.divergences.filter { $0.source == .state }
        guard !rows.isEmpty else { return }
        let sequences = Set(rows.map(\.sequence))
        recentStateDivergences.append((now, rows, events.filter { sequences.contains($0.sequence) }))
    }

    /// Reloads the shadow from the primary without judging (after a gap, a
    /// failure, the shadow's return, or a postponed resync).
    private func resyncOnly(
        events: [MirroredEvent], at now: C.Instant, allowDeferral: Bool, batch: [PendingEvent] = []
    ) async {
        guard let need = resyncNeed else { return }
        let last = events.last?.sequence ?? lastSequence
        // (A side's messages still on their way would land in the next stretch, unpaired: wait
        // for them too.)
        let balanced = streams.values.allSatisfy(\.isBalanced)
        if allowDeferral, !isQuiet(after: last) || !balanced, deferrals < configuration.maxDeferrals {
            deferrals += 1
            restorePending(batch)
            return
        }
        deferrals = 0
        // Messages and acks of this stretch are not comparable: the shadow
        // missed events. They are discarded with the stretch.
        let discarded = streams.values.reduce(0) { $0 + $1.primary.count + $1.shadow.count } + ignoredMessages
        streams = [:]
        acks = acks.filter { $0.key > last }
        earlyProcessed = earlyProcessed.filter { $0.key > last }
        ignoredMessages = 0
        lastComparedSequence = max(lastComparedSequence, last)
        await recordEvents(events)
        let started = clock.now
        var entry = ComparisonEntry(
            kind: .resync, firstSequence: events.first?.sequence ?? last, lastSequence: last, time: wallClock(),
            ignoredCount: discarded, afterGap: afterGap,
            startsGame: events.contains { $0.name == configuration.game.startEvent })
        switch await Self.read(primarySource, .primary) {
        case .success(let primary) where !isQuiet(after: last):
            // Newer events may be in the state read: it cannot stand for event `last`.
            entry.phase = primary.value(at: configuration.game.phasePath)?.stringValue
            entry.error = "newer events reached the primary while its state was read"
            resyncRetryAt = clock.now.advanced(by: configuration.settleWindow)
        case .success(let primary):
            entry.phase = primary.value(at: configuration.game.phasePath)?.stringValue
            if await loadShadow(primary, reason: need.rawValue, through: last) {
                entry.resynced = true
                resyncNeed = nil
                afterGap = false
            } else {
                entry.error = "loading the primary's state into the shadow failed"
            }
        case .failure(let failure):
            metrics.failed("read_primary")
            status.failures += 1
            entry.error = failure.description
        }
        entry.duration = started.duration(to: clock.now)
        await record(entry, [], events: events)
        scheduleReconciliation(after: now)
    }

    private func reconcileIfDue(at now: C.Instant) async {
        guard let due = nextReconciliation, now >= due, pending.isEmpty, !checkpointRunning, resyncNeed == nil else {
            return
        }
        let settled = lastActivity.map { now >= $0.advanced(by: configuration.settleWindow) } ?? true
        guard settled else { return }
        await reconcile(at: now)
    }

    /// Compares the states now, blaming what differs on no event (drift).
    /// Runs on its own when due; callable directly (an operator's "compare
    /// now"): with events pending, those are compared first instead.
    public func reconcile(at now: C.Instant) async {
        guard !checkpointRunning else { return }
        guard pending.isEmpty, resyncNeed == nil else {
            await flush()
            return
        }
        checkpointRunning = true
        defer { checkpointRunning = false }
        let streamBatch = streams
        streams = [:]
        let ignored = ignoredMessages
        ignoredMessages = 0
        let started = clock.now
        async let primaryRead = Self.read(primarySource, .primary)
        async let shadowRead = Self.read(shadowSource, .shadow)
        let (primaryResult, shadowResult) = await (primaryRead, shadowRead)
        guard case .success(let primary) = primaryResult, case .success(let shadow) = shadowResult else {
            await recordFailure([primaryResult, shadowResult], events: [], started: started, now: now)
            return
        }
        let recent = recentDivergences(at: now)
        var judgement = judge.judge(
            primary: primary, shadow: shadow, events: [], fallbackSequence: lastSequence, streams: streamBatch, acks: [:],
            recent: recent.rows)
        judgement.ignoredCount += ignored
        var resynced = false
        if judgement.needsResync {
            resynced = await loadShadow(
                primary, reason: "drift found by a reconciliation after event \(lastSequence)", through: lastSequence)
            if !resynced { resyncNeed = .failedResync }
        } else if !judgement.adoptPatches.isEmpty {
            try? await shadowControl.patch(
                judgement.adoptPatches, reason: "adopt the primary's outcomes (reconciliation)", through: lastSequence)
        }
        let entry = ComparisonEntry(
            kind: .reconciliation, firstSequence: lastSequence, lastSequence: lastSequence, time: wallClock(),
            duration: started.duration(to: clock.now), cleanCount: judgement.cleanCount,
            unexpectedCount: judgement.unexpectedCount, acceptedCount: judgement.acceptedCount,
            ignoredCount: judgement.ignoredCount, toleratedCount: judgement.toleratedCount,
            adoptedCount: judgement.adoptPatches.count, resynced: resynced,
            phase: primary.value(at: configuration.game.phasePath)?.stringValue)
        remember(judgement, events: [], at: now)
        await record(entry, judgement.divergences + judgement.lateRepeats, events: recent.events)
        scheduleReconciliation(after: now)
    }

    private func scheduleReconciliation(after now: C.Instant) {
        nextReconciliation = configuration.reconciliationInterval.map { now.advanced(by: $0) }
    }

    // MARK: - Effects

    enum ReadFailure: Error, CustomStringConvertible {
        case failed(Side, String)

        var side: Side {
            switch self { case .failed(let side, _): side }
        }

        var description: String {
            switch self { case .failed(let side, let why): "reading the \(side)'s state failed: \(why)" }
        }
    }

    private static func read(_ source: any StateSource, _ side: Side) async -> Result<JSONValue, ReadFailure> {
        do {
            return .success(try await source.readState())
        } catch {
            return .failure(.failed(side, String(describing: error)))
        }
    }

    private func recordFailure(
        _ results: [Result<JSONValue, ReadFailure>], events: [MirroredEvent], started: C.Instant, now: C.Instant
    ) async {
        var reasons: [String] = []
        for case .failure(let failure) in results {
            reasons.append(failure.description)
            metrics.failed(failure.side == .primary ? "read_primary" : "read_shadow")
            status.failures += 1
        }
        logger.warning("Comparison failed", metadata: ["statetee.error": "\(reasons.joined(separator: "; "))"])
        let last = events.last?.sequence ?? lastSequence
        lastComparedSequence = max(lastComparedSequence, last)
        resyncNeed = .failedComparison
        await recordEvents(events)
        let kind: ComparisonEntry.Kind = events.isEmpty ? .reconciliation : events.count == 1 ? .event : .range
        let entry = ComparisonEntry(
            kind: kind, firstSequence: events.first?.sequence ?? last, lastSequence: last, time: wallClock(),
            duration: started.duration(to: clock.now), afterGap: afterGap,
            startsGame: events.contains { $0.name == configuration.game.startEvent },
            error: reasons.joined(separator: "; "))
        await record(entry, [], events: events)
        scheduleReconciliation(after: now)
    }

    /// Loads the primary's state after event `sequence` into the shadow, in order with the
    /// shadow's events. Newer events in the way: retried at the next quiet spell.
    private func loadShadow(_ state: JSONValue, reason: String, through sequence: Int64) async -> Bool {
        do {
            if adoption.requested.contains(sequence) {
                // The proxy holds the shadow right after this event (waiting for an adoption
                // that this load does as well): nothing can come between, and a write queued
                // behind the hold would wait for it.
                try await shadowControl.loadState(state, reason: reason)
            } else {
                try await shadowControl.loadState(state, reason: reason, through: sequence)
            }
            logger.info("Shadow resynced from the primary", metadata: ["statetee.reason": "\(reason)"])
            resyncFailures = 0
            resyncRetryAt = nil
            return true
        } catch let busy as ShadowNotQuiet {
            logger.debug("Resync put off: newer events", metadata: ["statetee.reason": "\(reason)", "statetee.error": "\(busy)"])
            resyncRetryAt = clock.now.advanced(by: configuration.settleWindow)
            return false
        } catch {
            metrics.failed("load_shadow")
            status.failures += 1
            resyncFailures += 1
            let backoff = min(60, 1 << min(resyncFailures - 1, 6))
            resyncRetryAt = clock.now.advanced(by: .seconds(backoff))
            logger.warning("Resyncing the shadow failed", metadata: [
                "statetee.reason": "\(reason)", "statetee.error": "\(error)",
            ])
            return false
        }
    }

    private func recordEvents(_ events: [MirroredEvent]) async {
        guard !events.isEmpty else { return }
        do {
            try await store.recordEvents(events)
        } catch {
            storeFailed(error)
        }
    }

    private func storeFailed(_ error: any Error) {
        metrics.failed("store")
        status.failures += 1
        logger.warning("Recording in the comparison store failed", metadata: ["statetee.error": "\(error)"])
    }

    private func record(_ entry: ComparisonEntry, _ divergences: [DivergenceEntry], events: [MirroredEvent]) async {
        releaseComparedAdoptions()
        var stored = entry
        do {
            stored.id = try await store.recordComparison(entry, divergences: divergences)
        } catch {
            storeFailed(error)
        }
        tracker.record(entry)
        let readiness = tracker.readiness
        metrics.recorded(entry, readiness: readiness)
        status.readiness = readiness
        status.comparisons += 1
        status.lastComparedSequence = max(status.lastComparedSequence, entry.lastSequence)
        status.lastComparisonAt = entry.time
        status.adoptedValues += entry.adoptedCount
        if entry.resynced { status.resyncs += 1 }
        switch entry.outcome {
        case .clean: status.cleanComparisons += 1
        case .accepted: status.acceptedComparisons += 1
        case .unexpected: status.divergentComparisons += 1
        case .unverified: status.unverifiedComparisons += 1
        }
        status.pendingEvents = pending.count
        var logged = 0
        for d in divergences {
            switch d.classification {
            case .unexpected: status.unexpectedDivergences += 1
            case .accepted: status.acceptedDivergences += 1
            }
            let event = events.first { $0.sequence == d.sequence }
            var latest = d
            latest.comparisonID = stored.id
            status.latestDivergences.insert(LatestDivergence(divergence: latest, event: event, time: entry.time), at: 0)
            if d.classification == .unexpected, logged < configuration.maxLoggedDivergences {
                logged += 1
                logger.info("Unexpected divergence", metadata: Self.metadata(d, event: event, comparison: stored))
            }
        }
        if status.latestDivergences.count > configuration.latestDivergenceCount {
            status.latestDivergences.removeLast(status.latestDivergences.count - configuration.latestDivergenceCount)
        }
        let unexpected = divergences.count { $0.classification == .unexpected }
        if unexpected > logged {
            logger.info("Unexpected divergences not logged", metadata: ["statetee.count": "\(unexpected - logged)"])
        }
    }

    static func metadata(_ d: DivergenceEntry, event: MirroredEvent?, comparison: ComparisonEntry) -> Logger.Metadata {
        func short(_ value: JSONValue?) -> Logger.MetadataValue {
            guard let value else { return "(absent)" }
            let text = value.serialized()
            return .string(text.count > 200 ? String(text.prefix(200)) + "..." : text)
        }
        var metadata: Logger.Metadata = [
            "statetee.sequence": "\(d.sequence)",
            "statetee.blame": "\(d.blame.rawValue)",
            "statetee.source": "\(d.source.rawValue)",
            "statetee.path": "\(d.path)",
            "statetee.kind": "\(d.kind)",
            "statetee.primary": short(d.primaryValue),
            "statetee.shadow": short(d.shadowValue),
            "statetee.comparison": "\(comparison.label)",
        ]
        if let event {
            metadata["statetee.event"] = "\(event.name)"
            metadata["statetee.session"] = "\(event.sessionID)"
            metadata["statetee.client_role"] = "\(event.clientRole)"
            metadata["statetee.payload"] = short(event.payload)
        }
        if let session = d.sessionID { metadata["statetee.stream_session"] = "\(session)" }
        return metadata
    }

    // MARK: - Queries

    /// The verdict for the switchover gate.
    public func readiness() -> Readiness { tracker.readiness }

    /// Counters, readiness and the latest divergences.
    public func currentStatus() -> ComparatorStatus {
        var snapshot = status
        snapshot.pendingEvents = pending.count
        snapshot.readiness = tracker.readiness
        return snapshot
    }
}

extension StateComparator where C == ContinuousClock {
    /// A comparator on the continuous clock.
    public init(
        configuration: ComparatorConfiguration = .init(),
        rules: RulesEvaluator,
        primary: any StateSource,
        shadow: any StateSource,
        shadowControl: any ShadowControl,
        store: any ComparisonStore,
        logger: Logger = Logger(label: "statetee.comparator"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.init(
            configuration: configuration, rules: rules, primary: primary, shadow: shadow, shadowControl: shadowControl,
            store: store, clock: ContinuousClock(), logger: logger, metricsFactory: metricsFactory)
    }
}

extension Judgement {
    /// After any unexpected divergence, and after an accepted one in the
    /// state (which would otherwise show again at every later event), the
    /// shadow is reloaded from the primary.
    var needsResync: Bool {
        divergences.contains { $0.classification == .unexpected || $0.source == .state }
    }

    /// The sequence of the first divergence (for messages).
    var firstUnexpectedSequence: Int64 {
        (divergences.first { $0.classification == .unexpected } ?? divergences.first)?.sequence ?? 0
    }
}
