import Foundation
import JSONValue

/// Runs `body` with a fresh, empty directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("storage-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Copies the database file and its WAL (not the shared-memory index, which
/// SQLite rebuilds) as they are on disk right now: what a `kill -9` leaves.
func copyDatabaseFiles(_ path: String, to destination: String) throws {
    let fm = FileManager.default
    try fm.copyItem(atPath: path, toPath: destination)
    if fm.fileExists(atPath: path + "-wal") {
        try fm.copyItem(atPath: path + "-wal", toPath: destination + "-wal")
    }
}

/// A fixed time base, so dates round-trip exactly through Unix seconds.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

/// The legacy's fresh state, as PROTOCOL.md gives it.
func defaultState() -> JSONValue {
    func player(_ name: String) -> JSONValue {
        [
            "name": .string(name), "primary_score": 0, "secondary_score": 0, "total_score": 0, "cp": 1,
            "deployment_roll": 0, "first_turn_roll": 0, "player_elapsed_time_seconds": 0.0,
            "player_time_display": "00:00:00",
        ]
    }
    return [
        "player1": player("Player 1"), "player2": player("Player 2"),
        "current_round": 0, "active_player_id": nil, "deployment_initiative_winner_id": nil,
        "deployment_attacker_id": nil, "deployment_defender_id": nil, "first_turn_choice_winner_id": nil,
        "first_player_of_game_id": nil, "last_round_played": 0, "game_phase": "setup",
        "game_timer": [
            "status": "stopped", "start_time": nil, "elapsed_display": "00:00:00", "turn_segment_start_time": nil,
        ],
    ]
}

extension JSONValue {
    /// A copy with the value at a slash-separated path replaced.
    func setting(_ path: String, _ value: JSONValue) -> JSONValue {
        var copy = self
        let ok = copy.set(value, at: JSONPointer(path)!)
        precondition(ok, "no parent for \(path)")
        return copy
    }
}
