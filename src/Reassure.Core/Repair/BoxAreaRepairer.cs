using System.Diagnostics;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;
using Reassure.Verification;

namespace Reassure.Repair;

/// <summary>
/// Area repair by sub-box patches, for properties whose unsafe set has a monotone direction v
/// (<see cref="MonotoneShift"/>): the fallback when the violating linear regions are too many to collect (ACAS Xu).
/// <para>
/// The property's box is bisected canonically (<see cref="MonotoneShift.Split"/>). On each sub-box S the sound
/// linear bounds give need(S), the shift along v that is enough on all of S. need(S) &lt; 0: f already holds on S.
/// Otherwise the exact shift needed at the centre, at the bound minimisers and at a few seeded random points gives a
/// lower bound e(S). S is split while the depth and time budgets allow and either need(S) &gt; 2 max(e(S), 0) + tolerance
/// (the bound is still loose; first a bisection of at most <see cref="AreaRepairOptions.ProofBoxesPerPatch"/> boxes
/// tries to prove that one shift of that size covers S) or the samples are mixed, some safe and some not, above
/// <see cref="AreaRepairOptions.MaxMixedDepth"/> (so that patches stay near the violations), else S gets the constant patch p_S = (need(S) + margin / min a.v) v gated to S by
/// its box rows. Every violating linear region of the box therefore lies in patched boxes (method.md §6 asks each to
/// be patched); a patch covers all the regions of its box instead of one, so the correction is not minimal per region.
/// Budgets only coarsen the patches, never their soundness: boxes still open when a budget runs out are patched
/// with their bound. The boxes are split best first (largest excess of their parent's bound over its target first), so
/// that a budget leaves the least coarse boxes open. With a decision (<see cref="AreaRepairOptions.Decision"/>) the
/// locality rule is about decisions instead of samples: a box is split (to <see cref="AreaRepairOptions.MaxMixedDepth"/>)
/// when the shift would change the decision at one of its sampled points that is already safe.
/// </para>
/// <para>
/// Patches are ordered by increasing shift, so every difference of the combination of method.md §5 is a
/// non-negative multiple of v, which is what <see cref="MonotoneBoxProof"/> needs: the repaired network is then
/// re-verified on the same canonical tree. Outside every box (and its 1/gamma band) the network is unchanged.
/// </para>
/// </summary>
public static class BoxAreaRepairer
{
    /// <summary>Repairs <paramref name="network"/> on the property's boxes; throws RSR1051 when no monotone direction exists.</summary>
    public static AreaRepairResult Repair(Network network, VnnLibProperty property, AreaRepairOptions? options = null, CancellationToken ct = default)
    {
        options ??= new AreaRepairOptions();
        var clock = Stopwatch.StartNew();
        var v = MonotoneShift.ChooseDirection(network, property, options.Decision, options.DirectionSamples, options.Verification.Seed)
            ?? throw new ReassureException(ErrorCodes.BadSpecification,
                "the unsafe set has no monotone direction (some output would have to move both ways); use the region-by-region repair", property.Source);
        double slowest = MonotoneShift.SlowestRow(property, v);
        var rng = new Random(options.Verification.Seed);
        var patches = new List<(InputBox Box, double Shift, int Case)>();
        int nodes = 0, violatingBoxes = 0;
        double[]? cex = null, cexY = null;
        string? budget = null;
        for (int c = 0; c < property.Cases.Count; c++)
        {
            var cs = property.Cases[c];
            // Best first: the box whose parent's bound exceeded its target most is split first, so that when a budget
            // stops the splitting the open boxes (patched with their bounds) are the least coarse ones.
            var open = new PriorityQueue<(InputBox Box, int Depth), (double Excess, long Order)>(
                Comparer<(double Excess, long Order)>.Create((x, y) => x.Excess != y.Excess ? y.Excess.CompareTo(x.Excess) : x.Order.CompareTo(y.Order)));
            long order = 0;
            open.Enqueue((cs.Box, 0), (double.PositiveInfinity, order++));
            var cache = new NeedCache(network, cs, v);
            double tolerance = options.ShiftTolerance * Math.Max(network.Evaluate(cs.Box.Center()).Max(Math.Abs), 1e-9);
            while (open.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                var (box, depth) = open.Dequeue();
                nodes++;
                var (need, cachedVertices) = cache.Need(box);
                var vertices = new List<double[]>(cachedVertices);
                if (need < -PropertyVerifier.Tolerance) continue; // f holds on S
                var (seen, safest, changes) = Seen(network, box, cs, v, vertices, options.SamplesPerBox, rng, ref cex, ref cexY, options.Decision, need);
                // Locality: without a decision, sampled points both safe and unsafe (split towards the violations); with
                // one, a safe sampled point whose decision the shift would change (the property does not ask for it).
                bool mixed = options.Decision == MonotoneShift.Decision.None ? safest < 0 && seen >= 0 : changes;
                if (budget is null && options.Verification.MaxTime is TimeSpan t && clock.Elapsed > t) budget = "seconds";
                if (budget is null && nodes >= options.MaxBoxes) budget = "boxes";
                bool outOfBudget = budget is not null;
                double target = 2 * Math.Max(seen, 0) + tolerance;
                double proved = need;
                if (!outOfBudget && need > target && !(mixed && depth < options.MaxMixedDepth))
                {
                    // Can one shift of at most the target cover all of S? A small bisection of S decides it.
                    proved = ProveShift(cache, box, cs.Box, target, options.ProofBoxesPerPatch, ref nodes);
                }
                var split = MonotoneShift.Split(box, cs.Box);
                if (!outOfBudget && (proved > target || (mixed && depth < options.MaxMixedDepth)) && depth < options.Verification.MaxDepth && split is { } halves)
                {
                    double excess = Math.Min(proved, need) - target;
                    open.Enqueue((halves.Low, depth + 1), (excess, order++));
                    open.Enqueue((halves.High, depth + 1), (excess, order++));
                    continue;
                }
                if (seen >= 0) violatingBoxes++;
                double shift = Math.Min(proved, need) + options.Margin / slowest;
                if (shift > 0) patches.Add((box, shift, c));
            }
        }
        var ordered = patches.OrderBy(p => p.Shift).ToList();
        var domain = options.Domain ?? property.Hull();
        var list = new List<(LinearRegion, AffinePatch, Support, double)>(ordered.Count);
        foreach (var (box, shift, _) in ordered)
        {
            var d = new double[v.Length];
            for (int o = 0; o < d.Length; o++) d[o] = shift * v[o];
            var region = new LinearRegion(network, network.Pattern(box.Center()), box);
            list.Add((region, new AffinePatch(network.InputSize, null, d), new Support(null, AreaRepairer.BoxRows(box), options.BoxGamma), d.Max(Math.Abs)));
        }
        var repaired = new RepairedNetwork(network, domain, list);
        var status = cex is not null ? VerificationStatus.Violated : ordered.Count == 0 ? VerificationStatus.Holds : VerificationStatus.Unknown;
        var before = new VerificationResult(status, cex, cexY, 0, nodes, 0, clock.Elapsed, budget,
            $"{violatingBoxes} boxes with a confirmed violation; {ordered.Count} boxes patched", []);
        double patchSeconds = clock.Elapsed.TotalSeconds;
        var after = ordered.Count == 0
            ? PropertyVerifier.Verify(network, property, options.Verification with { CollectAll = false }, ct)
            : MonotoneBoxProof.Verify(repaired, property, options.Verification with { MaxTime = null, CollectAll = false }, ct)!;
        var errors = new List<string>();
        if (budget is not null) errors.Add($"{ErrorCodes.BudgetExceeded}: the {budget} budget was hit while splitting; the open boxes were patched with their bounds (sound, coarser)");
        return new AreaRepairResult(repaired, before, after, violatingBoxes, ordered.Count, options.BoxGamma, clock.Elapsed.TotalSeconds, patchSeconds,
            errors, []) { Strategy = AreaRepairStrategy.Boxes };
    }

