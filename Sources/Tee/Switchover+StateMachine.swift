/// The switchover (and rollback) as a pure state machine: events in, actions
/// out. ``TeeProxy`` carries the actions out; no I/O, no clock reads here.
///
/// ```
/// idle ──request──► draining ──drained──► handingOff ──compared──► (loading) ──► flipping ──persisted──► idle (new primary)
///                      │ deadline              │ differs, cannot load            │ persist failed
///                      └────────────── abort: release held frames, roles unchanged ┘
/// ```
public enum Switchover {
    /// Why a switchover did not happen.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        enum Base: Equatable, Sendable {
            case busy
            case alreadyPrimary(UpstreamID)
            case targetUnavailable(String)
            case notReady(String)
            case drainTimeout(Duration)
            case shadowBehind(backlog: Int, perSecond: Int, limit: Duration)
            case stateDiffers(String)
            case handoffFailed(String)
            case persistFailed(String)
        }

        let base: Base

        /// Another switchover is in progress.
        public static let busy = Self(base: .busy)
        /// The requested upstream already is the primary.
        public static func alreadyPrimary(_ upstream: UpstreamID) -> Self { Self(base: .alreadyPrimary(upstream)) }
        /// The new primary is not reachable.
        public static func targetUnavailable(_ why: String) -> Self { Self(base: .targetUnavailable(why)) }
        /// The readiness gate said no (and the request was not forced).
        public static func notReady(_ why: String) -> Self { Self(base: .notReady(why)) }
        /// In-flight work did not settle in time.
        public static func drainTimeout(_ limit: Duration) -> Self { Self(base: .drainTimeout(limit)) }
        /// The shadow's backlog (mirror queue and unanswered copies) cannot fall under the hold
        /// bound within the drain timeout at the rate it was seen to drain. Nothing was held.
        public static func shadowBehind(backlog: Int, perSecond: Int, limit: Duration) -> Self {
            Self(base: .shadowBehind(backlog: backlog, perSecond: perSecond, limit: limit))
        }
        /// The states differ and the new primary cannot be loaded (the legacy has no load API).
        public static func stateDiffers(_ summary: String) -> Self { Self(base: .stateDiffers(summary)) }
        /// Reading or loading state failed.
        public static func handoffFailed(_ why: String) -> Self { Self(base: .handoffFailed(why)) }
        /// The new roles could not be written durably.
        public static func persistFailed(_ why: String) -> Self { Self(base: .persistFailed(why)) }

        /// True for a refusal at the gate or handoff (`refused` in the admin log), false for a failure
        /// while draining, loading or persisting (`failed`).
        public var isRefusal: Bool {
            switch base {
            case .busy, .alreadyPrimary, .targetUnavailable, .notReady, .shadowBehind, .stateDiffers: true
            case .drainTimeout, .handoffFailed, .persistFailed: false
            }
        }

        /// Label-safe name (admin log, metrics, JSON).
        public var shortDescription: String {
            switch base {
            case .busy: "busy"
            case .alreadyPrimary: "already_primary"
            case .targetUnavailable: "target_unavailable"
            case .notReady: "not_ready"
            case .drainTimeout: "drain_timeout"
            case .shadowBehind: "shadow_behind"
            case .stateDiffers: "state_differs"
            case .handoffFailed: "handoff_failed"
            case .persistFailed: "persist_failed"
            }
        }

        public var description: String {
            switch base {
            case .busy: "another switchover is in progress"
            case .alreadyPrimary(let upstream): "\(upstream) already is the primary"
            case .targetUnavailable(let why): "the new primary is not reachable: \(why)"
            case .notReady(let why): "the comparator is not ready (\(why)); use --force to override"
            case .drainTimeout(let limit): "in-flight work did not drain within \(limit); nothing changed"
            case .shadowBehind(let backlog, let perSecond, let limit):
                "the shadow is \(backlog) events behind and drains about \(perSecond) a second: it cannot catch up within \(limit); nothing was held, nothing changed"
            case .stateDiffers(let summary):
                "the new primary's state differs from the current primary's and it has no load API (\(summary)); use --force to switch anyway"
            case .handoffFailed(let why): "state handoff failed: \(why)"
            case .persistFailed(let why): "could not persist the new roles: \(why)"
            }
        }
    }

    /// The phase shown in `/status`.
    public enum Phase: String, Sendable, Equatable {
        case idle, draining, handingOff = "handing_off", flipping
    }

    public struct StateMachine<C: Clock>: Sendable where C.Duration == Duration {
        enum State: Equatable {
            case idle
            case draining(target: UpstreamID, force: Bool, deadline: C.Instant)
            case handingOff(target: UpstreamID, force: Bool)
            case flipping(target: UpstreamID)
        }

        public let drainTimeout: Duration
        public private(set) var primary: UpstreamID
        private(set) var state: State = .idle

        public init(primary: UpstreamID, drainTimeout: Duration) {
            self.primary = primary
            self.drainTimeout = drainTimeout
        }

        public var phase: Phase {
            switch state {
            case .idle: .idle
            case .draining: .draining
            case .handingOff: .handingOff
            case .flipping: .flipping
            }
        }

        /// The upstream becoming primary while a switchover runs.
        public var target: UpstreamID? {
            switch state {
            case .idle: nil
            case .draining(let target, _, _), .handingOff(let target, _), .flipping(let target): target
            }
        }

        public enum RequestAction: Equatable, Sendable {
            /// Start holding client frames and wait for in-flight work.
            case hold(target: UpstreamID)
            case refuse(Refusal)
        }

        /// A switchover to `target` was asked for.
        public mutating func requested(
            target: UpstreamID, force: Bool, readiness: Readiness, targetReachable: Result<Void, Refusal>, now: C.Instant
        ) -> RequestAction {
            guard state == .idle else { return .refuse(.busy) }
            guard target != primary else { return .refuse(.alreadyPrimary(target)) }
            if case .failure(let refusal) = targetReachable { return .refuse(refusal) }
            guard force || readiness.ready else { return .refuse(.notReady(readiness.reason)) }
            state = .draining(target: target, force: force, deadline: now.advanced(by: drainTimeout))
            return .hold(target: target)
        }

        public enum DrainAction: Equatable, Sendable {
            case wait
            /// Read both states and compare them.
            case handOff
            /// Release the held frames; roles unchanged.
            case abort(Refusal)
        }

        /// Progress of the drain: `idle` when nothing is in flight (queue empty,
        /// no pending acks, primary state settled).
        public mutating func drainChecked(idle: Bool, now: C.Instant) -> DrainAction {
            guard case .draining(let target, let force, let deadline) = state else {
                preconditionFailure("drain checked outside a drain")
            }
            if idle {
                state = .handingOff(target: target, force: force)
                return .handOff
            }
            if now >= deadline {
                state = .idle
                return .abort(.drainTimeout(drainTimeout))
            }
            return .wait
        }

        public enum HandoffAction: Equatable, Sendable {
            /// States agree (after rules): persist and flip.
            case flip(target: UpstreamID)
            /// Load the current primary's state into the target, then call ``loaded(_:)``.
            case load(target: UpstreamID)
            case abort(Refusal)
        }

        /// The handoff compared both states.
        public mutating func compared(differs: Bool, summary: String, targetCanLoad: Bool) -> HandoffAction {
            guard case .handingOff(let target, let force) = state else {
                preconditionFailure("states compared outside a handoff")
            }
            if !differs {
                state = .flipping(target: target)
                return .flip(target: target)
            }
            if targetCanLoad { return .load(target: target) }
            if force {
                state = .flipping(target: target)
                return .flip(target: target)
            }
            state = .idle
            return .abort(.stateDiffers(summary))
        }

        /// Reading, comparing or loading state failed (`nil` error: the load succeeded).
        public mutating func loaded(_ failure: String?) -> HandoffAction {
            guard case .handingOff(let target, _) = state else { preconditionFailure("load finished outside a handoff") }
            if let failure {
                state = .idle
                return .abort(.handoffFailed(failure))
            }
            state = .flipping(target: target)
            return .flip(target: target)
        }

        /// The state read failed before any comparison.
        public mutating func handoffFailed(_ why: String) -> Refusal {
            guard case .handingOff = state else { preconditionFailure("handoff failed outside a handoff") }
            state = .idle
            return .handoffFailed(why)
        }

        public enum FlipAction: Equatable, Sendable {
            /// Swap every session's relay to `primary`, refresh the clients, release the held frames.
            case swap(primary: UpstreamID)
            case abort(Refusal)
        }

        /// The new roles were (or could not be) written durably.
        public mutating func persisted(_ failure: String?) -> FlipAction {
            guard case .flipping(let target) = state else { preconditionFailure("persisted outside a flip") }
            state = .idle
            if let failure { return .abort(.persistFailed(failure)) }
            primary = target
            return .swap(primary: target)
        }
    }
}

