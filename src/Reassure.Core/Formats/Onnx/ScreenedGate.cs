using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;

namespace Reassure.Formats.Onnx;

/// <summary>
/// A screen in front of the patch network of <see cref="PatchGraph"/>: an exact test that every gate is 0, cheap enough
/// to run on every input, so that the patch network runs only on the rows some support may cover (docs/method.md,
/// "The screened gate").
/// <para>
/// A gate is 0 iff its deficit D = sum_j min(gamma relu(-s'_j z_j), 1) (plus row terms, all >= 0) is >= 1, and for
/// non-negative terms v_j, sum_j min(v_j, 1) >= 1 iff sum_j v_j >= 1 (if some v_j >= 1 both sides are >= 1; otherwise
/// they are equal). So D >= 1 iff gamma sum_j relu(-s'_j z_j) >= 1 over the pattern rows, and any subset of those
/// non-negative terms is a lower bound. The screen keeps the terms of the first hidden layer's neurons that the pattern
/// wants inactive: relu(z_j) = a_j, the layer's own ReLU output, so
/// <code>
///   L = a_1 W_s          a_1 [N, w_1] the first ReLU's output, W_s [w_1, P]: gamma_p where pattern p has neuron j inactive, else 0
///   L_p >= T  =>  D_p >= 1  =>  g_p = 0 exactly (the export's own float32 argument, beta in PatchGraph)
/// </code>
/// with T = 1 + 2^-10: L is a float32 sum of at most w_1 non-negative products, which errs by at most
/// gamma_{w_1} = w_1 2^-24 / (1 - w_1 2^-24) relatively (any order, with or without fused multiply-adds), and float32(gamma)
/// by 2^-24; for w_1 &lt;= 4096 the computed L_p >= T leaves the exact sum above 1 + 2^-11. Reading a_1 instead of z keeps
/// the original Gemm/Relu pairs fusable by ONNX Runtime (nothing else reads z on the closed path).
/// </para>
/// <para>
/// The graph: <c>If(ReduceMin(L) &lt; T)</c>. Its else branch is the original output itself; its then branch takes the rows
/// with some L_p &lt; T (NonZero), recomputes their pre-activations with copies of the original nodes, runs the patch
/// network of <see cref="PatchGraph"/> on those rows only, and writes their outputs back with ScatterND. On those rows
/// the float32 operations are the unscreened export's (the same nodes on the same row values); on the others every
/// gate is 0 and the output is the original's, as the unscreened export computes it there.
/// </para>
/// </summary>
internal static class ScreenedGate
{
    /// <summary>T: a patch is screened out (its gate is 0) where L_p >= T.</summary>
    internal const double Threshold = 1 + 1.0 / 1024;

    /// <summary>Largest first-layer width (terms of the screen sum) and hidden width (terms of the gate's own sums) the margin of <see cref="Threshold"/> covers.</summary>
    internal const int MaxTerms = 4096;

    /// <summary>
    /// Whether the screen applies: dense layers (a_1 is <c>[N, w_1]</c>; structured layers keep the unscreened form),
    /// every patch has a pattern (its only gate terms the screen can bound), and the sizes are within the margin.
    /// </summary>
    public static bool Applies(RepairedNetwork net, string? firstActivation) =>
        firstActivation is not null && net.Original.Layers.Count >= 2 && net.Patches.Count > 0
        && net.Original.Layers.All(l => l.IsDense)
        && net.Patches.All(p => p.Support.Pattern is not null)
        && net.Original.Layers[0].Outputs <= MaxTerms && 2 * net.Original.HiddenCount <= MaxTerms;

