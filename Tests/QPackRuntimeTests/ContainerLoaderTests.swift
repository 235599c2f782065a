import CQPackRuntime
import Foundation
import QPackCalibration
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
import QPackVerify
@testable import QPackReaders

/// The C loader reads the containers qpack writes exactly as the Swift reader does.
@Suite struct ContainerLoaderTests {
    static let fixtures = [
        "qpack/types.qpack", "qpack/types-zstd.qpack", "qpack/tiny.qpack", "qpack/static.qpack", "qpack/smoothed.qpack",
    ]

    @Test(arguments: fixtures)
    func cLoaderAgreesWithTheSwiftReader(_ fixture: String) throws {
        let path = TestPaths.fixture(fixture)
        let swift = try ContainerFile(path: path)
        var c: OpaquePointer?
        var message = [CChar](repeating: 0, count: 256)
        let status = qp_container_open(path, &c, &message, message.count)
        #expect(
            status == QP_OK,
            "\(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        defer { qp_container_close(c) }
        #expect(String(cString: qp_container_digest(c)) == swift.contentDigest)
        #expect(qp_container_tensor_count(c) == swift.tensors.count)
        for (i, t) in swift.tensors.enumerated() {
            var info = qp_tensor_info()
            #expect(qp_container_tensor(c, i, &info) == QP_OK)
            #expect(String(cString: info.name) == t.name)
            #expect(String(cString: info.scheme) == t.scheme.name)
            #expect(info.rows == (t.matrix?.rows ?? 0) && info.columns == (t.matrix?.columns ?? 0))
            var data: UnsafePointer<UInt8>?
            var length = 0
            #expect(qp_container_section(c, info.section, &data, &length, nil, 0) == QP_OK)
            #expect(
                Array(UnsafeBufferPointer(start: data, count: length)) == (try swift.sectionBytes(t.section)),
                "\(t.name)")
            #expect(
                info.activation_divisor_section.map { String(cString: $0) } == t.activation?.smoothing?.section,
                "\(t.name)")
        }
        var info = qp_tensor_info()
        #expect(qp_container_find_tensor(c, "no such tensor", &info) == QP_ERR_NOT_FOUND)
    }

    @Test func statusesNameTheProblem() throws {
        var bytes = try TestPaths.read(TestPaths.fixture("qpack/tiny.qpack"))
        bytes[bytes.count - 64] ^= 0xFF  // break the footer magic: an interrupted write
        var c: OpaquePointer?
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer {
            qp_container_open_memory($0.baseAddress, $0.count, &c, &message, message.count)
        }
        #expect(status == QP_ERR_FORMAT && c == nil)
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(text.contains("footer at offset \(bytes.count - 64)") && text.contains("incomplete"))
        #expect(String(cString: qp_status_string(QP_ERR_CHECKSUM)) == "checksum mismatch")
    }

    /// The committed container fixtures are exactly what the current converter writes (a format
    /// change shows up here; regenerate them with the commands in Fixtures/README.md).
    @Test func fixturesAreReproduced() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-fixtures-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rulesText = try String(contentsOfFile: TestPaths.fixture("qpack/rules.yaml"), encoding: .utf8)
        let fixtureRules = try RuleSet.parse(rulesText, origin: "Fixtures/qpack/rules.yaml")
        for (source, rules, target, compress, name) in [
            ("gguf/types.gguf", fixtureRules, KernelTarget.neonDotprod, false, "types.qpack"),
            ("gguf/types.gguf", fixtureRules, KernelTarget.neonI8mm, true, "types-zstd.qpack"),
            ("gguf/aligned64.gguf", DefaultRules.ruleSet, KernelTarget.neonI8mm, true, "tiny.qpack"),
        ] {
            let checkpoint = try Checkpoint.open(path: TestPaths.fixture(source))
            let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: target, allowUnsupported: true)
            _ = try Converter.convert(
                checkpoint, path: TestPaths.fixture(source), plan: plan, rules: rules, output: dir + "/" + name,
                options: ConvertOptions(target: target, compress: compress, jobs: 2))
            #expect(
                try TestPaths.read(dir + "/" + name) == TestPaths.read(TestPaths.fixture("qpack/" + name)), "\(name)")
        }
        // Static activations from a .qcal file that generate.py wrote from the spec alone.
        let stats = try CalibrationStats.read(path: TestPaths.fixture("calibration/types.qcal"))
        let checkpoint = try Checkpoint.open(path: TestPaths.fixture("gguf/types.gguf"))
        let plan = Planner.plan(
            checkpoint.planInputs, rules: fixtureRules, target: .neonI8mm, allowUnsupported: true,
            activations: "static", observer: "minmax", smoothingByDefault: false)
        var options = ConvertOptions(target: .neonI8mm, jobs: 2)
        options.calibration = stats
        _ = try Converter.convert(
            checkpoint, path: TestPaths.fixture("gguf/types.gguf"), plan: plan, rules: fixtureRules,
            output: dir + "/static.qpack", options: options)
        #expect(
            try TestPaths.read(dir + "/static.qpack") == TestPaths.read(TestPaths.fixture("qpack/static.qpack")),
            "static.qpack")
        let smoothPlan = Planner.plan(
            checkpoint.planInputs, rules: fixtureRules, target: .neonI8mm, allowUnsupported: true,
            activations: "static", observer: "minmax", smoothing: 0.5)
        _ = try Converter.convert(
            checkpoint, path: TestPaths.fixture("gguf/types.gguf"), plan: smoothPlan, rules: fixtureRules,
            output: dir + "/smoothed.qpack", options: options)
        #expect(
            try TestPaths.read(dir + "/smoothed.qpack") == TestPaths.read(TestPaths.fixture("qpack/smoothed.qpack")),
            "smoothed.qpack")
    }

    /// smoothed.qpack (smoothing 0.5 over generate.py's statistics): divisors and ranges follow
    /// from the generator's formulas and the weights, as both readers see them.
    @Test func smoothedFixtureFollowsTheGeneratorsStatistics() throws {
        let path = TestPaths.fixture("qpack/smoothed.qpack")
        let file = try ContainerFile(path: path)
        let source = try Checkpoint.open(path: TestPaths.fixture("gguf/types.gguf"))
        var c: OpaquePointer?
        #expect(qp_container_open(path, &c, nil, 0) == QP_OK)
        defer { qp_container_close(c) }
        var checked = 0
        // t.q4_0 is a lossless Q4_0 repack: its qsi8d32p kernels quantize per block at run time,
        // so it stays dynamic (never static, never smoothed).
        let repack = try #require(file.tensor(named: "t.q4_0"))
        #expect(repack.scheme == .q4_0Repack && repack.activation == nil)
        // The packed weights are the source times the divisors, within each scheme's bound.
        let layout = try LayoutCheck.run(file, source: source)
        #expect(layout.count >= 7 && layout.allSatisfy { $0.violations == 0 }, "\(layout.filter { $0.violations > 0 })")
        for name in ["t.f32", "t.q2_k", "t.q4_1", "t.q5_0", "t.q5_1", "t.q8_0"] {
            let t = try #require(file.tensor(named: name))
            let k = try #require(t.matrix?.columns)
            let w = try #require(try source.floatValues(of: name))
            let d = try #require(try ContainerTensorDecoder.divisors(t, in: file))
            var lo: Float = 0, hi: Float = 0
            for j in 0..<k {
                // generate.py: channel_absmax = 0.25 + 0.5 (j mod 3), channel_min = -0.25 for odd j
                // (else 0), channel_max = channel_absmax.
                let ax = 0.25 + 0.5 * Double(j % 3)
                let wmax = stride(from: j, to: w.count, by: k).map { Double(abs(w[$0])) }.max()!
                let want = wmax > 0 ? Float(ax.squareRoot() / wmax.squareRoot()) : 1
                #expect(d[j] == want, "\(name) divisor \(j)")
                lo = min(lo, (j % 2 == 1 ? Float(-0.25) : 0) / d[j])
                hi = max(hi, Float(ax) / d[j])
            }
            #expect(
                t.activation?.min == lo && t.activation?.max == hi && t.activation?.smoothing?.alpha == 0.5, "\(name)")
            var info = qp_tensor_info()
            #expect(qp_container_find_tensor(c, name, &info) == QP_OK)
            #expect(info.activation_min == lo && info.activation_max == hi)
            #expect(info.activation_divisor_section.map { String(cString: $0) } == "smooth:" + name)
            checked += 1
        }
        #expect(checked == 6)
    }

    /// The ranges in static.qpack are the minmax of the generator's statistics, as both readers see them.
    @Test func staticFixtureCarriesTheGeneratorsRanges() throws {
        let stats = try CalibrationStats.read(path: TestPaths.fixture("calibration/types.qcal"))
        #expect(stats.linears.count == 7 && stats.data.first?.source == "generate.py")
        let path = TestPaths.fixture("qpack/static.qpack")
        let file = try ContainerFile(path: path)
        var c: OpaquePointer?
        #expect(qp_container_open(path, &c, nil, 0) == QP_OK)
        defer { qp_container_close(c) }
        for (i, name) in ["t.f32", "t.q2_k", "t.q4_0", "t.q4_1", "t.q5_0", "t.q5_1", "t.q8_0"].enumerated() {
            // generate.py: min = -0.5 - 0.25 i, max = 1.5 + 0.5 i over the sorted names.
            let lo = Float(-0.5 - 0.25 * Double(i)), hi = Float(1.5 + 0.5 * Double(i))
            #expect(stats.stats(for: name)?.minimum == lo && stats.stats(for: name)?.maximum == hi)
            if name == "t.q4_0" {  // a q4_0-repack: the qsi8d32p kernels have no static ranges
                #expect(file.tensor(named: name)?.activation == nil)
                continue
            }
            #expect(
                file.tensor(named: name)?.activation
                    == ContainerFile.StaticActivation(observer: "minmax", min: lo, max: hi), "\(name)")
            var info = qp_tensor_info()
            #expect(qp_container_find_tensor(c, name, &info) == QP_OK)
            #expect(info.activation_static == 1 && info.activation_min == lo && info.activation_max == hi)
        }
        var info = qp_tensor_info()
        #expect(qp_container_find_tensor(c, "t.f16", &info) == QP_OK && info.activation_static == 0)
    }
}

