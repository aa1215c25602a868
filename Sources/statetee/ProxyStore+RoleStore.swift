import Foundation
import Storage
import Tee

/// The proxy's durable roles and admin log live in the SQLite `ProxyStore` in the data directory.
extension ProxyStore: RoleStore {
    public func primary() async throws -> UpstreamID {
        try await roles().primary == .engine ? .engine : .legacy
    }

    public func setPrimary(_ primary: UpstreamID, reason: String, at time: Date) async throws {
        try await setRoles(Roles(primary: primary == .engine ? .engine : .legacy), reason: reason, at: time)
    }

    public func logAdmin(_ entry: AdminLogEntry) async throws {
        try await logAdmin(
            AdminLogRecord(
                time: entry.time, action: entry.action, actor: entry.actor, outcome: entry.outcome, detail: entry.detail))
    }
}
