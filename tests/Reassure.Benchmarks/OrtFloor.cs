using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>ort-floor [--points 100] [--file path] [--rounds 9]</c>: how close the exported patch network is to the cheapest
/// graph of its kind in ONNX Runtime. Next to the original and the repaired graph (as <see cref="PatchGraph"/> writes
/// it, from the same saved repair as <c>ort-ratio</c>), it times graphs with parts of the patch network taken away, each
/// no longer a correct repair, all interleaved in one run:
/// <list type="bullet">
/// <item>without the overlap test: the If and the four nodes that decide it are replaced by the If's disjoint branch
/// (gates times the patches, added to the original output);</item>
/// <item>sign product only: z <c>[N, H]</c> (the Concat of the pre-activations, so the Relu nodes stay unfused) times the
/// +-1 patterns <c>[H, P]</c>, then that times the patches <c>[P, m]</c> added to the original output; no clip, no
/// 1-norm, no gate clamp, no overlap handling;</item>
/// <item>the same with only the first 16 patterns, to separate the product's compute from the nodes.</item>
/// </list>
/// A figure is the median over rounds; a ratio the median of the per-round ratios to the original in the same round.
/// </summary>
internal static class OrtFloor
{
    public static int Run(string[] args)
    {
        var (points, noise, rounds, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 9);
        var model = SharedData.LoadMnistModel();
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var exported = RepairedOnnxExporter.ToBytes(repaired);
        var graphs = new List<(string Label, byte[] Onnx)>
        {
            ("original", File.ReadAllBytes(SharedData.MnistModelPath)),
            ("repaired, as exported", exported),
            ("without the overlap test", WithoutOverlapTest(exported)),
            ($"sign product only, {repaired.Patches.Count} patterns", SignProductOnly(exported, repaired, repaired.Patches.Count)),
            ("sign product only, 16 patterns", SignProductOnly(exported, repaired, Math.Min(16, repaired.Patches.Count))),
        };
        Console.WriteLine($"load before: {MnistMacro.LoadAverage()}; {repaired.Patches.Count} patches from {file}");
        PrintTable(graphs, model.InputName, xs, rounds);
        return 0;
    }

