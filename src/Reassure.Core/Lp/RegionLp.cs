using Google.OrTools.LinearSolver;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// Linear programs over one linear region, answered by two solvers of the same LP.
/// <para>
/// First (<see cref="RegionLpEngine.Auto"/>, when the box is finite) by <see cref="InputSimplex"/>, a dual simplex in
/// input space: rows s_i = sigma_i z_i(x) >= 0 per hidden neuron and the region's extra rows, x in the box, a basis
/// kept as the k x k inverse of its tight rows against its free inputs. Its answer is kept only when its row
/// multipliers, turned into the layered multipliers of a <see cref="DualCertificate"/>, close in the certificate's own
/// arithmetic: within <see cref="CertificateSlack"/> of the maximiser's value for an optimum, below the limit for an
/// early stop. Otherwise, and for an infinite box, GLOP answers.
/// </para>
/// <para>
/// GLOP solves the layered form of method.md §8: variables x in the box D (bounds, not rows) and one variable v_{l,j}
/// per hidden neuron whose sign is a bound (active: v >= 0, inactive: v &lt;= 0), tied by equality rows
/// <code>
///   v_1 - W_1 x = b_1,      v_l - W_l diag(s_{l-1}) v_{l-1} = b_l,      a_r . x &lt;= b_r (extra rows)
/// </code>
/// so that v_{l,j} = z_{l,j}(x) on the region. An output objective w . y is written on the last hidden layer:
/// w . y = (W_L^T w) . diag(s_{L-1}) v_{L-1} + w . b_L. The GLOP model is built on first use and re-solved for every
/// objective (warm start from the previous basis).
/// </para>
/// <para>
/// <see cref="MaximizeBelow"/> answers "is the max below a limit, else what is it" (method.md §8): a dual simplex
/// keeps an upper bound on the maximum and stops as soon as it falls below the limit; only objectives that can reach
/// the limit are solved to optimality. The input-space simplex's stop comes with multipliers (<see cref="LpBound.Certificate"/>);
/// GLOP's does not (OR-Tools' linear_solver gives no duals for a stopped solve), so there the stop is GLOP's proof, as
/// an OPTIMAL status is, and the patch check uses it as such.
/// </para>
/// <para>
/// Measured on the first 10 MNIST regions, one thread, the nine one-sided rows as the repair asks them: 2.0 s with
/// the input-space simplex first against 4.8 s with GLOP only, optima equal to 2.2e-13, no fallback.
/// </para>
/// </summary>
public sealed class RegionLp : IDisposable
{
    private Solver? _glop;                      // built on first use
    private Variable[] _vars = [];
    private Constraint?[] _rows = [];           // hidden neurons (flat [H]) then the extra rows; null: a row the box implies (input form)
    private readonly int _n;                    // x = variables 0..n-1
    private int _lastStart;                     // first variable of the last hidden layer (or 0 = x)
    private readonly bool _inputForm;           // GLOP over x only, one sparse row per neuron (one structured hidden layer)
    private double[] _lastW = [];               // the output weights of the last objective (input form: its certificate)
    private double[] _lastMask = [];            // 1 for active (or input), 0 for inactive
    private readonly LinearRegion _region;
    private string _parameters;
    private readonly InputSimplex? _simplex;
    private DualCertificate? _simplexCertificate; // multipliers of the last solve when the input-space simplex made it

    /// <summary>Input width n (the x variables).</summary>
    public int InputSize => _n;

    /// <summary>Number of LPs solved through this instance.</summary>
    public int Solves { get; private set; }

    /// <summary>Number of <see cref="MaximizeBelow"/> calls settled by a certified early stop.</summary>
    public int EarlyStops { get; private set; }

