import Engine
import Foundation
import JSONValue
import Storage
import Synchronization

/// A wall clock the test moves by hand.
final class ManualClock: Sendable {
    private let time: Mutex<Double>

    init(_ start: Double = 1_000_000.0) { time = Mutex(start) }

    var now: Double { time.withLock { $0 } }

    func advance(by seconds: Double) { time.withLock { $0 += seconds } }

    var engineClock: EngineClock { EngineClock { self.now } }
}

/// Records what an emitter was called with.
final class EmissionLog: Sendable {
    private let emissions = Mutex<[EngineEmission]>([])

    var all: [EngineEmission] { emissions.withLock { $0 } }

    var emitter: EngineEmitter {
        { event, arguments in self.emissions.withLock { $0.append(EngineEmission(event: event, arguments: arguments)) } }
    }

    func named(_ event: String) -> [EngineEmission] { all.filter { $0.event == event } }

    func clear() { emissions.withLock { $0 = [] } }
}

/// A fresh temporary directory, removed by `body`'s end.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("engine-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

extension JSONValue {
    func at(_ path: String) -> JSONValue? { value(at: JSONPointer(path)!) }

    /// A copy without the values at `paths` (missing ones are ignored).
    func removing(_ paths: [String]) -> JSONValue {
        var copy = self
        for path in paths { copy.set(nil, at: JSONPointer(path)!) }
        return copy
    }
}

/// The Pi's set-up, up to (not including) `start_game`, with the dice the
/// test chooses: player 1 wins the deployment roll-off 5-2 and the first
/// turn roll-off 6-1, chooses to attack and to go first.
let setUpEvents: [(String, [JSONValue])] = [
    ("start_new_game", []),
    ("set_player_name", [["player_id": 1, "name": "Alice"]]),
    ("set_player_name", [["player_id": 2, "name": "Bob"]]),
    ("start_deployment_phase", []),
    ("deployment_roll", [["player_id": 1]]),
    ("deployment_roll", [["player_id": 2]]),
    ("deployment_role_choice", [["chooser_id": 1, "chose_attacker": true]]),
    ("start_first_turn_phase", []),
    ("first_turn_roll", [["player_id": 1]]),
    ("first_turn_roll", [["player_id": 2]]),
    ("first_turn_choice", [["chooser_id": 1, "chose_self": true]]),
]
let setUpDice = [5, 2, 6, 1]
