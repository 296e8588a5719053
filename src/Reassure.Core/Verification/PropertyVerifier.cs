using System.Diagnostics;
using Google.OrTools.LinearSolver;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;

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

    /// <summary>
    /// Projected-gradient steps of alpha-CROWN (lower ReLU slopes and the weights of a conjunction's rows) on a sub-box
    /// the plain linear bounds did not close (0: none).
    /// </summary>
    public int AlphaIterations { get; init; } = 20;

    /// <summary>
    /// Inputs up to which the search bisects the input box; with more inputs the unsafe conjunctions left after the
    /// root bounds are decided by a mixed-integer program on the whole box (<see cref="MilpCheck"/>).
    /// </summary>
    public int MaxInputsForSplitting { get; init; } = 16;

    /// <summary>Threads for the per-conjunction MILPs (null: the processor count).</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>Steps of the short gradient descent from the lowest point of a sub-box's bound (0: none).</summary>
    public int LocalAttackSteps { get; init; } = 8;

    /// <summary>
    /// Steps of the projected sign-gradient descent at the root from the point where each open conjunction's alpha-CROWN
    /// bound is lowest (step 0.5 of the box width decaying to 1 % of it; 0: none), before the random restarts.
    /// </summary>
    public int MinimizerAttackSteps { get; init; } = 100;

    /// <summary>
    /// LPs of the exact region walk (<see cref="RegionAscent"/>) from the closest point of each root descent from the
    /// minimiser, when that descent found no counterexample (0: none). Not on a repaired network or one with a max pool.
    /// </summary>
    public int RegionAscentLps { get; init; } = 8;

    /// <summary>
    /// Region walks (<see cref="RegionAscent"/>) from the closest points of the random restarts' descents, closest first,
    /// when none of them found a counterexample (0: none). ACAS Xu N2_9 prop_8 (violated on ~0.03 % of its box): found at
    /// the root with 4 or more walks, in the input-split search otherwise (0.4-88 s there, depending on the threads' order).
    /// </summary>
    public int RestartWalks { get; init; } = 8;

    /// <summary>Random restarts of the projected-gradient counterexample search at the root (0: none).</summary>
    public int AttackRestarts { get; init; } = 32;

    /// <summary>
    /// Random restarts at the root when a MILP decides the conjunctions left open (more inputs than
    /// <see cref="MaxInputsForSplitting"/>, no max pool, not a repaired network). 0 by default: on every staged instance of
    /// that kind (mnistfc 256x2, marabou-cifar10 small) the descent from the minimiser and the region walk found every
    /// counterexample the restarts found, and the restarts cost about 1 s before each MILP (issue 21, docs/performance.md).
    /// </summary>
    public int AttackRestartsBeforeMilp { get; init; }

    /// <summary>Seed of the counterexample search.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Collect every violating region instead of stopping at the first counterexample (area repair).</summary>
    public bool CollectAll { get; init; }
}

/// <summary>A violating linear region found in collect mode: the case, the pattern and a confirmed counterexample in it.</summary>
public sealed record ViolatingRegion(int Case, ActivationPattern Pattern, double[] Witness);

/// <summary>Patches on one region piece (see the verifier's PatchTerms).</summary>
internal sealed record PatchTerms(double[]? FAdd, double[]? EAdd, List<double[]>? Chain, double[]? ChainLo, double[]? ChainHi, List<Leak> Leaks);

/// <summary>A band where some support may be on: x with C . x + C0 &lt;= Limit, and the gate chain that applies there.</summary>
internal sealed record Leak(List<double[]> Chain, double[] C, double C0, double Limit);

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
/// adds its constant difference d'_l times its suffix gate G_l, a variable of the LP with
/// 1 >= G_{own+1} >= ... >= 0 (for a constant difference K'_l = |d'_l| makes the soft threshold of method.md §5
/// exactly d'_l G_l; an affine one is bounded by [-K'_l, K'_l]); with one patch partly on, the LP is split into the
/// region without it (G = 0) and its band (summed sign deficit &lt;= 1/gamma). The LP over-approximates the repaired
/// output, so "holds" stays sound.
/// </summary>
public static class PropertyVerifier
{
    /// <summary>Relative tolerance for bounds and LP optima before anything counts as proved.</summary>
    public const double Tolerance = 1e-7;