/// A packed linear layer run from a .qpack file through the C runtime, as docs/examples/linear.c
/// does, agrees with the float product of the dequantized weights and the activations to within
/// the int8 activation quantization.
@Suite struct PackedLinearTests {
    @Test func runtimeMatchesTheDequantizedFloatProduct() throws {
        let path = TestPaths.fixture("qpack/types.qpack")
        let swift = try ContainerFile(path: path)
        let t = try #require(swift.tensor(named: "t.f32"))
        let w = try ContainerTensorDecoder.floats(t, in: swift)
        let (n, k) = (t.matrix!.rows, t.matrix!.columns)
        let x = (0..<k).map { Float(sin(Double($0))) }
        let reference = (0..<n).map { r in (0..<k).reduce(0.0) { $0 + Double(w[r * k + $1]) * Double(x[$1]) } }

        var c: OpaquePointer?
        #expect(qp_container_open(path, &c, nil, 0) == QP_OK)
        defer { qp_container_close(c) }
        var info = qp_tensor_info()
        #expect(qp_container_find_tensor(c, "t.f32", &info) == QP_OK)
        var data: UnsafePointer<UInt8>?
        var length = 0
        #expect(qp_container_section(c, info.section, &data, &length, nil, 0) == QP_OK)
        let tile = qp_matmul_tile(mr: 1, nr: info.nr, kr: info.kr, sr: info.sr)
        var lhs = [UInt8](repeating: 0, count: qp_lhs_packed_size_qai8dxp(1, k, 1))
        x.withUnsafeBufferPointer { xp in
            lhs.withUnsafeMutableBytes {
                qp_lhs_quant_pack_qai8dxp_f32(1, k, 1, tile.kr, tile.sr, xp.baseAddress, 4 * k, $0.baseAddress)
            }
        }
        var y = [Float](repeating: .nan, count: n)
        for variant in [QP_VARIANT_SCALAR, QP_VARIANT_NEON_DOTPROD] {
            qp_force_variant(variant)
            lhs.withUnsafeBytes { l in
                y.withUnsafeMutableBufferPointer {
                    qp_matmul_f32_qai8dxp_qsi4c32p(
                        1, n, k, info.bl, tile, l.baseAddress, data, $0.baseAddress, 4 * n, -.infinity, .infinity)
                }
            }
            let scale = reference.map { abs($0) }.max()!
            for i in 0..<n {
                // int8 activations: error of about |w|·|x|·K/255; 2% of the largest output is generous.
                #expect(abs(Double(y[i]) - reference[i]) <= 0.02 * scale + 0.05, "row \(i): \(y[i]) vs \(reference[i])")
            }
        }
        qp_force_variant(QP_VARIANT_AUTO)
    }
}
