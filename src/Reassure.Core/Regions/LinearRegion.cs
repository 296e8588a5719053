using Reassure.Networks;

namespace Reassure.Regions;

/// <summary>
/// The linear region of an activation pattern s inside the domain box, optionally cut by extra half-spaces
/// (method.md §1):
/// <code>
///   R = { x in D : s'_{l,j} z_{l,j}(x) >= 0 for every hidden neuron, a_r . x &lt;= b_r for every extra row }
///   z_{l,j}(x) = g_{l,j} . x + h_{l,j}   (the fixed-mask forward pass)
///   y = F x + e                          on R
/// </code>
/// with s' = +1 for active neurons and -1 otherwise. The pairs (g, h) are propagated layer by layer:
/// G_1 = W_1, h_1 = b_1, G_l = W_l diag(s_{l-1}) G_{l-1}, h_l = W_l diag(s_{l-1}) h_{l-1} + b_l.
/// <para>
/// Max pools (method.md §12): with the pattern's winners, layer l's pool is the selection S_l of the winners' ReLU
/// outputs, so G_l = W_l S_{l-1} diag(s_{l-1}) G_{l-1} and the region adds the winner rows z_k(x) &lt;= z_w(x)
/// (<see cref="ActivationPattern.WinnerPairs"/>); on the region max over a window of relu(z) = relu(z_w) exactly.
/// </para>
/// </summary>
public sealed class LinearRegion
{
    private double[]? _g;      // [H, n] neuron gradients
    private double[]? _h;      // [H]
    private double[]? _f;      // [m, n]
    private double[]? _e;      // [m]
    private readonly object _gate = new();

    /// <summary>Creates the region of <paramref name="pattern"/>.</summary>
    public LinearRegion(Network network, ActivationPattern pattern, InputBox domain, IReadOnlyList<HalfSpace>? extraRows = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(domain);
        network.RequireAnalysablePools("a linear region");
        if (pattern.Count != network.HiddenCount) throw new ArgumentException("Pattern size differs from the hidden neuron count.", nameof(pattern));
        if (network.Pools is { } pools && (pattern.Winners is null || pattern.Winners.Length != pools.WindowCount))
            throw new ArgumentException("A network with max pools needs a pattern with the winner of every window (Network.Pattern).", nameof(pattern));
        if (domain.Dimension != network.InputSize) throw new ArgumentException("Domain dimension differs from the input size.", nameof(domain));
        Network = network;
        Pattern = pattern;
        Domain = domain;
        ExtraRows = extraRows ?? [];
    }

    /// <summary>The network.</summary>
    public Network Network { get; }

    /// <summary>The activation pattern.</summary>
    public ActivationPattern Pattern { get; }

    /// <summary>The domain box D (variable bounds in every LP, never rows).</summary>
    public InputBox Domain { get; }

    /// <summary>Extra half-spaces (split hyperplanes).</summary>
    public IReadOnlyList<HalfSpace> ExtraRows { get; }

    private (int Other, int Winner)[]? _pairs;

    /// <summary>The winner rows z_other(x) &lt;= z_winner(x) (flat hidden indices; empty without max pools).</summary>
    public (int Other, int Winner)[] WinnerPairs => _pairs ??= Pattern.WinnerPairs();

    /// <summary>
    /// The selection of layer l's masked outputs a (<c>[layer width]</c>) that the next layer reads: a itself, or with a
    /// max pool the winners' entries (<c>[windows]</c>).
    /// </summary>
    internal ReadOnlySpan<double> Select(int l, ReadOnlySpan<double> a)
    {
        var pools = Network.Pools;
        if (pools is null || Network.Layers[l].MaxPool is not { } mp) return a;
        var outp = new double[mp.Outputs];
        int first = pools.WindowOffsets[l], off = Network.HiddenOffsets[l];
        for (int o = 0; o < outp.Length; o++) outp[o] = a[Pattern.Winners![first + o] - off];
        return outp;
    }

    /// <summary>
    /// The transpose of <see cref="Select"/> followed by the mask diag(s_l): v (<c>[what the next layer reads]</c>) to
    /// <c>[layer width]</c>, zero at inactive neurons and at pooled neurons that do not win their window.
    /// </summary>
    internal double[] SelectTransposeMasked(int l, ReadOnlySpan<double> v)
    {
        var layer = Network.Layers[l];
        int off = Network.HiddenOffsets[l];
        var outv = new double[layer.Outputs];
        if (Network.Pools is { } pools && layer.MaxPool is { } mp)
        {
            int first = pools.WindowOffsets[l];
            for (int o = 0; o < mp.Outputs; o++)
            {
                int k = Pattern.Winners![first + o] - off;
                if (Pattern[off + k]) outv[k] = v[o];
            }
            return outv;
        }
        for (int k = 0; k < outv.Length; k++) if (Pattern[off + k]) outv[k] = v[k];
        return outv;
    }

