using System.Diagnostics;
using Google.OrTools.LinearSolver;
using Reassure.Formats.VnnLib;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;

namespace Reassure.Verification;

/// <summary>The answer of a verification.</summary>
public enum VerificationStatus
{
    /// <summary>No input of the property's boxes reaches the unsafe set (proved).</summary>
    Holds,
    /// <summary>A counterexample was found and confirmed by the plain evaluator.</summary>
    Violated,
    /// <summary>Undecided: a budget was hit (see <see cref="VerificationResult.Budget"/>) or a tie could not be confirmed.</summary>
    Unknown,
}

/// <summary>Budgets and knobs of <see cref="PropertyVerifier"/>.</summary>
public sealed record VerificationOptions
{
    /// <summary>Time budget (null: none).</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>Budget of exact linear regions examined by LP.</summary>
    public int MaxRegions { get; init; } = 1_000_000;

    /// <summary>A sub-box goes to exact region enumeration once it has at most this many unstable neurons.</summary>
    public int MaxUnstableForExact { get; init; } = 10;

    /// <summary>Bisection depth after which a sub-box goes to exact enumeration whatever its unstable count.</summary>
    public int MaxDepth { get; init; } = 60;

    /// <summary>Random restarts of the projected-gradient counterexample search at the root (0: none).</summary>
    public int AttackRestarts { get; init; } = 32;

    /// <summary>Seed of the counterexample search.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Collect every violating region instead of stopping at the first counterexample (area repair).</summary>
    public bool CollectAll { get; init; }
}

/// <summary>A violating linear region found in collect mode: the case, the pattern and a confirmed counterexample in it.</summary>
public sealed record ViolatingRegion(int Case, ActivationPattern Pattern, double[] Witness);

/// <summary>Result of a verification.</summary>
public sealed record VerificationResult(
    VerificationStatus Status, double[]? Counterexample, double[]? Output, int Regions, int Boxes, int LinearPrograms,
    TimeSpan Elapsed, string? Budget, string Detail, IReadOnlyList<ViolatingRegion> Violating)
{
    /// <summary>"holds", "violated" or "unknown".</summary>
    public string StatusText => Status switch { VerificationStatus.Holds => "holds", VerificationStatus.Violated => "violated", _ => "unknown" };
}

/// <summary>
/// Verification of a VNN-LIB property over its input boxes (method.md §6, area repair), on a network or on a
/// repaired network. Per case (box, unsafe set U = U_1 or ... or U_K):
/// <list type="number">
/// <item>a projected sign-gradient search for a counterexample at the root;</item>
/// <item>branch and bound on input bisection: on every sub-box, interval and symbolic linear bounds
/// (<see cref="LinearBounds"/>) discard each U_k that has a row a . y &lt;= b with min a . f(x) &gt; b over the sub-box;
/// the minimisers of the linear bounds and the centre are tried as counterexamples;</item>
/// <item>once a sub-box has few unstable neurons (or is deep), its exact linear regions are enumerated
/// (<see cref="RegionEnumerator"/>) and each one is decided by an LP: max t subject to x in the region and
/// A_k (F x + e) + t &lt;= b_k; t &lt; 0 proves it safe, otherwise the maximiser is evaluated with the plain evaluator
/// and only a confirmed point is a counterexample.</item>
/// </list>
/// For a repaired network the supports are bounded on every region: a patch whose support is provably 0 there is
/// left out, the region's own patch is exact (its gate is 1 on its region), and a patch whose support may be partly on
/// adds its difference p'_l as an interval [min(0, p'_l), max(0, p'_l)] (the soft threshold of method.md §5 lies
/// between 0 and p'_l), so the LP over-approximates the repaired output and "holds" stays sound.
/// </summary>
public static class PropertyVerifier
{
    /// <summary>Relative tolerance for bounds and LP optima before anything counts as proved.</summary>
    public const double Tolerance = 1e-7;

