import Foundation
import Synchronization

/// Where the proxy keeps its durable role flag and its operator log.
///
/// The executable plugs the SQLite `ProxyStore` in (`ProxyStore+RoleStore.swift`);
/// ``MemoryRoleStore`` serves tests and throwaway runs.
public protocol RoleStore: Sendable {
    /// The upstream that is primary; `.legacy` when never set.
    func primary() async throws -> UpstreamID
    /// Persists the new primary durably (fsynced) before returning.
    func setPrimary(_ primary: UpstreamID, reason: String, at time: Date) async throws
    /// Appends an operator action (`switchover`, `rollback`) with its outcome (`ok`, `refused`, `failed`).
    func logAdmin(_ entry: AdminLogEntry) async throws
}

/// One operator action, as recorded in the admin log.
public struct AdminLogEntry: Sendable, Equatable {
    public var time: Date
    /// `switchover` or `rollback`.
    public var action: String
    /// Who asked (`admin-api 127.0.0.1`, `cli`).
    public var actor: String
    /// `ok`, `refused`, `failed`.
    public var outcome: String
    public var detail: String?

    public init(time: Date, action: String, actor: String, outcome: String, detail: String? = nil) {
        self.time = time
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.detail = detail
    }
}

/// A ``RoleStore`` in memory (nothing survives the process).
public final class MemoryRoleStore: RoleStore {
    private struct State {
        var primary: UpstreamID
        var adminLog: [AdminLogEntry] = []
    }

    private let state: Mutex<State>

    public init(primary: UpstreamID = .legacy) {
        state = Mutex(State(primary: primary))
    }

    public func primary() async throws -> UpstreamID { state.withLock { $0.primary } }

    public func setPrimary(_ primary: UpstreamID, reason: String, at time: Date) async throws {
        state.withLock { $0.primary = primary }
    }

    public func logAdmin(_ entry: AdminLogEntry) async throws {
        state.withLock { $0.adminLog.append(entry) }
    }

    /// Everything logged so far.
    public var adminLog: [AdminLogEntry] { state.withLock { $0.adminLog } }
}
