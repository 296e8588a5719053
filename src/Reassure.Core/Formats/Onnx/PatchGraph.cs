using Reassure.Patching;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Writes the patch network of method.md §4-§5 as standard ONNX (opset 13) reading the original network's own
/// tensors: the flattened input x <c>[N, n]</c> and the hidden pre-activations z_l <c>[N, w_l]</c>.
/// <code>
///   u = gamma z                                         per gamma group of patches
///   e+ = Clip(-u, 0, 1),  e- = Clip(u, 0, 1)             (1 - t_j for an active / inactive neuron of a pattern)
///   deficit = e+ S+ + e- S- (+ Clip(gamma (A x - b), 0, 1) M for explicit rows)   [N, P]
///   g = Relu(1 - deficit) = relu(sum_j t_j - K + 1);  G_l = max(g_l, ..., g_P)  (by doubling: Slice, Pad, Max)
///   h = Relu(p' + K'(G - 1)) - Relu(-p' + K'(G - 1));  out = f(x) + ReduceSum(h, axis 1)
/// </code>
/// When every difference is a constant d' with K' = |d'| (classification patches: C = 0), h = G d' exactly for G in
/// [0, 1] (d' >= 0: the first Relu is d' G, the second's argument d'(G - 2) &lt;= 0; d' &lt; 0 symmetrically), so the
/// correction is the single product G D' <c>[N, P] x [P, m]</c>: exactly 0 where every G is 0 (bit-identical output
/// outside the supports) and the sum of the d' where G is exactly 1.
/// S+ and S- are 0/1 matrices <c>[H, P]</c> of the patterns, so the gate costs two matrix products, not one per patch.
/// The deficit form is the same function as method.md §4's, but exact in float32 inside a region: every deficit there
/// is exactly 0, so g = 1 and the patch applies in full (summing K ones and subtracting K - 1 would round).
/// </summary>
internal static class PatchGraph
{
    /// <summary>Adds the patch nodes; returns the name of the correction tensor <c>[N, m]</c>.</summary>
    public static string Add(OnnxBuilder b, RepairedNetwork net, string x, IReadOnlyList<string> preActivations)
    {
        var patches = net.Patches;
        int pCount = patches.Count, n = net.Original.InputSize, m = net.Original.OutputSize, h = net.Original.HiddenCount;
        string? z = null;
        if (h > 0)
            z = preActivations.Count == 1 ? preActivations[0] : b.Node("Concat", [.. preActivations], null, OnnxBuilder.Int("axis", 1));
        string one = b.Constant("one", [1.0], 1);
        string zero = b.Constant("zero", [0.0], 1);

        // Gates g [N, P], built per distinct gamma and scattered into patch order.
        string? gates = null;
        foreach (var group in Enumerable.Range(0, pCount).GroupBy(p => patches[p].Support.Gamma).OrderBy(g => g.Key))
        {
            double gamma = group.Key;
            var members = group.ToArray();
            int pg = members.Length;
            string? sum = null;
            if (z is not null && members.Any(p => patches[p].Support.Pattern is not null))
            {
                var sPos = new double[h * pg];
                var sNeg = new double[h * pg];
                for (int c = 0; c < pg; c++)
                {
                    var pattern = patches[members[c]].Support.Pattern;
                    if (pattern is null) continue;
                    for (int j = 0; j < h; j++) (pattern[j] ? sPos : sNeg)[j * pg + c] = 1;
                }
                string u = b.Node("Mul", [z, b.Constant("gamma", [gamma], 1)]);
                string dPos = b.Node("Clip", [b.Node("Neg", [u]), zero, one]); // deficit of an active neuron
                string dNeg = b.Node("Clip", [u, zero, one]);                   // deficit of an inactive neuron
                sum = b.Node("Add", [
                    b.Node("MatMul", [dPos, b.Constant("spos", sPos, h, pg)]),
                    b.Node("MatMul", [dNeg, b.Constant("sneg", sNeg, h, pg)])]);
            }
            var rows = members.SelectMany((p, c) => patches[p].Support.Rows.Select(r => (Row: r, Column: c))).ToList();
            if (rows.Count > 0)
            {
                // deficit = Clip(gamma (A x - b), 0, 1) = Clip(x (gamma A^T) - gamma b, 0, 1)   [N, R]
                var at = new double[n * rows.Count];
                var bias = new double[rows.Count];
                var owner = new double[rows.Count * pg];
                for (int r = 0; r < rows.Count; r++)
                {
                    for (int i = 0; i < n; i++) at[i * rows.Count + r] = gamma * rows[r].Row.A[i];
                    bias[r] = -gamma * rows[r].Row.B;
                    owner[r * pg + rows[r].Column] = 1;
                }
                string ur = b.Node("Add", [b.Node("MatMul", [x, b.Constant("rows", at, n, rows.Count)]), b.Constant("rowsb", bias, rows.Count)]);
                string dr = b.Node("Clip", [ur, zero, one]);
                string rowSum = b.Node("MatMul", [dr, b.Constant("owner", owner, rows.Count, pg)]);
                sum = sum is null ? rowSum : b.Node("Add", [sum, rowSum]);
            }
            string g = sum is null
                ? b.Constant("gconst", members.Select(_ => 1.0).ToArray(), 1, pg) // no rows: the support is everywhere
                : b.Node("Relu", [b.Node("Sub", [one, sum])]);
            if (pg == pCount)
            {
                gates = g; // one gamma: members are 0..P-1 in order, nothing to scatter
                continue;
            }
            var scatter = new double[pg * pCount];
            for (int c = 0; c < pg; c++) scatter[c * pCount + members[c]] = 1;
            string placed = b.Node("MatMul", [g, b.Constant("scatter", scatter, pg, pCount)]);
            gates = gates is null ? placed : b.Node("Add", [gates, placed]);
        }

        // Suffix max G [N, P] by doubling: G = Max(G, G shifted left by s) for s = 1, 2, 4, ... (gates are >= 0, so the
        // zeros padded in are neutral); ceil(log2 P) steps instead of an [N, P, P] masked ReduceMax.
        string suffixMax = gates!;
        string pEnd = b.Int64s("end", pCount);
        string axis1 = b.Int64s("axis", 1);
        for (int s = 1; s < pCount; s *= 2)
        {
            string tail = b.Node("Slice", [suffixMax, b.Int64s("start", s), pEnd, axis1]); // [N, P - s]
            string shifted = b.Node("Pad", [tail, b.Int64s("pads", 0, 0, 0, s)]);         // [N, P]
            suffixMax = b.Node("Max", [suffixMax, shifted]);
        }

        // p' [N, P, m] (or [P, m] when every difference is constant) and K' [P, m].
        var dConst = new double[pCount * m];
        var kBound = new double[pCount * m];
        for (int p = 0; p < pCount; p++)
            for (int o = 0; o < m; o++)
            {
                dConst[p * m + o] = patches[p].Difference.D[o];
                kBound[p * m + o] = patches[p].Bound[o];
            }
        string pDiff = b.Constant("pdiff", dConst, pCount, m);
        bool linearInGate = true;
        for (int p = 0; p < pCount && linearInGate; p++)
        {
            if (patches[p].Difference.C is not null) linearInGate = false;
            for (int o = 0; o < m && linearInGate; o++) if (kBound[p * m + o] != Math.Abs(dConst[p * m + o])) linearInGate = false;
        }
        if (linearInGate) return b.Node("MatMul", [suffixMax, pDiff]); // sum_l G_l d'_l   [N, m]
        if (patches.Any(p => p.Difference.C is not null))
        {
            var ct = new double[n * pCount * m]; // [n, P*m]
            for (int p = 0; p < pCount; p++)
            {
                var c = patches[p].Difference.C;
                if (c is null) continue;
                for (int o = 0; o < m; o++) for (int i = 0; i < n; i++) ct[i * pCount * m + p * m + o] = c[o * n + i];
            }
            string cx = b.Node("MatMul", [x, b.Constant("pc", ct, n, pCount * m)]);
            string cx3 = b.Node("Reshape", [cx, b.Int64s("shape", -1, pCount, m)]);
            pDiff = b.Node("Add", [cx3, pDiff]);
        }
        string gm = b.Node("Unsqueeze", [suffixMax, b.Int64s("axes", 2)]);                 // [N, P, 1]
        string shift = b.Node("Mul", [b.Node("Sub", [gm, one]), b.Constant("kbound", kBound, pCount, m)]);
        string hPos = b.Node("Relu", [b.Node("Add", [pDiff, shift])]);
        string hNeg = b.Node("Relu", [b.Node("Sub", [shift, pDiff])]);
        string hSum = b.Node("Sub", [hPos, hNeg]);
        return b.Node("ReduceSum", [hSum, b.Int64s("axes", 1)], null, OnnxBuilder.Int("keepdims", 0));
    }
}
