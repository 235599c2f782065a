import Testing
import QPackModel
import QPackPacking
import QPackReaders
import QPackTestSupport
@testable import QPackConvert
@testable import QPackPlanning

@Suite struct RulesParsingTests {
    @Test func defaultRulesParse() {
        let rules = DefaultRules.ruleSet
        #expect(
            rules.rules.map(\.name) == [
                "norms-f32", "biases-f32", "attention-output-f16", "gguf-q4_0-lossless", "gguf-q4_1-lossless",
                "gguf-q4_k-lossless", "gguf-q8_0-tables-f16", "embeddings-int8", "lm-head-int8", "encoder-linear-int8",
                "linear-int4", "everything-else-kept",
            ])
        #expect(rules.rules[3].match.sourceTypes == ["Q4_0"] && rules.rules[3].scheme == .q4_0Repack)
        #expect(rules.rules[4].match.sourceTypes == ["Q4_1"] && rules.rules[4].scheme == .q4_1Repack)
        #expect(rules.rules[5].match.sourceTypes == ["Q4_K"] && rules.rules[5].scheme == .repack(source: "Q4_K"))
        #expect(rules.rules[9].match.architectures == ["bert"] && rules.rules[9].scheme == .qsi8cx)
        #expect(rules.rules[10].scheme == .qsi4c32(blockLength: 32))
        #expect(rules.rules[10].fallback == .qsi4cx)
    }

    /// Formats/qpack-rules.md lists the default rules; the spec and the built-in text agree.
    @Test func specListsTheDefaultRules() throws {
        let spec = try String(contentsOfFile: TestPaths.repoRoot + "/Formats/qpack-rules.md", encoding: .utf8)
        let section = try #require(spec.components(separatedBy: "## The default rules").last)
        let yaml = try #require(
            section.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let listed = try RuleSet.parse(yaml, origin: "Formats/qpack-rules.md")
        let builtIn = DefaultRules.ruleSet
        #expect(listed.rules.map(\.name) == builtIn.rules.map(\.name))
        for (a, b) in zip(listed.rules, builtIn.rules) {
            #expect(a.match == b.match && a.scheme == b.scheme && a.fallback == b.fallback, "\(a.name)")
        }
    }

    /// The qsi8d32p families quantize activations per block at run time: static mode leaves
    /// them dynamic, with a note, and still makes the qai8dxp linears static.
    @Test func staticModeKeepsPerBlockFamiliesDynamic() throws {
        let inputs = ["Q4_1", "F32"].map {
            PlanInput(
                name: "blk.0.ffn_up.\($0)", sourceType: $0, shape: [64, 64], elementCount: 4096, byteCount: 4096,
                ggmlOrder: true, decodable: true)
        }
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: r, match: {source_type: Q4_1}, scheme: q4_1-repack}
              - {name: q, scheme: qsi4c32}
            """, origin: "t")
        let plan = Planner.plan(inputs, rules: rules, target: .neonI8mm, activations: "static", observer: "minmax")
        #expect(plan.entries[0].scheme == .q4_1Repack && !plan.entries[0].activations.isStatic)
        #expect(plan.entries[1].activations.isStatic)
        #expect(plan.diagnostics.contains { $0.severity == .note && $0.message.contains("activations stay dynamic") })
    }

    @Test func matchesBySourceTypeAndRejectsUnknownTypes() throws {
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: q41, match: {source_type: [Q4_1, Q4_0]}, scheme: qsi8cx}
              - {name: rest, scheme: f16}
            """, origin: "t")
        let inputs = ["Q4_1", "Q4_0", "F32"].map {
            PlanInput(
                name: "blk.0.ffn_up.\($0)", sourceType: $0, shape: [64, 64], elementCount: 4096, byteCount: 4096,
                ggmlOrder: true, decodable: true)
        }
        let plan = Planner.plan(inputs, rules: rules, target: .neonDotprod)
        #expect(plan.entries.map(\.rule) == ["q41", "q41", "rest"])
        #expect(throws: RulesError.self) {
            try RuleSet.parse(
                "version: 1\nrules:\n  - {name: a, match: {source_type: Q9_9}, scheme: f16}\n", origin: "t")
        }
    }

    @Test func matchesByGlobRegexRoleAndLayers() throws {
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - name: early-ffn-int8
                match: {name: "blk.*.ffn_*.weight", layers: "0-1, 29"}
                scheme: qsi8cx
              - name: q-regex
                match: {regex: 'blk\\.[0-9]+\\.attn_q\\.weight'}
                scheme: qsi4c32b64
              - name: rest
                scheme: keep
            """, origin: "t.yaml")
        let inputs = [
            "blk.0.ffn_up.weight", "blk.1.ffn_down.weight", "blk.2.ffn_up.weight", "blk.29.ffn_gate.weight",
            "blk.3.attn_q.weight", "blk.3.attn_k.weight",
        ].map {
            PlanInput(
                name: $0, sourceType: "F32", shape: [128, 64], elementCount: 8192, byteCount: 32768, ggmlOrder: true,
                decodable: true)
        }
        let plan = Planner.plan(inputs, rules: rules, target: .neonI8mm, allowUnsupported: true)
        #expect(
            plan.entries.map(\.rule) == [
                "early-ffn-int8", "early-ffn-int8", "rest", "early-ffn-int8", "q-regex", "rest",
            ])
        #expect(plan.entries[4].scheme == .qsi4c32(blockLength: 64))
        #expect(plan.entries[4].matrix == [64, 128])
    }

    /// `architecture` matches the recognised profile only; unrecognised names never match it.
    @Test func matchesByArchitecture() throws {
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: llama-only, match: {architecture: llama, role: linear}, scheme: qsi8cx}
              - {name: bert-only, match: {architecture: [bert], role: linear}, scheme: qsi4cx}
              - {name: rest, scheme: keep}
            """, origin: "t.yaml")
        func input(_ name: String) -> PlanInput {
            PlanInput(
                name: name, sourceType: "F32", shape: [64, 64], elementCount: 4096, byteCount: 16384, ggmlOrder: true,
                decodable: true)
        }
        let llama = Planner.plan(
            ["blk.0.attn_q.weight", "blk.0.ffn_up.weight", "token_embd.weight"].map(input), rules: rules,
            target: .neonI8mm, allowUnsupported: true)
        #expect(llama.entries.map(\.rule) == ["llama-only", "llama-only", "rest"])
        let bert = Planner.plan(
            ["encoder.layer.0.attention.self.query.weight", "encoder.layer.0.intermediate.dense.weight"].map(input),
            rules: rules, target: .neonI8mm, allowUnsupported: true)
        #expect(bert.entries.map(\.rule) == ["bert-only", "bert-only"])
        let unknown = Planner.plan(
            ["foo.0.proj.weight", "foo.1.proj.weight"].map(input), rules: rules, target: .neonI8mm,
            allowUnsupported: true)
        #expect(unknown.entries.map(\.rule) == ["rest", "rest"])
    }

    static let badRules: [(String, String)] = [
        ("version: 1\nrules: [{name: a, match: {architecture: gpt2}, scheme: f32}]", "unknown architecture 'gpt2'"),
        ("version: 2\nrules: [{name: a, scheme: f32}]", "version 2 is not supported"),
        ("rules: [{name: a, scheme: f32}]", "missing 'version: 1'"),
        ("version: 1\nrules: [{name: a, scheme: int3}]", "unknown scheme 'int3'"),
        ("version: 1\nrules: [{name: a, scheme: f32, colour: red}]", "unknown rule key 'colour'"),
        ("version: 1\nrules: [{name: a, scheme: f32}, {name: a, scheme: f16}]", "duplicate rule name 'a'"),
        ("version: 1\nrules: [{name: a, match: {role: head}, scheme: f32}]", "unknown role 'head'"),
        ("version: 1\nrules: [{name: a, match: {layers: 5-2}, scheme: f32}]", "layers '5-2'"),
        ("version: 1\nrules: [{name: a, match: {regex: '('}, scheme: f32}]", "invalid regex"),
        ("version: 1\nversion: 1\nrules: []", "duplicated key"),
        ("version: 1\nrules: []", "'rules' is empty"),
        ("version: 1\nrules: [{scheme: f32}]", "without a 'name'"),
        ("version: 1\nrules: [{name: a}]", "has no 'scheme'"),
        ("[1, 2]", "must be a mapping"),
    ]

    @Test(arguments: badRules)
    func badRulesAreRejectedWithAReason(_ text: String, _ message: String) {
        #expect {
            try RuleSet.parse(text, origin: "bad.yaml")
        } throws: { error in
            let e = error as? RulesError
            return e?.description.hasPrefix("bad.yaml") == true && e?.description.contains(message) == true
        }
    }
}

