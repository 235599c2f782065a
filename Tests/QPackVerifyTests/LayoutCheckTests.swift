import Foundation
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders
@testable import QPackVerify

@Suite struct LayoutCheckTests {
    /// Every tensor passes against its own source; a source that differs beyond the bound is caught.
    @Test func passesOnTheSourceAndCatchesADifferentOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-layout-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = TestPaths.fixture("safetensors/sharded")
        for f in [
            "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
        ] {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: int8, match: {name: layer.0.weight}, scheme: qsi8cx}
              - {name: int4, match: {name: layer.1.weight}, scheme: qsi4cx}
              - {name: half, scheme: f16}
            """, origin: "t")
        let index = dir + "/model.safetensors.index.json"
        let checkpoint = try Checkpoint.open(path: index)
        let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: .neonDotprod, allowUnsupported: true)
        _ = try Converter.convert(
            checkpoint, path: index, plan: plan, rules: rules, output: dir + "/m.qpack",
            options: ConvertOptions(target: .neonDotprod))
        let file = try ContainerFile(path: dir + "/m.qpack")
        let good = try LayoutCheck.run(file, source: checkpoint)
        #expect(good.count == 3)
        #expect(good.allSatisfy { $0.violations == 0 }, "\(good)")
        // Change one weight of the source by a lot: the packed tensor no longer matches it.
        var shard = try TestPaths.read(dir + "/model-00001-of-00002.safetensors")
        let s1 = try SafetensorsFile(path: dir + "/model-00001-of-00002.safetensors")
        let w = s1.tensor(named: "layer.0.weight")!
        let at = s1.dataStart + w.begin + 4 * 5
        withUnsafeBytes(of: Float(3.5).bitPattern.littleEndian) { shard.replaceSubrange(at..<(at + 4), with: $0) }
        try Data(shard).write(to: URL(fileURLWithPath: dir + "/model-00001-of-00002.safetensors"))
        let bad = try LayoutCheck.run(file, source: Checkpoint.open(path: index))
        #expect(bad.first { $0.tensor == "layer.0.weight" }?.violations ?? 0 > 0)
        #expect(bad.first { $0.tensor == "layer.1.weight" }?.violations == 0)
    }
}
