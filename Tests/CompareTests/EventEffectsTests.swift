import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// ``EventEffects/mayWrite(_:event:)``: which paths an event can write, from its templates
/// (fixed ones and ones naming payload members).
@Suite struct EventEffectsTests {
    private func event(_ name: String, _ payload: JSONValue? = nil) -> MirroredEvent {
        MirroredEvent(
            sequence: 1, sessionID: "s", clientRole: "phone", name: name, arguments: payload.map { [$0] } ?? [],
            receivedAt: Date(timeIntervalSince1970: 0))
    }

    private func path(_ text: String) -> JSONPointer { JSONPointer(text)! }

    @Test func templatesCoverTheirPathsWithThePayloadsMembersSubstituted() {
        let effects = EventEffects([
            "score": ["/player{player_id}/score", "/status_message"],
            "named": ["/teams/{team}/name"],
            "everything": [""],
            "nothing": [],
            "broken": ["no-leading-slash", "/ok"],
        ])
        let two = event("score", ["player_id": 2])
        #expect(effects.mayWrite(path("/player2/score"), event: two) == true)
        #expect(effects.mayWrite(path("/player1/score"), event: two) == false)
        #expect(effects.mayWrite(path("/status_message"), event: two) == true)
        // A member that is missing or not an integer or plain string stands for any value.
        #expect(effects.mayWrite(path("/player1/score"), event: event("score")) == true)
        #expect(effects.mayWrite(path("/player1/score"), event: event("score", ["player_id": [1]])) == true)
        #expect(effects.mayWrite(path("/teams/red/name"), event: event("named", ["team": "red"])) == true)
        #expect(effects.mayWrite(path("/teams/blue/name"), event: event("named", ["team": "red"])) == false)
        // The root template covers everything; none covers nothing; an unknown event is unknown.
        #expect(effects.mayWrite(path("/player1/score"), event: event("everything")) == true)
        #expect(effects.mayWrite(path("/player1/score"), event: event("nothing")) == false)
        #expect(effects.mayWrite(path("/player1/score"), event: event("unknown")) == nil)
        // A template that is not a pattern never matches; the others of its event still do.
        #expect(effects.mayWrite(path("/no-leading-slash"), event: event("broken")) == false)
        #expect(effects.mayWrite(path("/ok/deeper"), event: event("broken")) == true)
    }
}
