import JSONValue
import Synchronization

extension TeeProxy {
    /// Mode, upstreams (role, endpoint, health), sessions, mirror queue, counters, readiness.
    public func status() async -> JSONValue {
        let (primary, phase, last, sessionCount) = withRegistry {
            ($0.primary, $0.machine.phase, $0.lastSwitchover, $0.sessions.count)
        }
        let readiness = await readiness(for: primary.other)
        var upstreams: JSONObject = [:]
        for upstream in UpstreamID.allCases {
            let health = monitor(upstream).health
            var entry: JSONObject = [
                "role": .string(upstream == primary ? "primary" : "shadow"),
                "endpoint": .string(configuration.endpoint(of: upstream).description),
                "health": .string(health.name),
                "relayed": .int(counters.relayed(upstream)),
            ]
            if let reason = health.reason { entry["reason"] = .string(reason) }
            upstreams[upstream.rawValue] = .object(entry)
        }
        let shadowHealth = monitor(primary.other).health
        var object: JSONObject = [
            "mode": .string(primary == .legacy ? "legacy-primary" : "engine-primary"),
            "primary": .string(primary.rawValue),
            "shadow": .string(primary.other.rawValue),
            "shadow_health": .string(shadowHealth.name),
            "switchover": .string(phase.rawValue),
            "upstreams": .object(upstreams),
            "sessions": .int(sessionCount),
            "queue": [
                "depth": .int(mirrorQueue.depth),
                "capacity": .int(configuration.mirrorCapacity),
                "dropped": .int(mirrorQueue.droppedCount),
                "next_sequence": .int(Int(mirrorQueue.upcomingSequence)),
            ],
            "mirrored": .int(counters.mirrored.load(ordering: .relaxed)),
            "suppressed": .int(counters.suppressed.load(ordering: .relaxed)),
            "gaps": .int(counters.gaps.load(ordering: .relaxed)),
            "lost_events": .int(counters.lostEvents.load(ordering: .relaxed)),
            "shadow_leg_failures": .int(counters.shadowLegFailures.load(ordering: .relaxed)),
            "readiness": [
                "ready": .bool(readiness.ready), "reason": .string(readiness.reason), "details": readiness.details,
            ],
        ]
        if let last { object["last_switchover"] = last.json }
        return .object(object)
    }
}
