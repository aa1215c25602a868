import JSONDiff
import JSONValue

/// What one client session received from each side since the last checkpoint.
struct SessionStreams: Sendable {
    var primary: [StreamMessage] = []
    var shadow: [StreamMessage] = []

    var isBalanced: Bool { primary.count == shadow.count }

    mutating func prepend(_ earlier: SessionStreams) {
        primary = earlier.primary + primary
        shadow = earlier.shadow + shadow
    }
}

/// The acks both sides sent for one event (`nil`: none yet).
struct AckPair: Sendable {
    struct Ack: Sendable { var payload: JSONValue? }
    var primary: Ack?
    var shadow: Ack?

    subscript(side: Side) -> Ack? {
        get { side == .primary ? primary : shadow }
        set { if side == .primary { primary = newValue } else { shadow = newValue } }
    }
}

/// The verdict on one checkpoint, before anything is written anywhere.
struct Judgement: Sendable {
    var divergences: [DivergenceEntry] = []
    var cleanCount = 0
    /// Accepted differences, listed or not (see ``CheckpointJudge``).
    var acceptedCount = 0
    var ignoredCount = 0
    var toleratedCount = 0
    /// The primary's values the shadow should take (adopt rules).
    var adoptPatches: [StatePatch] = []
    /// Message differences that repeat a state divergence of an earlier checkpoint (a broadcast
    /// of that event that reached one session after it was judged): recorded against that
    /// event, they neither make this checkpoint unclean nor call for another resync.
    var lateRepeats: [DivergenceEntry] = []

    var unexpectedCount: Int { divergences.count { $0.classification == .unexpected } }
}

/// Judges one checkpoint: adopt, diff the states under the rules with the
/// context of the event each difference is blamed on, compare each session's
/// messages and the acks. Pure.
///
/// Blame within a range of several events: for each difference, the earliest
/// event whose ``EventEffects`` say it can write that path and whose context
/// makes a known rule accept it; else the earliest that can write it; else
/// the earliest whose context a known rule accepts it with; else the range.
///
/// Messages are compared after the same adoption (the k-th message of a
/// name takes the adopted values of the primary's k-th of that name).
/// Message differences that repeat a state difference of the same
/// checkpoint (same pointer, same values: a `game_state_update` carries the
/// state) are not listed twice; the same message difference on several
/// sessions is listed once with the sessions in its detail. Accepted
/// differences inside messages that otherwise matched are counted only.
///
/// A broadcast can reach one session after its event was judged (the
/// sender's copies were in, another session's not yet): its differences then
/// show in the next checkpoint. One that repeats a state divergence of a
/// recent checkpoint exactly (same pointer, kind and values: `recent`) is
/// that divergence again, recorded against its event in ``Judgement/lateRepeats``.
struct CheckpointJudge {
    let evaluator: RulesEvaluator
    let effects: EventEffects
    /// The message that carries the whole state document.
    static let stateEvent = "game_state_update"

    func judge(
        primary: JSONValue, shadow: JSONValue, events: [MirroredEvent], fallbackSequence: Int64,
        streams: [String: SessionStreams], acks: [Int64: AckPair], recent: [DivergenceEntry] = []
    ) -> Judgement {
        var judgement = Judgement()

        // Adopt the primary's nondeterministic outcomes first.
        var adopted = shadow
        let paths = evaluator.adopt(from: primary, into: &adopted)
        judgement.adoptPatches = paths.map { StatePatch(path: $0, value: primary.value(at: $0)) }

        let stateRows = judgeState(primary, adopted, events: events, fallbackSequence: fallbackSequence, into: &judgement)
        judgement.divergences += stateRows
        judgement.divergences += judgeStreams(streams, events: events, fallbackSequence: fallbackSequence,
                                              stateRows: stateRows, recent: recent, into: &judgement)
        judgement.divergences += judgeAcks(acks, events: events, into: &judgement)
        return judgement
    }

    // MARK: state

