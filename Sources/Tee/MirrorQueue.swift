/// The ordered, bounded queue of client events on their way to the shadow.
///
/// Pure: no locking, no waiting. Every mirrored event gets the next global
/// sequence number when it is offered, whether it is queued or dropped. When
/// the queue holds `capacity` events, offered events are dropped and recorded
/// as a gap (consecutive drops extend one gap); the gap is dequeued in its
/// place, so the consumer sees events and gaps in sequence order and can tell
/// the comparator to resync.
public struct MirrorQueue<Element> {
    public enum Entry {
        case event(sequence: Int64, Element)
        case gap(SequenceGap)
        /// Not an event: no sequence, never dropped (e.g. "close this session's shadow leg"
        /// after everything it sent before).
        case control(Element)
    }

    public let capacity: Int
    private var entries: [Entry?] = []
    private var head = 0
    private var eventCount = 0
    private var nextSequence: Int64
    /// Events dropped since the queue was created.
    public private(set) var droppedCount = 0

    /// - Parameters:
    ///   - capacity: how many events may wait (at least 1)
    ///   - firstSequence: the sequence number of the first offered event
    public init(capacity: Int, firstSequence: Int64 = 1) {
        precondition(capacity > 0, "a mirror queue needs room for one event")
        self.capacity = capacity
        self.nextSequence = firstSequence
    }

    /// Events waiting (gaps not counted).
    public var depth: Int { eventCount }
    /// Whether nothing (event or gap) is waiting.
    public var isEmpty: Bool { head == entries.count }
    /// The sequence number the next offered event gets.
    public var upcomingSequence: Int64 { nextSequence }

    public enum Offer: Equatable {
        case queued(sequence: Int64)
        case dropped(sequence: Int64)

        public var sequence: Int64 {
            switch self {
            case .queued(let sequence), .dropped(let sequence): sequence
            }
        }
    }

    /// Offers an event; never waits.
    public mutating func offer(_ element: Element) -> Offer {
        let sequence = nextSequence
        nextSequence += 1
        guard eventCount < capacity else {
            droppedCount += 1
            if entries.count > head, let last = entries.last, case .gap(var gap)? = last {
                gap.toSequence = sequence
                gap.count += 1
                entries[entries.count - 1] = .gap(gap)
            } else {
                entries.append(.gap(SequenceGap(fromSequence: sequence, toSequence: sequence, count: 1)))
            }
            return .dropped(sequence: sequence)
        }
        entries.append(.event(sequence: sequence, element))
        eventCount += 1
        return .queued(sequence: sequence)
    }

    /// Queues a control entry behind everything offered so far; never dropped, takes no sequence.
    /// The caller bounds how many there can be (one per session).
    public mutating func enqueueControl(_ element: Element) {
        entries.append(.control(element))
    }

    /// The sequence of the newest event taken by ``next()`` (0: none yet).
    public private(set) var lastTakenSequence: Int64 = 0

    /// Queues a control entry right behind event `sequence` (before every newer event still
    /// waiting); false when a newer event was already taken.
    public mutating func insertControl(_ element: Element, after sequence: Int64) -> Bool {
        guard lastTakenSequence <= sequence else { return false }
        var index = entries.count
        for i in head..<entries.count {
            switch entries[i] {
            case .event(let s, _)? where s > sequence: index = i
            case .gap(let gap)? where gap.fromSequence > sequence: index = i
            default: continue
            }
            break
        }
        entries.insert(.control(element), at: index)
        return true
    }

    /// The oldest entry, or nil when empty.
    public mutating func next() -> Entry? {
        guard head < entries.count, let entry = entries[head] else { return nil }
        entries[head] = nil
        head += 1
        if case .event(let sequence, _) = entry {
            eventCount -= 1
            lastTakenSequence = sequence
        }
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 4 * capacity)
            head = 0
        } else if head >= 1024, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return entry
    }
}

extension MirrorQueue: Sendable where Element: Sendable {}
extension MirrorQueue.Entry: Sendable where Element: Sendable {}
extension MirrorQueue.Entry: Equatable where Element: Equatable {}

/// Mirrored events `fromSequence...toSequence` that never reached the shadow.
public struct SequenceGap: Sendable, Hashable, CustomStringConvertible {
    public var fromSequence: Int64
    public var toSequence: Int64
    /// How many events were lost (the range may hold events of other sessions that did arrive).
    public var count: Int

    public init(fromSequence: Int64, toSequence: Int64, count: Int) {
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.count = count
    }

    public var description: String { "gap \(fromSequence)...\(toSequence) (\(count) lost)" }
}
