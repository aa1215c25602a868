import JSONValue
import PropertyBased
import Testing

@testable import SocketIOProtocol

/// Random inputs built straight from the property checker's seeded generator.
enum Random {
    static func int(_ range: ClosedRange<Int>, _ rng: inout any SeededRandomNumberGenerator) -> Int {
        Int.random(in: range, using: &rng)
    }

    static func bool(_ rng: inout any SeededRandomNumberGenerator) -> Bool { Bool.random(using: &rng) }

    static func bytes(_ count: ClosedRange<Int>, _ rng: inout any SeededRandomNumberGenerator) -> [UInt8] {
        (0..<int(count, &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Any Unicode text, weighted towards the characters that matter to the codecs.
    static func string(
        _ count: ClosedRange<Int>, _ rng: inout any SeededRandomNumberGenerator, excluding: Set<Unicode.Scalar> = []
    ) -> String {
        let special: [Unicode.Scalar] = ["\"", "\\", ",", "/", "-", "[", "{", "0", "9", "\u{1e}", "\n", "\u{0}", "é", "☃", "𝄞", "?", "\u{301}"]
        var out = String.UnicodeScalarView()
        for _ in 0..<int(count, &rng) {
            let scalar: Unicode.Scalar
            switch int(0...3, &rng) {
            case 0: scalar = special[int(0...(special.count - 1), &rng)]
            case 1: scalar = Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng))
            case 2: scalar = Unicode.Scalar(UInt32.random(in: 0...0xD7FF, using: &rng))!
            default: scalar = Unicode.Scalar(UInt32.random(in: 0xE000...0x10FFFF, using: &rng)) ?? "x"
            }
            if !excluding.contains(scalar) { out.append(scalar) }
        }
        return String(out)
    }

    static func json(depth: Int, _ rng: inout any SeededRandomNumberGenerator) -> JSONValue {
        switch int(0...(depth > 0 ? 9 : 6), &rng) {
        case 0: return .null
        case 1: return .bool(bool(&rng))
        case 2: return .int(Int.random(in: .min ... .max, using: &rng))
        case 3: return .int(int(-1000...1000, &rng))
        case 4:
            let d = Double(bitPattern: UInt64.random(in: 0 ... .max, using: &rng))
            return .double(d.isNaN ? 0.5 : d)
        case 5: return .string(string(0...12, &rng))
        case 6:
            var digits = String(int(1...9, &rng))
            for _ in 0..<int(19...40, &rng) { digits.append(String(int(0...9, &rng))) }
            return .bigInt(bool(&rng) ? "-" + digits : digits)
        case 7, 8:
            return .array((0..<int(0...5, &rng)).map { _ in json(depth: depth - 1, &rng) })
        default:
            var object = JSONObject()
            for _ in 0..<int(0...5, &rng) { object[string(0...8, &rng)] = json(depth: depth - 1, &rng) }
            return .object(object)
        }
    }

    static func namespace(_ rng: inout any SeededRandomNumberGenerator) -> String {
        if int(0...2, &rng) == 0 { return "/" }
        var forbidden: Set<Unicode.Scalar> = [",", "?", "\"", "[", "{", "\u{7f}"]
        for control in 0..<0x20 { forbidden.insert(Unicode.Scalar(UInt8(control))) }
        return "/" + string(0...10, &rng, excluding: forbidden)
    }

    /// Arguments with `count` placeholders spread through random JSON.
    static func argumentsWithPlaceholders(count: Int, _ rng: inout any SeededRandomNumberGenerator) -> [JSONValue] {
        var args = (0..<int(0...3, &rng)).map { _ in json(depth: 2, &rng) }
        for num in 0..<count {
            let placeholder = SocketIOPacket.placeholder(num)
            let wrapped: JSONValue = bool(&rng) ? placeholder : ["file": placeholder, "n": .int(num)]
            args.insert(wrapped, at: int(0...args.count, &rng))
        }
        return args
    }

    static func packet(_ rng: inout any SeededRandomNumberGenerator) -> SocketIOPacket {
        let namespace = namespace(&rng)
        let id: Int? = bool(&rng) ? (bool(&rng) ? int(0...1000, &rng) : Int.random(in: 0 ... .max, using: &rng)) : nil
        switch SocketIOPacket.Kind.allCases[int(0...6, &rng)] {
        case .connect:
            return .connect(namespace: namespace, data: bool(&rng) ? nil : .object(JSONObject([("token", json(depth: 2, &rng))])))
        case .disconnect:
            return .disconnect(namespace: namespace)
        case .event:
            return .event(string(0...20, &rng), (0..<int(0...4, &rng)).map { _ in json(depth: 3, &rng) }, namespace: namespace, id: id)
        case .ack:
            return .ack((0..<int(0...4, &rng)).map { _ in json(depth: 3, &rng) }, id: id ?? 0, namespace: namespace)
        case .connectError:
            return bool(&rng)
                ? .connectError(namespace: namespace, message: string(0...20, &rng))
                : SocketIOPacket(kind: .connectError, namespace: namespace, data: .string(string(0...5, &rng)))
        case .binaryEvent:
            let count = int(0...10, &rng)
            return SocketIOPacket(
                kind: .binaryEvent, namespace: namespace, id: id,
                data: .array([.string(string(1...10, &rng))] + argumentsWithPlaceholders(count: count, &rng)),
                attachments: (0..<count).map { _ in bytes(0...64, &rng) })
        case .binaryAck:
            let count = int(0...10, &rng)
            return SocketIOPacket(
                kind: .binaryAck, namespace: namespace, id: id ?? 1,
                data: .array(argumentsWithPlaceholders(count: count, &rng)),
                attachments: (0..<count).map { _ in bytes(0...64, &rng) })
        }
    }

    static func engineIOPacket(_ rng: inout any SeededRandomNumberGenerator, allowSeparator: Bool) -> EngineIOPacket {
        if int(0...3, &rng) == 0 { return .binaryMessage(bytes(0...100, &rng)) }
        let kind = EngineIOPacket.Kind.allCases[int(0...6, &rng)]
        return EngineIOPacket(kind: kind, payload: .text(string(0...30, &rng, excluding: allowSeparator ? [] : ["\u{1e}"])))
    }
}

let socketIOPackets = Generator<SocketIOPacket, Shrink.None<SocketIOPacket>>(run: { rng in Random.packet(&rng) })
let jsonValues = Generator<JSONValue, Shrink.None<JSONValue>>(run: { rng in Random.json(depth: 4, &rng) })

@Suite struct PropertyTests {
    @Test func socketIOPacketsRoundTripThroughWebSocketFrames() async {
        await propertyCheck(count: 500, input: socketIOPackets) { packet throws in
            var decoder = SocketIODecoder()
            var decoded: [SocketIOPacket] = []
            for payload in SocketIOCodec.encode(packet) {
                let frame = EngineIOCodec.encodeWebSocket(EngineIOPacket(kind: .message, payload: payload))
                let engine = try EngineIOCodec.decodeWebSocket(frame)
                #expect(engine.kind == .message)
                if let complete = try decoder.decode(engine.payload) { decoded.append(complete) }
            }
            #expect(decoded == [packet])
            #expect(!decoder.isAwaitingAttachments)
        }
    }

