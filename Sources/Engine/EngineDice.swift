import ScorerState

/// Where the engine's dice rolls come from.
///
/// The sequence is not persisted: after a restart, seeded dice start again
/// from their seed (the legacy fixture does the same).
public struct EngineDice: DiceSource, Sendable, Equatable {
    private enum Base: Sendable, Equatable {
        case system
        case python(PythonRandomDice)
        case scripted(ScriptedDice)
    }

    private var base: Base

    private init(_ base: Base) { self.base = base }

    /// The system's secure generator (production default).
    public static var system: EngineDice { EngineDice(.system) }

    /// CPython's `random.Random(seed).randint(1, 6)`: the same rolls as the
    /// legacy fixture started with `--seed seed` (or `LEGACY_SEED`).
    public static func seeded(_ seed: Int) -> EngineDice { EngineDice(.python(PythonRandomDice(seed: seed))) }

    /// ``seeded(_:)`` for a decimal seed of any size; nil when `text` is not an integer.
    public static func seeded(decimal text: String) -> EngineDice? {
        PythonRandomDice(decimalSeed: text).map { EngineDice(.python($0)) }
    }

    /// A fixed script of rolls (tests). Rolling past its end is a programming error.
    public static func scripted(_ rolls: [Int]) -> EngineDice { EngineDice(.scripted(ScriptedDice(rolls))) }

    public mutating func roll() -> Int {
        switch base {
        case .system:
            var dice = SystemRandomDice()
            return dice.roll()
        case .python(var dice):
            base = .system  // keep the payload unique while it changes
            defer { base = .python(dice) }
            return dice.roll()
        case .scripted(var dice):
            base = .system
            defer { base = .scripted(dice) }
            return dice.roll()
        }
    }

    /// A label for logs and health: `system`, `seeded` or `scripted`.
    public var kind: String {
        switch base {
        case .system: "system"
        case .python: "seeded"
        case .scripted: "scripted"
        }
    }
}
