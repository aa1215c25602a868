import Testing

@testable import Tee

@Suite struct SwitchoverStateMachineTests {
    typealias Machine = Switchover.StateMachine<MockClock>
    let clock = MockClock()
    let ready = Readiness(ready: true, reason: "clean")
    let notReady = Readiness(ready: false, reason: "3 of 50 clean checkpoints")

    private func request(
        _ machine: inout Machine, to target: UpstreamID = .engine, force: Bool = false, readiness: Readiness? = nil,
        reachable: Result<Void, Switchover.Refusal> = .success(())
    ) -> Machine.RequestAction {
        machine.requested(
            target: target, force: force, readiness: readiness ?? ready, targetReachable: reachable, now: clock.now)
    }

    @Test func happyPathFlipsAfterDrainAndHandoff() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        #expect(request(&machine) == .hold(target: .engine))
        #expect(machine.phase == .draining)
        #expect(machine.target == .engine)
        clock.advance(by: .milliseconds(100))
        #expect(machine.drainChecked(idle: false, now: clock.now) == .wait)
        #expect(machine.drainChecked(idle: true, now: clock.now) == .handOff)
        #expect(machine.phase == .handingOff)
        #expect(machine.compared(differs: false, summary: "", targetCanLoad: false) == .flip(target: .engine))
        #expect(machine.phase == .flipping)
        #expect(machine.primary == .legacy)  // not before it is durable
        #expect(machine.persisted(nil) == .swap(primary: .engine))
        #expect(machine.primary == .engine)
        #expect(machine.phase == .idle)
        // Rollback is the same sequence back.
        #expect(request(&machine, to: .legacy) == .hold(target: .legacy))
        #expect(machine.drainChecked(idle: true, now: clock.now) == .handOff)
        #expect(machine.compared(differs: false, summary: "", targetCanLoad: false) == .flip(target: .legacy))
        #expect(machine.persisted(nil) == .swap(primary: .legacy))
        #expect(machine.primary == .legacy)
    }

    @Test func gateRefusesWhenNotReadyUnlessForced() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        #expect(request(&machine, readiness: notReady) == .refuse(.notReady("3 of 50 clean checkpoints")))
        #expect(machine.phase == .idle)
        #expect(request(&machine, force: true, readiness: notReady) == .hold(target: .engine))
    }

    @Test func refusesTheCurrentPrimaryAnUnreachableTargetAndASecondRequest() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        #expect(request(&machine, to: .legacy) == .refuse(.alreadyPrimary(.legacy)))
        #expect(
            request(&machine, force: true, reachable: .failure(.targetUnavailable("degraded")))
                == .refuse(.targetUnavailable("degraded")))
        #expect(request(&machine) == .hold(target: .engine))
        #expect(request(&machine) == .refuse(.busy))
    }

    @Test func drainTimesOutAtTheDeadlineLeavingRolesUnchanged() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(2))
        _ = request(&machine)
        clock.advance(by: .milliseconds(1999))
        #expect(machine.drainChecked(idle: false, now: clock.now) == .wait)
        clock.advance(by: .milliseconds(1))
        #expect(machine.drainChecked(idle: false, now: clock.now) == .abort(.drainTimeout(.seconds(2))))
        #expect(machine.phase == .idle)
        #expect(machine.primary == .legacy)
        #expect(request(&machine) == .hold(target: .engine))  // may try again
    }

    @Test func differingStateIsLoadedIntoAnEngine() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        _ = request(&machine)
        _ = machine.drainChecked(idle: true, now: clock.now)
        #expect(machine.compared(differs: true, summary: "/player1/cp", targetCanLoad: true) == .load(target: .engine))
        #expect(machine.loaded(nil) == .flip(target: .engine))
        #expect(machine.persisted(nil) == .swap(primary: .engine))
    }

    @Test func failedLoadAborts() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        _ = request(&machine)
        _ = machine.drainChecked(idle: true, now: clock.now)
        _ = machine.compared(differs: true, summary: "x", targetCanLoad: true)
        #expect(machine.loaded("HTTP 500") == .abort(.handoffFailed("HTTP 500")))
        #expect(machine.primary == .legacy)
        #expect(machine.phase == .idle)
    }

    @Test func differingLegacyIsRefusedUnlessForced() {
        var machine = Machine(primary: .engine, drainTimeout: .seconds(5))
        _ = request(&machine, to: .legacy)
        _ = machine.drainChecked(idle: true, now: clock.now)
        let action = machine.compared(differs: true, summary: "/player1/cp: 3 vs 4", targetCanLoad: false)
        #expect(action == .abort(.stateDiffers("/player1/cp: 3 vs 4")))
        #expect(machine.primary == .engine)

        _ = request(&machine, to: .legacy, force: true)
        _ = machine.drainChecked(idle: true, now: clock.now)
        #expect(machine.compared(differs: true, summary: "", targetCanLoad: false) == .flip(target: .legacy))
        #expect(machine.persisted(nil) == .swap(primary: .legacy))
    }

    @Test func persistFailureAbortsWithoutFlipping() {
        var machine = Machine(primary: .legacy, drainTimeout: .seconds(5))
        _ = request(&machine)
        _ = machine.drainChecked(idle: true, now: clock.now)
        _ = machine.compared(differs: false, summary: "", targetCanLoad: false)
        #expect(machine.persisted("disk full") == .abort(.persistFailed("disk full")))
        #expect(machine.primary == .legacy)
    }

    @Test func refusalsDescribeThemselves() {
        #expect(Switchover.Refusal.notReady("x").description.contains("--force"))
        #expect(Switchover.Refusal.stateDiffers("d").description.contains("no load API"))
        #expect(Switchover.Refusal.notReady("x").isRefusal)
        #expect(!Switchover.Refusal.drainTimeout(.seconds(1)).isRefusal)
        #expect(Switchover.Refusal.busy.shortDescription == "busy")
    }
}