    /// <summary>The largest and smallest shift a sampled point of the box needs (centre, bound minimisers, seeded random points).</summary>
    private static (double Largest, double Smallest, bool Changes) Seen(Network network, InputBox box, VnnLibCase cs, double[] v, List<double[]> samples, int random, Random rng, ref double[]? cex, ref double[]? cexY,
        MonotoneShift.Decision decision, double shift)
    {
        samples.Add(box.Center());
        for (int s = 0; s < random; s++) samples.Add(box.Sample(rng));
        double seen = double.NegativeInfinity, safest = double.PositiveInfinity;
        bool changes = false;
        foreach (var x in samples)
        {
            var y = network.Evaluate(x);
            double need = MonotoneShift.NeedAt(y, cs, v);
            seen = Math.Max(seen, need);
            safest = Math.Min(safest, need);
            if (cex is null && cs.IsUnsafe(y)) { cex = x; cexY = y; }
            if (!changes && need < 0 && decision != MonotoneShift.Decision.None)
            {
                var moved = (double[])y.Clone();
                for (int o = 0; o < moved.Length; o++) moved[o] += shift * v[o];
                changes = Decide(y, decision) != Decide(moved, decision);
            }
        }
        return (seen, safest, changes);
    }

    private static int Decide(double[] y, MonotoneShift.Decision decision)
    {
        int b = 0;
        for (int i = 1; i < y.Length; i++) if (decision == MonotoneShift.Decision.ArgMin ? y[i] < y[b] : y[i] > y[b]) b = i;
        return b;
    }