    /// <summary>Builds the LP of <paramref name="region"/> (<paramref name="engine"/>: which solver answers first).</summary>
    public RegionLp(LinearRegion region, string? glopParameters = null, RegionLpEngine engine = RegionLpEngine.Auto)
    {
        ArgumentNullException.ThrowIfNull(region);
        _region = region;
        _parameters = glopParameters ?? DefaultParameters;
        _n = region.Network.InputSize;
        if (engine == RegionLpEngine.Auto && InputSimplexApplies(region)) _simplex = BuildInputSimplex(region);
        _inputForm = !region.Network.AllDense && region.Network.Layers.Count == 2;
        _allRows = engine == RegionLpEngine.GlopAllRows;
        if (_inputForm && glopParameters is null) _parameters = _allRows ? AllRowsParameters : InputFormParameters;
        _primalFirst = _inputForm && !_allRows && glopParameters is null;
    }

    /// <summary>
    /// GLOP settings of the input form: the dual simplex without presolve. The rows the box already implies are left out
    /// when the model is built, the others are added lazily (<see cref="AddViolatedRows"/>); presolve would run again in
    /// every round. Measured on verivital avgpool regions (conv benchmark, 10 points, two threads, load 10-11, same
    /// run): 3.75 s for the patch LPs against 7.43 s with presolve on and every row in the model.
    /// </summary>
    public const string InputFormParameters = "use_scaling:false use_preprocessing:false use_dual_simplex:true";

    /// <summary>The input form's first solve after the objective changed: the primal simplex (<see cref="SolveGlop"/>).</summary>
    public const string PrimalParameters = "use_scaling:false use_preprocessing:false use_dual_simplex:false";

    private readonly bool _primalFirst;         // input form with lazy rows and the default settings

    /// <summary>GLOP settings of the input form with every row in the model (<see cref="RegionLpEngine.GlopAllRows"/>): presolve on.</summary>
    public const string AllRowsParameters = "use_scaling:false use_dual_simplex:true";

    private readonly bool _allRows;             // input form: every row in the model from the start (the baseline)

    /// <summary>Number of LPs the input-space dual simplex settled (exact or by a certified early stop).</summary>
    public int SimplexSolves { get; private set; }

    /// <summary>Number of LPs handed to GLOP after the input-space simplex did not close (numerics or its certificate).</summary>
    public int Fallbacks { get; private set; }

    /// <summary>Dual simplex iterations of the input-space simplex, summed over its solves.</summary>
    public long SimplexIterations { get; private set; }

    /// <summary>Rows the input-space simplex dropped from kept bases to make them dual feasible, and rows it kept (summed).</summary>
    public (long Dropped, long Kept) SimplexWarmStarts => _simplex is null ? (0, 0) : (_simplex.RepairDrops, _simplex.RepairKept);

    /// <summary>
    /// The input-space simplex needs a finite box (every input boxed) and dense layers: it holds the region's rows as a
    /// dense <c>[H, n]</c> matrix, which for a convolution (23 328 neurons over 784 inputs) is 146 MB of mostly zeros,
    /// where GLOP's layered model keeps the few stored entries of each row.
    /// </summary>
    private static bool InputSimplexApplies(LinearRegion region)
    {
        if (!region.Network.AllDense) return false;
        var box = region.Domain;
        for (int i = 0; i < box.Dimension; i++)
            if (!double.IsFinite(box.Lower[i]) || !double.IsFinite(box.Upper[i])) return false;
        return true;
    }

