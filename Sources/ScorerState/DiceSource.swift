/// Where the game's dice rolls come from, injected like a clock.
///
/// The legacy rolls one die per `deployment_roll` / `first_turn_roll` event
/// with `random.randint(1, 6)`, before it looks the player up (so a roll for
/// an unknown player still consumes a die).
public protocol DiceSource {
    /// One die: a number from 1 to 6.
    mutating func roll() -> Int
}

/// Dice from the system's cryptographically secure generator (production).
public struct SystemRandomDice: DiceSource, Sendable {
    public init() {}

    public mutating func roll() -> Int {
        var generator = SystemRandomNumberGenerator()
        return Int.random(in: 1...6, using: &generator)
    }
}

/// Dice that replay a fixed script (tests, or adopting the primary's rolls).
///
/// Rolling past the end of the script is a programming error.
public struct ScriptedDice: DiceSource, Sendable, Equatable {
    /// The rolls not yet used, in order.
    public private(set) var remaining: [Int]
    /// How many rolls have been taken.
    public private(set) var rolled: Int = 0

    public init(_ rolls: [Int]) {
        precondition(rolls.allSatisfy { (1...6).contains($0) }, "a die shows 1 to 6")
        remaining = rolls
    }

    public mutating func roll() -> Int {
        precondition(!remaining.isEmpty, "ScriptedDice: no roll left (rolled \(rolled))")
        rolled += 1
        return remaining.removeFirst()
    }
}
