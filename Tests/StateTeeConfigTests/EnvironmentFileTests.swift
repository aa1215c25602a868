import StateTeeConfig
import Testing

func parse(_ text: String) throws(SettingsError) -> [String: String] {
    let file = try EnvironmentFile(parsing: text, path: "test.env")
    return Dictionary(uniqueKeysWithValues: file.entries.map { ($0.key, $0.value) })
}

func parseError(_ text: String) -> SettingsError? {
    do {
        _ = try EnvironmentFile(parsing: text, path: "test.env")
        return nil
    } catch {
        return error
    }
}

@Suite struct EnvironmentFileTests {
    @Test func readsAssignmentsCommentsAndBlankLines() throws {
        let file = try EnvironmentFile(
            parsing: """
                # a comment
                ; another comment

                STATETEE_PORT=6969
                  STATETEE_HOST = 127.0.0.1  \t
                STATETEE_RULES=
                STATETEE_PRIMARY=http://127.0.0.1:6970/a#b
                """, path: "/etc/statetee/statetee.env")
        #expect(
            file.entries == [
                .init(key: "STATETEE_PORT", value: "6969", line: 4),
                .init(key: "STATETEE_HOST", value: "127.0.0.1", line: 5),
                .init(key: "STATETEE_RULES", value: "", line: 6),
                .init(key: "STATETEE_PRIMARY", value: "http://127.0.0.1:6970/a#b", line: 7),
            ])
        #expect(file["STATETEE_HOST"]?.line == 5)
        #expect(file["STATETEE_NOPE"] == nil)
        #expect(file.path == "/etc/statetee/statetee.env")
    }

    @Test func quotedValuesFollowSystemd() throws {
        let values = try parse(
            #"""
            A="two  words # not a comment"
            B='single \n $HOME "kept"'
            C="escaped \" \\ \` \$ and kept \n \x"
            D=  "  padded  "  
            E=""
            F=a b  c
            G=$NOT_EXPANDED
            """#)
        #expect(values["A"] == "two  words # not a comment")
        #expect(values["B"] == #"single \n $HOME "kept""#)
        #expect(values["C"] == #"escaped " \ ` $ and kept \n \x"#)
        #expect(values["D"] == "  padded  ")
        #expect(values["E"] == "")
        #expect(values["F"] == "a b  c")
        #expect(values["G"] == "$NOT_EXPANDED")
    }

    @Test func windowsLineEndingsAndNoFinalNewline() throws {
        #expect(try parse("A=1\r\nB=\"2\"\r\n# c\r\nC=3") == ["A": "1", "B": "2", "C": "3"])
    }

    @Test(arguments: [
        ("A=1\nnot an assignment\n", 2, "expected KEY=VALUE, found 'not an assignment'"),
        ("1A=x", 1, "'1A' is not a valid key (letters, digits and '_', not starting with a digit)"),
        ("MY-KEY=x", 1, "'MY-KEY' is not a valid key (letters, digits and '_', not starting with a digit)"),
        ("export A=1", 1, "'export' is not part of the format: write A=VALUE"),
        ("A=\"open", 1, "unterminated double quote (a value cannot span lines)"),
        ("\nA='open\nB=1'", 2, "unterminated single quote (a value cannot span lines)"),
        ("A=\"x\" # note", 1, "unexpected '# note' after the closing quote (put a comment on its own line)"),
        ("A='x'y", 1, "unexpected 'y' after the closing quote (put a comment on its own line)"),
        ("A=6969 # the port", 1,
         "inline comments are not supported (systemd keeps '#...' as part of the value): put the comment on its own line"),
        ("A=a\\b", 1, "a backslash in an unquoted value: put the value in double quotes"),
        ("A=it's", 1, "a quote character inside an unquoted value: quote the whole value"),
        ("A=\"x\\", 1, "a backslash at the end of a line (values cannot continue on the next line)"),
        ("# note \\\nA=1", 1,
         "a comment line must not end with a backslash (systemd 252 would read the next line as a comment too)"),
    ])
    func refusesWhatSystemdReadsDifferently(text: String, line: Int, reason: String) throws {
        let error = try #require(parseError(text))
        #expect(error.file == "test.env")
        #expect(error.line == line)
        #expect(error.reasonText == reason)
        #expect(error.description == "test.env:\(line): \(reason)")
        #expect(error.shortDescription == "syntax")
    }

    @Test func aKeySetTwiceIsAnError() throws {
        let error = try #require(parseError("A=1\n\nB=2\nA=3\n"))
        #expect(error.description == "test.env:4: A is set twice (first at line 1)")
        #expect(error.shortDescription == "duplicate_key")
    }
}