    /// <summary>
    /// The region's rows s = a . x + b >= 0 in input space: sigma_i (g_i . x + h_i) per hidden neuron (network order),
    /// then b_e - a_e . x per extra row.
    /// </summary>
    private static InputSimplex BuildInputSimplex(LinearRegion region)
    {
        int n = region.Network.InputSize, h = region.Network.HiddenCount, rows = h + region.ExtraRows.Count;
        var a = System.Buffers.ArrayPool<double>.Shared.Rent(rows * n); // [rows, n] (and possibly more), returned by the simplex
        region.WriteNeuronGradients(a);  // g_i in place, then a_i = sigma_i g_i (not kept on the region: 3.2 MB for MNIST)
        var off = region.NeuronOffsets;  // [H]
        var b = new double[rows];
        for (int i = 0; i < h; i++)
        {
            double sign = region.Pattern[i] ? 1 : -1;
            if (sign < 0)
            {
                var row = a.AsSpan(i * n, n);
                for (int j = 0; j < n; j++) row[j] = -row[j];
            }
            b[i] = sign * off[i];
        }
        for (int e = 0; e < region.ExtraRows.Count; e++)
        {
            var row = region.ExtraRows[e];
            var dst = a.AsSpan((h + e) * n, n);
            for (int j = 0; j < n; j++) dst[j] = -row.A[j];
            b[h + e] = row.B;
        }
        return new InputSimplex(a, b, region.Domain.Lower, region.Domain.Upper, pooledRows: true);
    }

    private Solver Glop
    {
        get
        {
            if (_glop is null) BuildGlop();
            return _glop!;
        }
    }