    private func judgeState(
        _ primary: JSONValue, _ shadow: JSONValue, events: [MirroredEvent], fallbackSequence: Int64,
        into judgement: inout Judgement
    ) -> [DivergenceEntry] {
        var rows: [DivergenceEntry] = []
        if events.count <= 1 {
            let event = events.first
            let result = evaluator.compare(primary: primary, shadow: shadow, context: event?.context)
            judgement.ignoredCount += result.ignoredCount
            judgement.toleratedCount += result.toleratedCount
            for c in result.differences {
                rows.append(row(c, sequence: event?.sequence ?? fallbackSequence, blame: event == nil ? .none : .event))
            }
        } else {
            for difference in JSONDiff.diff(primary, shadow, options: evaluator.rules.options) {
                let (classified, event, blame) = attribute(difference, among: events)
                switch classified.classification {
                case .ignored: judgement.ignoredCount += 1
                case .withinTolerance: judgement.toleratedCount += 1
                case .unexpected, .accepted: rows.append(row(classified, sequence: event.sequence, blame: blame))
                }
            }
        }
        if !rows.contains(where: { $0.classification == .unexpected }) { judgement.cleanCount += 1 }
        judgement.acceptedCount += rows.count { $0.classification == .accepted }
        return rows
    }

    /// The classification of `difference` and the event it is blamed on.
    func attribute(_ difference: Difference, among events: [MirroredEvent])
        -> (ClassifiedDifference, MirroredEvent, DivergenceEntry.Blame)
    {
        func classify(_ event: MirroredEvent?) -> ClassifiedDifference {
            evaluator.classify([difference], context: event?.context)[0]
        }
        let neutral = classify(nil)
        switch neutral.classification {
        case .ignored, .withinTolerance: return (neutral, events[0], .range)
        case .unexpected, .accepted: break
        }
        let candidates = events.filter { effects.mayWrite(difference.path, event: $0) == true }
        for event in candidates {
            let c = classify(event)
            if case .accepted = c.classification { return (c, event, .event) }
        }
        if let first = candidates.first { return (classify(first), first, .event) }
        for event in events {
            let c = classify(event)
            if case .accepted = c.classification { return (c, event, .event) }
        }
        return (neutral, events[0], .range)
    }

    private func row(
        _ c: ClassifiedDifference, sequence: Int64, blame: DivergenceEntry.Blame, source: DivergenceEntry.Source = .state,
        sessionID: String? = nil, prefix: String = "", detail: String? = nil
    ) -> DivergenceEntry {
        var knownID: String?
        var reason: String?
        var cls = DivergenceEntry.Class.unexpected
        if case .accepted(let id, let why) = c.classification {
            cls = .accepted
            knownID = id
            reason = why
        }
        let pointer = c.difference.path.description
        return DivergenceEntry(
            sequence: sequence, blame: blame, source: source, sessionID: sessionID,
            path: prefix.isEmpty ? (pointer.isEmpty ? "(root)" : pointer) : prefix + pointer,
            kind: c.difference.kind.rawValue, primaryValue: c.difference.primary, shadowValue: c.difference.shadow,
            classification: cls, knownID: knownID, reason: reason, detail: detail)
    }

    // MARK: message streams

