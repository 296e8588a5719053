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
        if (pattern.Count != network.HiddenCount) throw new ArgumentException("Pattern size differs from the hidden neuron count.", nameof(pattern));
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
        return true;
    }

    /// <summary>Neuron gradients g_{l,j}, row-major <c>[H, n]</c>.</summary>
    public double[] NeuronGradients { get { Ensure(); return _g!; } }

    /// <summary>Neuron offsets h_{l,j}, <c>[H]</c>.</summary>
    public double[] NeuronOffsets { get { Ensure(); return _h!; } }

    /// <summary>F of y = F x + e on the region, row-major <c>[m, n]</c>.</summary>
    public double[] OutputMatrix { get { Ensure(); return _f!; } }

    /// <summary>e of y = F x + e on the region, <c>[m]</c>.</summary>
    public double[] OutputOffset { get { Ensure(); return _e!; } }

    /// <summary>
    /// The polytope rows A x &lt;= b without the box: one per hidden neuron (active: -g.x &lt;= h;
    /// inactive: g.x &lt;= -h) then the extra rows.
    /// </summary>
    public IReadOnlyList<HalfSpace> PolytopeRows()
    {
        Ensure();
        int n = Network.InputSize, hCount = Network.HiddenCount;
        var rows = new List<HalfSpace>(hCount + ExtraRows.Count);
        for (int j = 0; j < hCount; j++)
        {
            double sign = Pattern[j] ? -1 : 1;
            var a = new double[n];
            for (int i = 0; i < n; i++) a[i] = sign * _g![j * n + i];
            rows.Add(new HalfSpace(a, -sign * _h![j]));
        }
        rows.AddRange(ExtraRows);
        return rows;
    }

    private void Ensure()
    {
        if (_e is not null) return;
        lock (_gate)
        {
            if (_e is not null) return;
            Compute();
        }
    }

    private void Compute()
    {
        int n = Network.InputSize;
        var layers = Network.Layers;
        var g = new double[Network.HiddenCount * n];
        var h = new double[Network.HiddenCount];
        // prevG: [width_{l-1}, n] of the previous layer (identity for the input).
        double[]? prevG = null;
        double[]? prevH = null;
        int prevOffset = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            int outW = layer.Outputs, inW = layer.Inputs;
            double[] curG = l == layers.Count - 1 ? new double[outW * n] : new double[outW * n];
            double[] curH = new double[outW];
            if (prevG is null)
            {
                Array.Copy(layer.Weights, curG, outW * n);
                Array.Copy(layer.Bias, curH, outW);
            }
            else
            {
                Parallel.For(0, outW, o =>
                {
                    var row = curG.AsSpan(o * n, n);
                    double off = layer.Bias[o];
                    for (int k = 0; k < inW; k++)
                    {
                        if (!Pattern[prevOffset + k]) continue;
                        double w = layer.Weights[o * inW + k];
                        if (w == 0) continue;
                        Blas.Axpy(w, prevG.AsSpan(k * n, n), row);
                        off += w * prevH![k];
                    }
                    curH[o] = off;
                });
            }
            if (l == layers.Count - 1)
            {
                _f = curG;
                _h = h;
                _g = g;
                _e = curH;
                return;
            }
            int offset = Network.HiddenOffsets[l];
            Array.Copy(curG, 0, g, offset * n, outW * n);
            Array.Copy(curH, 0, h, offset, outW);
            prevG = curG;
            prevH = curH;
            prevOffset = offset;
        }
    }
}
