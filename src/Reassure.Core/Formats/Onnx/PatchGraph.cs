using Reassure.Patching;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Writes the patch network of method.md §4-§5 as standard ONNX (opset 13) reading the original network's own
/// tensors: the flattened input x <c>[N, n]</c> and the hidden pre-activations z_l <c>[N, w_l]</c>.
/// <code>
///   u = gamma z                                         per gamma group of patches
///   e+ = Clip(-u, 0, 1),  e- = Clip(u, 0, 1)             (1 - t_j for an active / inactive neuron of a pattern)
///   deficit = e+ S+ + e- S- (+ Clip(gamma (A x - b), 0, 1) M for explicit rows)   [N, P]   (written as -deficit)
///   g = Relu(1 - deficit) = relu(sum_j t_j - K + 1);  G_l = max(g_l, ..., g_P)  (two 1-D MaxPools, see SuffixMax)
///   h = Relu(p' + K'(G - 1)) - Relu(-p' + K'(G - 1));  out = f(x) + ReduceSum(h, axis 1)
/// </code>
/// When every difference is a constant d' with K' = |d'| (classification patches: C = 0), h = G d' exactly for G in
/// [0, 1] (d' >= 0: the first Relu is d' G, the second's argument d'(G - 2) &lt;= 0; d' &lt; 0 symmetrically), so the
/// correction is the single product G D' <c>[N, P] x [P, m]</c>: exactly 0 where every G is 0 (bit-identical output
/// outside the supports) and the sum of the d' where G is exactly 1.
/// S+ and S- are 0/1 matrices <c>[H, P]</c> of the patterns, written as one product [e+, e-] [S+; S-], not one per patch.
/// The deficit form is the same function as method.md §4's, but exact in float32 inside a region: every deficit there
/// is exactly 0, so g = 1 and the patch applies in full (summing K ones and subtracting K - 1 would round).
/// </summary>
internal static class PatchGraph
{
    /// <summary>
    /// Suffix max G_l = max(g_l, ..., g_P) of gates <c>[N, P]</c> by two 1-D MaxPools over [N, 1, P] (a pool's own end
    /// padding is ignored by MaxPool; max is exact): with B = ceil(sqrt P),
    /// <code>
    ///   W_l = max(g_l, ..., g_{l+B-1})                  kernel B, dilation 1, end pad B - 1
    ///   G_l = max(W_l, W_{l+B}, ..., W_{l+(k-1)B})       kernel k = ceil(P / B), dilation B, zeros padded (k - 1) B
    /// </code>
    /// which covers g_l .. g_{l+kB-1}, to the end (g is padded with (k - 1) B zeros by a Pad node first: ONNX Runtime
    /// wants a pool's pads below its kernel; gates are >= 0, so zeros are neutral). Five nodes, about 2 sqrt(P)
    /// comparisons per output.
    /// </summary>
    private static string SuffixMax(OnnxBuilder b, string gates, int pCount)
    {
        if (pCount == 1) return gates;
        int block = (int)Math.Ceiling(Math.Sqrt(pCount));
        int k = (pCount + block - 1) / block;
        // Zeros for the dilated pool, padded before the Unsqueeze: ONNX Runtime wants a pool's pads below its kernel and
        // fuses a Pad that feeds a pool into the pool's pads.
        string g = k > 1 ? b.Node("Pad", [gates, b.Int64s("pads", 0, 0, 0, (k - 1) * block)]) : gates; // [N, P + (k-1)B]
        g = b.Node("Unsqueeze", [g, b.Int64s("axes", 1)]);                                                // [N, 1, .]
        g = b.Node("MaxPool", [g], null, OnnxBuilder.Ints("kernel_shape", block), OnnxBuilder.Ints("pads", 0, block - 1));
        if (k > 1) g = b.Node("MaxPool", [g], null, OnnxBuilder.Ints("kernel_shape", k), OnnxBuilder.Ints("dilations", block)); // [N, 1, P]
        return b.Node("Squeeze", [g, b.Int64s("axes", 1)]); // [N, P]
    }