    private func judgeStreams(
        _ streams: [String: SessionStreams], events: [MirroredEvent], fallbackSequence: Int64,
        stateRows: [DivergenceEntry], recent: [DivergenceEntry], into judgement: inout Judgement
    ) -> [DivergenceEntry] {
        let sequence = events.first?.sequence ?? fallbackSequence
        let blame: DivergenceEntry.Blame = events.isEmpty ? .none : events.count == 1 ? .event : .range
        struct Key: Hashable {
            var path: String, kind: String, primary: JSONValue?, shadow: JSONValue?, cls: DivergenceEntry.Class
        }
        let stateKeys = Set(stateRows.map {
            Key(path: $0.path, kind: $0.kind, primary: $0.primaryValue, shadow: $0.shadowValue, cls: $0.classification)
        })
        struct Shape: Hashable { var path: String, kind: String, primary: JSONValue?, shadow: JSONValue? }
        var earlier: [Shape: DivergenceEntry] = [:]
        for d in recent where d.source == .state {
            earlier[Shape(path: d.path, kind: d.kind, primary: d.primaryValue, shadow: d.shadowValue)] = d
        }
        var lateKeys: Set<Key> = []
        var rows: [DivergenceEntry] = []
        var sessionsByKey: [Key: [String]] = [:]
        var order: [Key] = []

        func add(_ entry: DivergenceEntry, payloadPointer: String?) {
            if let payloadPointer {
                let asState = Key(path: payloadPointer, kind: entry.kind, primary: entry.primaryValue,
                                  shadow: entry.shadowValue, cls: entry.classification)
                if stateKeys.contains(asState) { return }
                let shape = Shape(path: payloadPointer, kind: entry.kind, primary: entry.primaryValue,
                                  shadow: entry.shadowValue)
                if let original = earlier[shape] {
                    var late = entry
                    late.sequence = original.sequence
                    late.blame = original.blame
                    late.classification = original.classification
                    late.knownID = original.knownID
                    late.reason = original.reason
                    let note = "a late message of event \(original.sequence): repeats its state divergence"
                    late.detail = late.detail.map { $0 + "; " + note } ?? note
                    let key = Key(path: late.path, kind: late.kind, primary: late.primaryValue,
                                  shadow: late.shadowValue, cls: late.classification)
                    if lateKeys.insert(key).inserted { judgement.lateRepeats.append(late) }
                    return
                }
            }
            let key = Key(path: entry.path, kind: entry.kind, primary: entry.primaryValue, shadow: entry.shadowValue,
                          cls: entry.classification)
            if sessionsByKey[key] == nil {
                order.append(key)
                rows.append(entry)
            }
            sessionsByKey[key, default: []].append(entry.sessionID ?? "?")
        }

        // A broadcast is the same payload for every session: adopted into and compared once.
        let adoptions = PayloadMemo()
        let comparisons = (0..<max(events.count, 1)).map { _ in PayloadMemo() }
        for (session, original) in streams.sorted(by: { $0.key < $1.key }) {
            guard !original.primary.isEmpty || !original.shadow.isEmpty else { continue }
            let buffers = adoptingIntoMessages(original, memo: adoptions)
            let comparison = bestStreamComparison(buffers, events: events, memos: comparisons)
            judgement.cleanCount += comparison.matchedCount
            judgement.acceptedCount += comparison.acceptedCount
            judgement.ignoredCount += comparison.ignoredCount
            judgement.toleratedCount += comparison.toleratedCount
            for d in comparison.differences {
                let label = "stream:" + d.name
                let where_ = positions(d, buffers)
                switch d.kind {
                case .missing, .extra:
                    add(DivergenceEntry(
                        sequence: sequence, blame: blame, source: .stream, sessionID: session, path: label,
                        kind: d.kind.rawValue, primaryValue: d.primaryIndex.flatMap { buffers.primary[$0].payload },
                        shadowValue: d.shadowIndex.flatMap { buffers.shadow[$0].payload }, classification: .unexpected,
                        detail: where_), payloadPointer: nil)
                case .reordered, .payloadDiffers:
                    if d.kind == .reordered {
                        add(DivergenceEntry(
                            sequence: sequence, blame: blame, source: .stream, sessionID: session, path: label,
                            kind: d.kind.rawValue, primaryValue: d.primaryIndex.flatMap { buffers.primary[$0].payload },
                            shadowValue: d.shadowIndex.flatMap { buffers.shadow[$0].payload },
                            classification: .unexpected, detail: where_), payloadPointer: nil)
                    }
                    for c in d.payload?.differences ?? [] {
                        // A state broadcast's pointers are state paths: within a range, blamed like
                        // the state's differences (the event that can write the path).
                        var entry = row(c, sequence: sequence, blame: blame, source: .stream, sessionID: session,
                                        prefix: label, detail: where_)
                        if events.count > 1, d.name == Self.stateEvent {
                            let (_, event, eventBlame) = attribute(c.difference, among: events)
                            entry.sequence = event.sequence
                            entry.blame = eventBlame
                        }
                        add(entry, payloadPointer: c.difference.path.description)
                    }
                }
            }
        }
        for (i, key) in order.enumerated() {
            let sessions = sessionsByKey[key] ?? []
            if sessions.count > 1 {
                let list = sessions.prefix(5).joined(separator: ", ") + (sessions.count > 5 ? ", ..." : "")
                let detail = rows[i].detail.map { $0 + "; " } ?? ""
                rows[i].detail = detail + "on \(sessions.count) sessions (\(list))"
            }
        }
        return rows
    }

