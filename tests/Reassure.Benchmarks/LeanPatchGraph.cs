using Google.Protobuf;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;

namespace Reassure.Benchmarks;

/// <summary>
/// A measured PROTOTYPE (benchmark project only, not the engine's exporter) of a cheaper ONNX form of the same
/// patch network, to show what would close the ONNX Runtime inference gap of issue 6:
/// <list type="number">
/// <item>The gate sums exactly as the engine's graph (deficit form, two MatMuls). A one-MatMul form
/// (S- = 1 - S+) would halve that cost but loses the exact 0 deficit inside a region in float32.</item>
/// <item>Suffix max in ceil(log2 P) steps G = Max(G, shift_s(G)), s = 1, 2, 4, ... (gates are >= 0, so the shifted-in
/// zeros are neutral) instead of the [N, P, P] masked ReduceMax (41 MB per batch of 1024 at P = 100).</item>
/// </list>
/// Same original graph, same patches; supports by activation pattern only (the engine's default), one gamma group.
/// Returns null when the network has explicit support rows or several gammas (then only the engine's graph is timed).
/// </summary>
internal static class LeanPatchGraph
{
    public static byte[]? ToBytes(RepairedNetwork network, OnnxModel source)
    {
        var patches = network.Patches;
        var layers = network.Original.Layers;
        if (patches.Count == 0 || patches.Any(p => p.Support.Pattern is null || p.Support.Rows.Count > 0)) return null;
        if (patches.Select(p => p.Support.Gamma).Distinct().Count() != 1) return null;
        var pre = layers.Take(layers.Count - 1).Select(l => l.Names.PreActivation).ToList();
        if (pre.Any(p => p is null) || !ReferenceEquals(network.Original, source.Network)) return null;
        var model = source.Proto.Clone();
        var graph = model.Graph;
        var b = new OnnxBuilder(graph, RepairedOnnxExporter.Prefix);
        string output = source.OutputName;
        string original = RepairedOnnxExporter.Prefix + "original_output";
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == output) node.Output[k] = original;
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == output) node.Input[k] = original;
        }
        int pCount = patches.Count, m = network.Original.OutputSize, h = network.Original.HiddenCount;
        double gamma = patches[0].Support.Gamma;
        string z = pre.Count == 1 ? pre[0]! : b.Node("Concat", [.. pre!], null, OnnxBuilder.Int("axis", 1));
        string one = b.Constant("one", [1.0], 1);
        string zero = b.Constant("zero", [0.0], 1);
        var sPos = new double[h * pCount];
        var sNeg = new double[h * pCount];
        for (int c = 0; c < pCount; c++)
        {
            var pattern = patches[c].Support.Pattern!;
            for (int j = 0; j < h; j++) (pattern[j] ? sPos : sNeg)[j * pCount + c] = 1;
        }
        // Gate sums exactly as the engine's graph (deficit form, two MatMuls: exact 0 inside a region in float32).
        string u = b.Node("Mul", [z, b.Constant("gamma", [gamma], 1)]);
        string dPos = b.Node("Clip", [b.Node("Neg", [u]), zero, one]);
        string dNeg = b.Node("Clip", [u, zero, one]);
        string deficit = b.Node("Add", [
            b.Node("MatMul", [dPos, b.Constant("spos", sPos, h, pCount)]),
            b.Node("MatMul", [dNeg, b.Constant("sneg", sNeg, h, pCount)])]);
        string g = b.Node("Relu", [b.Node("Sub", [one, deficit])]);  // [N, P]

        // Suffix max by doubling.
        string pEnd = b.Int64s("end", pCount);
        string axis1 = b.Int64s("axis", 1);
        for (int s = 1; s < pCount; s *= 2)
        {
            string tail = b.Node("Slice", [g, b.Int64s("start", s), pEnd, axis1]);          // [N, P - s]
            string shifted = b.Node("Pad", [tail, b.Int64s("pads", 0, 0, 0, s)]);            // [N, P], zeros at the end
            g = b.Node("Max", [g, shifted]);
        }

        var dConst = new double[pCount * m];
        var kBound = new double[pCount * m];
        for (int p = 0; p < pCount; p++)
            for (int o = 0; o < m; o++)
            {
                dConst[p * m + o] = patches[p].Difference.D[o];
                kBound[p * m + o] = patches[p].Bound[o];
            }
        if (patches.Any(p => p.Difference.C is not null)) return null; // classification patches are constant shifts
        string pDiff = b.Constant("pdiff", dConst, pCount, m);
        string gm = b.Node("Unsqueeze", [g, b.Int64s("axes", 2)]);
        string shift = b.Node("Mul", [b.Node("Sub", [gm, one]), b.Constant("kbound", kBound, pCount, m)]);
        string hPos = b.Node("Relu", [b.Node("Add", [pDiff, shift])]);
        string hNeg = b.Node("Relu", [b.Node("Sub", [shift, pDiff])]);
        string correction = b.Node("ReduceSum", [b.Node("Sub", [hPos, hNeg]), b.Int64s("axes", 1)], null, OnnxBuilder.Int("keepdims", 0));
        b.Node("Add", [original, correction], output);
        model.IrVersion = Math.Max(model.IrVersion, 7);
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        else opset.Version = Math.Max(opset.Version, 13);
        return model.ToByteArray();
    }
}