    /// <summary>Times the graphs (<see cref="Time"/>) and prints them as a table, then the load average.</summary>
    internal static void PrintTable(IReadOnlyList<(string Label, byte[] Onnx)> graphs, string inputName, double[][] images, int rounds, Action<SessionOptions>? configure = null)
    {
        var (single, batch, singleCpu, batchCpu) = Time(graphs.Select(g => g.Onnx).ToList(), inputName, images, rounds, configure);
        Console.WriteLine($"| graph | nodes | single image (us) | ratio | batch 1024 (ms) | ratio | single, CPU (us) | ratio | batch, CPU (ms) | ratio |");
        Console.WriteLine($"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int g = 0; g < graphs.Count; g++)
            Console.WriteLine($"| {graphs[g].Label} | {ModelProto.Parser.ParseFrom(graphs[g].Onnx).Graph.Node.Count} | {single.Times[g]:F2} | {single.Ratios[g]:F3}x | {batch.Times[g]:F3} | {batch.Ratios[g]:F3}x | {singleCpu.Times[g]:F2} | {singleCpu.Ratios[g]:F3}x | {batchCpu.Times[g]:F3} | {batchCpu.Ratios[g]:F3}x |");
        Console.WriteLine($"load after: {MnistMacro.LoadAverage()}");
    }

    /// <summary>The exported graph with its If replaced by the If's disjoint (else) branch, and the nodes left unused removed.</summary>
    internal static byte[] WithoutOverlapTest(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        var gate = graph.Node.Single(n => n.OpType == "If");
        var disjoint = gate.Attribute.Single(a => a.Name == "else_branch").G;
        var gemm = disjoint.Node.Single().Clone();
        gemm.Output[0] = gate.Output[0];
        graph.Node[graph.Node.IndexOf(gate)] = gemm;
        RemoveUnused(graph);
        return model.ToByteArray();
    }

    /// <summary>
    /// The exported graph with every patch node removed, then: Concat(z) <c>[N, H]</c> times the first
    /// <paramref name="patterns"/> +-1 patterns <c>[H, k]</c>, times those patches' constants <c>[k, m]</c>, added to
    /// the original output by the Gemm's C.
    /// </summary>
    internal static byte[] SignProductOnly(byte[] onnx, RepairedNetwork repaired, int patterns)
    {
        var (model, pre) = WithoutPatchNetwork(onnx);
        var graph = model.Graph;
        int h = repaired.Original.HiddenCount, m = repaired.Original.OutputSize;
        var signs = new double[h * patterns]; // [H, k]
        var patches = new double[patterns * m]; // [k, m]
        for (int c = 0; c < patterns; c++)
        {
            var p = repaired.Patches[c];
            for (int j = 0; j < h; j++) signs[j * patterns + c] = p.Support.Pattern![j] ? 1 : -1;
            for (int o = 0; o < m; o++) patches[c * m + o] = p.Patch.D[o];
        }
        var b = new OnnxBuilder(graph, "floor/");
        string z = b.Node("Concat", pre, null, OnnxBuilder.Int("axis", 1));
        string product = b.Node("Gemm", [z, b.Constant("signs", signs, h, patterns)]);
        b.Node("Gemm", [product, b.Constant("patches", patches, patterns, m), RepairedOnnxExporter.Prefix + "original_output"], graph.Output[0].Name);
        RemoveUnused(graph);
        return model.ToByteArray();
    }

    /// <summary>
    /// The exported graph (<see cref="RepairedOnnxExporter.ToBytes(RepairedNetwork, IReadOnlyList{Reassure.Specifications.LinearSpecification?})"/>)
    /// with every patch node removed, and the pre-activations its Relu nodes read. The original output keeps its renamed
    /// tensor (<see cref="RepairedOnnxExporter.Prefix"/> + <c>original_output</c>) for the caller's nodes to read; call
    /// <see cref="RemoveUnused"/> after adding them.
    /// </summary>
    internal static (ModelProto Model, string[] PreActivations) WithoutPatchNetwork(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        var kept = graph.Node.Where(n => !n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        return (model, kept.Where(n => n.OpType == "Relu").Select(n => n.Input[0]).ToArray());
    }

    /// <summary>Removes nodes whose outputs nothing reads (repeatedly), then initializers nothing reads.</summary>
    internal static void RemoveUnused(GraphProto graph)
    {
        static IEnumerable<string> Reads(NodeProto n) =>
            n.Input.Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => a.G.Node.SelectMany(Reads)));
        bool removed = true;
        while (removed)
        {
            var read = graph.Node.SelectMany(Reads).Concat(graph.Output.Select(o => o.Name)).ToHashSet();
            var dead = graph.Node.Where(n => !n.Output.Any(read.Contains)).ToList();
            foreach (var n in dead) graph.Node.Remove(n);
            removed = dead.Count > 0;
        }
        var used = graph.Node.SelectMany(Reads).ToHashSet();
        var unusedInitializers = graph.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var t in unusedInitializers) graph.Initializer.Remove(t);
    }

    /// <summary>
    /// Single-image (one intra-op thread) and batch-1024 (default pool, one session alive at a time:
    /// <see cref="InferenceRatios.BatchAlone"/>) times of every graph, interleaved: each round runs the graphs in order,
    /// then in reverse order.
    /// </summary>
    internal static ((double[] Times, double[] Ratios) Single, (double[] Times, double[] Ratios) Batch, (double[] Times, double[] Ratios) SingleCpu, (double[] Times, double[] Ratios) BatchCpu) Time(IReadOnlyList<byte[]> graphs, string inputName, double[][] images, int rounds, Action<SessionOptions>? configure = null)
    {
        const int singles = 256, batch = 1024;
        using var so1 = new SessionOptions { IntraOpNumThreads = 1 };
        configure?.Invoke(so1);
        var one = graphs.Select(g => new InferenceSession(g, so1)).ToArray();
        try
        {
            var single = InferenceRatios.SingleImages(images, singles);
            var block = InferenceRatios.Rows(images, batch);
            (double[], double[]) Interleaved(Func<int, double> time)
            {
                for (int g = 0; g < graphs.Count; g++) time(g); // warm-up
                var t = graphs.Select(_ => new List<double>()).ToArray();
                var ratio = graphs.Select(_ => new List<double>()).ToArray();
                for (int r = 0; r < rounds; r++)
                {
                    var round = new double[graphs.Count];
                    foreach (int g in Enumerable.Range(0, graphs.Count)) round[g] += time(g) / 2;
                    foreach (int g in Enumerable.Range(0, graphs.Count).Reverse()) round[g] += time(g) / 2;
                    for (int g = 0; g < graphs.Count; g++) { t[g].Add(round[g]); ratio[g].Add(round[g] / round[0]); }
                }
                return (t.Select(InferenceRatios.Median).ToArray(), ratio.Select(InferenceRatios.Median).ToArray());
            }
            return (Interleaved(g => InferenceRatios.SingleUs(one[g], inputName, single, 3000)), Interleaved(g => InferenceRatios.BatchAlone(graphs[g], inputName, block, 20, configure)),
                Interleaved(g => InferenceRatios.SingleCpuUs(one[g], inputName, single, 3000)), Interleaved(g => InferenceRatios.BatchCpuMs(graphs[g], inputName, block, 20)));
        }
        finally
        {
            foreach (var s in one) s.Dispose();
        }
    }
}
