using Google.Protobuf;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>ort-screen [--points 100] [--noise 0] [--file path] [--rounds 9]</c>: what the closed path of the screened gate
/// (<see cref="ScreenedGate"/>) costs in ONNX Runtime, part by part. Next to the original, the unscreened and the
/// screened export (same saved repair as <c>ort-ratio</c>), it times graphs with parts of the screened export's closed
/// path changed, all interleaved in one run (figures: medians over rounds; ratios to the original in the same round):
/// <list type="bullet">
/// <item>the If replaced by a Where(cond, original, original) (no subgraph: what the If costs beyond one small node);</item>
/// <item>the open branch inlined in the main graph, the If taken away (the patch network runs on the k open rows, k = 0 for most images: what nodes on empty tensors cost against one If);</item>
/// <item>the If's else branch without its Identity node (the branch's output is the outer original output).</item>
/// </list>
/// None of the changed graphs is a correct repair.
/// </summary>
internal static class OrtScreen
{
    public static int Run(string[] args)
    {
        var (points, noise, rounds, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 9);
        var model = SharedData.LoadMnistModel();
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var screened = RepairedOnnxExporter.ToBytes(repaired, model);
        var before = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Auto, ScreenForm.IdentityElse);
        var twoLevels = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two);
        var oneLevel = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.One);
        var twoFlat = RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, ScreenForm.TailFlat);
        var factors = new List<(string, byte[])>();
        foreach (double c in new[] { 1.0, 3, 4, 6 })
        {
            int k = ScreenedGate.GroupCount(repaired.Patches.Count, c);
            factors.Add(($"screened, forced two levels (inner If), {k} groups", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: true, ScreenLevels.Two, groupCount: k)));
        }
        var graphs = new List<(string Label, byte[] Onnx)>
        {
            ("original", File.ReadAllBytes(SharedData.MnistModelPath)),
            ("unscreened export", RepairedOnnxExporter.ToBytes(repaired, model, null, screened: false)),
            ("screened, last layer in the main graph (before)", before),
            ("screened export (last layer in the If's branches)", screened),
            ("screened, If -> Where (before; no subgraph)", IfToWhere(before)),
            ("screened, forced one level", oneLevel),
            ("screened, forced two levels (inner If)", twoLevels),
            ("screened, forced two levels (no inner If)", twoFlat),
            ("screened, Gemm transB, 1 column", ScreenAsGemm(screened, transposed: true, columns: 1)),
        };
        graphs.AddRange(factors);
        if (args.Contains("--focus"))
            graphs = graphs.Where(g => g.Label is "original" || g.Label.StartsWith("screened, forced", StringComparison.Ordinal) || g.Label.StartsWith("screened export", StringComparison.Ordinal)).ToList();
        var singles = xs.Take(256).Count(x => repaired.InAnySupport(x));
        Console.WriteLine($"single images: {singles} of the 256 cycled are in some support");
        Console.WriteLine($"load before: {MnistMacro.LoadAverage()}; {repaired.Patches.Count} patches from {file}");
        OrtFloor.PrintTable(graphs, model.InputName, xs, rounds);
        OrtProfile.PrintSingle("screened", screened, model.InputName, xs);
        OrtProfile.Print("screened", screened, model.InputName, xs, nodes: 40);
        OrtProfile.Print("screened, forced two levels", twoLevels, model.InputName, xs, nodes: 40);
        return 0;
    }

    private static NodeProto TopIf(GraphProto g) => g.Node.Single(n => n.OpType == "If");

    /// <summary>The then branch's own copies of main-graph weights (equal contents) dropped: its nodes read the main graph's.</summary>
    internal static byte[] OuterWeights(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var open = TopIf(g).Attribute.Single(a => a.Name == "then_branch").G;
        var rename = new Dictionary<string, string>();
        foreach (var t in open.Initializer.ToList())
        {
            var outer = g.Initializer.FirstOrDefault(o => o.RawData.Equals(t.RawData) && o.Dims.Equals(t.Dims) && o.DataType == t.DataType);
            if (outer is null) continue;
            rename[t.Name] = outer.Name;
            open.Initializer.Remove(t);
        }
        foreach (var n in open.Node)
            for (int k = 0; k < n.Input.Count; k++) if (rename.TryGetValue(n.Input[k], out var r)) n.Input[k] = r;
        return model.ToByteArray();
    }

    /// <summary>The If replaced by Where(cond, original, original).</summary>
    internal static byte[] IfToWhere(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var gate = TopIf(g);
        var where = new NodeProto { OpType = "Where", Name = gate.Name + "_where" };
        string original = RepairedOnnxExporter.Prefix + "original_output";
        where.Input.AddRange([gate.Input[0], original, original]);
        where.Output.Add(gate.Output[0]);
        g.Node[g.Node.IndexOf(gate)] = where;
        return model.ToByteArray();
    }

    /// <summary>
    /// The original's last node (writing the original output) moved into both If branches, with copies of its
    /// constants in each (the else branch is then that node instead of an Identity).
    /// </summary>
    internal static byte[] LastLayerInBranches(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        string original = RepairedOnnxExporter.Prefix + "original_output";
        var last = g.Node.Single(n => n.Output.Contains(original));
        g.Node.Remove(last);
        var gate = TopIf(g);
        foreach (var a in gate.Attribute)
        {
            var branch = a.G;
            foreach (var input in last.Input)
            {
                var t = g.Initializer.FirstOrDefault(i => i.Name == input);
                if (t is not null) branch.Initializer.Add(t.Clone());
            }
            if (a.Name == "else_branch")
            {
                var identity = branch.Node.Single();
                var copy = last.Clone();
                copy.Output[0] = identity.Output[0];
                branch.Node.Clear();
                branch.Node.Add(copy);
            }
            else branch.Node.Insert(0, last.Clone());
        }
        OrtFloor.RemoveUnused(g);
        return model.ToByteArray();
    }

    /// <summary>The If's then branch inlined in the main graph (its nodes and constants); the If and its condition removed.</summary>
    internal static byte[] Inlined(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var gate = TopIf(g);
        var open = gate.Attribute.Single(a => a.Name == "then_branch").G;
        int at = g.Node.IndexOf(gate);
        g.Node.RemoveAt(at);
        foreach (var n in open.Node.Reverse()) g.Node.Insert(at, n.Clone());
        foreach (var t in open.Initializer) g.Initializer.Add(t.Clone());
        g.Node[at + open.Node.Count - 1].Output[0] = gate.Output[0];
        OrtFloor.RemoveUnused(g);
        return model.ToByteArray();
    }

    /// <summary>The screen's MatMul as a Gemm (B <c>[w_1, P]</c>, or its transpose with transB), optionally with only its first columns.</summary>
    internal static byte[] ScreenAsGemm(byte[] onnx, bool transposed, int? columns)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var product = g.Node.First(n => n.OpType == "MatMul" && n.Input[1].Contains("screen", StringComparison.Ordinal));
        var w = g.Initializer.Single(t => t.Name == product.Input[1]);
        int rows = (int)w.Dims[0], cols = (int)w.Dims[1], keep = columns ?? cols;
        var data = new float[rows * cols];
        Buffer.BlockCopy(w.RawData.ToByteArray(), 0, data, 0, data.Length * 4);
        var next = new float[rows * keep];
        for (int j = 0; j < rows; j++)
            for (int c = 0; c < keep; c++)
                next[transposed ? c * rows + j : j * keep + c] = data[j * cols + c];
        var bytes = new byte[next.Length * 4];
        Buffer.BlockCopy(next, 0, bytes, 0, bytes.Length);
        w.RawData = ByteString.CopyFrom(bytes);
        w.Dims.Clear();
        w.Dims.AddRange(transposed ? [keep, rows] : [rows, keep]);
        product.OpType = "Gemm";
        if (transposed) product.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return model.ToByteArray();
    }

    /// <summary>The screen's MatMul taken away: the ReduceMin nodes read its input a_1 <c>[N, w_1]</c> instead.</summary>
    internal static byte[] WithoutScreenProduct(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var product = g.Node.First(n => n.OpType == "MatMul" && n.Input[1].Contains("screen", StringComparison.Ordinal));
        void Rewire(GraphProto graph)
        {
            foreach (var n in graph.Node)
            {
                for (int k = 0; k < n.Input.Count; k++) if (n.Input[k] == product.Output[0]) n.Input[k] = product.Input[0];
                foreach (var a in n.Attribute) if (a.G is not null) Rewire(a.G);
            }
        }
        g.Node.Remove(product);
        Rewire(g);
        return model.ToByteArray();
    }

    /// <summary>The If's else branch with no node: its output is the outer original output. Null if ONNX Runtime refuses it.</summary>
    internal static byte[]? EmptyElseBranch(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var closed = TopIf(model.Graph).Attribute.Single(a => a.Name == "else_branch").G;
        var identity = closed.Node.Single();
        closed.Node.Clear();
        closed.Output[0].Name = identity.Input[0];
        var bytes = model.ToByteArray();
        try
        {
            using var s = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
            return bytes;
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            Console.WriteLine($"  (else branch without a node: refused by ONNX Runtime: {e.Message.Split('\n')[0]})");
            return null;
        }
    }
}
