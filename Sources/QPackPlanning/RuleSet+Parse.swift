import QPackModel
import QPackPacking
import Yams

public struct RulesError: Error, Sendable, Equatable, CustomStringConvertible {
    public let origin: String
    public let line: Int?
    public let column: Int?
    public let message: String

    public var description: String {
        var s = origin
        if let line { s += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        // Messages quote the offending text (a value, YAML's own context line): a 200 KB line is
        // shown by its start, not echoed whole.
        let limit = 400
        let shown = message.count > limit ? message.prefix(limit) + "… (\(message.utf8.count) bytes)" : message
        return s + ": " + shown
    }
}

extension RuleSet {
    /// Parses a rules file: YAML, strict about what it accepts (unknown keys, duplicate keys,
    /// duplicate rule names, unknown schemes and roles, malformed layer ranges are errors).
    public static func parse(_ text: String, origin: String) throws(RulesError) -> RuleSet {
        func fail(_ node: Node?, _ message: String) -> RulesError {
            RulesError(origin: origin, line: node?.mark?.line, column: node?.mark?.column, message: message)
        }
        guard text.utf8.count <= 1 << 20 else { throw fail(nil, "rules file larger than 1 MiB") }
        let root: Node
        do {
            guard let r = try Yams.compose(yaml: text) else { throw fail(nil, "empty rules file") }
            root = r
        } catch let e as RulesError {
            throw e
        } catch {
            throw RulesError(origin: origin, line: nil, column: nil, message: "not valid YAML: \(error)")
        }
        guard case let .mapping(top) = root else {
            throw fail(root, "the rules file must be a mapping with 'version' and 'rules'")
        }
        var version: Int?
        var rulesNode: Node?
        for (k, v) in top {
            switch k.string {
            case "version":
                guard let s = v.scalar?.string, let n = Int(s) else { throw fail(v, "version must be an integer") }
                version = n
            case "rules": rulesNode = v
            default: throw fail(k, "unknown key '\(k.string ?? "?")' (allowed: version, rules)")
            }
        }
        guard let version else { throw fail(root, "missing 'version: 1'") }
        guard version == Self.version else {
            throw fail(root, "rules version \(version) is not supported (qpack reads version \(Self.version))")
        }
        guard let rulesNode, case let .sequence(items) = rulesNode else {
            throw fail(rulesNode ?? root, "'rules' must be a list")
        }
        var rules: [Rule] = []
        var names: Set<String> = []
        for item in items {
            let rule = try parseRule(item, fail: fail)
            guard names.insert(rule.name).inserted else { throw fail(item, "duplicate rule name '\(rule.name)'") }
            rules.append(rule)
        }
        guard !rules.isEmpty else { throw fail(rulesNode, "'rules' is empty") }
        return RuleSet(rules: rules, text: text, origin: origin)
    }