    /// <summary>
    /// Adds the screen and the If; writes the repaired output to <paramref name="output"/>.
    /// </summary>
    /// <param name="b">Builder of the main graph.</param>
    /// <param name="net">The repaired network.</param>
    /// <param name="input">The graph input the original nodes read.</param>
    /// <param name="originalNodes">The original nodes from the input up to the last pre-activation, in order (copied into the then branch).</param>
    /// <param name="preActivations">The pre-activation tensors z_l the copied nodes write, in layer order.</param>
    /// <param name="firstActivation">The first hidden layer's ReLU output a_1 <c>[N, w_1]</c>.</param>
    /// <param name="flatten">Whether the patch network's x is Flatten(input) (a source graph) or the input itself (<c>[N, n]</c>).</param>
    /// <param name="original">The original output <c>[N, m]</c>.</param>
    /// <param name="output">The repaired output to write.</param>
    public static void Add(OnnxBuilder b, RepairedNetwork net, string input, IReadOnlyList<NodeProto> originalNodes,
        IReadOnlyList<string> preActivations, string firstActivation, bool flatten, string original, string output)
    {
        var patches = net.Patches;
        int pCount = patches.Count, w1 = net.Original.Layers[0].Outputs, m = net.Original.OutputSize;
        var weights = new double[w1 * pCount]; // [w_1, P]
        for (int p = 0; p < pCount; p++)
        {
            var pattern = patches[p].Support.Pattern!;
            for (int j = 0; j < w1; j++) if (!pattern[j]) weights[j * pCount + p] = patches[p].Support.Gamma;
        }
        string screen = b.Node("MatMul", [firstActivation, b.Constant("screen", weights, w1, pCount)]);                 // L [N, P]
        string threshold = b.Constant("threshold", [Threshold]);                                                        // T, a scalar
        string least = b.Node("ReduceMin", [screen], null, OnnxBuilder.Int("keepdims", 0));                            // scalar
        string anyOpen = b.Node("Less", [least, threshold]);

        // The patch network's constants live in the branch: ONNX Runtime pre-packs a graph's own initializers only, and a
        // node reading a pre-packed operand can round differently (tested) from one reading it from an outer scope.
        var open = b.SubgraphWithConstants("open");
        string rowLeast = open.Node("ReduceMin", [screen], null, OnnxBuilder.Ints("axes", 1), OnnxBuilder.Int("keepdims", 0)); // [N]
        string nonZero = open.Node("NonZero", [open.Node("Less", [rowLeast, threshold])]);                                      // [1, k]
        string rows = open.Node("Squeeze", [nonZero, open.Int64s("axes", 0)]);                                                  // [k]
        string rowsInput = open.Node("Gather", [input, rows], null, OnnxBuilder.Int("axis", 0));                               // [k, ...]
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal) { [input] = rowsInput };
        foreach (var node in originalNodes)
        {
            var copy = node.Clone();
            copy.Name = open.Name("copy");
            for (int k = 0; k < copy.Input.Count; k++) if (renamed.TryGetValue(copy.Input[k], out var r)) copy.Input[k] = r;
            for (int k = 0; k < copy.Output.Count; k++)
            {
                if (copy.Output[k].Length == 0) continue;
                string fresh = open.Name("row");
                renamed[copy.Output[k]] = fresh;
                copy.Output[k] = fresh;
            }
            open.Graph.Node.Add(copy);
        }
        var rowsPre = preActivations.Select(z => renamed[z]).ToList();                                                  // z_l [k, w_l]
        string rowsOriginal = open.Node("Gather", [original, rows], null, OnnxBuilder.Int("axis", 0));                  // [k, m]
        bool readsX = patches.Any(p => p.Support.Rows.Count > 0 || p.Support.Box is not null || p.Difference.C is not null);
        string x = flatten && readsX ? open.Node("Flatten", [rowsInput], null, OnnxBuilder.Int("axis", 1)) : rowsInput;
        string corrected = open.Name("corrected");
        PatchGraph.Add(open, net, x, rowsPre, rowsOriginal, corrected);                                                 // [k, m]
        string scattered = open.Node("ScatterND", [original, open.Node("Transpose", [nonZero]), corrected]);            // [N, m]
        open.Graph.Output.Add(OnnxBuilder.FloatInfo(scattered, "N", m));

        var closed = b.Subgraph("closed");
        string same = closed.Node("Identity", [original]);
        closed.Graph.Output.Add(OnnxBuilder.FloatInfo(same, "N", m));
        b.Node("If", [anyOpen], output, OnnxBuilder.GraphAttribute("then_branch", open.Graph), OnnxBuilder.GraphAttribute("else_branch", closed.Graph));
    }
}