extension Switchover {
    /// The catch-up before the hold, as a pure decision over backlog samples: the
    /// shadow's backlog (mirror queue plus copies it has not answered) must fall under
    /// `limit` before the clients are held, so that the hold lasts only as long as
    /// the shadow needs for those last few events. Meanwhile the clients' events are
    /// paced (admitted at half the rate the shadow drains, a quarter when half would
    /// be too slow) instead of held: clients keep getting answers, slower, and the
    /// backlog shrinks. When it cannot fall under `limit` before the deadline even
    /// so, at the drain rate seen so far (watched for `observation` first), the
    /// switchover is refused at once: nothing was held.
    ///
    /// Call ``sampled(backlog:admitted:now:)`` on every tick.
    public struct CatchUp<C: Clock>: Sendable where C.Duration == Duration {
        public let limit: Int
        public let timeout: Duration
        /// How long the drain rate is watched before a refusal on its strength.
        public let observation: Duration
        private let started: C.Instant
        private var lastBacklog: Int
        private var processed = 0
        private var progressAt: C.Instant
        private var credit = 0.0

        public init(backlog: Int, limit: Int, timeout: Duration, observation: Duration = .milliseconds(250), now: C.Instant) {
            self.limit = limit
            self.timeout = timeout
            self.observation = observation
            self.started = now
            self.lastBacklog = backlog
            self.progressAt = now
        }