    /// <summary>Verifies <paramref name="property"/> on <paramref name="network"/>.</summary>
    public static VerificationResult Verify(Network network, VnnLibProperty property, VerificationOptions? options = null, CancellationToken ct = default) =>
        new Search(network, null, property, options ?? new VerificationOptions(), ct).Run();

    /// <summary>Verifies <paramref name="property"/> on a repaired network (the area repair's re-verification).</summary>
    public static VerificationResult Verify(RepairedNetwork repaired, VnnLibProperty property, VerificationOptions? options = null, CancellationToken ct = default) =>
        new Search(repaired.Original, repaired, property, options ?? new VerificationOptions(), ct).Run();

    private sealed class Search(Network net, RepairedNetwork? repaired, VnnLibProperty property, VerificationOptions options, CancellationToken ct)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _regions, _boxes, _lps;
        private string? _budget;
        private bool _undecided;
        private string _detail = "";
        private double[]? _cex, _cexY;
        private readonly List<ViolatingRegion> _violating = [];
        private readonly HashSet<(int, ActivationPattern)> _seen = [];

        private double[] Eval(double[] x) => repaired is null ? net.Evaluate(x) : repaired.Evaluate(x);

        public VerificationResult Run()
        {
            if (property.Inputs != net.InputSize || property.Outputs != net.OutputSize)
                throw new ReassureException(ErrorCodes.BadSpecification,
                    $"The property has {property.Inputs} inputs and {property.Outputs} outputs; the network {net.InputSize} and {net.OutputSize}.", property.Source);
            for (int c = 0; c < property.Cases.Count && !Stop(); c++) RunCase(c);
            VerificationStatus status;
            if (_cex is not null) status = VerificationStatus.Violated;
            else if (_budget is not null || _undecided) status = VerificationStatus.Unknown;
            else status = VerificationStatus.Holds;
            if (options.CollectAll && _violating.Count > 0 && _budget is null && !_undecided) status = VerificationStatus.Violated;
            if (status == VerificationStatus.Unknown && _budget is not null) _detail = $"{_budget} budget hit";
            return new VerificationResult(status, _cex, _cexY, _regions, _boxes, _lps, _clock.Elapsed, _budget, _detail, _violating);
        }

        private bool Stop() => (_cex is not null && !options.CollectAll) || _budget is not null;

        private bool OutOfTime()
        {
            if (options.MaxTime is TimeSpan t && _clock.Elapsed > t) { _budget ??= "seconds"; return true; }
            ct.ThrowIfCancellationRequested();
            return false;
        }

        private bool Found(int caseIndex, double[] x)
        {
            var y = Eval(x);
            if (!property.Cases[caseIndex].IsUnsafe(y) || !property.Cases[caseIndex].Box.Contains(x)) return false;
            if (_cex is null) { _cex = x; _cexY = y; }
            return true;
        }