    @Test func socketIOPacketsRoundTripThroughPollingPayloads() async {
        await propertyCheck(count: 200, input: socketIOPackets.array(of: 1...4)) { packets throws in
            let engine = packets.flatMap { SocketIOCodec.encode($0).map { EngineIOPacket(kind: .message, payload: $0) } }
            // Text containing U+001E cannot travel in a polling payload (nor in python-engineio's).
            guard !engine.contains(where: { $0.text?.contains("\u{1e}") ?? false }) else { return }
            let body = EngineIOCodec.encodePayload(engine)
            let back = try EngineIOCodec.decodePayload(Array(body.utf8))
            #expect(back == engine)
            var decoder = SocketIODecoder()
            let decoded = try back.compactMap { try decoder.decode($0.payload) }
            #expect(decoded == packets)
        }
    }

    @Test func asciiOnlyEncodingDecodesToTheSamePacket() async {
        await propertyCheck(count: 200, input: socketIOPackets) { packet throws in
            let text = SocketIOCodec.encodeText(packet, jsonOptions: .init(asciiOnly: true))
            var expected = packet
            expected.attachments = []
            if packet.kind == .event || packet.kind == .ack {
                #expect(try SocketIOCodec.decodeText(text).packet == expected)
            }
        }
    }

    @Test func engineIOPacketsRoundTrip() async {
        let packets = Generator<[EngineIOPacket], Shrink.None<[EngineIOPacket]>>(run: { rng in
            (0..<Random.int(0...8, &rng)).map { _ in Random.engineIOPacket(&rng, allowSeparator: false) }
        })
        await propertyCheck(count: 300, input: packets) { packets throws in
            for packet in packets {
                #expect(try EngineIOCodec.decodeWebSocket(EngineIOCodec.encodeWebSocket(packet)) == packet)
            }
            let body = EngineIOCodec.encodePayload(packets)
            #expect(try EngineIOCodec.decodePayload(body) == packets)
            #expect(try EngineIOCodec.decodePayload(Array(body.utf8), maxPackets: max(1, packets.count)) == packets)
        }
    }

