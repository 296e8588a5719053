
namespace Reassure.Networks;

/// <summary>Sound bounds L &lt;= z_{l,j}(x) &lt;= U of every hidden pre-activation over a box (flat <c>[H]</c>).</summary>
/// <param name="Lower">Lower bounds, <c>[H]</c>.</param>
/// <param name="Upper">Upper bounds, <c>[H]</c>.</param>
public sealed record NeuronBounds(double[] Lower, double[] Upper)
{
    /// <summary>Number of neurons whose sign is not fixed over the box (L &lt; 0 &lt; U).</summary>
    public int Unstable
    {
        get
        {
            int u = 0;
            for (int j = 0; j < Lower.Length; j++) if (Lower[j] < 0 && Upper[j] > 0) u++;
            return u;
        }
    }
}

/// <summary>
/// Cheap sound bounds over an input box (method.md §6, area repair: discard sub-boxes before any LP).
/// Interval bound propagation, then symbolic linear bounds by back-substitution in the style of DeepPoly/CROWN:
/// a linear expression lam . a_k + c over the post-activations of layer k is pushed back to the input through
/// <code>
///   z_k = W_k a_{k-1} + b_k                      (exact)
///   alpha z &lt;= relu(z) &lt;= s z + t              (unstable neuron, L &lt; 0 &lt; U: s = U/(U-L), t = -s L,
///                                                 alpha = 1 if U > -L else 0; stable neurons exact)
/// </code>
/// taking the lower relaxation where the coefficient is positive and the upper one where it is negative, and is
/// minimised over the box in closed form (each input at the end its coefficient prefers). Layer by layer the
/// tighter of the interval and the symbolic bound is kept. All in double; the verifier adds a relative tolerance
/// before it calls anything proven.
/// </summary>
public static class LinearBounds
{
    /// <summary>Bounds of every hidden pre-activation of <paramref name="network"/> over <paramref name="box"/>.</summary>
    public static NeuronBounds Compute(Network network, InputBox box) => Compute(network, box, null);

    /// <summary>
    /// As <see cref="Compute(Network, InputBox)"/>, intersected layer by layer with <paramref name="known"/>: sound bounds
    /// over a box holding this one (a branch-and-bound parent's), so each layer's relaxation starts from the tighter of both.
    /// </summary>
    public static NeuronBounds Compute(Network network, InputBox box, NeuronBounds? known) => Compute(network, box, known, false);