        private void RunCase(int caseIndex)
        {
            var cs = property.Cases[caseIndex];
            if (!options.CollectAll && Attack(caseIndex)) return;
            var stack = new Stack<(InputBox Box, int[] Conj, int Depth)>();
            stack.Push((cs.Box, Enumerable.Range(0, cs.Unsafe.Count).ToArray(), 0));
            while (stack.Count > 0)
            {
                if (Stop() || OutOfTime()) return;
                var (box, conj, depth) = stack.Pop();
                _boxes++;
                var bounds = LinearBounds.Compute(net, box);
                bool patchesOff = repaired is null || repaired.Patches.All(p => SupportOff(p.Support, bounds, box));
                var remaining = new List<int>();
                var score = new double[net.InputSize];
                foreach (int k in conj)
                {
                    bool excluded = false;
                    foreach (var row in cs.Unsafe[k].Constraints)
                    {
                        var (lb, lam, _) = LinearBounds.OutputLowerBound(net, box, bounds, row.A);
                        if (patchesOff && lb > row.B + Tolerance * (1 + Math.Abs(row.B))) { excluded = true; break; }
                        var vertex = new double[net.InputSize];
                        for (int i = 0; i < vertex.Length; i++)
                        {
                            vertex[i] = lam[i] >= 0 ? box.Lower[i] : box.Upper[i];
                            score[i] += Math.Abs(lam[i]) * (box.Upper[i] - box.Lower[i]);
                        }
                        if (!options.CollectAll && Found(caseIndex, vertex)) return;
                    }
                    if (!excluded) remaining.Add(k);
                }
                if (remaining.Count == 0) continue;
                var center = new double[net.InputSize];
                for (int i = 0; i < center.Length; i++) center[i] = 0.5 * (box.Lower[i] + box.Upper[i]);
                if (!options.CollectAll && Found(caseIndex, center)) return;
                if (bounds.Unstable <= options.MaxUnstableForExact || depth >= options.MaxDepth)
                {
                    Exact(caseIndex, box, bounds, remaining);
                    continue;
                }
                int dim = 0;
                for (int i = 1; i < score.Length; i++) if (score[i] > score[dim]) dim = i;
                if (score[dim] == 0) for (int i = 0; i < score.Length; i++) if (box.Upper[i] - box.Lower[i] > box.Upper[dim] - box.Lower[dim]) dim = i;
                double mid = 0.5 * (box.Lower[dim] + box.Upper[dim]);
                var hiLo = (double[])box.Lower.Clone(); hiLo[dim] = mid;
                var loHi = (double[])box.Upper.Clone(); loHi[dim] = mid;
                var conjArr = remaining.ToArray();
                stack.Push((new InputBox(hiLo, box.Upper), conjArr, depth + 1));
                stack.Push((new InputBox(box.Lower, loHi), conjArr, depth + 1));
            }
        }

        private void Exact(int caseIndex, InputBox box, NeuronBounds bounds, List<int> conj)
        {
            var cs = property.Cases[caseIndex];
            _lps += RegionEnumerator.Enumerate(net, box, bounds, piece =>
            {
                if (OutOfTime()) return false;
                if (++_regions > options.MaxRegions) { _budget ??= "regions"; return false; }
                var (fAdd, eAdd, dLo, dHi) = PatchTerms(piece, bounds, box);
                foreach (int k in conj)
                {
                    var (t, x) = PieceLp(piece, box, cs.Unsafe[k], fAdd, eAdd, dLo, dHi);
                    _lps++;
                    double scale = 1 + cs.Unsafe[k].Constraints.Max(r => Math.Abs(r.B));
                    if (t < -Tolerance * scale) continue;
                    if (options.CollectAll)
                    {
                        // conservative: a region touching the unsafe set within tolerance is treated as violating
                        if (_seen.Add((caseIndex, piece.Pattern))) _violating.Add(new ViolatingRegion(caseIndex, piece.Pattern, x));
                        Found(caseIndex, x);
                        break;
                    }
                    if (Found(caseIndex, x)) return false;
                    _undecided = true;
                    _detail = "an LP optimum touches the unsafe set but its point was not confirmed by the evaluator";
                }
                return true;
            }, ct);
        }

        /// <summary>Is the support provably 0 on the whole box (some row violated by at least 1/gamma)?</summary>
        private bool SupportOff(Support support, NeuronBounds bounds, InputBox box)
        {
            double inv = 1 / support.Gamma;
            if (support.Pattern is not null)
                for (int j = 0; j < bounds.Lower.Length; j++)
                {
                    if (support.Pattern[j] ? bounds.Upper[j] <= -inv : bounds.Lower[j] >= inv) return true;
                }
            foreach (var row in support.Rows)
            {
                double min = -row.B;
                for (int i = 0; i < row.A.Length; i++) min += row.A[i] * (row.A[i] >= 0 ? box.Lower[i] : box.Upper[i]);
                if (min >= inv) return true;
            }
            return false;
        }