    /// <summary>The same pattern with one more half-space.</summary>
    public LinearRegion Cut(HalfSpace row) => new(Network, Pattern, Domain, [.. ExtraRows, row]) { _g = _g, _h = _h, _f = _f, _e = _e };

    /// <summary>Whether x is in the region (closed; z = 0 meets both signs).</summary>
    public bool Contains(ReadOnlySpan<double> x)
    {
        if (!Domain.Contains(x)) return false;
        foreach (var row in ExtraRows) if (row.Slack(x) < 0) return false;
        var z = Network.PreActivations(x);
        for (int j = 0; j < z.Length; j++)
        {
            if (Pattern[j] ? z[j] < 0 : z[j] > 0) return false;
        }
        foreach (var (k, w) in WinnerPairs) if (z[k] > z[w]) return false;
        return true;
    }

    /// <summary>Neuron gradients g_{l,j}, row-major <c>[H, n]</c>.</summary>
    public double[] NeuronGradients
    {
        get
        {
            if (_g is not null) return _g;
            lock (_gate)
            {
                if (_g is null)
                {
                    var g = new double[Network.HiddenCount * Network.InputSize];
                    if (Network.AllDense) Compute(g);
                    else { ComputeStructuredGradients(g); Ensure(); }
                    _g = g;
                }
                return _g;
            }
        }
    }

    /// <summary>
    /// Writes the neuron gradients <c>[H, n]</c> into <paramref name="buffer"/> (at least H n long) without keeping them:
    /// for a solver that needs them once (3.2 MB per MNIST region, against 63 KB for F); F, e and the offsets are kept.
    /// </summary>
    internal void WriteNeuronGradients(double[] buffer)
    {
        int size = Network.HiddenCount * Network.InputSize;
        if (buffer.Length < size) throw new ArgumentException($"The buffer holds {buffer.Length} values; [H, n] needs {size}.", nameof(buffer));
        var g = _g;
        if (g is not null)
        {
            Array.Copy(g, buffer, size);
            return;
        }
        if (!Network.AllDense)
        {
            ComputeStructuredGradients(buffer);
            Ensure();
            return;
        }
        lock (_gate) Compute(buffer);
    }

    /// <summary>Neuron offsets h_{l,j}, <c>[H]</c>.</summary>
    public double[] NeuronOffsets { get { Ensure(); return _h!; } }

    /// <summary>F of y = F x + e on the region, row-major <c>[m, n]</c>.</summary>
    public double[] OutputMatrix { get { Ensure(); return _f!; } }

    /// <summary>w^T F <c>[n]</c> for w <c>[m]</c>: the input coefficients of w . y(x) = (w^T F) . x + w . e on the region.</summary>
    public double[] InputRow(ReadOnlySpan<double> w)
    {
        int n = Network.InputSize;
        var f = OutputMatrix; // [m, n]
        var row = new double[n];
        for (int o = 0; o < w.Length; o++) if (w[o] != 0) Blas.Axpy(w[o], f.AsSpan(o * n, n), row);
        return row;
    }

    /// <summary>e of y = F x + e on the region, <c>[m]</c>.</summary>
    public double[] OutputOffset { get { Ensure(); return _e!; } }

    /// <summary>
    /// The polytope rows A x &lt;= b without the box: one per hidden neuron (active: -g.x &lt;= h;
    /// inactive: g.x &lt;= -h), then the extra rows, then the winner rows (g_k - g_w).x &lt;= h_w - h_k.
    /// </summary>
    public IReadOnlyList<HalfSpace> PolytopeRows()
    {
        var g = NeuronGradients;
        int n = Network.InputSize, hCount = Network.HiddenCount;
        var rows = new List<HalfSpace>(hCount + ExtraRows.Count);
        for (int j = 0; j < hCount; j++)
        {
            double sign = Pattern[j] ? -1 : 1;
            var a = new double[n];
            for (int i = 0; i < n; i++) a[i] = sign * g[j * n + i];
            rows.Add(new HalfSpace(a, -sign * _h![j]));
        }
        rows.AddRange(ExtraRows);
        foreach (var (k, w) in WinnerPairs)
        {
            var a = new double[n];
            for (int i = 0; i < n; i++) a[i] = g[k * n + i] - g[w * n + i];
            rows.Add(new HalfSpace(a, _h![w] - _h![k]));
        }
        return rows;
    }

    /// <summary>F, e and the neuron offsets (small), computed once; the gradients go to a pooled scratch buffer.</summary>
    private void Ensure()
    {
        if (_e is not null) return;
        lock (_gate)
        {
            if (_e is not null) return;
            if (!Network.AllDense)
            {
                ComputeStructured();
                return;
            }
            // _e is set together with _g (NeuronGradients), so G is not kept here: it is computed in scratch.
            var g = System.Buffers.ArrayPool<double>.Shared.Rent(Network.HiddenCount * Network.InputSize);
            Compute(g);
            System.Buffers.ArrayPool<double>.Shared.Return(g);
        }
    }