    @Test func base64RoundTrips() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...300)) { bytes throws in
            let text = Base64.encode(bytes)
            #expect(text.utf8.count == (bytes.count + 2) / 3 * 4)
            #expect(try Base64.decode(Array(text.utf8)) == bytes)
            #expect(try Base64.decode(Array(text.utf8).filter { $0 != UInt8(ascii: "=") }) == bytes)
        }
    }

    @Test func handshakesRoundTrip() async {
        let handshakes = Generator<EngineIOHandshake, Shrink.None<EngineIOHandshake>>(run: { rng in
            EngineIOHandshake(
                sid: Random.string(0...20, &rng), upgrades: Random.bool(&rng) ? ["websocket"] : [],
                pingInterval: Random.int(0...100_000, &rng), pingTimeout: Random.int(0...100_000, &rng),
                maxPayload: Random.int(0...Int.max, &rng))
        })
        await propertyCheck(count: 100, input: handshakes) { handshake throws in
            let frame = EngineIOCodec.encodeWebSocket(.open(handshake))
            #expect(try EngineIOCodec.decodeWebSocket(frame).handshake() == handshake)
        }
    }

    // MARK: garbage never crashes

    @Test func randomBytesNeverCrashTheDecoders() async {
        await propertyCheck(count: 1000, input: Gen.uint8().array(of: 0...200)) { bytes throws in
            _ = try? EngineIOCodec.decodePayload(bytes, maxPackets: 16)
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? EngineIOCodec.decodeWebSocket(.text(text))
            _ = try? EngineIOCodec.decodePayload(text)
            _ = try? SocketIOCodec.decodeText(text)
            _ = try? Base64.decode(bytes)
            var decoder = SocketIODecoder()
            _ = try? decoder.decode(.text(text))
            _ = try? decoder.decode(.binary(bytes))
        }
    }

    /// Garbage that looks like packets: a valid packet's text with bytes cut, replaced or inserted.
    @Test func mutatedPacketsNeverCrashAndDecodeToValidPackets() async {
        let mutated = Generator<String, Shrink.None<String>>(run: { rng in
            var bytes = Array(SocketIOCodec.encodeText(Random.packet(&rng)).utf8)
            for _ in 0...Random.int(0...3, &rng) where !bytes.isEmpty {
                let index = Random.int(0...(bytes.count - 1), &rng)
                switch Random.int(0...2, &rng) {
                case 0: bytes.removeSubrange(index...)
                case 1: bytes[index] = Array("0123456789-/,[]{}\"?x".utf8)[Random.int(0...19, &rng)]
                default: bytes.insert(Array("0123456789-/,[]{}\"?".utf8)[Random.int(0...18, &rng)], at: index)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        })
        await propertyCheck(count: 1000, input: mutated) { text throws in
            do {
                let (packet, count) = try SocketIOCodec.decodeText(text)
                // Whatever is accepted re-encodes to something that decodes to the same packet.
                #expect(packet.namespace.utf8.first == UInt8(ascii: "/"))
                var withAttachments = packet
                withAttachments.attachments = Array(repeating: [], count: count)
                if packet.kind == .binaryEvent || packet.kind == .binaryAck || count == 0 {
                    let again = try SocketIOCodec.decodeText(SocketIOCodec.encodeText(withAttachments))
                    #expect(again.packet == packet)
                    #expect(again.attachmentCount == count)
                }
            } catch let error as ProtocolError {
                #expect(!error.shortDescription.isEmpty)
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
    }

    @Test func jsonValuesSurviveAsEventArguments() async {
        await propertyCheck(count: 300, input: jsonValues) { value throws in
            let packet = SocketIOPacket.event("e", [value])
            #expect(try SocketIOCodec.decodeText(SocketIOCodec.encodeText(packet)).packet == packet)
        }
    }
}