    /// The shadow's messages with the primary's adopted values (its dice):
    /// the k-th message of a name on one side takes them from the k-th of
    /// that name on the other, as a state would.
    private func adoptingIntoMessages(_ buffers: SessionStreams, memo: PayloadMemo) -> SessionStreams {
        guard !evaluator.rules.adopt.isEmpty else { return buffers }
        var result = buffers
        var primaryByName: [String: [JSONValue?]] = [:]
        for m in buffers.primary { primaryByName[m.name, default: []].append(m.payload) }
        var seen: [String: Int] = [:]
        for i in result.shadow.indices {
            let name = result.shadow[i].name
            let k = seen[name, default: 0]
            seen[name] = k + 1
            guard let candidates = primaryByName[name], k < candidates.count, let source = candidates[k],
                let payload = result.shadow[i].payload
            else { continue }
            result.shadow[i].payload = memo.adopting(from: source, into: payload, evaluator: evaluator)
        }
        return result
    }

    /// The comparison of one session's messages under the context of the
    /// compared event; for a range, the event whose context leaves the fewest
    /// unexpected differences (the first on a tie).
    /// (`memos`: one per event, or one when there is none, shared by the sessions.)
    private func bestStreamComparison(_ buffers: SessionStreams, events: [MirroredEvent], memos: [PayloadMemo])
        -> StreamComparison
    {
        guard events.count > 1 else {
            return evaluator.compareStreams(
                primary: buffers.primary, shadow: buffers.shadow, context: events.first?.context, memo: memos[0])
        }
        var best: StreamComparison?
        for (event, memo) in zip(events, memos) {
            let c = evaluator.compareStreams(
                primary: buffers.primary, shadow: buffers.shadow, context: event.context, memo: memo)
            if best == nil || c.differences.count < best!.differences.count { best = c }
            if c.differences.isEmpty { break }
        }
        return best!
    }

    private func positions(_ d: StreamDifference, _ buffers: SessionStreams) -> String {
        switch (d.primaryIndex, d.shadowIndex) {
        case (let p?, let s?): "primary message #\(p + 1) of \(buffers.primary.count), shadow #\(s + 1) of \(buffers.shadow.count)"
        case (let p?, nil): "primary message #\(p + 1) of \(buffers.primary.count); the shadow sent \(buffers.shadow.count)"
        case (nil, let s?): "shadow message #\(s + 1) of \(buffers.shadow.count); the primary sent \(buffers.primary.count)"
        case (nil, nil): ""
        }
    }

    // MARK: acks

    private func judgeAcks(_ acks: [Int64: AckPair], events: [MirroredEvent], into judgement: inout Judgement)
        -> [DivergenceEntry]
    {
        var rows: [DivergenceEntry] = []
        for (sequence, pair) in acks.sorted(by: { $0.key < $1.key }) {
            guard let event = events.first(where: { $0.sequence == sequence }) else { continue }
            let label = "ack:" + event.name
            switch (pair.primary, pair.shadow) {
            case (let p?, let s?):
                let result = evaluator.comparePayloads(p.payload, s.payload, context: event.context)
                judgement.ignoredCount += result.ignoredCount
                judgement.toleratedCount += result.toleratedCount
                judgement.acceptedCount += result.acceptedCount
                if result.isClean { judgement.cleanCount += 1 }
                for c in result.differences {
                    rows.append(row(c, sequence: sequence, blame: .event, source: .ack, sessionID: event.sessionID,
                                    prefix: label))
                }
            case (let p?, nil):
                guard event.mirroredToShadow else { continue }
                rows.append(DivergenceEntry(
                    sequence: sequence, source: .ack, sessionID: event.sessionID, path: label, kind: "missing",
                    primaryValue: p.payload, shadowValue: nil, classification: .unexpected,
                    detail: "the shadow did not acknowledge the event"))
            case (nil, let s?):
                rows.append(DivergenceEntry(
                    sequence: sequence, source: .ack, sessionID: event.sessionID, path: label, kind: "extra",
                    primaryValue: nil, shadowValue: s.payload, classification: .unexpected,
                    detail: "only the shadow acknowledged the event"))
            case (nil, nil):
                continue
            }
        }
        return rows
    }
}