    /// <summary>Adds the patch nodes; returns the name of the correction tensor <c>[N, m]</c>.</summary>
    public static string Add(OnnxBuilder b, RepairedNetwork net, string x, IReadOnlyList<string> preActivations)
    {
        var patches = net.Patches;
        int pCount = patches.Count, n = net.Original.InputSize, m = net.Original.OutputSize, h = net.Original.HiddenCount;
        // [z, z] [N, 2H]: the first half gives the deficits of active neurons, the second those of inactive ones.
        string? z = null;
        if (h > 0) z = b.Node("Concat", [.. preActivations, .. preActivations], null, OnnxBuilder.Int("axis", 1));
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
                // S = [S+; S-] [2H, pg]; e = Clip([z, z] o [-gamma, gamma], 0, 1) = [e+, e-]; -deficit = e (-S): every
                // term is &lt;= 0 and exactly 0 inside the region, so the deficit is exactly 0 there.
                var s2 = new double[2 * h * pg];
                for (int c = 0; c < pg; c++)
                {
                    var pattern = patches[members[c]].Support.Pattern;
                    if (pattern is null) continue;
                    for (int j = 0; j < h; j++) s2[(pattern[j] ? j : h + j) * pg + c] = -1;
                }
                var scale = new double[2 * h];
                for (int j = 0; j < h; j++) { scale[j] = -gamma; scale[h + j] = gamma; }
                string e = b.Node("Clip", [b.Node("Mul", [z, b.Constant("gamma", scale, 2 * h)]), zero, one]);
                sum = b.Node("MatMul", [e, b.Constant("signs", s2, 2 * h, pg)]);
            }
            var rows = members.SelectMany((p, c) => patches[p].Support.Rows.Select(r => (Row: r, Column: c))).ToList();
            if (rows.Count > 0)
            {
                // deficit = Clip(gamma (A x - b), 0, 1) = Clip(x (gamma A^T) - gamma b, 0, 1)   [N, R]
                var at = new double[n * rows.Count];
                var bias = new double[rows.Count];
                for (int r = 0; r < rows.Count; r++)
                {
                    for (int i = 0; i < n; i++) at[i * rows.Count + r] = gamma * rows[r].Row.A[i];
                    bias[r] = -gamma * rows[r].Row.B;
                }
                string ur = b.Node("Add", [b.Node("MatMul", [x, b.Constant("rows", at, n, rows.Count)]), b.Constant("rowsb", bias, rows.Count)]);
                string dr = b.Node("Clip", [ur, zero, one]);
                int perPatch = patches[members[0]].Support.Rows.Count;
                // -deficit of the rows. Equal row counts (e.g. box supports): the rows of a patch are adjacent, so a
                // Reshape to [N, P, rows], a ReduceSum and a Neg replace the [R, P] owner matrix (which grows as P^2).
                string rowSum = members.All(p => patches[p].Support.Rows.Count == perPatch)
                    ? b.Node("Neg", [b.Node("ReduceSum", [b.Node("Reshape", [dr, b.Int64s("rshape", -1, pg, perPatch)]), b.Int64s("raxes", 2)], null, OnnxBuilder.Int("keepdims", 0))])
                    : b.Node("MatMul", [dr, b.Constant("owner", Owner(rows.Select(r => r.Column).ToList(), pg), rows.Count, pg)]);
                sum = sum is null ? rowSum : b.Node("Add", [sum, rowSum]);
            }
            // g = Relu(-deficit + 1): a MatMul, an Add of a constant [pg] and a Relu, which ONNX Runtime fuses into one
            // Gemm with its activation; inside a region -deficit is exactly 0, so g is exactly 1.
            string g = sum is null
                ? b.Constant("gconst", members.Select(_ => 1.0).ToArray(), 1, pg) // no rows: the support is everywhere
                : b.Node("Relu", [b.Node("Add", [sum, b.Constant("ones", members.Select(_ => 1.0).ToArray(), pg)])]);
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

        string suffixMax = SuffixMax(b, gates!, pCount);

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

    /// <summary>The 0/-1 matrix <c>[R, P]</c> that sums each patch's row deficits, negated.</summary>
    private static double[] Owner(List<int> columns, int pg)
    {
        var owner = new double[columns.Count * pg];
        for (int r = 0; r < columns.Count; r++) owner[r * pg + columns[r]] = -1;
        return owner;
    }
}