    /// <summary>
    /// A shift along v proved enough on all of <paramref name="box"/> by bisecting it (canonically) into at most
    /// <paramref name="budget"/> boxes while their bound exceeds <paramref name="target"/>: the largest leaf bound,
    /// or +infinity when the budget runs out first.
    /// </summary>
    private static double ProveShift(NeedCache cache, InputBox box, InputBox root, double target, int budget, ref int nodes)
    {
        var stack = new Stack<InputBox>();
        stack.Push(box);
        double worst = double.NegativeInfinity;
        int used = 0;
        while (stack.Count > 0)
        {
            var b = stack.Pop();
            if (++used > budget) return double.PositiveInfinity;
            if (!cache.Contains(b)) nodes++;
            var (need, _) = cache.Need(b);
            if (need <= target) { worst = Math.Max(worst, need); continue; }
            if (MonotoneShift.Split(b, root) is not { } halves) return double.PositiveInfinity;
            stack.Push(halves.High);
            stack.Push(halves.Low);
        }
        return worst;
    }

    /// <summary>
    /// need(S) and the bound minimisers per box, kept: the bisections that try one shift for a whole box and the main
    /// split walk the same canonical tree, so a box's bounds are computed once.
    /// </summary>
    private sealed class NeedCache(Network network, VnnLibCase cs, double[] v)
    {
        private readonly Dictionary<string, (double Need, List<double[]> Vertices)> _known = [];

        private static string Key(InputBox box) =>
            string.Join(',', box.Lower.Concat(box.Upper).Select(d => BitConverter.DoubleToInt64Bits(d).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        public bool Contains(InputBox box) => _known.ContainsKey(Key(box));

        public (double Need, List<double[]> Vertices) Need(InputBox box)
        {
            string key = Key(box);
            if (_known.TryGetValue(key, out var hit)) return hit;
            // Bounds from the box alone (not intersected with the parent's): MonotoneBoxProof computes them the same way,
            // so every patched box closes there at the node it was patched at. (Measured with the parent's: N2_9 prop 2
            // shifts median 89 -> 61, but the proof no longer closed at the patched boxes, 495 -> 40819 boxes.)
            var (need, vertices) = MonotoneShift.NeedOnBox(network, box, LinearBounds.Compute(network, box), cs, v);
            _known[key] = (need, vertices);
            return (need, vertices);
        }
    }
}