    /// <summary>
    /// F, e and h through the layers' maps, without G (a network with a structured layer, method.md §12):
    /// h_1 = b_1, h_l = M_l (s_{l-1} o h_{l-1}) + b_l (the fixed-mask pass at x = 0), e likewise at the output, and
    /// row o of F as M_1^T s_1 o M_2^T ... s_{L-1} o M_L^T e_o (one backward pass per output).
    /// </summary>
    private void ComputeStructured()
    {
        var layers = Network.Layers;
        int n = Network.InputSize, m = Network.OutputSize;
        var h = new double[Network.HiddenCount];
        var prev = new double[n]; // the input x = 0
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            var z = new double[layer.Outputs];
            layer.Affine(prev, z);
            if (l == layers.Count - 1)
            {
                var f = new double[m * n];
                Parallel.For(0, m, o =>
                {
                    var u = new double[m];
                    u[o] = 1;
                    ReadOnlySpan<double> cur = u;
                    for (int k = layers.Count - 1; k >= 0; k--)
                    {
                        var v = new double[layers[k].Inputs];
                        layers[k].Map.ApplyTranspose(cur, v);
                        cur = k > 0 ? SelectTransposeMasked(k - 1, v) : v;
                    }
                    cur.CopyTo(f.AsSpan(o * n, n));
                });
                _f = f;
                _h = h;
                _e = z;
                return;
            }
            int hOff = Network.HiddenOffsets[l];
            z.CopyTo(h, hOff);
            var masked = new double[layer.Outputs];
            for (int j = 0; j < z.Length; j++) masked[j] = Pattern[hOff + j] ? z[j] : 0;
            prev = Select(l, masked).ToArray();
        }
    }

    /// <summary>
    /// G <c>[H, n]</c> through the layers' maps (a network with a structured layer): column i is the fixed-mask pass of
    /// the unit input e_i without biases, g_{1,i} = M_1 e_i, g_{l,i} = M_l (s_{l-1} o g_{l-1,i}).
    /// </summary>
    private void ComputeStructuredGradients(double[] g)
    {
        var layers = Network.Layers;
        int n = Network.InputSize;
        Parallel.For(0, n, () => (new double[n], new double[layers.Max(l => l.Outputs)], new double[layers.Max(l => l.Outputs)]), (i, _, buf) =>
        {
            var (unit, a, b) = buf;
            unit[i] = 1;
            ReadOnlySpan<double> cur = unit;
            for (int l = 0; l < layers.Count - 1; l++)
            {
                var layer = layers[l];
                var z = (l % 2 == 0 ? a : b).AsSpan(0, layer.Outputs);
                layer.Map.Apply(cur, z);
                int off = Network.HiddenOffsets[l];
                for (int j = 0; j < z.Length; j++)
                {
                    g[(long)(off + j) * n + i] = z[j];
                    if (!Pattern[off + j]) z[j] = 0;
                }
                cur = layer.MaxPool is null ? z : Select(l, z);
            }
            unit[i] = 0;
            return buf;
        }, _ => { });
    }

    /// <summary>Computes G into <paramref name="g"/> (<c>[H, n]</c>) and F, e and h into their fields (e last: the flag); dense layers only.</summary>
    private void Compute(double[] g)
    {
        int n = Network.InputSize;
        var layers = Network.Layers;
        var h = new double[Network.HiddenCount];
        // Each hidden layer's rows go straight into g at its offset; the previous layer's rows are read from there
        // (the identity for the input). Only F [m, n] gets its own array.
        int prevStart = -1;                     // start of the previous layer's rows in g, -1 for the input
        double[]? prevH = null;
        int prevOffset = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            int outW = layer.Outputs, inW = layer.Inputs;
            bool last = l == layers.Count - 1;
            var target = last ? new double[outW * n] : g;
            int start = last ? 0 : Network.HiddenOffsets[l] * n;
            double[] curH = last ? new double[outW] : h;
            int hStart = last ? 0 : Network.HiddenOffsets[l];
            if (prevStart < 0)
            {
                Array.Copy(layer.Weights, 0, target, start, outW * n);
                Array.Copy(layer.Bias, 0, curH, hStart, outW);
            }
            else
            {
                int from = prevStart, po = prevOffset;
                var ph = prevH!;
                Parallel.For(0, outW, o =>
                {
                    var row = target.AsSpan(start + o * n, n);
                    row.Clear();
                    double off = layer.Bias[o];
                    for (int k = 0; k < inW; k++)
                    {
                        if (!Pattern[po + k]) continue;
                        double w = layer.Weights[o * inW + k];
                        if (w == 0) continue;
                        Blas.Axpy(w, g.AsSpan(from + k * n, n), row);
                        off += w * ph[po + k];
                    }
                    curH[hStart + o] = off;
                });
            }
            if (last)
            {
                _f = target;
                _h = h;
                _e = curH;
                return;
            }
            prevStart = start;
            prevH = h;
            prevOffset = Network.HiddenOffsets[l];
        }
    }
}
