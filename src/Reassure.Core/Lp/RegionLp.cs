using Google.OrTools.LinearSolver;
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
/// <para>
/// <see cref="MaximizeBelow"/> answers "is the max below a limit, else what is it" (method.md §8): the dual simplex
/// keeps an upper bound on the maximum and stops as soon as it falls below the limit (GLOP's objective_lower_limit);
/// only objectives that can reach the limit are solved to optimality. (OR-Tools' linear_solver gives no duals for a
/// stopped solve, so the stop is GLOP's proof, as an OPTIMAL status is; the patch check re-proves every row.)
/// </para>
/// </summary>
public sealed class RegionLp : IDisposable
{
    private readonly Solver _solver;
    private readonly Variable[] _vars;
    private readonly Constraint[] _rows;        // hidden neurons (flat [H]) then the extra rows
    private readonly int _n;                    // x = variables 0..n-1
    private readonly int _lastStart;            // first variable of the last hidden layer (or 0 = x)
    private readonly double[] _lastMask;        // 1 for active (or input), 0 for inactive
    private readonly LinearRegion _region;
    private readonly string _parameters;

    /// <summary>Input width n (the x variables).</summary>
    public int InputSize => _n;

    /// <summary>Number of LPs solved through this instance.</summary>
    public int Solves { get; private set; }

    /// <summary>Number of <see cref="MaximizeBelow"/> calls settled by a certified early stop.</summary>
    public int EarlyStops { get; private set; }

    /// <summary>Builds the LP of <paramref name="region"/>.</summary>
    public RegionLp(LinearRegion region, string? glopParameters = null)
    {
        _region = region;
        var net = region.Network;
        var box = region.Domain;
        _parameters = glopParameters ?? DefaultParameters;
        _solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
        _solver.SetSolverSpecificParametersAsString(_parameters);
        double inf = double.PositiveInfinity;
        _n = net.InputSize;
        int total = _n + net.HiddenCount;
        _vars = new Variable[total];
        _rows = new Constraint[net.HiddenCount + region.ExtraRows.Count];
        for (int i = 0; i < _n; i++) AddVar(i, box.Lower[i], box.Upper[i]);
        int prevStart = 0;
        double[] prevMask = Enumerable.Repeat(1.0, _n).ToArray();
        var layers = net.Layers;
        for (int l = 0; l < layers.Count - 1; l++)
        {
            var layer = layers[l];
            int start = _n + net.HiddenOffsets[l];
            var mask = new double[layer.Outputs];
            for (int j = 0; j < layer.Outputs; j++)
            {
                bool active = region.Pattern[net.HiddenOffsets[l] + j];
                mask[j] = active ? 1 : 0;
                if (active) AddVar(start + j, 0, inf); else AddVar(start + j, -inf, 0);
            }
            for (int j = 0; j < layer.Outputs; j++)
            {
                // v_{l,j} - sum_k W[j, k] s_{l-1,k} v_{l-1,k} = b_j
                var row = _solver.MakeConstraint(layer.Bias[j], layer.Bias[j], "");
                _rows[net.HiddenOffsets[l] + j] = row;
                row.SetCoefficient(_vars[start + j], 1);
                for (int k = 0; k < layer.Inputs; k++)
                {
                    double w = layer.Weights[j * layer.Inputs + k] * prevMask[k];
                    if (w != 0) row.SetCoefficient(_vars[prevStart + k], -w);
                }
            }
            prevStart = start;
            prevMask = mask;
        }
        _lastStart = prevStart;
        _lastMask = prevMask;
        for (int e = 0; e < region.ExtraRows.Count; e++)
        {
            var extra = region.ExtraRows[e];
            var row = _solver.MakeConstraint(-inf, extra.B, "");
            _rows[net.HiddenCount + e] = row;
            for (int i = 0; i < _n; i++) if (extra.A[i] != 0) row.SetCoefficient(_vars[i], extra.A[i]);
        }
    }

    private void AddVar(int k, double lo, double hi) => _vars[k] = _solver.MakeNumVar(lo, hi, "");

    /// <summary>GLOP settings measured in method.md §8 to be exact and fastest on these LPs.</summary>
    public const string DefaultParameters = "use_scaling:false use_preprocessing:false";

    /// <summary>GLOP's own defaults (scaling and presolve on): the retry when the fast settings hit numerical trouble.</summary>
    public const string RobustParameters = "";

    /// <summary>max over the region of w . y (w is <c>[m]</c>), with the maximiser.</summary>
    public LpResult MaximizeOutput(ReadOnlySpan<double> w, CancellationToken cancellationToken = default) =>
        Maximize(w, default, 0, cancellationToken);

    /// <summary>max over the region of w . y + c . x + c0 (w is <c>[m]</c>, c is <c>[n]</c> or empty).</summary>
    public LpResult Maximize(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        double constant = SetObjective(w, c, c0);
        return Solve(constant, "an output row");
    }