        /// <summary>The own patch (exact) and the interval of the leaking patches on a region piece.</summary>
        private (double[]? FAdd, double[]? EAdd, double[]? DLo, double[]? DHi) PatchTerms(RegionPiece piece, NeuronBounds bounds, InputBox box)
        {
            if (repaired is null || repaired.Patches.Count == 0) return (null, null, null, null);
            int count = repaired.Patches.Count, n = net.InputSize, m = net.OutputSize;
            var off = new bool[count];
            int own = -1;
            for (int l = 0; l < count; l++)
            {
                var s = repaired.Patches[l].Support;
                if (SupportOff(s, bounds, box)) { off[l] = true; continue; }
                bool rowsHold = s.Rows.All(r => { double max = -r.B; for (int i = 0; i < n; i++) max += r.A[i] * (r.A[i] >= 0 ? box.Upper[i] : box.Lower[i]); return max <= 0; });
                if (s.Pattern is not null && s.Pattern.Equals(piece.Pattern) && rowsHold) { own = l; continue; }
                if (s.Pattern is null || s.Pattern.Equals(piece.Pattern)) continue;
                // min over the piece of the summed sign deficit of the neurons where the patterns differ
                var c = new double[n];
                double c0 = 0;
                for (int j = 0; j < piece.Pattern.Count; j++)
                {
                    if (s.Pattern[j] == piece.Pattern[j]) continue;
                    double sign = piece.Pattern[j] ? 1 : -1; // deficit = |z_j| = sign * z_j on the piece
                    Blas.Axpy(sign, piece.NeuronGradients.AsSpan(j * n, n), c);
                    c0 += sign * piece.NeuronOffsets[j];
                }
                using var lp = new PolytopeLp(piece.Rows, box);
                _lps++;
                double min = -lp.Maximize(c.Select(v => -v).ToArray(), -c0).Value;
                if (min >= (1 / s.Gamma) * (1 + 1e-9) + 1e-12) off[l] = true;
            }
            double[]? fAdd = null, eAdd = null;
            if (own >= 0)
            {
                var p = repaired.Patches[own].Patch;
                fAdd = p.C; eAdd = p.D;
            }
            var dLo = new double[m];
            var dHi = new double[m];
            bool anyLeak = false;
            bool laterOn = false;
            for (int l = count - 1; l > own; l--)
            {
                laterOn |= !off[l];
                if (!laterOn) continue;
                anyLeak = true;
                var gp = repaired.Patches[l];
                for (int o = 0; o < m; o++)
                {
                    if (gp.Difference.C is null) { dLo[o] += Math.Min(0, gp.Difference.D[o]); dHi[o] += Math.Max(0, gp.Difference.D[o]); }
                    else { dLo[o] -= gp.Bound[o]; dHi[o] += gp.Bound[o]; }
                }
            }
            return (fAdd, eAdd, anyLeak ? dLo : null, anyLeak ? dHi : null);
        }

