using Google.Protobuf;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>ort-paths [--points 100] [--noise 0] [--rounds 9] [--focus|--decompose] [--exact [--levels]] [--exprof] [--open] [--skip] [--dump] [--optimized] [--profile]</c>:
/// where the screened export's time goes, by path (<see cref="ScreenedGate"/>), in ONNX Runtime. The table (cycled
/// test images, as <c>ort-screen</c>) times the original, the export, the form before (farthest-first groups), other
/// group counts, and two graphs that are not repairs: the outer If's then branch replaced by its else branch (the
/// closed path alone) and the inner If's then branch by its Identity (no exact path). <c>--exact</c>: the same on
/// images in some support only (every run takes the exact path), beside graphs whose exact path reads the main
/// graph's pre-activations (unfused original Gemms), reads the main weights, or has transB=0 copies, and
/// (<c>--levels</c>) under other graph optimization levels. <c>--open</c>: images the first level lets through that
/// are in no support. <c>--dump</c>/<c>--optimized</c>: the export's nodes, as written / as ONNX Runtime optimizes them.
/// </summary>
internal static class OrtPaths
{
    public static int Run(string[] args)
    {
        var (points, noise, rounds, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 9);
        var model = SharedData.LoadMnistModel();
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var screened = RepairedOnnxExporter.ToBytes(repaired, model);
        if (args.Contains("--dump")) { Dump(ModelProto.Parser.ParseFrom(screened).Graph, ""); return 0; }
        if (args.Contains("--optimized"))
        {
            foreach (var level in new[] { Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC, Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL })
            {
                string path = Path.Combine(Path.GetTempPath(), $"gate-opt-{level}.onnx");
                using (var so = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = level, OptimizedModelFilePath = path })
                using (var s = new Microsoft.ML.OnnxRuntime.InferenceSession(screened, so)) { }
                Console.WriteLine($"== {level}");
                Dump(ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph, "");
            }
            return 0;
        }
        Console.WriteLine($"batch rows in some support: {xs.Take(1024).Count(x => repaired.InAnySupport(x))}");
        int pc = repaired.Patches.Count;
        var graphs = new List<(string Label, byte[] Onnx)>
        {
            ("original", File.ReadAllBytes(SharedData.MnistModelPath)),
            ("screened export (merged groups, shared weights)", screened),
            ("before: nested, farthest-first groups", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.Nested)),
            ("merged groups, no identity (16:58-17:30)", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.Merged)),
            ($"merged, {ScreenedGate.GroupCount(pc, 3)} groups", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.Merged, ScreenedGate.GroupCount(pc, 3))),
            ($"merged, {ScreenedGate.GroupCount(pc, 1.5)} groups", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.Merged, ScreenedGate.GroupCount(pc, 1.5))),
            ("outer then = else (closed path only)", OuterClosed(screened)),
            ("inner then = else (no exact)", InnerClosed(screened)),
        };
        Console.WriteLine($"load before: {MnistMacro.LoadAverage()}");
        if (args.Contains("--focus")) graphs = graphs.Take(4).ToList();
        if (args.Contains("--decompose")) graphs = [graphs[0], graphs[1], graphs[2], graphs[6], graphs[7]];
        if (!args.Contains("--skip")) OrtFloor.PrintTable(graphs, model.InputName, xs, rounds);
        if (args.Contains("--profile")) OrtProfile.Print("screened", screened, model.InputName, xs, nodes: 80);
        if (args.Contains("--exact") || args.Contains("--exprof"))
        {
            var some = xs.Where(x => repaired.InAnySupport(x)).Take(8).ToArray(); var inSupport = Enumerable.Range(0, 1024).Select(k => some[k % some.Length]).ToArray();
            var ex = new List<(string, byte[])> { graphs[0], ("unscreened", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: false)), graphs[1], graphs[2], graphs[3],
                ("two flat", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, ScreenForm.TailFlat)),
                ("identity else, one level", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.One, ScreenForm.IdentityElse)),
                ("exact reads main z (unfused main)", ReadMainZ(screened)),
                ("exact copies read main weights", InnerOuterWeights(screened)),
                ("exact copies transB=0", CopiesUntransposed(screened)),
                ("exact copies' weights differ in one bit (not a repair)", PerturbedCopies(screened)),
                ("merged, exact copies Gemm -> LeakyRelu(1) (as the export, by graph edit)", IdentityActivation(graphs[3].Onnx)) };
            if (args.Contains("--exprof")) goto prof;
            Console.WriteLine("in-support images only:");
            if (!args.Contains("--levels")) OrtFloor.PrintTable(ex, model.InputName, inSupport, rounds);
            foreach (var (label, cfg) in new (string, Action<Microsoft.ML.OnnxRuntime.SessionOptions>)[] {
                ("opt extended", so => so.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED),
                ("opt basic", so => so.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC),
                ("no prepack", so => so.AddSessionConfigEntry("session.disable_prepacking", "1")) })
            {
                Console.WriteLine(label);
                OrtFloor.PrintTable([ex[0], ex[1], ex[2], ex[4]], model.InputName, inSupport, rounds, cfg);
            }
            prof:
            OrtProfile.PrintSingle("screened, in-support", screened, model.InputName, inSupport, runs: 400);
            OrtProfile.PrintSingle("screened, in-support, basic", screened, model.InputName, inSupport, runs: 400, so => so.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC);
            OrtProfile.PrintSingle("screened, in-support, extended", screened, model.InputName, inSupport, runs: 400, so => so.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        }
        if (args.Contains("--open"))
        {
            var net = model.Network;
            int w1 = net.Layers[0].Outputs, pc2 = repaired.Patches.Count;
            var inactive = repaired.Patches.Select(p => Enumerable.Range(0, w1).Where(j => !p.Support.Pattern![j]).ToArray()).ToArray();
            var groups = ScreenedGate.MergedGroups(inactive, w1, ScreenedGate.GroupCount(pc2));
            var common = groups.Select(g => g.Skip(1).Aggregate(inactive[g[0]].AsEnumerable(), (set, p) => set.Intersect(inactive[p])).ToArray()).ToArray();
            var passing = xs.Where(x =>
            {
                var z = net.PreActivations(x);
                return common.Any(c => c.Sum(j => Math.Max(z[j], 0)) < 1 + 1.0 / 1024) && !repaired.InAnySupport(x);
            }).Take(16).ToArray();
            Console.WriteLine($"{passing.Length} images pass the first level, none in a support");
            var rows = Enumerable.Range(0, 1024).Select(k => passing[k % passing.Length]).ToArray();
            OrtFloor.PrintTable(graphs.Take(4).ToList(), model.InputName, rows, rounds);
            OrtProfile.PrintSingle("screened, open, not in a support", screened, model.InputName, rows, runs: 1000);
        }
        if (args.Contains("--only")) return 0;
        return 0;
    }

    internal static void Dump(GraphProto g, string indent)
    {
        foreach (var t in g.Initializer) Console.WriteLine($"{indent}init {t.Name} [{string.Join(",", t.Dims)}]");
        foreach (var n in g.Node)
        {
            Console.WriteLine($"{indent}{n.OpType} {n.Name} ({string.Join(", ", n.Input)}) -> ({string.Join(", ", n.Output)}) {string.Join(" ", n.Attribute.Where(a => a.G is null).Select(a => $"{a.Name}={a.I}{(a.Ints.Count > 0 ? "[" + string.Join(",", a.Ints) + "]" : "")}"))}");
            foreach (var a in n.Attribute.Where(a => a.G is not null)) { Console.WriteLine($"{indent}  {a.Name}:"); Dump(a.G, indent + "    "); }
        }
    }

    /// <summary>The inner exact branch gathers the main graph's pre-activations instead of recomputing them.</summary>
    internal static byte[] ReadMainZ(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var open = TopIf(model.Graph).Attribute.Single(a => a.Name == "then_branch").G;
        var exact = open.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        var mainGemms = model.Graph.Node.Where(n => n.OpType == "Gemm").ToList(); // z1, z2
        var gatherInput = exact.Node.First(n => n.OpType == "Gather" && n.Input[0] == model.Graph.Input[0].Name);
        string rows = gatherInput.Input[1];
        var copies = exact.Node.Where(n => n.OpType == "Gemm" && n.Input[1].Contains("weight", StringComparison.Ordinal)).ToList();
        for (int l = 0; l < copies.Count; l++)
        {
            var g = new NodeProto { OpType = "Gather", Name = copies[l].Name + "_z" };
            g.Input.AddRange([mainGemms[l].Output[0], rows]);
            g.Output.Add(copies[l].Output[0]);
            g.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            exact.Node[exact.Node.IndexOf(copies[l])] = g;
        }
        exact.Node.Remove(gatherInput);
        foreach (var relu in exact.Node.Where(n => n.OpType == "Relu").ToList()) exact.Node.Remove(relu);
        foreach (var t in exact.Initializer.Where(t => t.Name.Contains("weight", StringComparison.Ordinal)).ToList()) exact.Initializer.Remove(t);
        return model.ToByteArray();
    }

    /// <summary>The inner exact branch's copies read the main graph's weights (no own copies).</summary>
    internal static byte[] InnerOuterWeights(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var open = TopIf(g).Attribute.Single(a => a.Name == "then_branch").G;
        var exact = open.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        var rename = new Dictionary<string, string>();
        foreach (var t in exact.Initializer.ToList())
        {
            var outer = g.Initializer.FirstOrDefault(o => o.RawData.Equals(t.RawData) && o.Dims.Equals(t.Dims) && o.DataType == t.DataType);
            if (outer is null) continue;
            rename[t.Name] = outer.Name;
            exact.Initializer.Remove(t);
        }
        foreach (var n in exact.Node)
            for (int k = 0; k < n.Input.Count; k++) if (rename.TryGetValue(n.Input[k], out var r)) n.Input[k] = r;
        return model.ToByteArray();
    }

    /// <summary>Each of the inner exact branch's Gemm copies followed by LeakyRelu(alpha 1), an identity, which its readers read instead (ONNX Runtime may fuse it as the original's Gemm + Relu).</summary>
    internal static byte[] IdentityActivation(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var open = TopIf(model.Graph).Attribute.Single(a => a.Name == "then_branch").G;
        var exact = open.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        foreach (var gemm in exact.Node.Where(n => n.OpType == "Gemm" && n.Input[1].Contains("weight", StringComparison.Ordinal)).ToList())
        {
            string z = gemm.Output[0], raw = z + "_gemm";
            gemm.Output[0] = raw;
            var leaky = new NodeProto { OpType = "LeakyRelu", Name = gemm.Name + "_identity" };
            leaky.Input.Add(raw);
            leaky.Output.Add(z);
            leaky.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1 });
            exact.Node.Insert(exact.Node.IndexOf(gemm) + 1, leaky);
        }
        return model.ToByteArray();
    }

    /// <summary>The inner exact branch's own weight copies with one bit of their first value flipped (equal contents no more).</summary>
    internal static byte[] PerturbedCopies(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var open = TopIf(model.Graph).Attribute.Single(a => a.Name == "then_branch").G;
        var exact = open.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        foreach (var t in exact.Initializer.Where(t => t.Name.Contains("weight", StringComparison.Ordinal) && t.Dims.Count == 2))
        {
            var raw = t.RawData.ToByteArray();
            raw[0] ^= 1;
            t.RawData = ByteString.CopyFrom(raw);
        }
        return model.ToByteArray();
    }

    /// <summary>The inner exact branch's Gemm copies with their own weights transposed and transB=0.</summary>
    internal static byte[] CopiesUntransposed(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var open = TopIf(model.Graph).Attribute.Single(a => a.Name == "then_branch").G;
        var exact = open.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;
        foreach (var n in exact.Node.Where(n => n.OpType == "Gemm" && n.Input[1].Contains("weight", StringComparison.Ordinal)))
        {
            var t = exact.Initializer.Single(i => i.Name == n.Input[1]);
            int rows = (int)t.Dims[0], cols = (int)t.Dims[1];
            var data = new float[rows * cols];
            Buffer.BlockCopy(t.RawData.ToByteArray(), 0, data, 0, data.Length * 4);
            var tr = new float[rows * cols];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) tr[j * rows + i] = data[i * cols + j];
            var bytes = new byte[tr.Length * 4];
            Buffer.BlockCopy(tr, 0, bytes, 0, bytes.Length);
            t.RawData = ByteString.CopyFrom(bytes);
            t.Dims.Clear();
            t.Dims.AddRange([cols, rows]);
            n.Attribute.Single(a => a.Name == "transB").I = 0;
        }
        return model.ToByteArray();
    }

    private static NodeProto TopIf(GraphProto g) => g.Node.Single(n => n.OpType == "If");

    internal static byte[] OuterClosed(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var gate = TopIf(model.Graph);
        var closed = gate.Attribute.Single(a => a.Name == "else_branch").G;
        gate.Attribute.Single(a => a.Name == "then_branch").G = closed.Clone();
        return model.ToByteArray();
    }

    internal static byte[] InnerClosed(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var open = TopIf(model.Graph).Attribute.Single(a => a.Name == "then_branch").G;
        var inner = open.Node.Single(n => n.OpType == "If");
        var none = inner.Attribute.Single(a => a.Name == "else_branch").G;
        inner.Attribute.Single(a => a.Name == "then_branch").G = none.Clone();
        return model.ToByteArray();
    }
}
