using System.Runtime.CompilerServices;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// Lagrange multipliers of the layered region LP of <see cref="RegionLp"/> (one per equality row, i.e. per hidden
/// neuron, flat <c>[H]</c>, then one per extra row), recorded after an optimal solve. Any multipliers give a sound
/// upper bound on a maximum over the region by weak duality; <see cref="UpperBound"/> recomputes that bound from the
/// network's weights in double, so it does not trust the solver that produced them.
/// <para>
/// The LP is max c . z over z = (x, v_1, ..., v_{L-1}) subject to
/// <code>
///   v_1 - W_1 x = b_1,   v_l - W_l diag(s_{l-1}) v_{l-1} = b_l   (y_l free),
///   a_e . x &lt;= b_e                                              (y_e >= 0),
///   lo &lt;= z &lt;= hi
/// </code>
/// For every y with those signs and every feasible z, c . z = y . (A z) + r . z &lt;= y . b + r . z with
/// r = c - A^T y, hence
/// <code>
///   max c . z &lt;= y . b + sum_k max(r_k lo_k, r_k hi_k).
/// </code>
/// The hidden variables have only a sign bound in the LP (active v >= 0, inactive v &lt;= 0); the certificate uses the
/// finite bounds active v in [0, U], inactive v in [L, 0] with [L, U] sound interval/symbolic bounds of the
/// pre-activation over the input box (<see cref="LinearBounds"/>), which every point of the region meets, so the
/// feasible set is unchanged. Negative multipliers of extra rows are clamped to 0 before r is computed.
/// </para>
/// </summary>
public sealed class DualCertificate
{
    private static readonly ConditionalWeakTable<Network, List<(InputBox Box, NeuronBounds Bounds)>> BoundsCache = new();

    /// <summary>Creates a certificate from multipliers <paramref name="y"/> (<c>[H + extra rows]</c>).</summary>
    public DualCertificate(double[] y)
    {
        ArgumentNullException.ThrowIfNull(y);
        Y = y;
    }

    /// <summary>The multipliers: hidden neurons in network order, then the extra rows.</summary>
    public double[] Y { get; }

    /// <summary>Relative widening of the neuron bounds [L, U] used for the hidden variables (guards their own rounding).</summary>
    public const double BoundsWidening = 1e-6;

