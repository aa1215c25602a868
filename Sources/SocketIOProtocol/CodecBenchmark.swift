import JSONValue

/// A pure encode/decode workload for `statetee bench codec`: a realistic
/// ~1 KB `game_state_update` event, encoded through Socket.IO and Engine.IO
/// (WebSocket framing) and decoded back. The caller does the timing.
public enum CodecBenchmark {
    public struct Result: Sendable, Equatable {
        /// Packets encoded (to WebSocket frame text).
        public var encodedPackets: Int
        /// Packets decoded back to `SocketIOPacket`.
        public var decodedPackets: Int
        /// UTF-8 bytes of all encoded frames.
        public var encodedBytes: Int
        /// UTF-8 bytes of one encoded frame.
        public var packetBytes: Int

        public init(encodedPackets: Int = 0, decodedPackets: Int = 0, encodedBytes: Int = 0, packetBytes: Int = 0) {
            self.encodedPackets = encodedPackets
            self.decodedPackets = decodedPackets
            self.encodedBytes = encodedBytes
            self.packetBytes = packetBytes
        }
    }

    /// A full served game state, as the legacy broadcasts it mid-game.
    public static let sampleState: JSONValue = {
        func player(_ n: Int, name: String, primary: Int, secondary: Int, cp: Int, elapsed: Double) -> JSONValue {
            [
                "name": .string(name), "primary_score": .int(primary), "secondary_score": .int(secondary),
                "total_score": .int(primary + secondary), "cp": .int(cp), "deployment_roll": .int(n + 3),
                "first_turn_roll": .int(6 - n), "player_elapsed_time_seconds": .double(elapsed),
                "player_time_display": .string("00:24:\(10 + n)"), "live_elapsed_seconds": .double(elapsed + 12.625),
            ]
        }
        return [
            "player1": player(1, name: "Astra Militarum – Cadian 8th", primary: 35, secondary: 22, cp: 4, elapsed: 1450.25),
            "player2": player(2, name: "Adeptus Mechanicus", primary: 30, secondary: 27, cp: 2, elapsed: 1388.5),
            "current_round": 3,
            "active_player_id": 2,
            "deployment_initiative_winner_id": 1,
            "deployment_attacker_id": 1,
            "deployment_defender_id": 2,
            "first_turn_choice_winner_id": 2,
            "first_turn_initiative_winner_id": 2,
            "first_player_of_game_id": 2,
            "first_turn_player_id": 2,
            "last_round_played": 2,
            "game_phase": "game_play",
            "status_message": "Adeptus Mechanicus Score Updated",
            "game_timer": [
                "status": "running", "start_time": .double(1_761_500_000.123456),
                "elapsed_display": "00:48:31", "turn_segment_start_time": .double(1_761_502_700.5),
                "elapsed_seconds": .double(2911.877),
            ],
        ]
    }()

    /// The benchmark packet: `42["game_state_update",{...}]`.
    public static let samplePacket = SocketIOPacket.event("game_state_update", [sampleState])

    /// The WebSocket frame of `samplePacket`.
    public static var sampleFrame: WebSocketContent {
        EngineIOCodec.encodeWebSocket(.message(SocketIOCodec.encodeText(samplePacket)))
    }

    /// Encodes `samplePacket` to its Engine.IO WebSocket frame `iterations` times.
    public static func encode(iterations: Int) -> Result {
        let packet = samplePacket
        var result = Result(encodedPackets: 0, decodedPackets: 0, encodedBytes: 0, packetBytes: 0)
        for _ in 0..<max(0, iterations) {
            for payload in SocketIOCodec.encode(packet) {
                if case .text(let text) = EngineIOCodec.encodeWebSocket(EngineIOPacket(kind: .message, payload: payload)) {
                    result.packetBytes = text.utf8.count
                    result.encodedBytes += result.packetBytes
                }
            }
            result.encodedPackets += 1
        }
        return result
    }

    /// Decodes the frame of `samplePacket` back to a `SocketIOPacket` `iterations` times.
    public static func decode(iterations: Int) throws(ProtocolError) -> Result {
        let frame = sampleFrame
        var bytes = 0
        if case .text(let text) = frame { bytes = text.utf8.count }
        var result = Result(encodedPackets: 0, decodedPackets: 0, encodedBytes: 0, packetBytes: bytes)
        var decoder = SocketIODecoder()
        for _ in 0..<max(0, iterations) {
            let engine = try EngineIOCodec.decodeWebSocket(frame)
            if let decoded = try decoder.decode(engine.payload), decoded.eventName == "game_state_update" {
                result.decodedPackets += 1
            }
        }
        return result
    }

    /// Encodes and decodes `samplePacket` `iterations` times (a full round trip each time).
    public static func run(iterations: Int) throws(ProtocolError) -> Result {
        let packet = samplePacket
        var result = Result(encodedPackets: 0, decodedPackets: 0, encodedBytes: 0, packetBytes: 0)
        var decoder = SocketIODecoder()
        for _ in 0..<max(0, iterations) {
            var frames: [WebSocketContent] = []
            for payload in SocketIOCodec.encode(packet) {
                frames.append(EngineIOCodec.encodeWebSocket(EngineIOPacket(kind: .message, payload: payload)))
            }
            result.encodedPackets += 1
            for frame in frames {
                if case .text(let text) = frame {
                    result.encodedBytes += text.utf8.count
                    result.packetBytes = text.utf8.count
                }
                let engine = try EngineIOCodec.decodeWebSocket(frame)
                if let decoded = try decoder.decode(engine.payload), decoded.eventName == "game_state_update" {
                    result.decodedPackets += 1
                }
            }
        }
        return result
    }
}
