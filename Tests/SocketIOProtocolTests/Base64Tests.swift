import Testing

@testable import SocketIOProtocol

@Suite struct Base64Tests {
    // RFC 4648 §10 test vectors.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfcVectors(plain: String, encoded: String) throws {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(try Base64.decode(Array(encoded.utf8)) == Array(plain.utf8))
        // Unpadded input is accepted too.
        let unpadded = encoded.filter { $0 != "=" }
        #expect(try Base64.decode(Array(unpadded.utf8)) == Array(plain.utf8))
    }

    @Test func allByteValues() throws {
        let bytes = (0...255).map(UInt8.init)
        let text = Base64.encode(bytes)
        #expect(text.hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"))
        #expect(text.hasSuffix("+/w=="))
        #expect(try Base64.decode(Array(text.utf8)) == bytes)
    }

    @Test(arguments: ["A", "AAAAA", "Zg=", "Zg===", "Z===", "=", "==", "Zm9v!A==", "Zm 9v", "Zm9v\n", "Zg==Zg==", "Z=g=", "-_8="])
    func invalidInputs(text: String) {
        #expect(throws: ProtocolError.invalidBase64) { try Base64.decode(Array(text.utf8)) }
    }
}