    static func parseRule(_ node: Node, fail: (Node?, String) -> RulesError) throws(RulesError) -> Rule {
        guard case let .mapping(m) = node else { throw fail(node, "each rule must be a mapping") }
        var name: String?, scheme: WeightScheme?, fallback: WeightScheme?
        var search: SearchMethod?, nan: NonFinitePolicy?, why: String?
        var activations: String?, observer: String?, percentile: Double?, smooth: Double?
        var match = Rule.Match()
        for (k, v) in m {
            let key = k.string ?? ""
            func text() throws(RulesError) -> String {
                guard let s = v.scalar?.string else { throw fail(v, "'\(key)' must be a text value") }
                return s
            }
            switch key {
            case "name": name = try text()
            case "scheme", "fallback":
                let s = try text()
                guard let parsed = WeightScheme(name: s), !(parsed.isQuantized && parsed.family == nil) else {
                    throw fail(v, "unknown scheme '\(s)' (known: \(WeightScheme.allNames.joined(separator: ", ")))")
                }
                if key == "scheme" { scheme = parsed } else { fallback = parsed }
            case "search":
                guard let m = SearchMethod(rawValue: try text()) else {
                    throw fail(v, "search must be 'absmax', 'mse' or 'importance'")
                }
                search = m
            case "activations":
                activations = try text()
                guard activations == "dynamic" || activations == "static" else {
                    throw fail(v, "activations must be 'dynamic' or 'static'")
                }
            case "observer":
                observer = try text()
                guard ActivationObserverName.allowed.contains(observer!) else {
                    throw fail(
                        v, "observer must be one of \(ActivationObserverName.allowed.sorted().joined(separator: ", "))")
                }
            case "percentile":
                guard let p = Double(try text()), p > 50, p <= 100 else {
                    throw fail(v, "percentile must be a number in (50, 100]")
                }
                percentile = p
            case "smooth":
                guard let a = Double(try text()), a > 0, a <= 1 else {
                    throw fail(v, "smooth must be a number in (0, 1]")
                }
                smooth = a
            case "nan":
                guard let policy = NonFinitePolicy(rawValue: try text()) else {
                    throw fail(v, "nan must be 'error' or 'zero'")
                }
                nan = policy
            case "why": why = try text()
            case "match": match = try parseMatch(v, fail: fail)
            default:
                throw fail(
                    k,
                    "unknown rule key '\(key)' (allowed: name, match, scheme, fallback, search, nan, activations, observer, percentile, smooth, why)"
                )
            }
        }
        guard let name, !name.isEmpty else { throw fail(node, "rule without a 'name'") }
        guard let scheme else { throw fail(node, "rule '\(name)' has no 'scheme'") }
        if (observer != nil || percentile != nil) && activations == "dynamic" {
            throw fail(node, "rule '\(name)': observer and percentile apply to static activations only")
        }
        if percentile != nil && observer != "percentile" {
            throw fail(node, "rule '\(name)': percentile needs observer: percentile")
        }
        if smooth != nil && activations == "dynamic" {
            throw fail(node, "rule '\(name)': smooth applies to static activations only")
        }
        if smooth != nil, let o = observer, o != "minmax" {
            throw fail(node, "rule '\(name)': smooth needs observer: minmax")
        }
        return Rule(
            name: name, match: match, scheme: scheme, fallback: fallback, search: search, nonFinite: nan,
            activations: activations, observer: observer, percentile: percentile, smooth: smooth, why: why,
            line: node.mark?.line)
    }

    static func parseMatch(_ node: Node, fail: (Node?, String) -> RulesError) throws(RulesError) -> Rule.Match {
        guard case let .mapping(m) = node else { throw fail(node, "'match' must be a mapping") }
        var match = Rule.Match()
        for (k, v) in m {
            let key = k.string ?? ""
            let values: [Node]
            if case let .sequence(seq) = v { values = Array(seq) } else { values = [v] }
            var strings: [String] = []
            for x in values {
                guard let s = x.scalar?.string else { throw fail(x, "'\(key)' values must be text") }
                strings.append(s)
            }
            switch key {
            case "name": match.names = strings
            case "regex":
                guard strings.count == 1 else { throw fail(v, "'regex' takes one expression") }
                do { _ = try NameRegex(strings[0]) } catch { throw fail(v, "invalid regex '\(strings[0])': \(error)") }
                match.regex = strings[0]
            case "role":
                for s in strings {
                    guard let r = TensorRole(rawValue: s) else {
                        throw fail(
                            v,
                            "unknown role '\(s)' (known: \(TensorRole.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                    }
                    match.roles.append(r)
                }
            case "layers":
                for s in strings.flatMap({ $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }) {
                    let bounds = s.split(separator: "-", omittingEmptySubsequences: false)
                    guard bounds.count <= 2, let lo = Int(bounds[0]), let hi = Int(bounds.last!), lo >= 0, lo <= hi
                    else {
                        throw fail(v, "layers '\(s)' must be N or N-M with N <= M")
                    }
                    match.layers.append(lo...hi)
                }
            case "architecture":
                let known = Set(ArchitectureProfile.builtIn.map(\.name))
                for s in strings where !known.contains(s) {
                    throw fail(v, "unknown architecture '\(s)' (known: \(known.sorted().joined(separator: ", ")))")
                }
                match.architectures = strings
            case "source_type":
                let known = Set(GGMLType.all.map(\.name)).union(["F64", "I64", "I32", "I16", "I8", "U8", "BOOL"])
                for s in strings where !known.contains(s) {
                    throw fail(v, "unknown source type '\(s)' (known: \(known.sorted().joined(separator: ", ")))")
                }
                match.sourceTypes = strings
            default:
                throw fail(
                    k, "unknown match key '\(key)' (allowed: name, regex, role, layers, architecture, source_type)")
            }
        }
        return match
    }
}

enum ActivationObserverName {
    static let allowed: Set<String> = ["minmax", "percentile", "entropy", "mse"]
}

private extension String {
    func trimmingCharacters(in set: WhitespaceSet) -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}

private enum WhitespaceSet { case whitespaces }

extension RulesError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
