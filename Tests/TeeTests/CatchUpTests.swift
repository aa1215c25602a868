import Testing

@testable import Tee

/// The switchover's catch-up (pure) and the pacer it drives.
@Suite struct CatchUpTests {
    typealias CatchUp = Switchover.CatchUp<MockClock>
    let clock = MockClock()

    @Test func holdsAtOnceUnderTheBound() {
        var catchUp = CatchUp(backlog: 10, limit: 16, timeout: .seconds(5), now: clock.now)
        #expect(catchUp.sampled(backlog: 10, admitted: 0, now: clock.now) == .hold)
    }

    @Test func admitsHalfOfWhatTheShadowDrainsUntilUnderTheBound() {
        var catchUp = CatchUp(backlog: 100, limit: 16, timeout: .seconds(5), now: clock.now)
        clock.advance(by: .milliseconds(1))
        // 10 processed: 5 may go.
        #expect(catchUp.sampled(backlog: 90, admitted: 0, now: clock.now) == .admit(5))
        clock.advance(by: .milliseconds(1))
        // Those 5 arrived and 10 more were processed: 90 + 5 - 10 = 85.
        #expect(catchUp.sampled(backlog: 85, admitted: 5, now: clock.now) == .admit(5))
        // Odd counts accumulate: 3 processed twice, 1 then 2 admitted.
        clock.advance(by: .milliseconds(1))
        #expect(catchUp.sampled(backlog: 82, admitted: 0, now: clock.now) == .admit(1))
        clock.advance(by: .milliseconds(1))
        #expect(catchUp.sampled(backlog: 80, admitted: 1, now: clock.now) == .admit(2))
        #expect(catchUp.processedCount == 26)
        clock.advance(by: .milliseconds(1))
        #expect(catchUp.sampled(backlog: 16, admitted: 2, now: clock.now) == .hold)
    }

    @Test func refusesQuicklyWhenTheShadowCannotCatchUpInTime() {
        // 10 000 behind, draining 1 000 a second: 10 s > 5 s. Refused once the rate was watched 250 ms.
        var catchUp = CatchUp(backlog: 10_000, limit: 16, timeout: .seconds(5), now: clock.now)
        var backlog = 10_000
        var step = CatchUp.Step.admit(0)
        var ticks = 0
        while case .admit = step {
            clock.advance(by: .milliseconds(10))
            backlog -= 10
            ticks += 1
            step = catchUp.sampled(backlog: backlog, admitted: 0, now: clock.now)
        }
        #expect(step == .refuse(.shadowBehind(backlog: backlog, perSecond: 1000, limit: .seconds(5))))
        #expect(ticks == 25)
        #expect(step.refusal?.isRefusal == true)
        #expect(step.refusal?.shortDescription == "shadow_behind")
    }

    @Test func admitsAQuarterWhenHalfTheRateWouldBeTooSlow() {
        // 3 000 behind at 1 000 a second: 6 s admitting half does not fit in 5 s, 4 s admitting a quarter does.
        var catchUp = CatchUp(backlog: 3_000, limit: 16, timeout: .seconds(5), now: clock.now)
        var backlog = 3_000
        var admitted = 0
        for tick in 0..<40 {
            clock.advance(by: .milliseconds(10))
            backlog -= 10
            let step = catchUp.sampled(backlog: backlog, admitted: 0, now: clock.now)
            guard case .admit(let count) = step else {
                Issue.record("tick \(tick): \(step)")
                return
            }
            if tick >= 24 { admitted += count }
        }
        // From 250 ms on (tick 24), 16 ticks of 10 processed, a quarter admitted.
        #expect(admitted == 40)
        // 4 500 behind at 1 000 a second: refused (4.5 s left would need 6 s at a quarter).
        var hopeless = CatchUp(backlog: 4_800, limit: 16, timeout: .seconds(5), now: clock.now)
        clock.advance(by: .milliseconds(300))
        #expect(hopeless.sampled(backlog: 4_500, admitted: 0, now: clock.now).refusal?.shortDescription == "shadow_behind")
    }

    @Test func aStalledShadowIsRefusedAndTheDeadlineHolds() {
        var catchUp = CatchUp(backlog: 50, limit: 16, timeout: .seconds(5), now: clock.now)
        clock.advance(by: .milliseconds(100))
        #expect(catchUp.sampled(backlog: 50, admitted: 0, now: clock.now) == .admit(0))
        clock.advance(by: .milliseconds(200))
        if case .refuse(let refusal) = catchUp.sampled(backlog: 50, admitted: 0, now: clock.now) {
            #expect(refusal.shortDescription == "shadow_behind")
        } else {
            Issue.record("a shadow that processed nothing in 300 ms should be refused")
        }
        var late = CatchUp(backlog: 50, limit: 16, timeout: .milliseconds(100), now: clock.now)
        clock.advance(by: .milliseconds(100))
        #expect(late.sampled(backlog: 40, admitted: 0, now: clock.now) == .refuse(.drainTimeout(.milliseconds(100))))
    }

    @Test func thePacerLetsGrantedEventsThroughInOrderAndEverythingOnceEnded() async {
        let pacer = ShadowPacer()
        let order = Order()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                group.addTask {
                    await pacer.admit()
                    order.append(index)
                }
                // Each waits before the next one arrives.
                while pacer.waiting < index + 1 { await Task.yield() }
            }
            #expect(order.values.isEmpty)
            pacer.grant(2)
            while order.values.count < 2 { await Task.yield() }
            #expect(order.values == [0, 1])
            #expect(pacer.takeAdmitted() == 2)
            #expect(pacer.waiting == 1)
            pacer.end()
            await group.waitForAll()
        }
        #expect(order.values == [0, 1, 2])
        // Unused tokens let a later event through at once; ended, everything goes.
        let second = ShadowPacer()
        second.grant(1)
        await second.admit()
        #expect(second.takeAdmitted() == 1)
        second.end()
        await second.admit()
    }
}

extension Switchover.CatchUp.Step {
    var refusal: Switchover.Refusal? {
        if case .refuse(let refusal) = self { return refusal }
        return nil
    }
}

import Synchronization

private final class Order: Sendable {
    private let list = Mutex<[Int]>([])
    func append(_ value: Int) { list.withLock { $0.append(value) } }
    var values: [Int] { list.withLock { $0 } }
}