    /// <summary>
    /// max over the region of w . y + c . x + c0 when it is at least <paramref name="limit"/>; otherwise possibly only
    /// a certified upper bound below the limit (then <see cref="LpBound.Exact"/> is false and no maximiser is given).
    /// </summary>
    public LpBound MaximizeBelow(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0, double limit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        double constant = SetObjective(w, c, c0);
        string withLimit = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{_parameters} use_dual_simplex:true objective_lower_limit:{limit - constant:R}");
        _solver.SetSolverSpecificParametersAsString(withLimit);
        Solver.ResultStatus status;
        try
        {
            status = _solver.Solve();
            Solves++;
        }
        finally
        {
            _solver.SetSolverSpecificParametersAsString(_parameters);
        }
        if (status == Solver.ResultStatus.OPTIMAL)
        {
            return new LpBound(_solver.Objective().Value() + constant, true, Solution(), Certificate());
        }
        if (status is Solver.ResultStatus.ABNORMAL or Solver.ResultStatus.FEASIBLE or Solver.ResultStatus.UNBOUNDED)
        {
            // Numerical trouble: settle it with an exact solve (which retries with GLOP's defaults).
            var exactValue = Solve(constant, "an output row");
            return new LpBound(exactValue.Value, true, exactValue.X, Certificate());
        }
        if (status == Solver.ResultStatus.NOT_SOLVED)
        {
            // The dual simplex stopped because its bound crossed the limit: GLOP's proof that max < limit
            // (parameters.proto, objective_lower_limit). No other limit is set, so nothing else stops it.
            EarlyStops++;
            return new LpBound(limit, false, null);
        }
        LpStatus.ThrowIfNotOptimal(status, "an output row");
        return new LpBound(_solver.Objective().Value() + constant, true, Solution(), Certificate());
    }

    /// <summary>
    /// The row multipliers (GLOP's dual values) of the last solve, which must have ended OPTIMAL, as a
    /// <see cref="DualCertificate"/>. The certificate is checked by its own arithmetic, never trusted.
    /// </summary>
    public DualCertificate Certificate()
    {
        var y = new double[_rows.Length];
        for (int i = 0; i < y.Length; i++) y[i] = _rows[i].DualValue();
        return new DualCertificate(y);
    }

    /// <summary>max over the region of c . x + c0 (c is <c>[n]</c>).</summary>
    public LpResult MaximizeInput(ReadOnlySpan<double> c, double c0 = 0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Solve(SetObjective(new double[_region.Network.OutputSize], c, c0), "an input row");
    }

    private double OutputBiasDot(ReadOnlySpan<double> w)
    {
        var last = _region.Network.Layers[^1];
        double s = 0;
        for (int o = 0; o < w.Length; o++) s += w[o] * last.Bias[o];
        return s;
    }

    /// <summary>Writes the objective w . y + c . x (on the variables) and returns its constant part (w . b_L + c0).</summary>
    private double SetObjective(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0)
    {
        var net = _region.Network;
        var last = net.Layers[^1];
        if (w.Length != last.Outputs) throw new ArgumentException("Objective length differs from the output size.", nameof(w));
        var objective = _solver.Objective();
        objective.Clear();
        var coefficients = new double[_vars.Length];
        for (int k = 0; k < last.Inputs; k++)
        {
            if (_lastMask[k] == 0) continue;
            double sum = 0;
            for (int o = 0; o < w.Length; o++) sum += w[o] * last.Weights[o * last.Inputs + k];
            coefficients[_lastStart + k] = sum;
        }
        for (int i = 0; i < c.Length; i++) coefficients[i] += c[i];
        for (int k = 0; k < coefficients.Length; k++) if (coefficients[k] != 0) objective.SetCoefficient(_vars[k], coefficients[k]);
        objective.SetMaximization();
        return c0 + OutputBiasDot(w);
    }

    private double[] Solution()
    {
        var x = new double[_n];
        for (int i = 0; i < _n; i++) x[i] = _vars[i].SolutionValue();
        return x;
    }

    private LpResult Solve(double constant, string what)
    {
        var status = _solver.Solve();
        Solves++;
        if (status is Solver.ResultStatus.ABNORMAL or Solver.ResultStatus.NOT_SOLVED or Solver.ResultStatus.FEASIBLE or Solver.ResultStatus.UNBOUNDED)
        {
            // Numerical trouble without scaling (an LP over a bounded box cannot be unbounded) (raw inputs in the thousands, e.g. HCAS feet): retry with GLOP's defaults.
            _solver.SetSolverSpecificParametersAsString(RobustParameters);
            try { status = _solver.Solve(); Solves++; }
            finally { _solver.SetSolverSpecificParametersAsString(_parameters); }
        }
        LpStatus.ThrowIfNotOptimal(status, what);
        return new LpResult(_solver.Objective().Value() + constant, Solution());
    }

    /// <inheritdoc />
    public void Dispose() => _solver.Dispose();
}

/// <summary>
/// An upper bound on a maximum: the exact optimum (with maximiser and the solver's row multipliers) or a certified
/// bound below the asked limit (no maximiser, no multipliers: GLOP gives none for a stopped solve).
/// </summary>
public sealed record LpBound(double Value, bool Exact, double[]? X, DualCertificate? Certificate = null);
