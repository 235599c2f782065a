import Foundation
import QPackBinary

#if canImport(Glibc)
    import Glibc
#endif

/// The mutation loop over one target: case `i` of a target is a function of (seed, target, i)
/// alone, so any case can be rebuilt from its number.
public struct Fuzzer {
    public var target: Target
    public var targetIndex: Int
    public var seed: UInt64
    public var caseDirectory: String
    public var base: String

    public init(target: Target, targetIndex: Int, seed: UInt64, caseDirectory: String, base: String) {
        self.target = target
        self.targetIndex = targetIndex
        self.seed = seed
        self.caseDirectory = caseDirectory
        self.base = base
    }

    /// The mutated file of case `iteration`, with the seed it came from.
    public func makeCase(_ iteration: Int) -> (seed: Seed, bytes: [UInt8]) {
        var rng = SplitMix64(
            seed: seed ^ (UInt64(targetIndex) &* 0x1000_0000_01B3) ^ (UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15))
        _ = rng.next()
        let template = rng.pick(target.seeds)
        var bytes = template.bytes
        let others = target.seeds.map(\.bytes)
        if template.isContainer {
            switch rng.below(3) {
            case 0:
                Mutator.mutate(&bytes, rng: &rng, fields: template.fields, spans: [], others: others)
            case 1:
                // A manifest that lies, vouched for by its digests.
                if let range = FormatMaps.containerManifest(bytes) {
                    var manifest = Array(bytes[range])
                    let spans = template.spans
                    Mutator.mutate(&manifest, rng: &rng, fields: [], spans: spans, others: [])
                    if let out = FormatMaps.replacingManifest(bytes, with: manifest) { bytes = out }
                }
            default:
                // A section's bytes changed, its digest in the manifest recomputed.
                if let range = FormatMaps.containerManifest(bytes), range.lowerBound > 64 {
                    let position = 64 + rng.below(range.lowerBound - 64)
                    var local = rng
                    if let out = FormatMaps.editingSection(
                        bytes, containing: position,
                        edit: { slice in
                            for _ in 0..<(1 + local.below(8)) where !slice.isEmpty {
                                let at = slice.startIndex + local.below(slice.count)
                                slice[at] =
                                    local.chance(50) ? slice[at] ^ 0x80 : UInt8(truncatingIfNeeded: local.next())
                            }
                        })
                    {
                        bytes = out
                    }
                    rng = local
                }
            }
        } else {
            Mutator.mutate(&bytes, rng: &rng, fields: template.fields, spans: template.spans, others: others)
        }
        return (template, bytes)
    }

    /// Writes case `iteration` into the case directory (emptied first).
    public func writeCase(_ iteration: Int) throws -> Seed {
        let (template, bytes) = makeCase(iteration)
        let fm = FileManager.default
        try? fm.removeItem(atPath: caseDirectory)
        try fm.createDirectory(atPath: caseDirectory, withIntermediateDirectories: true)
        for (name, content) in template.companions {
            guard fm.createFile(atPath: caseDirectory + "/" + name, contents: Data(content)) else {
                throw FuzzSetupError("cannot write \(caseDirectory)/\(name)")
            }
        }
        guard fm.createFile(atPath: caseDirectory + "/" + template.file, contents: Data(bytes)) else {
            throw FuzzSetupError("cannot write \(caseDirectory)/\(template.file)")
        }
        return template
    }

    /// The arguments of a command template for this case.
    public func arguments(_ template: [String], file: String) -> [String] {
        template.map {
            $0.replacingOccurrences(of: "{case}", with: caseDirectory).replacingOccurrences(of: "{base}", with: base)
                .replacingOccurrences(of: "{file}", with: file)
        }
    }

    /// A problem with one case that is not a crash: an undocumented exit code, or output left
    /// behind by a command that failed.
    public struct Finding: CustomStringConvertible {
        public var command: [String]
        public var problem: String
        public var description: String { "\(problem): qpack \(command.joined(separator: " "))" }
    }

    /// Runs every command of the target on the case already written; returns the exit codes and
    /// any findings.
    public func runCase(file: String, onCommand: (Int) -> Void = { _ in }) -> (codes: [Int32], findings: [Finding]) {
        var codes: [Int32] = []
        var findings: [Finding] = []
        for (k, template) in target.commands.enumerated() {
            onCommand(k)
            let args = arguments(template, file: file)
            let fm = FileManager.default
            let before = Set(target.outputs.filter { fm.fileExists(atPath: caseDirectory + "/" + $0) })
            let code = CommandRunner.run(args)
            codes.append(code)
            if !CommandRunner.documentedCodes.contains(code) {
                findings.append(Finding(command: args, problem: "exit code \(code), not a documented one"))
            }
            if code != 0 {
                for output in target.outputs
                where !before.contains(output) && fm.fileExists(atPath: caseDirectory + "/" + output) {
                    findings.append(Finding(command: args, problem: "exit \(code) left \(output) behind"))
                }
            }
        }
        return (codes, findings)
    }
}