        public enum Step: Equatable, Sendable {
            /// Under the bound: hold the clients now.
            case hold
            /// Let this many more client events through before the next tick (0: none).
            case admit(Int)
            case refuse(Refusal)
        }

        /// Events the shadow processed since the start (backlog gone down, admitted events included).
        public var processedCount: Int { processed }

        /// A new sample: the backlog now, and the events admitted since the last sample.
        public mutating func sampled(backlog: Int, admitted: Int, now: C.Instant) -> Step {
            let done = max(0, lastBacklog + admitted - backlog)
            processed += done
            lastBacklog = backlog
            if done > 0 { progressAt = now }
            if backlog <= limit { return .hold }
            let elapsed = started.duration(to: now)
            let remaining = timeout - elapsed
            guard remaining > .zero else { return .refuse(.drainTimeout(timeout)) }
            let seconds = Self.seconds(elapsed)
            let rate = seconds > 0 ? Double(processed) / seconds : 0
            let excess = Double(backlog - limit)
            // Clients keep half the shadow's rate; a quarter when half would not let it catch up in time.
            var share = 0.5
            if elapsed >= observation {
                let stalled = progressAt.duration(to: now) >= observation * 4
                let left = Self.seconds(remaining)
                if !stalled, rate > 0, excess / (rate * (1 - share)) > left { share = 0.25 }
                // Not even so: refuse now rather than starve the clients, or hold them for long.
                if stalled || rate <= 0 || excess / (rate * (1 - share)) > left {
                    return .refuse(.shadowBehind(backlog: backlog, perSecond: Int(rate.rounded()), limit: timeout))
                }
            }
            credit += Double(done) * share
            let admit = Int(credit)
            credit -= Double(admit)
            return .admit(admit)
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }
}
