import XCTest

@testable import QPackPlanning

/// The rules' regex engine against Swift's own `Regex` (a backtracking engine written by others)
/// on random patterns of the supported syntax, and on patterns that make backtracking explode.
final class NameRegexTests: XCTestCase {
    struct Generator {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }

        mutating func atom(_ depth: Int) -> String {
            switch next(depth > 1 ? 5 : 7) {
            case 0: return "a"
            case 1: return "b"
            case 2: return "."
            case 3: return ["[ab]", "[^a]", "[a-c]", "\\d", "\\.", "[.x]"][next(6)]
            case 4: return "c"
            case 5: return "(" + alternatives(depth + 1) + ")"
            default: return "(?:" + alternatives(depth + 1) + ")"
            }
        }

        mutating func piece(_ depth: Int) -> String {
            let a = atom(depth)
            switch next(9) {
            case 0: return a + "*"
            case 1: return a + "+"
            case 2: return a + "?"
            case 3: return a + "{2}"
            case 4: return a + "{1,3}"
            case 5: return a + "{0,}"
            case 6: return a + "*?"
            default: return a
            }
        }

        mutating func alternatives(_ depth: Int) -> String {
            var out = ""
            for k in 0...next(2) {
                if k > 0 { out += "|" }
                for _ in 0..<(1 + next(3)) { out += piece(depth) }
            }
            return out
        }
    }

    func testAgreesWithSwiftRegexOnRandomPatterns() throws {
        var g = Generator(state: 42)
        let alphabet = ["a", "b", "c", ".", "1", "x"]
        var matched = 0, compared = 0
        for _ in 0..<100 {
            let pattern = g.alternatives(0)
            let ours = try NameRegex(pattern)
            let theirs = try Regex(pattern)
            for _ in 0..<20 {
                var name = ""
                for _ in 0..<g.next(7) { name += alphabet[g.next(alphabet.count)] }
                let expected = (try theirs.wholeMatch(in: name)) != nil
                XCTAssertEqual(ours.wholeMatch(name), expected, "pattern \(pattern) on '\(name)'")
                compared += 1
                if expected { matched += 1 }
            }
        }
        // Both outcomes well represented, or the comparison proves little.
        XCTAssertGreaterThan(matched, compared / 20)
        XCTAssertLessThan(matched, compared - compared / 20)
    }

    func testNamesOfRealRules() throws {
        let r = try NameRegex(#"blk\.[0-9]+\.attn_q\.weight"#)
        XCTAssertTrue(r.wholeMatch("blk.12.attn_q.weight"))
        XCTAssertFalse(r.wholeMatch("blk.12.attn_q.weight.extra"))
        XCTAssertFalse(r.wholeMatch("blkX12.attn_q.weight"))
        XCTAssertTrue(try NameRegex("^model\\.layers\\.(0|1)\\..*$").wholeMatch("model.layers.1.mlp.up_proj.weight"))
        // The budget search's escaped exact names.
        XCTAssertTrue(try NameRegex(##"a\-b\#c\&d\~e\/f"##).wholeMatch("a-b#c&d~e/f"))
    }

    /// Patterns that take a backtracking engine exponential time finish at once here.
    func testNoCatastrophicBacktracking() throws {
        let long = String(repeating: "a", count: 20000)
        XCTAssertFalse(try NameRegex("(.*)*x").wholeMatch(long))
        XCTAssertFalse(try NameRegex("(a|a)*b").wholeMatch(long))
        XCTAssertFalse(try NameRegex("(a*)*b").wholeMatch(long))
        XCTAssertTrue(try NameRegex("(a+)+").wholeMatch(long))
    }

    func testRefusesWhatItCannotRunOrBound() {
        for bad in [
            "(a)\\1", "(?=a)", "(?!a)", "a{2,1}", "a{1001}", "(a{1000}){1000}", "[b-a]", "a)", "(a", "[a",
            "*a", "a^b", "a$b", "\\p{L}", "\\b", String(repeating: "a", count: 1001),
        ] {
            XCTAssertThrowsError(try NameRegex(bad), bad)
        }
    }
}