    /// <summary>
    /// As <see cref="Compute(Network, InputBox, NeuronBounds)"/>; with <paramref name="unstableOnly"/> the symbolic bounds
    /// are computed only for the neurons whose sign neither <paramref name="known"/> nor the interval bounds fix. A
    /// stable neuron's relaxation is exact whatever its bounds' values, so every bound of an unstable neuron (and every
    /// later bound) is the same as with the full computation up to where an interval bound was the tighter one; the
    /// stable neurons keep the (sound, possibly looser) values of <paramref name="known"/> and the interval bounds. In a
    /// branch and bound deep sub-boxes have few unstable neurons, so this is most of the cost saved (issue 21).
    /// </summary>
    public static NeuronBounds Compute(Network network, InputBox box, NeuronBounds? known, bool unstableOnly)
    {
        int hCount = network.HiddenCount;
        var lower = new double[hCount];
        var upper = new double[hCount];
        var layers = network.Layers;
        for (int l = 0; l < layers.Count - 1; l++)
        {
            var layer = layers[l];
            int w = layer.Outputs, inW = layer.Inputs, off = network.HiddenOffsets[l];
            // Interval bounds from the previous layer's intervals, through the layer's map.
            double[] al = new double[inW], au = new double[inW];
            var pool = l == 0 ? null : layers[l - 1].MaxPool;
            if (l == 0)
            {
                for (int k = 0; k < inW; k++) { al[k] = box.Lower[k]; au[k] = box.Upper[k]; }
            }
            else
            {
                var prev = layers[l - 1];
                var rl = new double[prev.Outputs];
                var ru = new double[prev.Outputs];
                for (int k = 0; k < prev.Outputs; k++)
                {
                    int pk = network.HiddenOffsets[l - 1] + k;
                    rl[k] = Math.Max(0, lower[pk]); ru[k] = Math.Max(0, upper[pk]);
                }
                if (pool is null) { al = rl; au = ru; }
                else pool.ApplyInterval(rl, ru, al, au); // max is monotone: [max of lowers, max of uppers]
            }
            var zl = new double[w];
            var zu = new double[w];
            layer.Map.ApplyInterval(al, au, zl, zu);
            for (int j = 0; j < w; j++)
            {
                lower[off + j] = layer.Bias[j] + zl[j];
                upper[off + j] = layer.Bias[j] + zu[j];
            }
            if (known is not null) Intersect(known, lower, upper, off, w);
            if (l == 0) continue; // the first layer's interval bound is exact
            bool pooledBefore = false;
            for (int k = 0; k < l; k++) pooledBefore |= layers[k].MaxPool is not null;
            if (pooledBefore) continue; // no linear relaxation of a max pool here: interval bounds only (sound)
            // Symbolic bounds of the selected neurons sel[0..q-1]: rows 0..q-1 give lower bounds of z_j, rows q..2q-1
            // lower bounds of -z_j.
            int[] sel;
            if (unstableOnly && known is not null)
            {
                var list = new List<int>();
                for (int j = 0; j < w; j++) if (lower[off + j] < 0 && upper[off + j] > 0) list.Add(j);
                sel = [.. list];
            }
            else sel = [.. Enumerable.Range(0, w)];
            int q = sel.Length;
            if (q == 0) continue;
            var lam = new double[2 * q * inW];
            var c = new double[2 * q];
            for (int r = 0; r < q; r++)
            {
                int j = sel[r];
                layer.Map.AddRow(j, 1, lam.AsSpan(r * inW, inW));
                layer.Map.AddRow(j, -1, lam.AsSpan((q + r) * inW, inW));
                c[r] = layer.Bias[j];
                c[q + r] = -layer.Bias[j];
            }
            var (lx, cx) = BackSubstitute(network, lower, upper, l - 1, lam, c, 2 * q);
            var mins = Concretize(lx, cx, 2 * q, box);
            for (int r = 0; r < q; r++)
            {
                int j = sel[r];
                lower[off + j] = Math.Max(lower[off + j], mins[r]);
                upper[off + j] = Math.Min(upper[off + j], -mins[q + r]);
            }
            if (known is not null) Intersect(known, lower, upper, off, w);
        }
        return new NeuronBounds(lower, upper);
    }

    private static void Intersect(NeuronBounds known, double[] lower, double[] upper, int off, int w)
    {
        for (int j = off; j < off + w; j++)
        {
            lower[j] = Math.Max(lower[j], known.Lower[j]);
            upper[j] = Math.Min(upper[j], known.Upper[j]);
        }
    }

    /// <summary>
    /// A sound lower bound of c . y over the box, with the linear function lam . x + c0 (lam <c>[n]</c>) that
    /// bounds c . f(x) from below on the box and whose minimum over the box is that bound.
    /// </summary>
    public static (double Lower, double[] Lambda, double Offset) OutputLowerBound(Network network, InputBox box, NeuronBounds bounds, ReadOnlySpan<double> c)
    {
        network.RequireAnalysablePools("symbolic output bounds");
        var last = network.Layers[^1];
        int inW = last.Inputs;
        var lam = new double[inW];
        double c0 = 0;
        for (int o = 0; o < last.Outputs; o++)
        {
            if (c[o] == 0) continue;
            c0 += c[o] * last.Bias[o];
            last.Map.AddRow(o, c[o], lam);
        }
        var (lx, cx) = BackSubstitute(network, bounds.Lower, bounds.Upper, network.Layers.Count - 2, lam, [c0], 1);
        var min = Concretize(lx, cx, 1, box)[0];
        return (min, lx, cx[0]);
    }