    /// <summary>Verifies <paramref name="property"/> on <paramref name="network"/>.</summary>
    public static VerificationResult Verify(Network network, VnnLibProperty property, VerificationOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.RequireAnalysablePools("proving a VNN-LIB property");
        return new Search(network, null, property, options ?? new VerificationOptions(), ct).Run();
    }

    /// <summary>Verifies <paramref name="property"/> on a repaired network (the area repair's re-verification).</summary>
    public static VerificationResult Verify(RepairedNetwork repaired, VnnLibProperty property, VerificationOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(repaired);
        repaired.Original.RequireNoMaxPool("proving a VNN-LIB property on a repaired network");
        return new Search(repaired.Original, repaired, property, options ?? new VerificationOptions(), ct).Run();
    }

    private sealed class Search(Network net, RepairedNetwork? repaired, VnnLibProperty property, VerificationOptions options, CancellationToken ct)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _regions, _boxes, _lps;
        private readonly object _found = new();
        private string? _budget;
        private bool _undecided;
        private string _detail = "";
        private string _openDetail = "";
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
            if (status == VerificationStatus.Unknown && _budget is not null) _detail = $"{_budget} budget hit{_openDetail}";
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
            lock (_found) { if (_cex is null) { _cex = x; _cexY = y; } }
            return true;
        }

        private void RunCase(int caseIndex)
        {
            var cs = property.Cases[caseIndex];
            var stack = new Stack<Node>();
            stack.Push(new Node(cs.Box, Enumerable.Range(0, cs.Unsafe.Count).ToArray(), 0, null));
            // Branch and bound on all cores when nothing depends on the order (not in collect mode, not on a repaired network).
            int threads = options.CollectAll || repaired is not null ? 1 : Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount);
            var gate = new object();
            int busy = 0;
            void Worker()
            {
                var children = new List<Node>(2);
                while (true)
                {
                    Node node;
                    lock (gate)
                    {
                        while (stack.Count == 0 && busy > 0) Monitor.Wait(gate);
                        if (stack.Count == 0 || Stop() || OutOfTime()) { Monitor.PulseAll(gate); return; }
                        node = stack.Pop();
                        busy++;
                    }
                    children.Clear();
                    try { Branch(caseIndex, node, children); }
                    finally
                    {
                        lock (gate)
                        {
                            foreach (var c in children) stack.Push(c);
                            busy--;
                            Monitor.PulseAll(gate);
                        }
                    }
                }
            }
            WorkerThreads.Run(Worker, threads, ct);
            if (_budget is not null && stack.Count > 0)
            {
                // how far the search got: the share of the case's box volume still open
                double open = 0;
                foreach (var nd in stack)
                {
                    double v = 1;
                    for (int i = 0; i < nd.Box.Dimension; i++) if (cs.Box.Upper[i] > cs.Box.Lower[i]) v *= (nd.Box.Upper[i] - nd.Box.Lower[i]) / (cs.Box.Upper[i] - cs.Box.Lower[i]);
                    open += v;
                }
                _openDetail = $"; {stack.Count} sub-boxes open, {100 * open:G3} % of the box volume";
            }
        }

        /// <summary>
        /// A sub-box of the branch and bound with the conjunctions still open on it, its parent's bounds and, per
        /// conjunction (indexed like the case's unsafe list), the parent's best alpha-CROWN slopes and weights (or null).
        /// </summary>
        private sealed record Node(InputBox Box, int[] Conj, int Depth, NeuronBounds? Parent, AlphaCrown.AlphaStart?[]? Warm = null);

        /// <summary>Bounds one sub-box: closes it, decides it exactly, or adds its two halves to <paramref name="children"/>.</summary>
        private void Branch(int caseIndex, Node node, List<Node> children)
        {
            var cs = property.Cases[caseIndex];
            var (box, conj, depth, parent, warm) = node;
            AlphaCrown.AlphaStart?[]? warmOut = null;
            Interlocked.Increment(ref _boxes);
            var bounds = LinearBounds.Compute(net, box, parent, unstableOnly: repaired is null);
            bool patchesOff = repaired is null || repaired.Patches.All(p => SupportOff(p.Support, bounds, box));
            var remaining = new List<int>();
            var score = new double[net.InputSize];
            var gap = new Dictionary<int, double>();
            var lowest = new Dictionary<int, double[]>(); // per conjunction the point where its relaxation is lowest
            foreach (int k in conj)
            {
                bool excluded = false;
                foreach (var row in cs.Unsafe[k].Constraints)
                {
                    var (lb, lam, _) = LinearBounds.OutputLowerBound(net, box, bounds, row.A);
                    if (patchesOff && lb > row.B + Tolerance * (1 + Math.Abs(row.B))) { excluded = true; break; }
                    var vertex = box.Minimizer(lam);
                    lowest.TryAdd(k, vertex);
                    for (int i = 0; i < vertex.Length; i++) score[i] += Math.Abs(lam[i]) * (box.Upper[i] - box.Lower[i]);
                    if (!options.CollectAll && Found(caseIndex, vertex)) return;
                }
                if (!excluded && patchesOff && options.AlphaIterations > 0 && !net.HasMaxPool) // alpha-CROWN has no max-pool relaxation
                {
                    // alpha-CROWN with a Lagrangian over the conjunction's rows (AlphaCrown)
                    double scale = 1 + cs.Unsafe[k].Constraints.Max(r => Math.Abs(r.B));
                    var opt = AlphaCrown.Optimize(net, box, bounds, cs.Unsafe[k].Constraints, options.AlphaIterations, Tolerance * scale, warm?[k]);
                    (warmOut ??= new AlphaCrown.AlphaStart?[cs.Unsafe.Count])[k] = opt.Final;
                    gap[k] = opt.Bound / scale;
                    lowest[k] = opt.Minimizer;
                    if (opt.Bound > Tolerance * scale) excluded = true;
                    else if (!options.CollectAll && (Found(caseIndex, opt.Minimizer) || Descend(caseIndex, cs.Unsafe[k], box, opt.Minimizer, options.LocalAttackSteps))) return;
                }
                if (!excluded) remaining.Add(k);
            }
            if (remaining.Count == 0) return;
            // the counterexample search at the root, only on the conjunctions the root bounds left open, lowest bound first
            if (depth == 0 && !options.CollectAll && Attack(caseIndex, [.. remaining.OrderBy(k => gap.GetValueOrDefault(k, double.NegativeInfinity))], lowest, bounds)) return;
            var center = box.Center();
            if (!options.CollectAll && Found(caseIndex, center)) return;
            if (net.HasMaxPool)
            {
                // Neither the MILP nor the exact region enumeration encodes a max pool's winners: what the bounds and the
                // counterexample search left open stays open ("unknown"), never a guess (method.md §12).
                lock (_found)
                {
                    _undecided = true;
                    _detail = "the bounds did not close every unsafe conjunction and no counterexample was found; a network with a MaxPool has no exact search beyond them (MILP and region enumeration do not encode the winners)";
                }
                return;
            }
            if (depth == 0 && patchesOff && repaired is null && !options.CollectAll && net.InputSize > options.MaxInputsForSplitting && MilpCheck.Available)
            {
                // the conjunction with the lowest bound first: the likeliest to hold a counterexample
                Milp(caseIndex, box, bounds, [.. remaining.OrderBy(k => gap.GetValueOrDefault(k, double.NegativeInfinity))]);
                return;
            }
            if (bounds.Unstable <= options.MaxUnstableForExact || depth >= options.MaxDepth)
            {
                Exact(caseIndex, box, bounds, remaining);
                return;
            }
            int dim = 0;
            for (int i = 1; i < score.Length; i++) if (score[i] > score[dim]) dim = i;
            if (score[dim] == 0) for (int i = 0; i < score.Length; i++) if (box.Upper[i] - box.Lower[i] > box.Upper[dim] - box.Lower[dim]) dim = i;
            double mid = 0.5 * (box.Lower[dim] + box.Upper[dim]);
            var hiLo = (double[])box.Lower.Clone(); hiLo[dim] = mid;
            var loHi = (double[])box.Upper.Clone(); loHi[dim] = mid;
            var conjArr = remaining.ToArray();
            children.Add(new Node(new InputBox(hiLo, box.Upper), conjArr, depth + 1, bounds, warmOut));
            children.Add(new Node(new InputBox(box.Lower, loHi), conjArr, depth + 1, bounds, warmOut));
        }

        /// <summary>
        /// Many inputs (bisection would not end): each remaining conjunction is decided on the whole box by
        /// <see cref="MilpCheck"/>, the conjunctions in parallel; a candidate point counts only once the plain
        /// evaluator confirms it.
        /// </summary>
        private void Milp(int caseIndex, InputBox box, NeuronBounds bounds, List<int> conj)
        {
            var cs = property.Cases[caseIndex];
            var gate = new object();
            int open = 0;
            using var found = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(conj, System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount) }, (k, state) =>
            {
                TimeSpan left;
                lock (gate)
                {
                    if (Stop()) { state.Stop(); return; }
                    left = options.MaxTime is TimeSpan t ? t - _clock.Elapsed : TimeSpan.FromDays(1);
                    if (left <= TimeSpan.Zero) { _budget ??= "seconds"; state.Stop(); return; }
                }
                double margin = Tolerance * (1 + cs.Unsafe[k].Constraints.Max(r => Math.Abs(r.B)));
                var r = MilpCheck.Check(net, box, bounds, cs.Unsafe[k], margin, left, found.Token);
                lock (gate)
                {
                    _lps++;
                    if (r.Infeasible || found.IsCancellationRequested) return;
                    if (r.Candidate is not null && Found(caseIndex, r.Candidate)) { state.Stop(); found.Cancel(); return; }
                }
                if (r.Candidate is not null && !found.IsCancellationRequested)
                {
                    // a MILP point is feasible within SCIP's tolerances, often on the boundary of the unsafe set: the
                    // region walk from it looks for a point strictly inside, which the evaluator then confirms
                    var a = RegionAscent.Run(net, box, bounds, cs.Unsafe[k], r.Candidate, 4, () => found.IsCancellationRequested || Stop());
                    lock (gate)
                    {
                        _lps += a.LinearPrograms;
                        if (a.Candidate is not null && Found(caseIndex, a.Candidate)) { state.Stop(); found.Cancel(); return; }
                    }
                }
                lock (gate)
                {
                    open++;
                    if (r.Candidate is null && options.MaxTime is TimeSpan t && _clock.Elapsed >= t - TimeSpan.FromSeconds(1)) _budget ??= "seconds";
                    else if (r.Candidate is null) { _undecided = true; _detail = $"the MILP of an unsafe conjunction ended {r.Status}"; }
                }
            });
            ct.ThrowIfCancellationRequested();
            if (_cex is null && open > 0 && _budget is null && !_undecided)
            {
                _undecided = true;
                _detail = "a MILP point in the unsafe set was not confirmed by the evaluator";
            }
        }

        private void Exact(int caseIndex, InputBox box, NeuronBounds bounds, List<int> conj)
        {
            var cs = property.Cases[caseIndex];
            int enumeratorLps = RegionEnumerator.Enumerate(net, box, bounds, piece =>
            {
                if (OutOfTime()) return false;
                if (Interlocked.Increment(ref _regions) > options.MaxRegions) { _budget ??= "regions"; return false; }
                var terms = PatchTerms(piece, bounds, box);
                foreach (int k in conj)
                {
                    double scale = 1 + cs.Unsafe[k].Constraints.Max(r => Math.Abs(r.B));
                    // outside every band the output is f + p_own exactly; inside band l the leaking differences apply
                    var (t, x) = PieceLp(piece, box, cs.Unsafe[k], terms with { Chain = null, ChainLo = null, ChainHi = null }, band: null);
                    Interlocked.Increment(ref _lps);
                    foreach (var leak in terms.Leaks)
                    {
                        if (t >= -Tolerance * scale) break;
                        var (t1, x1) = PieceLp(piece, box, cs.Unsafe[k], terms with { Chain = leak.Chain }, band: (leak.C, leak.C0, leak.Limit));
                        Interlocked.Increment(ref _lps);
                        if (t1 > t) (t, x) = (t1, x1);
                    }
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
            Interlocked.Add(ref _lps, enumeratorLps);
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

        /// <summary>
        /// The patches on a region piece: the own patch p_own (exact, its gate is 1 on its region), and for the
        /// patches after it whose suffix gate G_i may be non-zero, the chain of differences. For a constant difference
        /// d'_i the bound K'_i = |d'_i| makes h'_i = d'_i G_i exactly (method.md §5), with 1 >= G_{own+1} >= ... >= 0
        /// (suffix maxima); an affine difference is bounded by [-K'_i, K'_i] instead. With exactly one patch l possibly
        /// on, its band (sum of sign deficits &lt;= 1/gamma, where g_l > 0) is also returned.
        /// </summary>
        private PatchTerms PatchTerms(RegionPiece piece, NeuronBounds bounds, InputBox box)
        {
            if (repaired is null || repaired.Patches.Count == 0) return new PatchTerms(null, null, null, null, null, []);
            int count = repaired.Patches.Count, n = net.InputSize, m = net.OutputSize;
            var off = new bool[count];
            var deficitC = new double[count][];
            var deficitC0 = new double[count];
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
                deficitC[l] = c;
                deficitC0[l] = c0;
                using var lp = new PolytopeLp(piece.Rows, box);
                _lps++;
                double min = -lp.Maximize(c.Select(v => -v).ToArray(), -c0).Value;
                if (min >= (1 / s.Gamma) * (1 + 1e-9) + 1e-12) off[l] = true;
            }
            double[]? fAdd = null, eAdd = null;
            if (own >= 0) { fAdd = repaired.Patches[own].Patch.C; eAdd = repaired.Patches[own].Patch.D; }
            int last = -1;
            for (int l = count - 1; l > own; l--) if (!off[l]) { last = l; break; }
            if (last < 0) return new PatchTerms(fAdd, eAdd, null, null, null, []);
            var chain = new List<double[]>();
            double[]? lo = null, hi = null;
            for (int l = own + 1; l <= last; l++)
            {
                var gp = repaired.Patches[l];
                if (gp.Difference.C is null) { chain.Add(gp.Difference.D); continue; }
                lo ??= new double[m]; hi ??= new double[m];
                for (int o = 0; o < m; o++) { lo[o] -= gp.Bound[o]; hi[o] += gp.Bound[o]; }
            }
            // One band per leaking patch l (where g_l > 0); if no other leaking band meets it there, only g_l is on and
            // G_i = g_l for own < i <= l, 0 after: the differences add up to a single term (d_l - d_own) G.
            var leaks = new List<Leak>();
            for (int l = own + 1; l < count; l++)
            {
                if (off[l]) continue;
                if (deficitC[l] is null || lo is not null) { leaks.Clear(); leaks.Add(new Leak(chain, new double[n], -1, 0)); break; }
                double limit = 1 / repaired.Patches[l].Support.Gamma;
                var rows = piece.Rows.Append(new HalfSpace(deficitC[l], limit - deficitC0[l])).ToList();
                bool alone = true;
                using (var lp = new PolytopeLp(rows, box))
                {
                    for (int k2 = own + 1; k2 < count && alone; k2++)
                    {
                        if (k2 == l || off[k2] || deficitC[k2] is null) continue;
                        _lps++;
                        double min;
                        try { min = -lp.Maximize(deficitC[k2].Select(v => -v).ToArray(), -deficitC0[k2]).Value; }
                        catch (ReassureException) { alone = false; break; }
                        if (min < (1 / repaired.Patches[k2].Support.Gamma) * (1 + 1e-9) + 1e-12) alone = false;
                    }
                }
                if (alone)
                {
                    var sum = new double[m];
                    for (int i = own + 1; i <= l; i++) for (int o = 0; o < m; o++) sum[o] += repaired.Patches[i].Difference.D[o];
                    leaks.Add(new Leak([sum], deficitC[l], deficitC0[l], limit));
                }
                else leaks.Add(new Leak(chain, deficitC[l], deficitC0[l], limit));
            }
            if (leaks.Count == 0) leaks.Add(new Leak(chain, new double[n], -1, 0));
            return new PatchTerms(fAdd, eAdd, chain, lo, hi, leaks);
        }

        /// <summary>
        /// max t s.t. x in the piece (and in the band when given), 1 >= G_1 >= ... >= G_c >= 0, delta in [lo, hi],
        /// A ((F + C_own) x + e + d_own + sum_i d'_i G_i + delta) + t &lt;= b, t &lt;= 1.
        /// </summary>
        private static (double T, double[] X) PieceLp(RegionPiece piece, InputBox box, OutputConjunction conj, PatchTerms terms, (double[] C, double C0, double Limit)? band)
        {
            using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");
            solver.SetSolverSpecificParametersAsString(RegionLp.DefaultParameters);
            int n = box.Dimension, m = piece.OutputOffset.Length;
            var x = new Variable[n];
            for (int i = 0; i < n; i++) x[i] = solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
            Variable[]? d = null;
            if (terms.ChainLo is not null)
            {
                d = new Variable[m];
                for (int o = 0; o < m; o++) d[o] = solver.MakeNumVar(terms.ChainLo[o], terms.ChainHi![o], "");
            }
            var chain = terms.Chain ?? [];
            var g = new Variable[chain.Count];
            for (int i = 0; i < g.Length; i++)
            {
                g[i] = solver.MakeNumVar(0, 1, "");
                if (i > 0) { var mono = solver.MakeConstraint(0, double.PositiveInfinity, ""); mono.SetCoefficient(g[i - 1], 1); mono.SetCoefficient(g[i], -1); }
            }
            var t = solver.MakeNumVar(double.NegativeInfinity, 1, "");
            foreach (var r in piece.Rows)
            {
                var c = solver.MakeConstraint(double.NegativeInfinity, r.B, "");
                for (int i = 0; i < n; i++) if (r.A[i] != 0) c.SetCoefficient(x[i], r.A[i]);
            }
            if (band is { } b)
            {
                var c = solver.MakeConstraint(double.NegativeInfinity, b.Limit - b.C0, "");
                for (int i = 0; i < n; i++) if (b.C[i] != 0) c.SetCoefficient(x[i], b.C[i]);
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
                    if (terms.FAdd is not null) Blas.Axpy(a, terms.FAdd.AsSpan(o * n, n), coef);
                    rhs -= a * (piece.OutputOffset[o] + (terms.EAdd?[o] ?? 0));
                }
                var c = solver.MakeConstraint(double.NegativeInfinity, rhs, "");
                for (int i = 0; i < n; i++) if (coef[i] != 0) c.SetCoefficient(x[i], coef[i]);
                if (d is not null) for (int o = 0; o < m; o++) if (row.A[o] != 0) c.SetCoefficient(d[o], row.A[o]);
                for (int i = 0; i < g.Length; i++)
                {
                    double v = 0;
                    for (int o = 0; o < m; o++) v += row.A[o] * chain[i][o];
                    if (v != 0) c.SetCoefficient(g[i], v);
                }
                c.SetCoefficient(t, 1);
            }
            var obj = solver.Objective();
            obj.SetCoefficient(t, 1);
            obj.SetMaximization();
            var status = solver.Solve();
            if (status is not (Solver.ResultStatus.OPTIMAL or Solver.ResultStatus.INFEASIBLE))
            {
                // Numerical trouble without scaling: retry with GLOP's defaults.
                solver.SetSolverSpecificParametersAsString(RegionLp.RobustParameters);
                status = solver.Solve();
            }
            if (status == Solver.ResultStatus.INFEASIBLE) return (double.NegativeInfinity, piece.Witness);
            // Still no optimum: the region cannot be excluded; the caller then needs a confirmed counterexample to say
            // "violated", so the answer becomes "unknown", never a wrong one.
            if (status != Solver.ResultStatus.OPTIMAL) return (double.PositiveInfinity, piece.Witness);
            var xs = new double[n];
            for (int i = 0; i < n; i++) xs[i] = Math.Clamp(x[i].SolutionValue(), box.Lower[i], box.Upper[i]);
            return (t.SolutionValue(), xs);
        }

        /// <summary>
        /// The counterexample search at the root (<see cref="SignGradientDescent"/>) on the open conjunctions, lowest bound
        /// first, the descents in parallel: first a long descent with a decaying step from the point where each
        /// conjunction's relaxation is lowest (the alpha-CROWN minimiser) and the exact region walk from its closest point
        /// (<see cref="RegionAscent"/>), then descents from random restarts and region walks from their closest points.
        /// </summary>
        private bool Attack(int caseIndex, IReadOnlyList<int> conjunctions, IReadOnlyDictionary<int, double[]> lowest, NeuronBounds bounds)
        {
            var cs = property.Cases[caseIndex];
            var box = cs.Box;
            bool Halt() => Stop() || ct.IsCancellationRequested || (options.MaxTime is TimeSpan t && _clock.Elapsed > t);
            bool Confirmed(double[] x, double[] y) => cs.IsUnsafe(y) && Found(caseIndex, x);
            // the searches in parallel, taken in the given order; the first confirmed point stops them all
            bool Each<T>(IEnumerable<T> searches, Func<T, bool> search)
            {
                bool hit = false;
                Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(searches, System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount) }, (k, state) =>
                {
                    if (Halt()) { state.Stop(); return; }
                    if (search(k)) { hit = true; state.Stop(); }
                });
                return hit || _cex is not null;
            }
            if (options.MinimizerAttackSteps > 0)
            {
                int steps = options.MinimizerAttackSteps;
                double decay = Math.Pow(0.01, 1.0 / steps); // the step ends at 1 % of its start
                if (Each(conjunctions, k =>
                {
                    if (!lowest.TryGetValue(k, out var start)) return false;
                    var d = SignGradientDescent.Run(net, Eval, box, cs.Unsafe[k], start, steps, 0.5, decay, Confirmed, Halt);
                    if (d.Counterexample is not null) return true;
                    // the exact regions around the descent's closest point (RegionAscent); not on a repaired network,
                    // whose output on a region is not the original's affine map
                    if (options.RegionAscentLps <= 0 || repaired is not null || Halt()) return false;
                    var a = RegionAscent.Run(net, box, bounds, cs.Unsafe[k], d.Best, options.RegionAscentLps, Halt);
                    Interlocked.Add(ref _lps, a.LinearPrograms);
                    return a.Candidate is not null && Found(caseIndex, a.Candidate);
                })) return true;
            }
            // With many inputs the MILP decides what is left, counterexamples included (method.md §6, issue 21)
            bool milpNext = repaired is null && !net.HasMaxPool && net.InputSize > options.MaxInputsForSplitting && MilpCheck.Available;
            int restartCount = milpNext ? options.AttackRestartsBeforeMilp : options.AttackRestarts;
            if (OutOfTime() || restartCount <= 0) return false;
            var rng = new Random(options.Seed);
            // Starts: per conjunction, the restarts closest to it (smallest largest violated row) among 16 times as many
            // seeded random points of the box, drawn once; a sampled point in the unsafe set is a counterexample at once.
            var pool = new List<(double[] X, double[] Y)>(16 * restartCount);
            for (int s = 0; s < 16 * restartCount; s++)
            {
                if ((s & 63) == 0 && OutOfTime()) return false;
                var p = box.Sample(rng);
                var yp = Eval(p);
                if (cs.IsUnsafe(yp)) { Found(caseIndex, p); return true; }
                pool.Add((p, yp));
            }
            var restarts = conjunctions.SelectMany(k => pool.Select(t => (Gap: cs.Unsafe[k].Constraints.Max(row => -row.Slack(t.Y)), t.X))
                .OrderBy(t => t.Gap).Take(restartCount).Select(t => (K: k, t.X)));
            var closest = new System.Collections.Concurrent.ConcurrentBag<(int K, double V, double[] X)>();
            bool found = Each(restarts, r =>
            {
                var d = SignGradientDescent.Run(net, Eval, box, cs.Unsafe[r.K], r.X, 60, 0.25, 0.92, Confirmed, Halt);
                closest.Add((r.K, d.BestViolation, d.Best));
                return d.Counterexample is not null;
            });
            if (!found && options.RegionAscentLps > 0 && options.RestartWalks > 0 && repaired is null && !Halt())
            {
                // the region walk from the closest points the restarts reached, closest first
                var walks = closest.OrderBy(c => c.V).Take(options.RestartWalks).ToList();
                found = Each(walks, c =>
                {
                    var a = RegionAscent.Run(net, box, bounds, cs.Unsafe[c.K], c.X, options.RegionAscentLps, Halt);
                    Interlocked.Add(ref _lps, a.LinearPrograms);
                    return a.Candidate is not null && Found(caseIndex, a.Candidate);
                });
            }
            OutOfTime();
            return found;
        }

        /// <summary>
        /// A short projected sign-gradient descent inside a sub-box from <paramref name="start"/> (the point where its
        /// bound is lowest) on the most violated row of the conjunction; true when it confirms a counterexample.
        /// </summary>
        private bool Descend(int caseIndex, OutputConjunction conj, InputBox box, double[] start, int steps)
        {
            var cs = property.Cases[caseIndex];
            return SignGradientDescent.Run(net, Eval, box, conj, start, steps, 0.1, 0.8, (x, y) => cs.IsUnsafe(y) && Found(caseIndex, x)).Counterexample is not null;
        }
    }
}
