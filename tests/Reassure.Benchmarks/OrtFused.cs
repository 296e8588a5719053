using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>ort-fused --library path [--points 100] [--file path] [--rounds 9]</c>: the experiment of
/// <c>docs/experiments/fused-gate</c>. The saved repair's patch network as one custom ONNX Runtime operator
/// (<c>reassure.experimental:Gate</c>, built from that folder's gate.cc into the library given), timed against the original
/// and the standard-ONNX export as <c>ort-floor</c> times them, after checking that it agrees with the export on the
/// first 1024 test images. Not a supported export: the file needs the native library to run.
/// </summary>
internal static class OrtFused
{
    public const string Domain = "reassure.experimental";

    public static int Run(string[] args)
    {
        string library = Path.GetFullPath(BenchmarkArgs.Option(args, "--library", ""));
        if (!File.Exists(library))
        {
            Console.Error.WriteLine("ort-fused needs --library: build docs/experiments/fused-gate/gate.cc first (see the README there)");
            return 2;
        }
        var (points, noise, rounds, file) = BenchmarkArgs.SavedRepair(args, defaultRounds: 9);
        var model = SharedData.LoadMnistModel();
        var (xs, _) = SharedData.LoadMnistTest();
        var repaired = OrtRatio.LoadOrRepair(model, points, file, noise).Repaired;
        var exported = RepairedOnnxExporter.ToBytes(repaired);
        var fused = Fused(exported, repaired);
        void Register(SessionOptions so) => so.RegisterCustomOpLibrary(library);

        // Agreement with the standard export on 1024 test images (the fused kernel sums the deficits in its own order).
        int m = repaired.Original.OutputSize;
        var block = InferenceRatios.Rows(xs, 1024);
        using (var so = new SessionOptions())
        {
            Register(so);
            using var a = new InferenceSession(exported, so);
            using var b = new InferenceSession(fused, so);
            using var ya = a.Run([NamedOnnxValue.CreateFromTensor(model.InputName, block)]);
            using var yb = b.Run([NamedOnnxValue.CreateFromTensor(model.InputName, block)]);
            var ea = ya.First().AsTensor<float>().ToArray();
            var eb = yb.First().AsTensor<float>().ToArray();
            double worst = 0;
            int labels = 0, identical = 0;
            for (int r = 0; r < 1024; r++)
            {
                int la = 0, lb = 0;
                bool same = true;
                for (int o = 0; o < m; o++)
                {
                    worst = Math.Max(worst, Math.Abs(ea[r * m + o] - eb[r * m + o]));
                    same &= BitConverter.SingleToInt32Bits(ea[r * m + o]) == BitConverter.SingleToInt32Bits(eb[r * m + o]);
                    if (ea[r * m + o] > ea[r * m + la]) la = o;
                    if (eb[r * m + o] > eb[r * m + lb]) lb = o;
                }
                if (la != lb) labels++;
                if (same) identical++;
            }
            Console.WriteLine($"fused vs standard export, first 1024 test images: max |difference| {worst:E2}, {identical} rows bit-identical, labels differ on {labels}");
        }
        Console.WriteLine($"load before: {MnistMacro.LoadAverage()}; {repaired.Patches.Count} patches from {file}");
        OrtFloor.PrintTable(
            [("original", File.ReadAllBytes(SharedData.MnistModelPath)), ("repaired, standard export", exported), ("repaired, fused Gate operator", fused)],
            model.InputName, xs, rounds, Register);
        return 0;
    }

    /// <summary>The exported graph with every patch node replaced by one <c>Gate</c> node (constant patches only).</summary>
    internal static byte[] Fused(byte[] onnx, RepairedNetwork repaired)
    {
        if (repaired.Patches.Any(p => p.Difference.C is not null || p.Support.Pattern is null || p.Support.Rows.Count > 0))
            throw new NotSupportedException("the fused Gate experiment takes constant patches with pattern supports only");
        var (model, pre) = OrtFloor.WithoutPatchNetwork(onnx);
        var graph = model.Graph;
        if (pre.Length != 2) throw new NotSupportedException("the fused Gate experiment takes two hidden layers");
        int h = repaired.Original.HiddenCount, m = repaired.Original.OutputSize, count = repaired.Patches.Count, words = (h + 63) / 64;
        var signs = new double[count * h];  // [P, H]
        var diffs = new double[count * m];  // [P, m]
        var bits = new long[count * words]; // [P, W]
        for (int l = 0; l < count; l++)
        {
            var p = repaired.Patches[l];
            for (int j = 0; j < h; j++)
            {
                signs[l * h + j] = p.Support.Pattern![j] ? 1 : -1;
                if (p.Support.Pattern[j]) bits[l * words + (j >> 6)] |= 1L << (j & 63);
            }
            for (int o = 0; o < m; o++) diffs[l * m + o] = p.Difference.D[o];
        }
        var b = new OnnxBuilder(graph, "fused/");
        var active = new TensorProto { Name = b.Name("active"), DataType = (int)TensorProto.Types.DataType.Int64 };
        active.Dims.AddRange([count, words]);
        active.Int64Data.AddRange(bits);
        graph.Initializer.Add(active);
        var node = new NodeProto { OpType = "Gate", Domain = Domain, Name = b.Name("Gate") };
        node.Input.AddRange([pre[0], pre[1], b.Constant("signs", signs, count, h), active.Name, b.Constant("diffs", diffs, count, m), RepairedOnnxExporter.Prefix + "original_output"]);
        node.Output.Add(graph.Output[0].Name);
        graph.Node.Add(node);
        OrtFloor.RemoveUnused(graph);
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = Domain, Version = 1 });
        return model.ToByteArray();
    }
}