@Suite struct PreflightTests {
    func input(_ name: String, _ shape: [Int], type: String = "F32", decodable: Bool = true) -> PlanInput {
        PlanInput(
            name: name, sourceType: type, shape: shape, elementCount: shape.reduce(1, *),
            byteCount: 4 * shape.reduce(1, *),
            ggmlOrder: false, decodable: decodable)
    }

    /// The coverage summary lists schemes in one fixed order, not in the order tensors come.
    @Test func schemeSummaryOrderDoesNotDependOnTensorOrder() throws {
        let inputs = [
            input("model.layers.0.mlp.up_proj.weight", [64, 64]), input("model.norm.weight", [64]),
            input("model.layers.0.self_attn.o_proj.weight", [64, 64]), input("model.embed_tokens.weight", [64, 64]),
        ]
        let forward = Planner.plan(inputs, rules: DefaultRules.ruleSet, target: .neonI8mm, allowUnsupported: true)
        let backward = Planner.plan(
            inputs.reversed(), rules: DefaultRules.ruleSet, target: .neonI8mm, allowUnsupported: true)
        #expect(forward.coverage.map(\.scheme) == ["f32", "f16", "qsi4c32", "qsi8cx"])
        #expect(backward.coverage.map(\.scheme) == forward.coverage.map(\.scheme))
    }

