using Google.OrTools.LinearSolver;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// Linear programs over one linear region, in the layered form of method.md §8: variables x in the box D
/// (bounds, not rows) and one variable v_{l,j} per hidden neuron whose sign is a bound
/// (active: v >= 0, inactive: v &lt;= 0), tied by equality rows
/// <code>
///   v_1 - W_1 x = b_1,      v_l - W_l diag(s_{l-1}) v_{l-1} = b_l,      a_r . x &lt;= b_r (extra rows)
/// </code>
/// so that v_{l,j} = z_{l,j}(x) on the region. An output objective w . y is written on the last hidden layer:
/// w . y = (W_L^T w) . diag(s_{L-1}) v_{L-1} + w . b_L. One GLOP solver is built per region and re-solved
/// for every objective (warm start from the previous basis).
/// </summary>
public sealed class RegionLp : IDisposable
{
    private readonly Solver _solver;
    private readonly Variable[] _x;
    private readonly Variable[] _last; // v of the last hidden layer, or x when there is none
    private readonly LinearRegion _region;
    private readonly double[] _lastMask; // 1 for active (or input), 0 for inactive

    /// <summary>Number of LPs solved through this instance.</summary>
    public int Solves { get; private set; }

    /// <summary>Builds the LP of <paramref name="region"/>.</summary>
    public RegionLp(LinearRegion region, string? glopParameters = null)
    {
        _region = region;
        var net = region.Network;
        var box = region.Domain;
        _solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
        _solver.SetSolverSpecificParametersAsString(glopParameters ?? DefaultParameters);
        double inf = double.PositiveInfinity;
        int n = net.InputSize;
        _x = new Variable[n];
        for (int i = 0; i < n; i++) _x[i] = _solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
        Variable[] prev = _x;
        double[] prevMask = Enumerable.Repeat(1.0, n).ToArray();
        var layers = net.Layers;
        for (int l = 0; l < layers.Count - 1; l++)
        {
            var layer = layers[l];
            int offset = net.HiddenOffsets[l];
            var v = new Variable[layer.Outputs];
            var mask = new double[layer.Outputs];
            for (int j = 0; j < layer.Outputs; j++)
            {
                bool active = region.Pattern[offset + j];
                mask[j] = active ? 1 : 0;
                v[j] = active ? _solver.MakeNumVar(0, inf, "") : _solver.MakeNumVar(-inf, 0, "");
                var row = _solver.MakeConstraint(layer.Bias[j], layer.Bias[j], "");
                row.SetCoefficient(v[j], 1);
                for (int k = 0; k < layer.Inputs; k++)
                {
                    double w = layer.Weights[j * layer.Inputs + k] * prevMask[k];
                    if (w != 0) row.SetCoefficient(prev[k], -w);
                }
            }
            prev = v;
            prevMask = mask;
        }
        _last = prev;
        _lastMask = prevMask;
        foreach (var extra in region.ExtraRows)
        {
            var row = _solver.MakeConstraint(-inf, extra.B, "");
            for (int i = 0; i < n; i++) if (extra.A[i] != 0) row.SetCoefficient(_x[i], extra.A[i]);
        }
    }

    /// <summary>GLOP settings measured in method.md §8 to be exact and fastest on these LPs.</summary>
    public const string DefaultParameters = "use_scaling:false use_preprocessing:false";

    /// <summary>max over the region of w . y (w is <c>[m]</c>), with the maximiser.</summary>
    public LpResult MaximizeOutput(ReadOnlySpan<double> w, CancellationToken cancellationToken = default) =>
        Maximize(w, default, 0, cancellationToken);

    /// <summary>max over the region of w . y + c . x + c0 (w is <c>[m]</c>, c is <c>[n]</c> or empty).</summary>
    public LpResult Maximize(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var net = _region.Network;
        var last = net.Layers[^1];
        if (w.Length != last.Outputs) throw new ArgumentException("Objective length differs from the output size.", nameof(w));
        var objective = _solver.Objective();
        objective.Clear();
        double constant = c0;
        for (int o = 0; o < w.Length; o++) constant += w[o] * last.Bias[o];
        var coefficients = new double[_last.Length];
        for (int k = 0; k < last.Inputs; k++)
        {
            if (_lastMask[k] == 0) continue;
            double sum = 0;
            for (int o = 0; o < w.Length; o++) sum += w[o] * last.Weights[o * last.Inputs + k];
            coefficients[k] = sum;
        }
        if (!c.IsEmpty)
        {
            if (ReferenceEquals(_last, _x)) for (int i = 0; i < c.Length; i++) coefficients[i] += c[i];
            else for (int i = 0; i < c.Length; i++) if (c[i] != 0) objective.SetCoefficient(_x[i], c[i]);
        }
        for (int k = 0; k < coefficients.Length; k++) if (coefficients[k] != 0) objective.SetCoefficient(_last[k], coefficients[k]);
        objective.SetMaximization();
        return Solve(constant, "an output row");
    }

    /// <summary>max over the region of c . x + c0 (c is <c>[n]</c>).</summary>
    public LpResult MaximizeInput(ReadOnlySpan<double> c, double c0 = 0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var objective = _solver.Objective();
        objective.Clear();
        for (int i = 0; i < c.Length; i++) if (c[i] != 0) objective.SetCoefficient(_x[i], c[i]);
        objective.SetMaximization();
        return Solve(c0, "an input row");
    }

    private LpResult Solve(double constant, string what)
    {
        var status = _solver.Solve();
        Solves++;
        LpStatus.ThrowIfNotOptimal(status, what);
        var x = new double[_x.Length];
        for (int i = 0; i < x.Length; i++) x[i] = _x[i].SolutionValue();
        return new LpResult(_solver.Objective().Value() + constant, x);
    }

    /// <inheritdoc />
    public void Dispose() => _solver.Dispose();
}
