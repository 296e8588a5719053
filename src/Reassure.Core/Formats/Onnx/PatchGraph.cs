using Reassure.Patching;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Writes the patch network of method.md §4-§5 as standard ONNX (opset 13) reading the original network's own
/// tensors: the flattened input x <c>[N, n]</c> and the hidden pre-activations z_l <c>[N, w_l]</c>, concatenated to z
/// <c>[N, H]</c>. With kappa = 1 / (1 - delta) (delta the supports' dead zone, <see cref="Support"/>):
/// <code>
///   q = Clip(gamma z, -1, 1)                                       per (gamma, delta) group of patches
///   -kappa D = q (kappa/2 S') - (kappa/2) |q|_1                     S' the +-1 patterns [H, P]: one product over H
///            (+ Clip(gamma (A x - b), 0, 1) summed per patch, times -kappa, for explicit rows)
///            (+ Clip(gamma (max_window z - z_winner), 0, 1) summed per patch, times -kappa, for max-pool winners)
///   g = Clip(kappa - kappa D - beta, 0, 1)                          beta bounds the float32 rounding of D
///   out = f(x) + g D_patches          where no row of the batch has two non-zero gates (If, else branch)
///   out = f(x) + G D'                 otherwise, G_l = max(g_l, ..., g_P) (two 1-D MaxPools, see SuffixMax)
/// </code>
/// A neuron's deficit is relu(-s'_j q_j) = (|q_j| - s'_j q_j) / 2, so D over all neurons is one signed product and one
/// 1-norm instead of a [2H, P] product of non-negative terms. Its float32 rounding (<see cref="SignedFormError"/>) is
/// covered twice: beta keeps g exactly 0 wherever D >= 1 in double (the output outside every support stays
/// bit-identical to the original), and the dead zone keeps g exactly 1 inside a region. Supports without a dead zone
/// (files written before it), or networks too wide for the bound, use the exact form: deficit = [e+, e-] [S+; S-] with
/// e = Clip([z, z] o [-gamma, gamma], 0, 1), every term &lt;= 0 and exactly 0 inside a region.
/// When every difference is a constant d' with K' = |d'| (classification patches: C = 0), h = G d' exactly for G in
/// [0, 1] (d' >= 0: the first Relu is d' G, the second's argument d'(G - 2) &lt;= 0; d' &lt; 0 symmetrically), so the
/// correction is one product: exactly 0 where every G is 0 and the sum of the d' where G is exactly 1. Affine
/// differences use the general h = Relu(p' + K'(G - 1)) - Relu(-p' + K'(G - 1)), summed over the patches.
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

    /// <summary>
    /// Bound on the float32 rounding of the signed deficit -kappa D = q (kappa/2 S') - (kappa/2) |q|_1 over H neurons
    /// (|q_j| &lt;= 1): a float sum of H terms errs by at most gamma_H = H 2^-24 / (1 - H 2^-24) times the sum of their
    /// sizes (any order, with or without fused multiply-adds), so the product by at most (kappa/2) H^2 2^-24 and the
    /// scaled 1-norm by as much again: kappa H^2 2^-24 in all, with a quarter more for gamma_H's denominator, the
    /// final scaling, subtraction and constant (each a few units of 2^-24).
    /// </summary>
    internal static double SignedFormError(int hidden, double kappa) => 1.25 * kappa * hidden * (double)hidden * Math.Pow(2, -24);

    /// <summary>
    /// Bound on the float32 rounding of a deficit summed from n non-negative terms, where it matters (near D = 1,
    /// partial sums at most about 1): n 2^-24, times kappa, doubled. Inside a region these sums are exactly 0.
    /// </summary>
    internal static double NonNegativeSumError(int terms, double kappa) => 2 * kappa * terms * Math.Pow(2, -24);

    /// <summary>
    /// Whether the signed form over H neurons is usable with dead zone delta. The graph computes
    /// g~ = Clip(kappa - kappa D~ - beta, 0, 1) with beta = <see cref="SignedFormError"/>: where D >= 1 (g = 0 in
    /// double) the rounded D~ >= D - beta / kappa gives g~ = 0, so outside every support the output stays bit-identical;
    /// inside a region (D = 0) g~ >= kappa - 2 beta (beta of the rows added once: their deficits are exactly 0 there),
    /// which must still be >= 1, i.e. 2 beta &lt;= kappa delta (H up to 647 at delta = 1/16); in the band
    /// g - 2 beta &lt;= g~ &lt;= g. The supports' proofs use only g = 1 on the region, g = 0 off the band and 0 &lt;= g &lt;= 1
    /// (with the suffix maximum), which g~ meets as well.
    /// </summary>
    internal static bool SignedFormIsExact(int hidden, double deadZone, int rowsPerPatch = 0)
    {
        if (deadZone <= 0) return false;
        double kappa = 1 / (1 - deadZone);
        return 2 * SignedFormError(hidden, kappa) + NonNegativeSumError(rowsPerPatch, kappa) <= kappa * deadZone;
    }

    /// <summary>
    /// Bound on the float32 rounding of the box terms of a group (times kappa). A term can be below 1 only where
    /// |x_i - c_i| &lt;= h_i + 1/(gamma s_i), so there |x_i| &lt;= |c_i| + h_i + 1/(gamma s_i); the stored c, h and gamma s are
    /// rounded once, and x - c, the Abs, the subtraction of h and the product each round once, relative to those sizes: at
    /// most 4 2^-24 (gamma s_i (2 |c_i| + 2 h_i) + 1) per term (a term at 1 or above is clipped to exactly 1 either way);
    /// the sum of the n clipped terms adds n 2^-24 (partial sums at most about 1 where it matters), doubled as in
    /// <see cref="NonNegativeSumError"/>. At a point well inside its box (the buggy inputs) every term is exactly 0.
    /// </summary>
    internal static double BoxError(IReadOnlyList<GatedPatch> patches, int[] members, double gamma, double kappa)
    {
        double worst = 0;
        int n = 0;
        foreach (int p in members)
        {
            if (patches[p].Support.Box is not { } box) continue;
            double e = 0;
            for (int i = 0; i < box.Dimension; i++)
                if (box.Scale[i] > 0) e += 4 * (gamma * box.Scale[i] * (2 * Math.Abs(box.Center[i]) + 2 * box.HalfWidth[i]) + 1);
            worst = Math.Max(worst, e);
            n = Math.Max(n, box.Dimension);
        }
        return kappa * (worst + 2 * n) * Math.Pow(2, -24);
    }

    /// <summary>
    /// Adds the patch nodes and writes the repaired output f(x) + correction <c>[N, m]</c> to <paramref name="output"/>,
    /// from the original output <paramref name="original"/>.
    /// </summary>
    public static void Add(OnnxBuilder b, RepairedNetwork net, string x, IReadOnlyList<string> preActivations, string original, string output)
    {
        var patches = net.Patches;
        int pCount = patches.Count, n = net.Original.InputSize, m = net.Original.OutputSize, h = net.Original.HiddenCount;
        string one = b.Constant("one", [1.0], 1);
        string? zeroName = null;
        string Zero() => zeroName ??= b.Constant("zero", [0.0], 1); // written only where used (ONNX Runtime warns of unused initializers)
        // z [N, H] for the signed form, [z, z] [N, 2H] for the exact one (first half: deficits of active neurons,
        // second half: of inactive ones); each written once, when a group needs it.
        string? zH = null, z2H = null;
        string ZH() => zH ??= preActivations.Count == 1 ? preActivations[0] : b.Node("Concat", [.. preActivations], null, OnnxBuilder.Int("axis", 1));
        string Z2H() => z2H ??= b.Node("Concat", [.. preActivations, .. preActivations], null, OnnxBuilder.Int("axis", 1));
        // Max-pool windows (method.md §12), each padded to kMax entries with copies of its first: the margins
        // max_window(z) - z_k >= 0 [N, windows * kMax], exactly 0 at a window's largest entries (max is exact).
        var pools = net.Original.Pools;
        int kMax = 0;
        if (pools is not null) for (int o = 0; o < pools.WindowCount; o++) kMax = Math.Max(kMax, pools.Window(o).Length);
        string? margins = null;
        string Margins()
        {
            if (margins is not null) return margins;
            var index = new long[pools!.WindowCount * kMax];
            for (int o = 0; o < pools.WindowCount; o++)
            {
                var window = pools.Window(o);
                for (int e = 0; e < kMax; e++) index[o * kMax + e] = window[e < window.Length ? e : 0];
            }
            string entries = b.Node("Reshape", [b.Node("Gather", [ZH(), b.Int64s("pindex", index)], null, OnnxBuilder.Int("axis", 1)), b.Int64s("pshape", -1, pools.WindowCount, kMax)]);
            string windowMax = b.Node("ReduceMax", [entries], null, OnnxBuilder.Ints("axes", 2), OnnxBuilder.Int("keepdims", 1)); // [N, windows, 1]
            return margins = b.Node("Reshape", [b.Node("Sub", [windowMax, entries]), b.Int64s("mshape", -1, pools.WindowCount * kMax)]);
        }

        // Gates g [N, P], built per distinct (gamma, dead zone) and scattered into patch order. Every part below writes
        // -kappa D_part [N, pg] (kappa = 1 / (1 - delta)); g = Clip(kappa - kappa D, 0, 1).
        string? gates = null;
        foreach (var group in Enumerable.Range(0, pCount).GroupBy(p => (patches[p].Support.Gamma, patches[p].Support.DeadZone)).OrderBy(g => g.Key))
        {
            double gamma = group.Key.Gamma, deadZone = group.Key.DeadZone, kappa = 1 / (1 - deadZone);
            var members = group.ToArray();
            int pg = members.Length;
            int maxRows = members.Max(p => patches[p].Support.Rows.Count);
            int maxWinners = members.Max(p => patches[p].Support.WinnerWindows.Length);
            string? sum = null;
            double beta = 0;
            if (h > 0 && members.Any(p => patches[p].Support.Pattern is not null))
            {
                if (SignedFormIsExact(h, deadZone, maxRows + maxWinners))
                {
                    beta += SignedFormError(h, kappa);
                    // q = Clip(gamma z, -1, 1); a neuron's deficit is relu(-s' q) = (|q| - s' q) / 2, so
                    // -kappa D = q (kappa/2 S') - (kappa/2) |q|_1 with S' the +-1 patterns [H, pg]: one product over H.
                    var signs = new double[h * pg];
                    var l1Weight = new double[pg];
                    for (int c = 0; c < pg; c++)
                    {
                        var pattern = patches[members[c]].Support.Pattern;
                        if (pattern is null) continue;
                        l1Weight[c] = kappa / 2;
                        for (int j = 0; j < h; j++) signs[j * pg + c] = pattern[j] ? kappa / 2 : -kappa / 2;
                    }
                    // Few nodes: one image's inference time is mostly per-node overhead.
                    string scaled = gamma == 1 ? ZH() : b.Node("Mul", [ZH(), b.Constant("gamma", [gamma], 1)]);
                    string q = b.Node("Clip", [scaled, b.Constant("minusone", [-1.0], 1), one]);
                    // Abs + ReduceSum: ONNX Runtime's ReduceL1 took 0.21 ms on [1024, 512] against about 0.1 ms for these two.
                    string l1 = b.Node("ReduceSum", [b.Node("Abs", [q]), b.Int64s("l1axes", 1)], null, OnnxBuilder.Int("keepdims", 1)); // [N, 1]
                    string signsName = b.Constant("signs", signs, h, pg);
                    sum = l1Weight.All(w => w == kappa / 2)
                        ? b.Node("Gemm", [q, signsName, l1], null, OnnxBuilder.Float("beta", -kappa / 2)) // q S' - (kappa/2) |q|_1
                        : b.Node("Sub", [b.Node("MatMul", [q, signsName]), b.Node("Mul", [l1, b.Constant("l1weight", l1Weight, pg)])]);
                }
                else
                {
                    // S = [S+; S-] [2H, pg]; e = Clip([z, z] o [-gamma, gamma], 0, 1) = [e+, e-]; -kappa D = e (-kappa S):
                    // every term is &lt;= 0 and exactly 0 inside the region, so the deficit is exactly 0 there.
                    if (deadZone > 0) beta += NonNegativeSumError(2 * h, kappa);
                    var s2 = new double[2 * h * pg];
                    for (int c = 0; c < pg; c++)
                    {
                        var pattern = patches[members[c]].Support.Pattern;
                        if (pattern is null) continue;
                        for (int j = 0; j < h; j++) s2[(pattern[j] ? j : h + j) * pg + c] = -kappa;
                    }
                    var scale = new double[2 * h];
                    for (int j = 0; j < h; j++) { scale[j] = -gamma; scale[h + j] = gamma; }
                    string e = b.Node("Clip", [b.Node("Mul", [Z2H(), b.Constant("gamma", scale, 2 * h)]), Zero(), one]);
                    sum = b.Node("MatMul", [e, b.Constant("signs", s2, 2 * h, pg)]);
                }
            }
            if (maxWinners > 0)
            {
                // Winner rows (Support): -kappa sum over the windows o whose winner w_o is active of
                // Clip(gamma (max_window(z) - z_w), 0, 1), as Clip(gamma margins, 0, 1) [N, windows kMax] times a 0/-kappa
                // owner matrix [windows kMax, pg] (the winner's first slot in its window). Every term is >= 0 and exactly
                // 0 where the winner is a largest entry, so inside a region the sum is exactly 0.
                var owner = new double[pools!.WindowCount * kMax * pg];
                for (int c = 0; c < pg; c++)
                {
                    var support = patches[members[c]].Support;
                    foreach (int o in support.WinnerWindows)
                    {
                        int slot = pools.Window(o).IndexOf(support.Pattern!.Winners![o]);
                        owner[(o * kMax + slot) * pg + c] = -kappa;
                    }
                }
                string scaledMargins = gamma == 1 ? Margins() : b.Node("Mul", [Margins(), b.Constant("wgamma", [gamma], 1)]);
                string terms = b.Node("Clip", [scaledMargins, Zero(), one]);
                string winnerSum = b.Node("MatMul", [terms, b.Constant("wowner", owner, pools.WindowCount * kMax, pg)]);
                if (deadZone > 0) beta += NonNegativeSumError(maxWinners, kappa);
                sum = sum is null ? winnerSum : b.Node("Add", [sum, winnerSum]);
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
                string dr = b.Node("Clip", [ur, Zero(), one]);
                int perPatch = patches[members[0]].Support.Rows.Count;
                if (deadZone > 0) beta += NonNegativeSumError(maxRows, kappa);
                // -kappa deficit of the rows. Equal row counts (e.g. box supports): the rows of a patch are adjacent, so
                // a Reshape to [N, P, rows], a ReduceSum and a Mul replace the [R, P] owner matrix (which grows as P^2).
                string rowSum = members.All(p => patches[p].Support.Rows.Count == perPatch)
                    ? b.Node("Mul", [b.Node("ReduceSum", [b.Node("Reshape", [dr, b.Int64s("rshape", -1, pg, perPatch)]), b.Int64s("raxes", 2)], null, OnnxBuilder.Int("keepdims", 0)), b.Constant("minuskappa", [-kappa], 1)])
                    : b.Node("MatMul", [dr, b.Constant("owner", Owner(rows.Select(r => r.Column).ToList(), pg, kappa), rows.Count, pg)]);
                sum = sum is null ? rowSum : b.Node("Add", [sum, rowSum]);
            }
            if (members.Any(p => patches[p].Support.Box is not null))
            {
                // Box parts (SupportBox): -kappa sum_i Clip(gamma s_i Relu(|x_i - c_i| - h_i), 0, 1) per patch, over
                // [N, pg, n] by broadcasting x [N, 1, n] against c, h, gamma s [pg, n] (zeros for members without a box).
                var centre = new double[pg * n];
                var half = new double[pg * n];
                var scale = new double[pg * n];
                for (int c = 0; c < pg; c++)
                {
                    if (patches[members[c]].Support.Box is not { } box) continue;
                    for (int i = 0; i < n; i++)
                    {
                        centre[c * n + i] = box.Center[i];
                        half[c * n + i] = box.HalfWidth[i];
                        scale[c * n + i] = gamma * box.Scale[i];
                    }
                }
                beta += BoxError(patches, members, gamma, kappa);
                string x3 = b.Node("Unsqueeze", [x, b.Int64s("baxes", 1)]); // [N, 1, n]
                string dev = b.Node("Abs", [b.Node("Sub", [x3, b.Constant("bcentre", centre, pg, n)])]);
                string viol = b.Node("Relu", [b.Node("Sub", [dev, b.Constant("bhalf", half, pg, n)])]);
                string terms = b.Node("Clip", [b.Node("Mul", [viol, b.Constant("bscale", scale, pg, n)]), Zero(), one]);
                string boxSum = b.Node("Mul", [b.Node("ReduceSum", [terms, b.Int64s("bsum", 2)], null, OnnxBuilder.Int("keepdims", 0)), b.Constant("bkappa", [-kappa], 1)]);
                sum = sum is null ? boxSum : b.Node("Add", [sum, boxSum]);
            }
            // g = Clip(kappa - kappa D - beta, 0, 1): exactly 1 inside a region (D = 0, or a rounded D below the dead
            // zone), exactly 0 where D >= 1 in double (beta bounds the float32 rounding of D). Without a dead zone
            // (files written before it) beta = 0, as those files were written. Written as HardSigmoid (alpha 1, beta
            // kappa - beta: max(0, min(1, 1 x + beta)), the same float operations as an Add and a Clip), which ONNX
            // Runtime fuses into the Gemm before it: one node instead of three (single image 31.3 against 33.1 us).
            string g = sum is null
                ? b.Constant("gconst", members.Select(_ => 1.0).ToArray(), 1, pg) // no rows: the support is everywhere
                : b.Node("HardSigmoid", [sum], null, OnnxBuilder.Float("alpha", 1.0), OnnxBuilder.Float("beta", kappa - beta));
            if (pg == pCount)
            {
                gates = g; // one group: members are 0..P-1 in order, nothing to scatter
                continue;
            }
            var scatter = new double[pg * pCount];
            for (int c = 0; c < pg; c++) scatter[c * pCount + members[c]] = 1;
            string placed = b.Node("MatMul", [g, b.Constant("scatter", scatter, pg, pCount)]);
            gates = gates is null ? placed : b.Node("Add", [gates, placed]);
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
        if (linearInGate)
        {
            if (pCount == 1) b.Node("Gemm", [gates!, pDiff, original], output);
            else ConstantCorrection(b, net, gates!, pDiff, m, original, output);
            return;
        }
        string suffixMax = SuffixMax(b, gates!, pCount);
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
        b.Node("Add", [original, b.Node("ReduceSum", [hSum, b.Int64s("axes", 1)], null, OnnxBuilder.Int("keepdims", 0))], output);
    }

    /// <summary>
    /// sum_l G_l d'_l <c>[N, m]</c> for constant differences, with an If on the batch: where no row has two non-zero
    /// gates, G_l = g_j for l &lt;= j and 0 after (j the one patch whose gate is on), so the sum telescopes to g_j d_j and
    /// the else branch computes g D <c>[N, P] x [P, m]</c> (D the patches themselves) without the suffix maximum. A batch
    /// with some row in two supports at once (a band where they meet) takes the then branch, the suffix maximum as
    /// written in method.md §5. Counting non-zero gates: Ceil(g) is 1 for g in (0, 1], 0 for g = 0. Both branches add
    /// the sum to the original output as their Gemm's C, so the If writes the repaired output itself (one Add node
    /// fewer; where every gate is 0 the Gemm adds exact zeros to f(x), as the Add did).
    /// </summary>
    private static void ConstantCorrection(OnnxBuilder b, RepairedNetwork net, string gates, string pDiff, int m, string original, string output)
    {
        var patches = net.Patches;
        int pCount = patches.Count;
        var full = new double[pCount * m];
        for (int p = 0; p < pCount; p++) for (int o = 0; o < m; o++) full[p * m + o] = patches[p].Patch.D[o];
        string perRow = b.Node("ReduceSum", [b.Node("Ceil", [gates]), b.Int64s("caxes", 1)], null, OnnxBuilder.Int("keepdims", 0)); // [N]
        string most = b.Node("ReduceMax", [perRow], null, OnnxBuilder.Int("keepdims", 0)); // scalar (an empty batch runs too: tested)
        string overlap = b.Node("Greater", [most, b.Constant("onehalf", [1.5], 1)]);
        var then = b.Subgraph("overlap");
        string thenOut = then.Node("Gemm", [SuffixMax(then, gates, pCount), pDiff, original]);
        then.Graph.Output.Add(OnnxBuilder.FloatInfo(thenOut, "N", m));
        var otherwise = b.Subgraph("disjoint");
        string elseOut = otherwise.Node("Gemm", [gates, b.Constant("pfull", full, pCount, m), original]);
        otherwise.Graph.Output.Add(OnnxBuilder.FloatInfo(elseOut, "N", m));
        b.Node("If", [overlap], output, OnnxBuilder.GraphAttribute("then_branch", then.Graph), OnnxBuilder.GraphAttribute("else_branch", otherwise.Graph));
    }

    /// <summary>The 0/-kappa matrix <c>[R, P]</c> that sums each patch's row deficits, times -kappa.</summary>
    private static double[] Owner(List<int> columns, int pg, double kappa)
    {
        var owner = new double[columns.Count * pg];
        for (int r = 0; r < columns.Count; r++) owner[r * pg + columns[r]] = -kappa;
        return owner;
    }
}