    @Test func shapeMisfitWithoutFallbackIsAnErrorNamingTheNumbers() throws {
        let rules = try RuleSet.parse("version: 1\nrules: [{name: int4, scheme: qsi4c32}]", origin: "r")
        let plan = Planner.plan([input("w", [16, 33])], rules: rules, target: .neonDotprod, allowUnsupported: true)
        #expect(plan.hasErrors)
        #expect(plan.entries.isEmpty)
        #expect(
            plan.diagnostics.first { $0.severity == .error }?.description
                == "error: tensor 'w': K = 33 is not a multiple of the qsi4c32 block length 32; the rule has no fallback (rule 'int4')"
        )
    }

    @Test func fallbackIsUsedAndShown() throws {
        let plan = Planner.plan(
            [input("model.layers.0.mlp.up_proj.weight", [16, 33])], rules: DefaultRules.ruleSet, target: .neonDotprod,
            allowUnsupported: true)
        #expect(!plan.hasErrors)
        let e = try #require(plan.entries.first)
        #expect(e.scheme == .qsi4cx)
        #expect(e.requestedScheme == .qsi4c32(blockLength: 32))
        #expect(e.fallbackReason == "K = 33 is not a multiple of the qsi4c32 block length 32")
        #expect(plan.diagnostics.contains { $0.severity == .warning && $0.tensor == e.name })
    }

    @Test func integerTensorsCannotBeQuantized() throws {
        let rules = try RuleSet.parse("version: 1\nrules: [{name: all-int8, scheme: qsi8cx}]", origin: "r")
        let plan = Planner.plan(
            [input("ids", [1, 512], type: "I64", decodable: false)], rules: rules, target: .neonDotprod,
            allowUnsupported: true)
        #expect(
            plan.diagnostics.first { $0.severity == .error }?.message.contains("I64 values cannot be quantized") == true
        )
    }

    @Test func sizesFollowTheKleidiAIFormulas() throws {
        let plan = Planner.plan(
            [input("model.layers.0.mlp.up_proj.weight", [1536, 384])], rules: DefaultRules.ruleSet, target: .neonI8mm,
            allowUnsupported: true)
        // nr 8: 192 panels of 8 * (12 blocks * (16 + 2) + 8) bytes
        #expect(plan.entries[0].storedBytes == 192 * 8 * (12 * 18 + 8))
        #expect(
            plan.entries[0].tile
                == KleidiAITileSpec(nr: 8, kr: 16, sr: 2, kernels: LayoutFamily.qsi4c32p.tile(for: .neonI8mm)!.kernels))
    }
}

