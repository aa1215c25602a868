import Testing

@testable import Tee

@Suite struct MirrorQueueTests {
    typealias Queue = MirrorQueue<String>

    private func drain(_ queue: inout Queue) -> [Queue.Entry] {
        var out: [Queue.Entry] = []
        while let entry = queue.next() { out.append(entry) }
        return out
    }

    @Test func keepsSequenceOrder() {
        var queue = Queue(capacity: 10)
        #expect(queue.offer("a") == .queued(sequence: 1))
        #expect(queue.offer("b") == .queued(sequence: 2))
        #expect(queue.depth == 2)
        #expect(queue.next() == .event(sequence: 1, "a"))
        #expect(queue.offer("c") == .queued(sequence: 3))
        #expect(drain(&queue) == [.event(sequence: 2, "b"), .event(sequence: 3, "c")])
        #expect(queue.isEmpty)
        #expect(queue.next() == nil)
    }

    @Test func overflowDropsAndMarksOneGapInPlace() {
        var queue = Queue(capacity: 2)
        _ = queue.offer("a")
        _ = queue.offer("b")
        #expect(queue.offer("c") == .dropped(sequence: 3))
        #expect(queue.offer("d") == .dropped(sequence: 4))
        #expect(queue.depth == 2)
        #expect(queue.droppedCount == 2)
        #expect(queue.next() == .event(sequence: 1, "a"))
        #expect(queue.offer("e") == .queued(sequence: 5))  // room again: queued after the gap
        #expect(
            drain(&queue) == [
                .event(sequence: 2, "b"), .gap(SequenceGap(fromSequence: 3, toSequence: 4, count: 2)), .event(sequence: 5, "e"),
            ])
    }

    @Test func separateOverflowsMakeSeparateGaps() {
        var queue = Queue(capacity: 1)
        _ = queue.offer("a")
        _ = queue.offer("x")
        _ = queue.next()
        _ = queue.offer("b")
        _ = queue.offer("y")
        #expect(
            drain(&queue) == [
                .gap(SequenceGap(fromSequence: 2, toSequence: 2, count: 1)), .event(sequence: 3, "b"),
                .gap(SequenceGap(fromSequence: 4, toSequence: 4, count: 1)),
            ])
    }

    @Test func controlEntriesKeepTheirPlaceTakeNoSequenceAndAreNeverDropped() {
        var queue = Queue(capacity: 1)
        _ = queue.offer("a")
        queue.enqueueControl("close")
        #expect(queue.offer("b") == .dropped(sequence: 2))
        queue.enqueueControl("close2")
        #expect(queue.depth == 1)
        #expect(
            drain(&queue) == [
                .event(sequence: 1, "a"), .control("close"), .gap(SequenceGap(fromSequence: 2, toSequence: 2, count: 1)),
                .control("close2"),
            ])
        #expect(queue.upcomingSequence == 3)
    }

    @Test func sequencesStayGapFreeOverManyCycles() {
        var queue = Queue(capacity: 3, firstSequence: 100)
        var seen: [Int64] = []
        for round in 0..<2000 {
            for index in 0..<(round % 5) { _ = queue.offer("\(round).\(index)") }
            for entry in drain(&queue) {
                switch entry {
                case .event(let sequence, _): seen.append(sequence)
                case .gap(let gap):
                    #expect(gap.count == Int(gap.toSequence - gap.fromSequence + 1))
                    seen.append(contentsOf: gap.fromSequence...gap.toSequence)
                case .control: Issue.record("no control entry was queued")
                }
            }
        }
        #expect(seen == Array(100..<(100 + Int64(seen.count))))
        #expect(queue.depth == 0)
    }

    @Test func aControlEntryGoesRightBehindItsEventAheadOfNewerOnes() {
        var queue = Queue(capacity: 10)
        for name in ["a", "b", "c"] { _ = queue.offer(name) }
        let first = queue.next()
        #expect(first == .event(sequence: 1, "a"))
        // Behind event 2, ahead of 3.
        var inserted = queue.insertControl("write", after: 2)
        #expect(inserted)
        // Behind event 1, which was taken already: at the head.
        inserted = queue.insertControl("first", after: 1)
        #expect(inserted)
        #expect(drain(&queue) == [.control("first"), .event(sequence: 2, "b"), .control("write"), .event(sequence: 3, "c")])
        // Event 3 is taken: nothing can go behind 2 any more; behind 3 (nothing newer) it is last.
        inserted = queue.insertControl("late", after: 2)
        #expect(!inserted)
        inserted = queue.insertControl("end", after: 3)
        #expect(inserted)
        _ = queue.offer("d")
        #expect(drain(&queue) == [.control("end"), .event(sequence: 4, "d")])
    }
}
