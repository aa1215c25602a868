import JSONValue
import ScorerState
import Testing

@Suite("Errors")
struct ScorerErrorTests {
    @Test func badInputIsInvalidState() throws {
        var game = makeGame(Docs.playing)
        let outcome = game.receivedEvent(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": "abc"]], now: tableNow)
        let error = try #require(outcome.error)
        #expect(error.code == .invalidState)
        #expect(error.code.rawValue == "INVALID_STATE")
        #expect(error.event == "update_score")
        #expect(error.legacyRaised)
        #expect(error.shortDescription == "bad_input_ValueError")
        #expect(error.description == "INVALID_STATE on update_score: ValueError: invalid literal for int() with base 10: 'abc'")
        let payload = error.errorEventPayload(timestamp: "2026-01-01T00:00:00Z")
        expectSameBytes(
            payload,
            [
                "code": "INVALID_STATE",
                "message": "ValueError: invalid literal for int() with base 10: 'abc'",
                "details": [
                    "event": "update_score",
                    "exception": "ValueError: invalid literal for int() with base 10: 'abc'",
                ],
                "timestamp": "2026-01-01T00:00:00Z",
            ])
    }

    @Test func aRuleIsActionDenied() throws {
        var game = makeGame(Docs.playing)
        let error = try #require(game.receivedEvent("end_turn", arguments: [["player_id": 2]], now: tableNow).error)
        #expect(error.code == .actionDenied)
        #expect(error.legacyRaised == false)
        #expect(error.pythonException == nil)
        #expect(error.shortDescription == "ignored")
        #expect(error.errorEventPayload(timestamp: "t").at("/details") == ["event": "end_turn"])
    }

    @Test func aStoredValueOfTheWrongTypeIsServerError() throws {
        var game = makeGame(Docs.playing.with("/player1/cp", "3"))
        let outcome = game.receivedEvent("increment_cp", arguments: [["player_id": 1, "action": "add"]], now: tableNow)
        let error = try #require(outcome.error)
        #expect(error.code == .serverError)
        #expect(error.pythonException == "TypeError: can only concatenate str (not \"int\") to str")
        #expect(error.shortDescription == "bad_state_TypeError")
        #expect(outcome.ackArguments == nil)
        #expect(outcome.actions.isEmpty)
    }

    @Test func startGameWithoutFirstPlayerIsRefused() throws {
        var game = ScorerGame()
        let outcome = game.receivedEvent("start_game", arguments: [], now: 1)
        let error = try #require(outcome.error)
        #expect(error.code == .actionDenied)
        #expect(error.message == ScorerGame.startGameError)
        #expect(error.shortDescription == "refused")
        #expect(outcome.piAck == ["ok": false, "error": "First turn player not set."])
    }
}
