/// The regular expressions of a rules file's `regex` match (Formats/qpack-rules.md, "Regular
/// expressions"): compiled to a Thompson automaton and run by simulating every state at once, so
/// matching takes time proportional to the name's length times the pattern's size whatever the
/// pattern is. A backtracking engine (Swift's `Regex`) takes exponential time on patterns such
/// as `(.*)*x`, and a rules file is input.
public struct NameRegex: Sendable {
    public static let maximumPatternLength = 1000
    /// Automaton size after counted repetitions are expanded.
    public static let maximumStates = 10000
    public static let maximumCount = 1000

    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let position: Int
        public let message: String
        public var description: String { "at character \(position + 1): \(message)" }
    }

    /// A set of characters: unions of scalar ranges, possibly negated.
    struct CharSet: Sendable {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool

        func contains(_ c: UInt32) -> Bool { ranges.contains { $0.contains(c) } != negated }

        static let any = CharSet(ranges: [], negated: true)
        static let digit = CharSet(ranges: [0x30...0x39], negated: false)
        static let word = CharSet(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A], negated: false)
        static let space = CharSet(ranges: [0x09...0x0D, 0x20...0x20], negated: false)
        static func literal(_ c: UInt32) -> CharSet { CharSet(ranges: [c...c], negated: false) }
    }

    indirect enum Node {
        case chars(CharSet)
        case sequence([Node])
        case alternatives([Node])
        case repetition(Node, min: Int, max: Int?)
    }

    enum Instruction {
        case chars(CharSet)
        case split(Int, Int)
        case jump(Int)
        case match
    }

    let program: [Instruction]
    public let pattern: String

    public init(_ pattern: String) throws(SyntaxError) {
        self.pattern = pattern
        let scalars = pattern.unicodeScalars.map(\.value)
        guard scalars.count <= Self.maximumPatternLength else {
            throw SyntaxError(position: 0, message: "longer than \(Self.maximumPatternLength) characters")
        }
        var parser = Parser(s: scalars)
        let node = try parser.parseWhole()
        var compiler = Compiler()
        try compiler.emit(node)
        compiler.program.append(.match)
        program = compiler.program
    }

    /// Whether the whole of `name` matches.
    public func wholeMatch(_ name: String) -> Bool {
        var mark = [Int](repeating: -1, count: program.count)
        var current: [Int] = []
        var next: [Int] = []
        var stack: [Int] = []
        func add(_ start: Int, _ generation: Int, to list: inout [Int]) {
            stack.append(start)
            while let pc = stack.popLast() {
                guard mark[pc] != generation else { continue }
                mark[pc] = generation
                switch program[pc] {
                case let .split(a, b):
                    stack.append(b)
                    stack.append(a)
                case let .jump(a): stack.append(a)
                case .chars, .match: list.append(pc)
                }
            }
        }
        add(0, 0, to: &current)
        var generation = 0
        for c in name.unicodeScalars {
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                if case let .chars(set) = program[pc], set.contains(c.value) { add(pc + 1, generation, to: &next) }
            }
            swap(&current, &next)
            if current.isEmpty { return false }
        }
        return current.contains { if case .match = program[$0] { return true } else { return false } }
    }

    struct Parser {
        let s: [UInt32]
        var i = 0
        var depth = 0

        func fail(_ message: String, at position: Int? = nil) -> SyntaxError {
            SyntaxError(position: position ?? i, message: message)
        }

        mutating func parseWhole() throws(SyntaxError) -> Node {
            // Anchors are accepted at the ends only: the match is of the whole name anyway.
            if s.first == 0x5E { i = 1 }
            let node = try parseAlternatives()
            guard i == s.count else { throw fail("unexpected ')'") }
            return node
        }

        mutating func parseAlternatives() throws(SyntaxError) -> Node {
            var branches = [try parseSequence()]
            while i < s.count && s[i] == 0x7C {
                i += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternatives(branches)
        }

        mutating func parseSequence() throws(SyntaxError) -> Node {
            var items: [Node] = []
            while i < s.count && s[i] != 0x7C && s[i] != 0x29 {
                if s[i] == 0x24 && i == s.count - 1 {  // a final `$`
                    i += 1
                    break
                }
                var atom = try parseAtom()
                while i < s.count, let (lo, hi) = try parseQuantifier() {
                    atom = .repetition(atom, min: lo, max: hi)
                    if i < s.count && s[i] == 0x3F { i += 1 }  // lazy: the same set of whole matches
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseQuantifier() throws(SyntaxError) -> (Int, Int?)? {
            switch s[i] {
            case 0x2A:
                i += 1
                return (0, nil)
            case 0x2B:
                i += 1
                return (1, nil)
            case 0x3F:
                i += 1
                return (0, 1)
            case 0x7B:
                let start = i
                i += 1
                let lo = try number()
                var hi: Int? = lo
                if i < s.count && s[i] == 0x2C {
                    i += 1
                    hi = i < s.count && s[i] == 0x7D ? nil : try number()
                }
                guard i < s.count && s[i] == 0x7D else { throw fail("unclosed '{'", at: start) }
                i += 1
                if let hi, hi < lo { throw fail("{\(lo),\(hi)}: the maximum is below the minimum", at: start) }
                return (lo, hi)
            default:
                return nil
            }
        }

        mutating func number() throws(SyntaxError) -> Int {
            var n = 0, digits = 0
            while i < s.count, (0x30...0x39).contains(s[i]) {
                n = n * 10 + Int(s[i] - 0x30)
                digits += 1
                i += 1
                guard n <= NameRegex.maximumCount else { throw fail("a count above \(NameRegex.maximumCount)") }
            }
            guard digits > 0 else { throw fail("expected a number") }
            return n
        }

        mutating func parseAtom() throws(SyntaxError) -> Node {
            let c = s[i]
            switch c {
            case 0x28:  // group
                let start = i
                i += 1
                if i + 1 < s.count && s[i] == 0x3F {
                    guard s[i + 1] == 0x3A else { throw fail("only (?:...) groups are supported (no lookaround)") }
                    i += 2
                }
                depth += 1
                guard depth <= 100 else { throw fail("groups nested deeper than 100") }
                let inner = try parseAlternatives()
                depth -= 1
                guard i < s.count && s[i] == 0x29 else { throw fail("unclosed '('", at: start) }
                i += 1
                return inner
            case 0x5B:
                return .chars(try parseClass())
            case 0x2E:
                i += 1
                return .chars(.any)
            case 0x5C:
                i += 1
                return .chars(try parseEscape(inClass: false))
            case 0x2A, 0x2B, 0x3F, 0x7B:
                throw fail("nothing to repeat")
            case 0x5E, 0x24:
                throw fail("'^' and '$' only at the pattern's ends")
            default:
                i += 1
                return .chars(.literal(c))
            }
        }

        mutating func parseEscape(inClass: Bool) throws(SyntaxError) -> CharSet {
            guard i < s.count else { throw fail("'\\' at the end") }
            let c = s[i]
            i += 1
            switch c {
            case 0x64: return .digit
            case 0x44: return CharSet(ranges: CharSet.digit.ranges, negated: true)
            case 0x77: return .word
            case 0x57: return CharSet(ranges: CharSet.word.ranges, negated: true)
            case 0x73: return .space
            case 0x53: return CharSet(ranges: CharSet.space.ranges, negated: true)
            case 0x6E: return .literal(0x0A)
            case 0x74: return .literal(0x09)
            default:
                // Any other letter or digit would be a feature this engine lacks (backreferences,
                // \b, \p{...}): refused rather than read as a literal.
                let alphanumeric = (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                guard !alphanumeric else {
                    throw fail("unsupported escape '\\\(Unicode.Scalar(c).map(String.init) ?? "?")'")
                }
                return .literal(c)
            }
        }

        mutating func parseClass() throws(SyntaxError) -> CharSet {
            let start = i
            i += 1
            var set = CharSet(ranges: [], negated: false)
            if i < s.count && s[i] == 0x5E {
                set.negated = true
                i += 1
            }
            var first = true
            while i < s.count && (s[i] != 0x5D || first) {
                first = false
                var lo: UInt32
                if s[i] == 0x5C {
                    i += 1
                    let e = try parseEscape(inClass: true)
                    guard !e.negated, e.ranges.count == 1, e.ranges[0].lowerBound == e.ranges[0].upperBound else {
                        guard !e.negated else { throw fail("negated escapes inside a class are not supported") }
                        set.ranges += e.ranges
                        continue
                    }
                    lo = e.ranges[0].lowerBound
                } else {
                    lo = s[i]
                    i += 1
                }
                if i + 1 < s.count && s[i] == 0x2D && s[i + 1] != 0x5D {
                    i += 1
                    var hi = s[i]
                    i += 1
                    if hi == 0x5C {
                        let e = try parseEscape(inClass: true)
                        guard !e.negated, e.ranges.count == 1, e.ranges[0].count == 1 else {
                            throw fail("a range must end at one character")
                        }
                        hi = e.ranges[0].lowerBound
                    }
                    guard lo <= hi else { throw fail("range out of order") }
                    set.ranges.append(lo...hi)
                } else {
                    set.ranges.append(lo...lo)
                }
            }
            guard i < s.count else { throw fail("unclosed '['", at: start) }
            i += 1
            return set
        }
    }

    struct Compiler {
        var program: [Instruction] = []

        mutating func append(_ instruction: Instruction) throws(SyntaxError) {
            guard program.count < NameRegex.maximumStates else {
                throw SyntaxError(position: 0, message: "more than \(NameRegex.maximumStates) states once expanded")
            }
            program.append(instruction)
        }

        mutating func emit(_ node: Node) throws(SyntaxError) {
            switch node {
            case let .chars(set):
                try append(.chars(set))
            case let .sequence(items):
                for item in items { try emit(item) }
            case let .alternatives(branches):
                var jumps: [Int] = []
                for (k, branch) in branches.enumerated() {
                    if k < branches.count - 1 {
                        let split = program.count
                        try append(.split(split + 1, -1))
                        try emit(branch)
                        jumps.append(program.count)
                        try append(.jump(-1))
                        program[split] = .split(split + 1, program.count)
                    } else {
                        try emit(branch)
                    }
                }
                for j in jumps { program[j] = .jump(program.count) }
            case let .repetition(inner, lo, hi):
                for _ in 0..<lo { try emit(inner) }
                if let hi {
                    var splits: [Int] = []
                    for _ in lo..<hi {
                        splits.append(program.count)
                        try append(.split(program.count + 1, -1))
                        try emit(inner)
                    }
                    for s in splits { program[s] = .split(s + 1, program.count) }
                } else {
                    let loop = program.count
                    try append(.split(loop + 1, -1))
                    try emit(inner)
                    try append(.jump(loop))
                    program[loop] = .split(loop + 1, program.count)
                }
            }
        }
    }
}