    /// <summary>
    /// A sound upper bound of max over <paramref name="region"/> of w . y(x) + c . x + c0 (w <c>[m]</c>, c <c>[n]</c> or
    /// empty), and an estimate <paramref name="roundingError"/> of the error of computing it in double:
    /// <c>gamma_N (|const| + sum_i |y_i b_i| + sum_k (|c_k| + sum_i |y_i A_ik| + |r_k|) max(|lo_k|, |hi_k|))</c>,
    /// gamma_N = 2 N 2^-53 with N the number of terms of the longest sum (the standard bound on a recursive
    /// summation is (N - 1) 2^-53 per sum; the factor covers the sums nested in r and the final one).
    /// The bound meant as a proof is the returned value plus <paramref name="roundingError"/>.
    /// </summary>
    public double UpperBound(LinearRegion region, ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0, out double roundingError)
    {
        ArgumentNullException.ThrowIfNull(region);
        var net = region.Network;
        var layers = net.Layers;
        int n = net.InputSize, hCount = net.HiddenCount, extras = region.ExtraRows.Count;
        var pairs = region.WinnerPairs;
        if (Y.Length != hCount + extras + pairs.Length) throw new ArgumentException($"The certificate has {Y.Length} multipliers; the region LP has {hCount + extras + pairs.Length} rows.");
        // Winner rows v_k - v_w <= 0 (y_p >= 0, right-hand side 0): r_{v_k} -= y_p, r_{v_w} += y_p (method.md §12).
        var winnerR = new double[pairs.Length == 0 ? 0 : hCount];
        var winnerAbs = new double[winnerR.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            double u = Math.Max(0, Y[hCount + extras + p]);
            winnerR[pairs[p].Other] -= u;
            winnerR[pairs[p].Winner] += u;
            winnerAbs[pairs[p].Other] += u;
            winnerAbs[pairs[p].Winner] += u;
        }
        if (w.Length != net.OutputSize) throw new ArgumentException("Objective length differs from the output size.", nameof(w));
        var bounds = NeuronBoundsOf(net, region.Domain);
        var last = layers[^1];

        double constant = c0;
        double constantAbs = Math.Abs(c0);
        for (int o = 0; o < w.Length; o++)
        {
            constant += w[o] * last.Bias[o];
            constantAbs += Math.Abs(w[o] * last.Bias[o]);
        }
        double total = constant, totalAbs = constantAbs;
        int longest = Math.Max(w.Length, n);

        // Hidden layers, from the last one down: r_{l,k} = c_{l,k} - y_{l,k} + s_{l,k} (W_{l+1}^T y_{l+1})_k, where
        // c_{L-1,k} = s_{L-1,k} (W_L^T w)_k is the objective on the last hidden layer and 0 on the others.
        for (int l = layers.Count - 2; l >= 0; l--)
        {
            var next = layers[l + 1];
            int width = layers[l].Outputs, off = net.HiddenOffsets[l];
            bool top = l == layers.Count - 2;
            longest = Math.Max(longest, next.Outputs + 2);
            // (W_{l+1}^T u)_k and (|W_{l+1}|^T |u|)_k with u = w on top, y_{l+1} below, through the layer's map.
            ReadOnlySpan<double> u = top ? w : Y.AsSpan(net.HiddenOffsets[l + 1], next.Outputs);
            var backRead = new double[next.Inputs];
            var backReadAbs = new double[next.Inputs];
            next.Map.ApplyTranspose(u, backRead);
            next.Map.ApplyAbsTranspose(u, backReadAbs);
            // Inactive neurons are multiplied by s = 0 in the next layer's rows and in the objective; with a max pool
            // the next layer reads only the winners (the selection S_l, method.md §12).
            var back = region.SelectTransposeMasked(l, backRead);
            var backAbs = region.SelectTransposeMasked(l, backReadAbs);
            for (int k = 0; k < width; k++)
            {
                int h = off + k;
                bool active = region.Pattern[h];
                double r = back[k], rAbs = backAbs[k];
                r -= Y[h];
                rAbs += Math.Abs(Y[h]);
                if (winnerR.Length > 0)
                {
                    r += winnerR[h];
                    rAbs += winnerAbs[h];
                }
                double lo, hi;
                if (active) { lo = 0; hi = Widen(Math.Max(0, bounds.Upper[h])); }
                else { lo = -Widen(Math.Max(0, -bounds.Lower[h])); hi = 0; }
                double term = Math.Max(r * lo, r * hi);
                double reach = Math.Max(-lo, hi);
                total += term;
                totalAbs += (rAbs + Math.Abs(r)) * reach;
                // The row's right-hand side b_{l,k}.
                double yb = Y[h] * layers[l].Bias[k];
                total += yb;
                totalAbs += Math.Abs(yb);
            }
        }

        // Extra rows a_e . x <= b_e with y_e >= 0.
        var ye = new double[extras];
        for (int e = 0; e < extras; e++)
        {
            ye[e] = Math.Max(0, Y[hCount + e]);
            double yb = ye[e] * region.ExtraRows[e].B;
            total += yb;
            totalAbs += Math.Abs(yb);
        }

        // Inputs: r_i = c_i + (W_1^T y_1)_i - sum_e y_e a_{e,i}, over the box.
        var first = layers[0];
        longest = Math.Max(longest, first.Outputs + extras + 2);
        var box = region.Domain;
        var rx = new double[n];
        var rxAbs = new double[n];
        if (c.Length > 0)
        {
            if (c.Length != n) throw new ArgumentException("Input coefficients differ from the input size.", nameof(c));
            for (int i = 0; i < n; i++) { rx[i] = c[i]; rxAbs[i] = Math.Abs(c[i]); }
        }
        {
            // r_x += W_1^T y_1 (row by row, in row order), its sizes |W_1|^T |y_1|.
            var y1 = Y.AsSpan(0, first.Outputs);
            for (int j = 0; j < first.Outputs; j++)
            {
                double yj = y1[j];
                if (yj != 0) first.Map.AddRow(j, yj, rx);
            }
            var abs = new double[n];
            first.Map.ApplyAbsTranspose(y1, abs);
            for (int i = 0; i < n; i++) rxAbs[i] += abs[i];
        }
        for (int e = 0; e < extras; e++)
        {
            if (ye[e] == 0) continue;
            var a = region.ExtraRows[e].A;
            for (int i = 0; i < n; i++)
            {
                double t = ye[e] * a[i];
                rx[i] -= t;
                rxAbs[i] += Math.Abs(t);
            }
        }
        for (int i = 0; i < n; i++)
        {
            double lo = box.Lower[i], hi = box.Upper[i];
            total += Math.Max(rx[i] * lo, rx[i] * hi);
            totalAbs += (rxAbs[i] + Math.Abs(rx[i])) * Math.Max(Math.Abs(lo), Math.Abs(hi));
        }

        longest = Math.Max(longest, n + 2 * hCount + extras + 2 * pairs.Length + w.Length + 2);
        double gamma = 2.0 * longest * Math.ScaleB(1.0, -53);
        roundingError = gamma * totalAbs;
        return total;
    }