@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct RealModelPlanTests {
    @Test func miniLMDefaultPlan() throws {
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonI8mm)
        #expect(!plan.hasErrors)
        #expect(plan.profile == "bert (hf names)")
        #expect(plan.entries.count == 104)
        for e in plan.entries {
            if e.name.contains("LayerNorm") { #expect(e.scheme == .f32 && e.role == .norm, "\(e.name)") }
            if e.name.hasSuffix("attention.output.dense.weight") {
                #expect(e.scheme == .f16 && e.role == .attentionOutput)
            }
            if e.name.hasSuffix(".bias") && !e.name.contains("LayerNorm") {
                #expect(e.scheme == .f32 && e.role == .bias)
            }
            if e.name.hasSuffix("query.weight") || e.name.hasSuffix("intermediate.dense.weight") {
                #expect(e.scheme == .qsi8cx && e.rule == "encoder-linear-int8")
            }
        }
        #expect(plan.entries.first { $0.name == "embeddings.word_embeddings.weight" }?.scheme == .qsi8cx)
        #expect(plan.entries.first { $0.name == "embeddings.position_ids" }?.scheme == .keep)
        #expect(plan.entries.filter { $0.role == .norm }.count == 26)  // 2 per layer x 6 x (w, b) + embeddings
        #expect(plan.entries.filter { $0.role == .attentionOutput }.count == 6)
        #expect(plan.coverage.reduce(0) { $0 + $1.tensors } == 104)
        #expect(plan.coverage.reduce(0) { $0 + $1.parameters } == plan.totalParameters)
        #expect(plan.entries.first { $0.name == "encoder.layer.3.output.dense.weight" }?.layer == 3)
    }

    @Test func smolLMDefaultPlan() throws {
        let checkpoint = try Checkpoint.open(path: TestPaths.smolLMPath)
        let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonDotprod)
        #expect(!plan.hasErrors)
        #expect(plan.profile == "llama (gguf names)")
        #expect(plan.entries.count == 272)
        #expect(plan.entries.filter { $0.role == .norm }.allSatisfy { $0.scheme == .f32 })
        #expect(plan.entries.filter { $0.role == .norm }.count == 61)
        #expect(plan.entries.filter { $0.role == .attentionOutput }.count == 30)
        #expect(plan.entries.filter { $0.role == .attentionOutput }.allSatisfy { $0.scheme == .f16 })
        // Lossless first: the Q4_1 linears are repacked exactly, nothing is put on a coarser grid.
        let q = try #require(plan.entries.first { $0.name == "blk.0.attn_q.weight" })
        #expect(q.scheme == .q4_1Repack && q.matrix == [576, 576] && q.lossless && q.layout == "qai4c32p")
        #expect(q.note?.contains("lossless") == true)
        let linears = plan.entries.filter { $0.role == .linear }
        #expect(linears.count == 180 && linears.allSatisfy { $0.scheme == .q4_1Repack && $0.lossless })
        #expect(plan.entries.allSatisfy { $0.note?.contains("requantized") != true })
        let table = try #require(plan.entries.first { $0.name == "token_embd.weight" })
        #expect(table.matrix == [49152, 576] && table.scheme == .f16 && table.note?.contains("Q8_0") == true)
        #expect(plan.coverage.reduce(0) { $0 + $1.tensors } == 272)
    }
}