    /// <summary>
    /// Pushes rows lam (<c>[r, width of layer k's output]</c>, over a_k = relu(z_k); k = -1 means x) back to the input,
    /// as lower bounds. Returns (lam_x <c>[r, n]</c>, c <c>[r]</c>).
    /// </summary>
    private static (double[] Lam, double[] C) BackSubstitute(Network network, double[] lower, double[] upper, int k, double[] lam, double[] c, int rows)
    {
        var layers = network.Layers;
        c = (double[])c.Clone();
        for (; k >= 0; k--)
        {
            var layer = layers[k];
            int w = layer.Outputs, inW = layer.Inputs, off = network.HiddenOffsets[k];
            if (layer.MaxPool is { } pool) (lam, c) = PoolRelaxation(network, k, pool, lower, upper, lam, c, rows);
            // relu relaxation: a_k -> z_k
            for (int r = 0; r < rows; r++)
            {
                var row = lam.AsSpan(r * w, w);
                for (int j = 0; j < w; j++)
                {
                    double v = row[j];
                    if (v == 0) continue;
                    double lo = lower[off + j], hi = upper[off + j];
                    if (lo >= 0) continue;
                    if (hi <= 0) { row[j] = 0; continue; }
                    if (v > 0) row[j] = hi > -lo ? v : 0;
                    else
                    {
                        double s = hi / (hi - lo);
                        row[j] = v * s;
                        c[r] += v * (-s * lo);
                    }
                }
            }
            // z_k = W_k a_{k-1} + b_k
            var next = new double[rows * inW];
            for (int r = 0; r < rows; r++)
            {
                var row = lam.AsSpan(r * w, w);
                for (int j = 0; j < w; j++) if (row[j] != 0) c[r] += row[j] * layer.Bias[j];
                layer.Map.ApplyTranspose(row, next.AsSpan(r * inW, inW));
            }
            lam = next;
        }
        return (lam, c);
    }

    /// <summary>
    /// Rows over a max pool's outputs (<c>[r, windows]</c>) to rows over the pooled ReLU outputs a_k (<c>[r, w]</c>) as
    /// lower bounds (method.md §12), with z in [L, U]: for a coefficient v > 0, pooled_o >= a_j for any entry j of the
    /// window (the one with the largest L, then U); for v &lt; 0, pooled_o = a_j when entry j's L is at least every other
    /// entry's U (it always wins), else pooled_o &lt;= max_j relu(U_j), a constant. Sound for every x with z in [L, U].
    /// </summary>
    private static (double[] Lam, double[] C) PoolRelaxation(Network network, int k, MaxPoolWindows pool, double[] lower, double[] upper, double[] lam, double[] c, int rows)
    {
        int w = pool.Inputs, off = network.HiddenOffsets[k];
        var best = new int[pool.Outputs];
        var dominant = new bool[pool.Outputs];
        var top = new double[pool.Outputs];
        for (int o = 0; o < pool.Outputs; o++)
        {
            var window = pool.Window(o);
            int j = window[0];
            foreach (int e in window)
                if (lower[off + e] > lower[off + j] || (lower[off + e] == lower[off + j] && upper[off + e] > upper[off + j])) j = e;
            best[o] = j;
            double otherTop = double.NegativeInfinity, maxTop = 0;
            foreach (int e in window)
            {
                maxTop = Math.Max(maxTop, Math.Max(0, upper[off + e]));
                if (e != j) otherTop = Math.Max(otherTop, upper[off + e]);
            }
            dominant[o] = lower[off + j] >= otherTop;
            top[o] = maxTop;
        }
        var next = new double[rows * w];
        for (int r = 0; r < rows; r++)
        {
            var row = lam.AsSpan(r * pool.Outputs, pool.Outputs);
            var dst = next.AsSpan(r * w, w);
            for (int o = 0; o < row.Length; o++)
            {
                double v = row[o];
                if (v > 0 || (v < 0 && dominant[o])) dst[best[o]] += v;
                else if (v < 0) c[r] += v * top[o];
            }
        }
        return (next, c);
    }

    private static double[] Concretize(double[] lam, double[] c, int rows, InputBox box)
    {
        int n = box.Dimension;
        var mins = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = c[r];
            for (int i = 0; i < n; i++)
            {
                double v = lam[r * n + i];
                s += v * (v >= 0 ? box.Lower[i] : box.Upper[i]);
            }
            mins[r] = s;
        }
        return mins;
    }
}