    /// <summary>
    /// The multipliers carried over to an objective w . y + c . x whose input part c is (nearly) a multiple beta of
    /// w^T F (a scaled patch: P_r C = (alpha_r - 1) P_r F): with z the multipliers that turn the input objective
    /// w^T F x into the output objective w . y(x) on the region's rows,
    /// <code>
    ///   z_{L-1} = -s_{L-1} o (W_L^T w),   z_l = s_l o (W_{l+1}^T z_{l+1}),   z_extra = 0,
    /// </code>
    /// (so A^T z = [w^T F on x; -s_{L-1} o W_L^T w on v_{L-1}; 0 elsewhere] in exact arithmetic), the new multipliers are
    /// (1 + beta) y + beta z and r = c - A^T y' = (1 + beta) r_y + (c - beta w^T F) on x. beta is a least-squares choice,
    /// beta = (c . w^T F) / |w^T F|^2 with F from <see cref="LinearRegion.OutputMatrix"/>; any beta gives a valid
    /// bound, since <see cref="UpperBound"/> recomputes r from the weights. Returns this certificate when c is zero.
    /// </summary>
    public DualCertificate ForObjective(LinearRegion region, ReadOnlySpan<double> w, ReadOnlySpan<double> c)
    {
        ArgumentNullException.ThrowIfNull(region);
        bool any = false;
        foreach (var v in c) if (v != 0) { any = true; break; }
        if (!any) return this;
        var fw = region.InputRow(w);
        double fwfw = Blas.Dot(fw, fw);
        if (!(fwfw > 0)) return this;
        double beta = Blas.Dot(c, fw) / fwfw;
        if (!double.IsFinite(beta) || beta == 0) return this;
        var y = new double[Y.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (1 + beta) * Y[i];
        // z = -HiddenMultipliers(w, no tau), added as beta z.
        var z = HiddenMultipliers(region, w, default);
        for (int i = 0; i < z.Length; i++) y[i] -= beta * z[i];
        return new DualCertificate(y);
    }

    /// <summary>
    /// The hidden-layer multipliers (flat <c>[H]</c>) of the output objective w . y whose reduced costs on the hidden
    /// variables are <paramref name="tau"/> (<c>[H]</c>; empty: 0):
    /// <code>
    ///   y_{L-1} = s_{L-1} o (W_L^T w) - tau_{L-1},     y_l = s_l o (W_{l+1}^T y_{l+1}) - tau_l,
    /// </code>
    /// so that the reduced costs on x are (W_1^T y_1)_i. With tau = 0 they carry the input objective w^T F x over to
    /// w . y on the region's rows (<see cref="ForObjective"/>); with the row reduced costs of the input-space simplex's
    /// basis they are that basis's multipliers in the layered form (<see cref="RegionLp"/>).
    /// </summary>
    internal static double[] HiddenMultipliers(LinearRegion region, ReadOnlySpan<double> w, ReadOnlySpan<double> tau, ReadOnlySpan<double> winnerY = default)
    {
        var net = region.Network;
        var layers = net.Layers;
        var y = new double[net.HiddenCount];
        if (layers.Count == 1) return y; // an affine network: no hidden layer, no hidden multipliers
        var pairs = region.WinnerPairs;
        if (!winnerY.IsEmpty && winnerY.Length != pairs.Length) throw new ArgumentException($"Expected {pairs.Length} winner multipliers.", nameof(winnerY));
        int top = layers.Count - 2;
        var last = layers[^1];
        var read = new double[last.Inputs];
        last.Map.ApplyTranspose(w, read); // W_L^T w
        for (int l = top; l >= 0; l--)
        {
            if (l < top) 
            {
                var next = layers[l + 1];
                read = new double[next.Inputs];
                next.Map.ApplyTranspose(y.AsSpan(net.HiddenOffsets[l + 1], next.Outputs), read);
            }
            var back = region.SelectTransposeMasked(l, read); // S_l^T, then diag(s_l)
            int off = net.HiddenOffsets[l];
            for (int k = 0; k < back.Length; k++) y[off + k] = tau.IsEmpty ? back[k] : back[k] - tau[off + k];
            if (winnerY.IsEmpty) continue;
            // y_k -= u_p, y_w += u_p for the winner rows of this layer, so that the reduced costs stay tau.
            int end = net.HiddenOffsets[l + 1];
            for (int p = 0; p < pairs.Length; p++)
            {
                var (k, wi) = pairs[p];
                if (k < off || k >= end) continue;
                double u = Math.Max(0, winnerY[p]); // as UpperBound reads it
                y[k] -= u;
                y[wi] += u;
            }
        }
        return y;
    }

    private static double Widen(double v) => v * (1 + BoundsWidening) + BoundsWidening;

    /// <summary>Neuron bounds over <paramref name="box"/>, computed once per network and box (all MNIST regions share [0, 1]^784).</summary>
    public static NeuronBounds NeuronBoundsOf(Network network, InputBox box)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(box);
        var list = BoundsCache.GetOrCreateValue(network);
        lock (list)
        {
            foreach (var (b, nb) in list)
            {
                if (ReferenceEquals(b, box) || (b.Lower.AsSpan().SequenceEqual(box.Lower) && b.Upper.AsSpan().SequenceEqual(box.Upper))) return nb;
            }
            var bounds = LinearBounds.Compute(network, box);
            // Copies of the box arrays, so that a caller mutating its arrays cannot make a cached entry lie.
            list.Add((new InputBox((double[])box.Lower.Clone(), (double[])box.Upper.Clone()), bounds));
            if (list.Count > 16) list.RemoveAt(0);
            return bounds;
        }
    }
}