        /// <summary>max t s.t. x in piece, delta in [dLo, dHi], A ((F + C) x + e + d + delta) + t &lt;= b, t &lt;= 1.</summary>
        private static (double T, double[] X) PieceLp(RegionPiece piece, InputBox box, OutputConjunction conj, double[]? fAdd, double[]? eAdd, double[]? dLo, double[]? dHi)
        {
            using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
            solver.SetSolverSpecificParametersAsString(RegionLp.DefaultParameters);
            int n = box.Dimension, m = piece.OutputOffset.Length;
            var x = new Variable[n];
            for (int i = 0; i < n; i++) x[i] = solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
            Variable[]? d = null;
            if (dLo is not null)
            {
                d = new Variable[m];
                for (int o = 0; o < m; o++) d[o] = solver.MakeNumVar(dLo[o], dHi![o], "");
            }
            var t = solver.MakeNumVar(double.NegativeInfinity, 1, "");
            foreach (var r in piece.Rows)
            {
                var c = solver.MakeConstraint(double.NegativeInfinity, r.B, "");
                for (int i = 0; i < n; i++) if (r.A[i] != 0) c.SetCoefficient(x[i], r.A[i]);
            }
            foreach (var row in conj.Constraints)
            {
                double rhs = row.B;
                var coef = new double[n];
                for (int o = 0; o < m; o++)
                {
                    double a = row.A[o];
                    if (a == 0) continue;
                    Blas.Axpy(a, piece.OutputMatrix.AsSpan(o * n, n), coef);
                    if (fAdd is not null) Blas.Axpy(a, fAdd.AsSpan(o * n, n), coef);
                    rhs -= a * (piece.OutputOffset[o] + (eAdd?[o] ?? 0));
                }
                var c = solver.MakeConstraint(double.NegativeInfinity, rhs, "");
                for (int i = 0; i < n; i++) if (coef[i] != 0) c.SetCoefficient(x[i], coef[i]);
                if (d is not null) for (int o = 0; o < m; o++) if (row.A[o] != 0) c.SetCoefficient(d[o], row.A[o]);
                c.SetCoefficient(t, 1);
            }
            var obj = solver.Objective();
            obj.SetCoefficient(t, 1);
            obj.SetMaximization();
            var status = solver.Solve();
            if (status == Solver.ResultStatus.INFEASIBLE) return (double.NegativeInfinity, piece.Witness);
            LpStatus.ThrowIfNotOptimal(status, "the unsafe margin of a region");
            var xs = new double[n];
            for (int i = 0; i < n; i++) xs[i] = Math.Clamp(x[i].SolutionValue(), box.Lower[i], box.Upper[i]);
            return (t.SolutionValue(), xs);
        }

        /// <summary>Projected sign-gradient descent on max_r (a_r . f(x) - b_r) for every conjunction.</summary>
        private bool Attack(int caseIndex)
        {
            if (options.AttackRestarts <= 0) return false;
            var cs = property.Cases[caseIndex];
            var box = cs.Box;
            var rng = new Random(options.Seed);
            int n = net.InputSize;
            foreach (var conj in cs.Unsafe)
            {
                for (int restart = 0; restart < options.AttackRestarts; restart++)
                {
                    if (OutOfTime()) return false;
                    var x = new double[n];
                    for (int i = 0; i < n; i++) x[i] = box.Lower[i] + rng.NextDouble() * (box.Upper[i] - box.Lower[i]);
                    double step = 0.25;
                    for (int it = 0; it < 60; it++)
                    {
                        var y = Eval(x);
                        if (cs.IsUnsafe(y)) { Found(caseIndex, x); return true; }
                        int worst = 0;
                        double worstV = double.NegativeInfinity;
                        for (int r = 0; r < conj.Constraints.Count; r++)
                        {
                            double v = -conj.Constraints[r].Slack(y);
                            if (v > worstV) { worstV = v; worst = r; }
                        }
                        var grad = Gradient(x, conj.Constraints[worst].A);
                        for (int i = 0; i < n; i++)
                        {
                            double w = box.Upper[i] - box.Lower[i];
                            x[i] = Math.Clamp(x[i] - step * w * Math.Sign(grad[i]), box.Lower[i], box.Upper[i]);
                        }
                        step *= 0.92;
                    }
                }
            }
            return false;
        }

        /// <summary>Gradient of c . f(x) (of the original network) by one backward pass with x's activation masks.</summary>
        private double[] Gradient(double[] x, double[] c)
        {
            var z = net.PreActivations(x);
            var layers = net.Layers;
            var v = (double[])c.Clone();
            for (int l = layers.Count - 1; l >= 0; l--)
            {
                var layer = layers[l];
                if (l < layers.Count - 1)
                {
                    int off = net.HiddenOffsets[l];
                    for (int j = 0; j < v.Length; j++) if (z[off + j] < 0) v[j] = 0;
                }
                var next = new double[layer.Inputs];
                for (int j = 0; j < layer.Outputs; j++)
                    if (v[j] != 0) Blas.Axpy(v[j], layer.Weights.AsSpan(j * layer.Inputs, layer.Inputs), next);
                v = next;
            }
            return v;
        }
    }
}