    private void BuildGlop()
    {
        if (_inputForm)
        {
            BuildGlopInputForm();
            return;
        }
        _region.Network.RequireAnalysablePools("the layered region LP");
        var region = _region;
        var net = region.Network;
        var box = region.Domain;
        var solver = LpBackend.CreateGlop();
        _glop = solver;
        _glop.SetSolverSpecificParametersAsString(_parameters);
        double inf = double.PositiveInfinity;
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
            var cols = new int[layer.Map.MaxRowEntries];
            var vals = new double[layer.Map.MaxRowEntries];
            for (int j = 0; j < layer.Outputs; j++)
            {
                // v_{l,j} - sum_k W[j, k] s_{l-1,k} v_{l-1,k} = b_j (only the map's stored entries: a convolution row has a few)
                var row = solver.MakeConstraint(layer.Bias[j], layer.Bias[j], "");
                _rows[net.HiddenOffsets[l] + j] = row;
                row.SetCoefficient(_vars[start + j], 1);
                int count = layer.Map.RowEntries(j, cols, vals);
                for (int e = 0; e < count; e++)
                {
                    int k = cols[e];
                    double w = vals[e] * prevMask[k];
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
            var row = solver.MakeConstraint(-inf, extra.B, "");
            _rows[net.HiddenCount + e] = row;
            for (int i = 0; i < _n; i++) if (extra.A[i] != 0) row.SetCoefficient(_vars[i], extra.A[i]);
        }
    }

    /// <summary>
    /// The input form for one structured hidden layer (a convolution: a few stored weights per row): variables x in the
    /// box and one row per neuron on z_j = W_j x + b_j, active W_j x >= -b_j, inactive W_j x &lt;= -b_j, then the extra
    /// rows; the objective is (F^T w + c) . x. The neuron rows enter the model only once a solution violates them
    /// (cutting planes: of about 18 000 such rows of a verivital avgpool region some 3 000 are ever added, in 30-45
    /// rounds for its nine objectives; the rows stay for the next objective). Against the layered form (x and one variable per neuron tied by equality
    /// rows) GLOP works on 784 structural columns instead of 24 112 for the verivital networks. Its row duals lambda are
    /// the reduced costs tau of the neurons' variables in the layered form (c = sum_j lambda_j W_j + d on x), so
    /// <see cref="Certificate"/> turns them into layered multipliers as for the input-space simplex.
    /// </summary>
    private void BuildGlopInputForm()
    {
        var region = _region;
        var net = region.Network;
        var box = region.Domain;
        var solver = LpBackend.CreateGlop();
        _glop = solver;
        _glop.SetSolverSpecificParametersAsString(_parameters);
        double inf = double.PositiveInfinity;
        _vars = new Variable[_n];
        _rows = new Constraint[net.HiddenCount + region.ExtraRows.Count + region.WinnerPairs.Length];
        for (int i = 0; i < _n; i++) AddVar(i, box.Lower[i], box.Upper[i]);
        var layer = net.Layers[0];
        var cols = new int[layer.Map.MaxRowEntries];
        var vals = new double[layer.Map.MaxRowEntries];
        var pending = new List<int>();
        var pendingOffset = new List<double>();
        var pendingGeq = new List<bool>();
        var pendingCols = new List<int>();
        var pendingVals = new List<double>();
        var pendingStart = new List<int> { 0 };
        for (int j = 0; j < layer.Outputs; j++)
        {
            int count = layer.Map.RowEntries(j, cols, vals);
            // A neuron whose sign the box already fixes the way the pattern wants needs no row (its multiplier is 0).
            double lo = layer.Bias[j], hi = layer.Bias[j];
            for (int e = 0; e < count; e++)
            {
                double w = vals[e], a = box.Lower[cols[e]], b = box.Upper[cols[e]];
                if (w > 0) { lo += w * a; hi += w * b; } else { lo += w * b; hi += w * a; }
            }
            double slack = 1e-9 * (1 + Math.Abs(lo) + Math.Abs(hi));
            if (region.Pattern[j] ? lo > slack : hi < -slack) continue;
            // The others wait until a solution violates them (AddViolatedRows).
            pending.Add(j);
            pendingOffset.Add(layer.Bias[j]);
            pendingGeq.Add(region.Pattern[j]);
            for (int e = 0; e < count; e++)
            {
                if (vals[e] == 0) continue;
                pendingCols.Add(cols[e]);
                pendingVals.Add(vals[e]);
            }
            pendingStart.Add(pendingCols.Count);
        }
        for (int e = 0; e < region.ExtraRows.Count; e++)
        {
            var extra = region.ExtraRows[e];
            var row = solver.MakeConstraint(-inf, extra.B, "");
            _rows[net.HiddenCount + e] = row;
            for (int i = 0; i < _n; i++) if (extra.A[i] != 0) row.SetCoefficient(_vars[i], extra.A[i]);
        }
        // Winner rows of the max pool (method.md §12): z_k - z_w = (b_k - b_w) + (W_k - W_w) x <= 0, the few stored
        // entries of both rows (a coefficient both share is summed); lazy like the neuron rows.
        var pairs = region.WinnerPairs;
        int winnerStart = net.HiddenCount + region.ExtraRows.Count;
        var coeff = new Dictionary<int, double>();
        for (int p = 0; p < pairs.Length; p++)
        {
            var (k, w) = pairs[p];
            coeff.Clear();
            int ck = layer.Map.RowEntries(k, cols, vals);
            for (int e = 0; e < ck; e++) coeff[cols[e]] = coeff.GetValueOrDefault(cols[e]) + vals[e];
            int cw = layer.Map.RowEntries(w, cols, vals);
            for (int e = 0; e < cw; e++) coeff[cols[e]] = coeff.GetValueOrDefault(cols[e]) - vals[e];
            // A row the box already implies (its largest value over the box below 0) is left out (multiplier 0).
            double top = layer.Bias[k] - layer.Bias[w], size = Math.Abs(layer.Bias[k]) + Math.Abs(layer.Bias[w]);
            foreach (var (i, v) in coeff)
            {
                top += Math.Max(v * box.Lower[i], v * box.Upper[i]);
                size += Math.Abs(v) * Math.Max(Math.Abs(box.Lower[i]), Math.Abs(box.Upper[i]));
            }
            if (top < -1e-9 * (1 + size)) continue;
            pending.Add(winnerStart + p);
            pendingOffset.Add(layer.Bias[k] - layer.Bias[w]);
            pendingGeq.Add(false);
            foreach (var (i, v) in coeff)
            {
                if (v == 0) continue;
                pendingCols.Add(i);
                pendingVals.Add(v);
            }
            pendingStart.Add(pendingCols.Count);
        }
        _pending = pending;
        _pendingOffset = pendingOffset.ToArray();
        _pendingGeq = pendingGeq.ToArray();
        _pendingCols = pendingCols.ToArray();
        _pendingVals = pendingVals.ToArray();
        _pendingStart = pendingStart.ToArray();
        _pendingIndex = Enumerable.Range(0, pending.Count).ToList();
        if (_allRows) AddRows(_pendingIndex.ToList());
    }

    // Input form, lazy rows: the rows not yet in the model (their index in _rows, the constant c and sense of
    // c + a . x >= 0 or &lt;= 0, and a's stored entries in CSR form): neuron rows, then max-pool winner rows.
    private List<int> _pending = [];
    private double[] _pendingOffset = [];
    private bool[] _pendingGeq = [];
    private List<int> _pendingIndex = [];   // positions into _pending of the rows still left out
    private int[] _pendingCols = [];
    private double[] _pendingVals = [];
    private int[] _pendingStart = [];

    /// <summary>How many violated rows one round adds at most (the most violated first).</summary>
    private const int RowsPerRound = 200;

    /// <summary>
    /// Input form (method.md §8, lazy rows): after an optimum of the model with the rows added so far, adds the left-out
    /// neuron rows that its solution violates (by more than 1e-9 relative; at most <see cref="RowsPerRound"/>, the most
    /// violated first) and returns whether it added any. A model with fewer rows is a relaxation of the region, so an
    /// optimum that violates none of the left-out rows is the region's optimum, and its row multipliers, with 0 for every
    /// left-out row, are multipliers of the region's LP (the certificate is checked by its own arithmetic, never trusted).
    /// </summary>
    private bool AddViolatedRows()
    {
        if (_pendingIndex.Count == 0) return false;
        var x = new double[_n];
        for (int i = 0; i < _n; i++) x[i] = _vars[i].SolutionValue();
        var violated = new List<(double Excess, int Position)>();
        foreach (int q in _pendingIndex)
        {
            double z = _pendingOffset[q], size = Math.Abs(_pendingOffset[q]);
            for (int e = _pendingStart[q]; e < _pendingStart[q + 1]; e++)
            {
                double t = _pendingVals[e] * x[_pendingCols[e]];
                z += t;
                size += Math.Abs(t);
            }
            double excess = _pendingGeq[q] ? -z : z;
            if (excess > 1e-9 * (1 + size)) violated.Add((excess, q));
        }
        if (violated.Count == 0) return false;
        violated.Sort((a, b) => b.Excess.CompareTo(a.Excess));
        AddRows(violated.Take(RowsPerRound).Select(v => v.Position).ToList());
        LazyRounds++;
        return true;
    }

    /// <summary>Puts the left-out rows at <paramref name="positions"/> (into <see cref="_pending"/>) into the model.</summary>
    private void AddRows(List<int> positions)
    {
        double inf = double.PositiveInfinity;
        foreach (int q in positions)
        {
            double rhs = -_pendingOffset[q];
            var row = _pendingGeq[q] ? _glop!.MakeConstraint(rhs, inf, "") : _glop!.MakeConstraint(-inf, rhs, "");
            _rows[_pending[q]] = row;
            for (int e = _pendingStart[q]; e < _pendingStart[q + 1]; e++) row.SetCoefficient(_vars[_pendingCols[e]], _pendingVals[e]);
        }
        var taken = positions.ToHashSet();
        _pendingIndex.RemoveAll(taken.Contains);
    }

    /// <summary>Input form: rounds of left-out rows added after an optimum violated them.</summary>
    public int LazyRounds { get; private set; }

    /// <summary>
    /// One GLOP solve; in the input form repeated while its optimum violates left-out rows. There the first solve for an
    /// objective runs the primal simplex (<see cref="PrimalParameters"/>: the basis the last objective left is primal
    /// feasible, the rows being the same) and the rounds after rows were added the dual simplex (the basis stays dual
    /// feasible, the new rows' slacks basic). Measured on the first 6 misclassified images' avgpool regions (conv-lp,
    /// one thread, load 13-19, alternated): 3.75-4.57 s against 4.65-5.62 s with the dual simplex throughout, 6.6-8.9 s
    /// with the primal simplex throughout.
    /// </summary>
    private Solver.ResultStatus SolveGlop(bool robust = false)
    {
        Solves++;
        bool primal = _primalFirst && !robust;
        if (primal) Glop.SetSolverSpecificParametersAsString(PrimalParameters);
        try
        {
            while (true)
            {
                var status = Glop.Solve();
                if (primal)
                {
                    Glop.SetSolverSpecificParametersAsString(_parameters);
                    primal = false;
                }
                if (status != Solver.ResultStatus.OPTIMAL || !_inputForm || !AddViolatedRows()) return status;
            }
        }
        finally
        {
            if (primal) Glop.SetSolverSpecificParametersAsString(_parameters);
        }
    }

    private void AddVar(int k, double lo, double hi) => _vars[k] = _glop!.MakeNumVar(lo, hi, "");

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
        if (TrySimplex(w, c, c0, double.NegativeInfinity, cancellationToken, out var fast)) return new LpResult(fast.Value, fast.X!);
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
        if (TrySimplex(w, c, c0, limit, cancellationToken, out var fast)) return fast;
        double constant = SetObjective(w, c, c0);
        if (_primalFirst)
        {
            // The input form with its own settings solves every row exactly, the first solve by the primal simplex
            // (SolveGlop), so every row carries multipliers the check re-proves. Measured on the first 8 misclassified
            // avgpool regions (conv-lp, one thread, load 3.9, alternated): 2.36-2.55 s, against 2.49-2.96 s stopping at
            // the limit with the dual simplex in every round and 2.91-3.07 s with a primal first solve and the limit in
            // the later rounds.
            var exact = Solve(constant, "an output row");
            return new LpBound(exact.Value, true, exact.X, Certificate());
        }
        // The input form (no presolve) stops at the limit as the layered form does, in any round of its lazy rows: a
        // model with fewer rows is a relaxation of the region, so its bound below the limit is the region's.
        string withLimit = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{_parameters} use_dual_simplex:true objective_lower_limit:{limit - constant:R}");
        Glop.SetSolverSpecificParametersAsString(withLimit);
        Solver.ResultStatus status;
        try
        {
            status = SolveGlop();
        }
        finally
        {
            Glop.SetSolverSpecificParametersAsString(_parameters);
        }
        if (status == Solver.ResultStatus.OPTIMAL)
        {
            return new LpBound(Glop.Objective().Value() + constant, true, Solution(), Certificate());
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
        return new LpBound(Glop.Objective().Value() + constant, true, Solution(), Certificate());
    }

    /// <summary>
    /// The row multipliers of the last solve as a <see cref="DualCertificate"/>: the input-space simplex's (already
    /// checked when it answered, optimum or early stop) or GLOP's dual values (its solve must have ended OPTIMAL). The
    /// certificate is checked by its own arithmetic, never trusted.
    /// </summary>
    public DualCertificate Certificate()
    {
        if (_simplexCertificate is not null) return _simplexCertificate;
        var y = new double[_rows.Length];
        for (int i = 0; i < y.Length; i++) y[i] = _rows[i]?.DualValue() ?? 0;
        if (_inputForm)
        {
            // Row duals of the input form are the neurons' reduced costs tau in the layered form.
            // The winner rows' duals are their layered multipliers (the row v_k - v_w <= 0 on the hidden variables).
            int h = _region.Network.HiddenCount, winnerStart = h + _region.ExtraRows.Count;
            var layered = DualCertificate.HiddenMultipliers(_region, _lastW, y.AsSpan(0, h), y.AsSpan(winnerStart));
            layered.CopyTo(y, 0);
        }
        return new DualCertificate(y);
    }

    /// <summary>max over the region of c . x + c0 (c is <c>[n]</c>).</summary>
    public LpResult MaximizeInput(ReadOnlySpan<double> c, double c0 = 0, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var zero = new double[_region.Network.OutputSize];
        if (TrySimplex(zero, c, c0, double.NegativeInfinity, cancellationToken, out var fast)) return new LpResult(fast.Value, fast.X!);
        return Solve(SetObjective(zero, c, c0), "an input row");
    }

    private double OutputBiasDot(ReadOnlySpan<double> w)
    {
        var last = _region.Network.Layers[^1];
        double s = 0;
        for (int o = 0; o < w.Length; o++) s += w[o] * last.Bias[o];
        return s;
    }

    /// <summary>
    /// How far above the maximiser's value the certificate of an optimal input-space solve may bound the maximum
    /// (relative, max(1, |value|)): half of <see cref="Patching.FastPatcher"/>'s safety, so that a patch built on the value
    /// is still proved by the certificate.
    /// </summary>
    internal const double CertificateSlack = 5e-8;

    /// <summary>
    /// Solves with the input-space dual simplex when it applies, and accepts its answer only with a certificate: an
    /// optimum whose multipliers bound the maximum within <see cref="CertificateSlack"/> of the maximiser's value, or a
    /// stop whose multipliers prove max &lt; <paramref name="limit"/>. False (and GLOP answers) otherwise.
    /// </summary>
    private bool TrySimplex(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0, double limit, CancellationToken cancellationToken, out LpBound bound)
    {
        bound = null!;
        _simplexCertificate = null;
        if (_simplex is null) return false;
        var cx = _region.InputRow(w); // objective on x over the region: F^T w + c
        for (int i = 0; i < c.Length; i++) cx[i] += c[i];
        var e = _region.OutputOffset; // [m]
        double constant = c0;
        for (int o = 0; o < w.Length; o++) if (w[o] != 0) constant += w[o] * e[o];
        var wArr = w.ToArray();
        var cArr = c.ToArray();
        DualCertificate? stop = null;
        bool Confirm()
        {
            var cert = SimplexCertificate(wArr);
            double ub = cert.UpperBound(_region, wArr, cArr, c0, out double rounding);
            if (!(ub + rounding < limit)) return false;
            stop = cert;
            return true;
        }
        var status = _simplex.Maximize(cx, limit - constant, double.IsNegativeInfinity(limit) ? null : Confirm, cancellationToken: cancellationToken);
        SimplexIterations += _simplex.Iterations;
        if (status == InputSimplex.Status.BelowLimit && stop is not null)
        {
            Solves++;
            SimplexSolves++;
            EarlyStops++;
            _simplexCertificate = stop;
            bound = new LpBound(limit, false, null, stop);
            return true;
        }
        if (status == InputSimplex.Status.Optimal)
        {
            var x = _simplex.X.ToArray();
            double value = Networks.Blas.Dot(cx, x) + constant;
            var cert = SimplexCertificate(wArr);
            double ub = cert.UpperBound(_region, wArr, cArr, c0, out double rounding);
            if (ub + rounding <= value + CertificateSlack * Math.Max(1, Math.Abs(value)))
            {
                Solves++;
                SimplexSolves++;
                _simplexCertificate = cert;
                bound = new LpBound(value, true, x, cert);
                return true;
            }
        }
        Fallbacks++;
        return false;
    }

    /// <summary>
    /// The layered multipliers (<see cref="DualCertificate"/>) of the input-space simplex's basis: with t its row reduced
    /// costs, tau_i = sigma_i t_i is the reduced cost of neuron i's variable (t_i s_i = t_i sigma_i z_i), and
    /// <see cref="DualCertificate.HiddenMultipliers"/> gives the hidden layers' multipliers with those reduced costs, so
    /// that the reduced costs on x are the basis's own (in exact arithmetic); an extra row's multiplier is y_e = -t_e
    /// (t_e s_e = t_e (b_e - a_e . x)).
    /// </summary>
    private DualCertificate SimplexCertificate(double[] w)
    {
        int h = _region.Network.HiddenCount;
        var t = new double[h + _region.ExtraRows.Count];
        _simplex!.RowReducedCosts(t);
        var tau = new double[h];
        for (int i = 0; i < h; i++) tau[i] = _region.Pattern[i] ? t[i] : -t[i];
        var y = new double[t.Length];
        DualCertificate.HiddenMultipliers(_region, w, tau).CopyTo(y, 0);
        for (int e = h; e < t.Length; e++) y[e] = -t[e];
        return new DualCertificate(y);
    }

    /// <summary>Writes the objective w . y + c . x (on the variables) and returns its constant part (w . b_L + c0).</summary>
    private double SetObjective(ReadOnlySpan<double> w, ReadOnlySpan<double> c, double c0)
    {
        _simplexCertificate = null;
        var net = _region.Network;
        var last = net.Layers[^1];
        if (w.Length != last.Outputs) throw new ArgumentException("Objective length differs from the output size.", nameof(w));
        var objective = Glop.Objective();
        objective.Clear();
        _lastW = w.ToArray();
        if (_inputForm)
        {
            // (F^T w + c) . x + w . e + c0 over x.
            var cx = _region.InputRow(w);
            for (int i = 0; i < c.Length; i++) cx[i] += c[i];
            for (int i = 0; i < _n; i++) if (cx[i] != 0) objective.SetCoefficient(_vars[i], cx[i]);
            objective.SetMaximization();
            var e = _region.OutputOffset;
            double constant = c0;
            for (int o = 0; o < w.Length; o++) if (w[o] != 0) constant += w[o] * e[o];
            return constant;
        }
        var coefficients = new double[_vars.Length];
        var back = new double[last.Inputs];
        last.Map.ApplyTranspose(w, back); // W_L^T w
        for (int k = 0; k < last.Inputs; k++)
        {
            if (_lastMask[k] == 0) continue;
            coefficients[_lastStart + k] = back[k];
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
        var status = SolveGlop();
        if (status is Solver.ResultStatus.ABNORMAL or Solver.ResultStatus.NOT_SOLVED or Solver.ResultStatus.FEASIBLE or Solver.ResultStatus.UNBOUNDED)
        {
            // Numerical trouble without scaling (an LP over a bounded box cannot be unbounded) (raw inputs in the thousands, e.g. HCAS feet): retry with GLOP's defaults.
            Glop.SetSolverSpecificParametersAsString(RobustParameters);
            try { status = SolveGlop(robust: true); }
            finally { Glop.SetSolverSpecificParametersAsString(_parameters); }
        }
        LpStatus.ThrowIfNotOptimal(status, what);
        return new LpResult(Glop.Objective().Value() + constant, Solution());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _glop?.Dispose();
        _simplex?.Dispose();
    }
}

/// <summary>
/// An upper bound on a maximum: the exact optimum (with maximiser and the solver's row multipliers) or a certified
/// bound below the asked limit (no maximiser, no multipliers: GLOP gives none for a stopped solve).
/// </summary>
public sealed record LpBound(double Value, bool Exact, double[]? X, DualCertificate? Certificate = null);

/// <summary>Which solver a <see cref="RegionLp"/> asks first.</summary>
public enum RegionLpEngine
{
    /// <summary>
    /// The input-space dual simplex where it applies (finite box, no extra rows), its answers accepted only with a
    /// checked certificate; GLOP for the rest and whenever the simplex does not close.
    /// </summary>
    Auto,

    /// <summary>GLOP only (the layered model of method.md §8).</summary>
    Glop,

    /// <summary>
    /// GLOP only, and for the input form (one structured hidden layer) every row in the model from the start with
    /// presolve on, as before the rows were added lazily: the baseline the conv benchmark measures against.
    /// </summary>
    GlopAllRows,
}