@Suite struct ActivationRuleTests {
    static let inputs = [
        PlanInput(
            name: "blk.0.attn_q.weight", sourceType: "F32", shape: [64, 64], elementCount: 4096, byteCount: 16384,
            ggmlOrder: true, decodable: true),
        PlanInput(
            name: "blk.0.ffn_down.weight", sourceType: "F32", shape: [64, 64], elementCount: 4096, byteCount: 16384,
            ggmlOrder: true, decodable: true),
        PlanInput(
            name: "blk.0.attn_norm.weight", sourceType: "F32", shape: [64], elementCount: 64, byteCount: 256,
            ggmlOrder: true, decodable: true),
    ]

    @Test func modeObserverAndPerRuleChoices() throws {
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: down, match: {name: "*.ffn_down.weight"}, scheme: qsi8cx, observer: entropy}
              - {name: norms, match: {role: norm}, scheme: f32}
              - {name: rest, scheme: qsi8cx}
            """, origin: "t.yaml")
        let dynamic = Planner.plan(Self.inputs, rules: rules, target: .neonI8mm, allowUnsupported: true)
        #expect(dynamic.entries.map(\.activations.description) == ["dynamic", "static:entropy", "none"])
        let stat = Planner.plan(
            Self.inputs, rules: rules, target: .neonI8mm, allowUnsupported: true, activations: "static",
            observer: "percentile(99.9)")
        #expect(stat.entries.map(\.activations.description) == ["static:percentile(99.9)", "static:entropy", "none"])
        for bad in [
            "{name: x, scheme: qsi8cx, activations: sometimes}", "{name: x, scheme: qsi8cx, observer: max}",
            "{name: x, scheme: qsi8cx, activations: dynamic, observer: minmax}",
            "{name: x, scheme: qsi8cx, percentile: 99}",
            "{name: x, scheme: qsi8cx, observer: percentile, percentile: 20}",
        ] {
            #expect(throws: RulesError.self) {
                try RuleSet.parse("version: 1\nrules:\n  - \(bad)\n", origin: "bad.yaml")
            }
        }
    }

    /// Smoothing: per rule or by option, static minmax linears only; with another observer the
    /// plan has an error naming the tensor; malformed `smooth` values are refused.
    @Test func smoothingPerRuleAndByOption() throws {
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: down, match: {name: "*.ffn_down.weight"}, scheme: qsi8cx, activations: static, observer: minmax, smooth: 0.8}
              - {name: norms, match: {role: norm}, scheme: f32}
              - {name: rest, scheme: qsi8cx}
            """, origin: "t.yaml")
        let dynamic = Planner.plan(Self.inputs, rules: rules, target: .neonI8mm, allowUnsupported: true)
        #expect(dynamic.entries.map(\.smoothing) == [nil, 0.8, nil])
        let all = Planner.plan(
            Self.inputs, rules: rules, target: .neonI8mm, allowUnsupported: true, activations: "static",
            observer: "minmax", smoothing: 0.6)
        #expect(all.entries.map(\.smoothing) == [0.6, 0.8, nil] && !all.hasErrors)
        let wrong = Planner.plan(
            Self.inputs, rules: rules, target: .neonI8mm, allowUnsupported: true, activations: "static",
            observer: "entropy", smoothing: 0.6)
        #expect(wrong.hasErrors)
        #expect(
            wrong.diagnostics.contains {
                $0.tensor == "blk.0.attn_q.weight" && $0.message.contains("smoothing needs the minmax observer")
            })
        for bad in [
            "{name: x, scheme: qsi8cx, smooth: 0}", "{name: x, scheme: qsi8cx, smooth: 1.5}",
            "{name: x, scheme: qsi8cx, smooth: strong}",
            "{name: x, scheme: qsi8cx, activations: dynamic, smooth: 0.5}",
            "{name: x, scheme: qsi8cx, observer: mse, smooth: 0.5}",
        ] {
            #expect(throws: RulesError.self) {
                try RuleSet.parse("version: 1\nrules:\n  - \(bad)\n", origin: "bad.yaml")
            }
        }
    }
}
